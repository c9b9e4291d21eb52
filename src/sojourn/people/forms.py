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


class InvitationRunForm(forms.Form):
    """A print run of invitation cards: the choices are the markets the staff member manages and the
    active dermatologists there (by pseudonym: the card carries no name)."""

    market = forms.ChoiceField(label=_("Market"))
    count = forms.IntegerField(label=_("Cards"), min_value=1, max_value=10_000, initial=100)
    hcp = forms.ChoiceField(label=_("Handed out by"), required=False)
    batch = forms.CharField(label=_("Name of the print run"), max_length=80, required=False,
                            help_text=_("Left empty, the market and the time name it."))

    def __init__(self, *args: object, markets: list[tuple[str, str]], hcps: list[tuple[str, str]],
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["market"].choices = markets
        self.fields["hcp"].choices = [("", _("Any dermatologist of the market")), *hcps]
