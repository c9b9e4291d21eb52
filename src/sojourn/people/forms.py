from __future__ import annotations

import zoneinfo

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Please enter a correct email and password."),
        "inactive": _("This account is inactive."),
    }
    username = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autofocus": True,
                                                                                 "autocomplete": "username"}))


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=[("", _("As my browser says")), *settings.LANGUAGES],
                                 required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"),
                                  choices=[(z, z) for z in sorted(zoneinfo.available_timezones())])


class RevealIdentityForm(forms.Form):
    purpose = forms.CharField(label=_("Why do you need the identity?"), max_length=200)
