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


class TokenForm(forms.Form):
    """An API token for the console's program: to oneself or to a service account one manages, some
    markets and permissions (none chosen: all of the owner's), for a number of days."""

    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("After the system that will use it, such as CRM or data warehouse."))
    owner = forms.ChoiceField(label=_("Issued to"))
    markets = forms.MultipleChoiceField(label=_("Markets"), required=False, widget=forms.CheckboxSelectMultiple,
                                        help_text=_("None chosen: every market of the owner."))
    permissions = forms.MultipleChoiceField(label=_("Permissions"), required=False,
                                            widget=forms.CheckboxSelectMultiple,
                                            help_text=_("None chosen: everything the owner may do."))
    days = forms.IntegerField(label=_("Runs for (days)"), min_value=1, max_value=365, initial=90)

    def __init__(self, *args: object, owners: list[tuple[str, str]], markets: list[tuple[str, str]],
                 permissions: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["owner"].choices = owners
        self.fields["markets"].choices = markets
        self.fields["permissions"].choices = permissions


class ServiceAccountForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80,
                           help_text=_("After the system that uses it; it signs in with tokens only."))
    role = forms.ChoiceField(label=_("Role"))
    markets = forms.MultipleChoiceField(label=_("Markets"), required=False, widget=forms.CheckboxSelectMultiple,
                                        help_text=_("None chosen: every market of the program."))

    def __init__(self, *args: object, roles: list[tuple[str, str]], markets: list[tuple[str, str]],
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["role"].choices = roles
        self.fields["markets"].choices = markets
