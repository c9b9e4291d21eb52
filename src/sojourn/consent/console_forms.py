"""Console forms for staff: enrollment by phone or paper, withdrawal on the patient's behalf, codes
read back on the phone, and data-subject requests."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from sojourn.consent.forms import EnrollmentForm
from sojourn.consent.models import ConsentText, ConsentVersion
from sojourn.core.models import Market
from sojourn.core.packs import purpose_label


class StaffEnrollmentForm(EnrollmentForm):
    """The portal's enrollment form, plus how consent was taken and who read which script."""

    method = forms.ChoiceField(label=_("How the patient consented"), choices=[
        ("phone", _("Verbally, on the phone")), ("paper", _("On a signed paper form"))])
    script_version = forms.CharField(label=_("Call script version read out"), max_length=40, required=False)
    locale = forms.ChoiceField(label=_("Language of the consent text"))
    confirm = forms.BooleanField(label=_("I read the whole consent text to the patient (or hold their signed form) "
                                         "and recorded each answer as they gave it."))

    def __init__(self, *args: object, market: Market, version: ConsentVersion, text: ConsentText,
                 **kwargs: object) -> None:
        super().__init__(*args, market=market, version=version, text=text, **kwargs)
        self.fields["locale"].choices = [(t.locale, t.locale) for t in version.texts.all()]
        self.fields["typed_name"].label = _("The patient's full name, as they said or signed it")
        self.fields["email"].label = _("Email (the patient reads back the code we send)")


class StaffWithdrawForm(forms.Form):
    scope = forms.ChoiceField(label=_("What does the patient withdraw?"), widget=forms.RadioSelect)
    via = forms.ChoiceField(label=_("How did the withdrawal reach us?"), choices=[
        ("nurse", _("Phone call with a nurse")), ("email", _("Email")), ("sms", _("Text message"))])
    reason = forms.CharField(label=_("Reason, in the patient's words (optional)"), required=False, max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: object, granted: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = [("everything", _("Everything: the patient leaves the program")), *granted]


class ReadBackCodeForm(forms.Form):
    code = forms.RegexField(label=_("Code the patient read back"), regex=r"^[0-9]{6}$", max_length=6,
                            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))


class DataRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("The patient asks for"), choices=[
        ("access", _("A copy of their data")), ("portability", _("Their data in a portable format")),
        ("erasure", _("Erasure of their data"))])
    via = forms.ChoiceField(label=_("Received by"), choices=[
        ("phone", _("Phone")), ("email", _("Email")), ("post", _("Post"))])


class ConfirmErasureForm(forms.Form):
    pseudonym = forms.CharField(label=_("Type the patient's pseudonym to confirm the erasure"), max_length=16)


class ConsentDraftForm(forms.Form):
    """Every locale's title, body and purpose labels of one version, on one page."""

    material_change = forms.BooleanField(
        label=_("Material change: everyone who signed an earlier version must consent again"), required=False)
    change_summary = forms.CharField(label=_("What changed, in a sentence the patient understands"),
                                     max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: object, locales: list[str], purposes: list[dict], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.locales, self.purposes = locales, purposes
        self.sections = []
        for locale in locales:
            names = [f"{locale}__title", f"{locale}__body"]
            self.fields[names[0]] = forms.CharField(label=_("Title"), max_length=200)
            self.fields[names[1]] = forms.CharField(label=_("Text"), max_length=50_000,
                                                    widget=forms.Textarea(attrs={"rows": 10, "lang": locale}))
            for purpose in purposes:
                name = f"{locale}__purpose__{purpose['code']}"
                self.fields[name] = forms.CharField(label=purpose_label(purpose["code"]), max_length=500,
                                                    widget=forms.TextInput(attrs={"lang": locale}))
                names.append(name)
            self.sections.append((locale, [self[n] for n in names]))

    def drafts(self) -> dict[str, dict[str, object]]:
        data = self.cleaned_data
        return {locale: {"title": data[f"{locale}__title"], "body": data[f"{locale}__body"],
                         "purpose_texts": {p["code"]: data[f"{locale}__purpose__{p['code']}"] for p in self.purposes}}
                for locale in self.locales}

    @staticmethod
    def initial_from(version: object) -> dict[str, object]:
        initial: dict[str, object] = {}
        for text in version.texts.all():  # type: ignore[attr-defined]
            initial[f"{text.locale}__title"] = text.title
            initial[f"{text.locale}__body"] = text.body
            for code, label in text.purpose_texts.items():
                initial[f"{text.locale}__purpose__{code}"] = label
        return initial


class ReturnForm(forms.Form):
    comment = forms.CharField(label=_("What must change"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
