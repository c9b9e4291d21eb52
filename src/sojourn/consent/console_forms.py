"""Console forms for staff: enrollment by phone or paper, withdrawal on the patient's behalf, codes
read back on the phone, and data-subject requests."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from sojourn.consent.forms import EnrollmentForm
from sojourn.consent.models import ConsentText, ConsentVersion
from sojourn.core.models import Market


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
