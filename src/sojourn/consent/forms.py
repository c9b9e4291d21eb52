"""Portal forms: enrollment, code, preferences, withdrawal. Validation of substance is the
services' job; these forms only parse what the person typed."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from sojourn.consent.models import ConsentText, ConsentVersion
from sojourn.core.models import Market
from sojourn.people.addresses import region_kind
from sojourn.people.identity import PatientIdentity, PostalAddress

CHANNEL_LABELS = {"web": _("My personal page"), "email": _("Email"), "sms": _("Text messages (SMS)"),
                  "print": _("Printed magazine by post"), "phone": _("Phone calls")}
# The region an address names, as its country's post calls it (people.addresses.region_kind).
REGION_LABELS = {"prefecture": _("Prefecture"), "state": _("State"), "province": _("Province")}


class ConsentAnswers:
    """One checkbox per purpose of the consent version, labelled in the text's words."""

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, object]

    def add_purpose_fields(self, version: ConsentVersion, text: ConsentText) -> None:
        self.purpose_fields = []
        for purpose in version.purposes:
            name = f"purpose_{purpose['code']}"
            self.fields[name] = forms.BooleanField(label=text.purpose_texts[purpose["code"]], required=False)
            self.fields[name].is_required_purpose = purpose["required"]
            self.purpose_fields.append(self[name])  # type: ignore[index]

    def answers(self) -> dict[str, bool]:
        return {name.removeprefix("purpose_"): bool(value) for name, value in self.cleaned_data.items()
                if name.startswith("purpose_")}


class EnrollmentForm(ConsentAnswers, forms.Form):
    given_name = forms.CharField(label=_("Given name"), max_length=200,
                                 widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    family_name = forms.CharField(label=_("Family name"), max_length=200,
                                  widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    email = forms.CharField(label=_("Email"), max_length=254,
                            widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(label=_("Mobile phone (optional)"), max_length=32, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))
    birth_date = forms.DateField(label=_("Birth date"), widget=forms.DateInput(attrs={"type": "date"}))
    street = forms.CharField(label=_("Street and number (for the printed magazine)"), max_length=200,
                             required=False, widget=forms.TextInput(attrs={"autocomplete": "street-address"}))
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False,
                                  widget=forms.TextInput(attrs={"autocomplete": "postal-code"}))
    city = forms.CharField(label=_("City"), max_length=100, required=False,
                           widget=forms.TextInput(attrs={"autocomplete": "address-level2"}))
    region = forms.CharField(label=_("Region"), max_length=100, required=False,
                             widget=forms.TextInput(attrs={"autocomplete": "address-level1"}))
    time_zone = forms.ChoiceField(label=_("Your time zone"))
    referral_code = forms.CharField(label=_("Referral code from your doctor (optional)"), max_length=12,
                                    required=False)
    typed_name = forms.CharField(label=_("Type your full name to sign"), max_length=200)
    guardian_name = forms.CharField(label=_("Parent or guardian's name (only for a minor)"), max_length=200,
                                    required=False)
    guardian_relationship = forms.CharField(label=_("Relationship to the patient"), max_length=60, required=False)

    def __init__(self, *args: object, market: Market, version: ConsentVersion, text: ConsentText,
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.market = market
        self.fields["time_zone"].choices = [(z, z.replace("_", " ")) for z in market.time_zones]
        region = region_kind(market.country)
        if region is None:  # the country's addresses name no region: not asked
            del self.fields["region"]
        else:
            self.fields["region"].label = REGION_LABELS.get(region, self.fields["region"].label)
        self.add_purpose_fields(version, text)

    def identity(self) -> PatientIdentity:
        """The person as typed; the address only when any part of it was given."""
        data = self.cleaned_data
        address = None
        if data["street"] or data["postal_code"] or data["city"] or data.get("region"):
            address = PostalAddress(lines=(data["street"],), postal_code=data["postal_code"], city=data["city"],
                                    region=data.get("region", ""), country=self.market.country)
        return PatientIdentity(given_name=data["given_name"], family_name=data["family_name"], email=data["email"],
                               phone=data["phone"], birth_date=data["birth_date"], postal_address=address)


class ReconsentForm(ConsentAnswers, forms.Form):
    typed_name = forms.CharField(label=_("Type your full name to sign"), max_length=200)

    def __init__(self, *args: object, version: ConsentVersion, text: ConsentText, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.add_purpose_fields(version, text)


class CodeForm(forms.Form):
    code = forms.CharField(label=_("The 6-digit code we sent you"), max_length=6, min_length=6,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code",
                                                         "pattern": "[0-9]{6}"}))


class SignInForm(forms.Form):
    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class PreferencesForm(forms.Form):
    channels = forms.MultipleChoiceField(label=_("How may we reach you?"), required=False,
                                         widget=forms.CheckboxSelectMultiple)
    locale = forms.ChoiceField(label=_("Language"))
    quiet_start = forms.TimeField(label=_("Quiet hours from"), required=False,
                                  widget=forms.TimeInput(attrs={"type": "time"}))
    quiet_end = forms.TimeField(label=_("Quiet hours until"), required=False,
                                widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args: object, market: Market, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channels"].choices = [(c, CHANNEL_LABELS[c]) for c in CHANNEL_LABELS if c in market.channels]
        self.fields["locale"].choices = [(loc, loc) for loc in market.locales]


class WithdrawForm(forms.Form):
    scope = forms.ChoiceField(label=_("What do you withdraw?"), widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Would you tell us why? (optional)"), required=False, max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: object, granted: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = [("everything", _("Everything: leave the program")), *granted]


def service_field(name: str) -> str:
    """Return the form's name for a field the consent services name (answers.<purpose> → purpose_<purpose>)."""
    return "purpose_" + name.removeprefix("answers.") if name.startswith("answers.") else name


SPECIALTY_LABELS = {"dermatology": _("Dermatology"), "rheumatology": _("Rheumatology"),
                    "general_practice": _("General practice"), "pharmacy": _("Pharmacy"), "nursing": _("Nursing"),
                    "other": _("Other")}


class HcpEnrollmentForm(ConsentAnswers, forms.Form):
    given_name = forms.CharField(label=_("Given name"), max_length=200,
                                 widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    family_name = forms.CharField(label=_("Family name"), max_length=200,
                                  widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    email = forms.CharField(label=_("Work email"), max_length=254,
                            widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(label=_("Practice phone (optional)"), max_length=32, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))
    professional_id = forms.CharField(max_length=40)
    specialty = forms.ChoiceField(label=_("Specialty"), choices=list(SPECIALTY_LABELS.items()))
    practice_address = forms.CharField(label=_("Practice address (optional)"), max_length=500, required=False,
                                       widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}))
    time_zone = forms.ChoiceField(label=_("Your time zone"))
    typed_name = forms.CharField(label=_("Type your full name to sign"), max_length=200)

    def __init__(self, *args: object, market: Market, version: ConsentVersion, text: ConsentText,
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["professional_id"].label = _("Your %(label)s") % {"label": market.pack["professional_id"]["label"]}
        self.fields["time_zone"].choices = [(z, z.replace("_", " ")) for z in market.time_zones]
        self.add_purpose_fields(version, text)
