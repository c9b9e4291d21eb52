"""The demo's journey maps and personas: the four patient personas of the simulator (with their
needs), a caregiver and a dermatologist; a patient, a caregiver and a prescriber journey from the
templates, linked in the atlas. After the cohort has lived, the patient journey is revised on the
evidence: each stage whose hypotheses came out supported in some markets and refuted in others gets
an opportunity that says so, citing the hypotheses (`revise_demo_journey_on_evidence`)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from sojourn.core.models import Market, Program
from sojourn.demo.folder import PSORIASIS
from sojourn.insights.models import Hypothesis
from sojourn.insights.verdicts import REFUTED, SUPPORTED, evaluate
from sojourn.journeys.models import Journey, JourneyVersion
from sojourn.journeys.services import create_journey, link_journeys, save_journey_version, save_persona
from sojourn.people.queries import actor_for_user
from sojourn.tracking.models import Need

PERSONA_TEXT = {
    "newly_diagnosed": ("Newly diagnosed Nora", "Just told she has psoriasis; wants to understand it and what "
                        "treatment will mean.", ["Understand the disease", "Feel in control again"],
                        ["Conflicting advice online", "Worry about how others see her skin"], "medium",
                        "Partner; a busy dermatology practice", "Reads email daily; rarely opens apps"),
    "long_term": ("Long-term Lars", "Has lived with psoriasis for years; itch and sleep matter most.",
                  ["Fewer flares", "Sleep through the night"], ["Treatments that stopped working", "Itch at night"],
                  "high", "Knows his dermatologist well", "Prefers print and text messages"),
    "switching": ("Switching Sam", "His first biologic did not work well enough; starting another.",
                  ["Know what changes with the new treatment", "Avoid the side effects he had"],
                  ["Disappointment", "Side effects"], "medium", "Support group online", "Comfortable online"),
    "caregiver_supported": ("Supported Sofia", "Her daughter helps with injections and refills.",
                            ["Confidence with the injection", "Refills on time"], ["Cost and access", "Needles"],
                            "low", "Daughter as caregiver", "Phone calls over email"),
}


def _analyst(email: str):
    return actor_for_user(get_user_model().objects.get(username=email))


def build_demo_journeys(program: Program, analyst_email: str) -> None:
    if Journey.objects.filter(program=program).exists():
        return
    analyst = _analyst(analyst_email)
    # The simulator's personas, as the cohort file describes them (needs it leaves out at the baseline).
    population = PSORIASIS.population
    codes = list(Need.objects.filter(program=program).values_list("code", flat=True))
    personas = {}
    for code, persona in population.personas.items():
        name, summary, goals, frustrations, literacy, support, digital = PERSONA_TEXT[code]
        personas[code] = save_persona(
            actor=analyst, program=program, code=code.replace("_", "-"), kind="patient", name=name, summary=summary,
            goals=goals, frustrations=frustrations, health_literacy=literacy, support=support,
            digital_habits=digital,
            needs={n: round(persona.needs.get(n, population.baseline_need), 2) for n in codes})
    caregiver = save_persona(
        actor=analyst, program=program, code="caregiver", kind="caregiver", name="Caring Clara",
        summary="Helps her mother with injections and keeps track of refills.", goals=["Do the injection right"],
        frustrations=["Nobody explains things to her"], health_literacy="medium", support="Works full time",
        digital_habits="Smartphone, text messages")
    dermatologist = save_persona(
        actor=analyst, program=program, code="dermatologist", kind="hcp", name="Dr. Daniel Derm",
        summary="Community dermatologist with many psoriasis patients.", goals=["Patients who stay on treatment"],
        frustrations=["No time for paperwork", "No feedback from programs"], health_literacy="high",
        support="Practice nurse", digital_habits="Email between patients")
    patient = create_journey(actor=analyst, program=program, code="patient-journey", title="Living with psoriasis",
                             kind="patient", persona=personas["newly_diagnosed"])
    carer = create_journey(actor=analyst, program=program, code="caregiver-journey", title="Caring for a parent",
                           kind="caregiver", persona=caregiver)
    prescriber = create_journey(actor=analyst, program=program, code="prescriber-journey",
                                title="The dermatologist and the program", kind="hcp", persona=dermatologist)
    link_journeys(actor=analyst, source=patient, target=carer, relation="cared for by")
    link_journeys(actor=analyst, source=patient, target=prescriber, relation="prescribed by")


def revise_demo_journey_on_evidence(program: Program, analyst_email: str) -> JourneyVersion | None:
    """A second version of the patient journey where the data split the markets; none if they did not
    (or if the journey was revised already)."""
    journey = Journey.objects.filter(program=program, code="patient-journey").first()
    if journey is None or journey.versions.count() > 1:
        return None
    family = list(Market.objects.filter(program_markets__program=program).order_by("country"))
    current = journey.versions.order_by("-number").first()
    document = {"stages": [dict(s) for s in current.map["stages"]]}  # type: ignore[union-attr]
    cited = []
    for hypothesis in Hypothesis.objects.filter(program=program, retired_at__isnull=True).select_related("stage"):
        verdicts = evaluate(hypothesis, family).markets
        supported = [m.country for m in verdicts if m.verdict == SUPPORTED]
        refuted = [m.country for m in verdicts if m.verdict == REFUTED]
        if not supported or not refuted:
            continue
        for stage in document["stages"]:
            if stage.get("program_stage") == hypothesis.stage.code:
                line = _("Tailor by market: %(claim)s (supported in %(yes)s, refuted in %(no)s)") % {
                    "claim": hypothesis.statement.rstrip("."), "yes": ", ".join(supported), "no": ", ".join(refuted)}
                stage["opportunities"] = [*stage.get("opportunities", []), line[:200]]
                cited.append(hypothesis.pk)
    if not cited:
        return None
    return save_journey_version(
        actor=_analyst(analyst_email), journey=journey, document=document, basis=JourneyVersion.Basis.EVIDENCE,
        note="The cohort's data split the markets: the journey now says where to tailor it.", evidence=cited)
