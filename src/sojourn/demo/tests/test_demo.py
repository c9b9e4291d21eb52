"""What `make demo` builds: five markets, the staff of every role, approved consents per market and
audience, 120 dermatologists with checkable identifiers, patients in all six locales, an approved
content library in every locale and a live rule set that acts on the program's own events; a second
run changes nothing."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from io import StringIO
from tempfile import NamedTemporaryFile

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from sojourn.channels.models import OutboxMessage
from sojourn.consent.models import ConsentRecord, ConsentVersion
from sojourn.consent.queries import may_contact
from sojourn.content.models import ContentItem
from sojourn.content.queries import resolve
from sojourn.core.actors import Actor
from sojourn.core.models import AuditEntry, Market
from sojourn.core.professional_ids import check_professional_id, normalize_professional_id
from sojourn.core.services.audit import verify_audit_chain
from sojourn.demo.builder import STAFF, build_demo
from sojourn.demo.definition import DEFINITION
from sojourn.demo.folder import PSORIASIS
from sojourn.dialogue.models import AgendaItem, RuleSetVersion
from sojourn.dialogue.services.rulesets import check_rules
from sojourn.people.models import Hcp, Patient
from sojourn.people.services.hcps import read_hcp_field
from sojourn.programs.models import DefinitionVersion
from sojourn.questionnaires.models import Questionnaire, QuestionnaireResponse
from sojourn.tracking.models import NeedMapping, PatientNeed, PatientProfile
from sojourn.tracking.services.events import record_events

LOCALES = {"de-DE", "en-US", "en-GB", "ja-JP", "en-CA", "fr-CA"}


@pytest.mark.django_db(transaction=True)
def test_the_demo_program_is_built_through_the_services_and_twice_is_once():
    program = build_demo()
    assert program.status == "live"
    assert sorted(Market.objects.filter(program_markets__program=program).values_list("country", flat=True)) == [
        "CA", "DE", "GB", "JP", "US"]
    assert get_user_model().objects.count() == len(STAFF)

    approved = ConsentVersion.objects.filter(document__program=program, status="approved")
    assert Counter(v.document.audience for v in approved) == {"patient": 5, "hcp": 5}
    for version in approved:
        assert {t.locale for t in version.texts.all()} == set(version.document.market.locales)

    hcps = Hcp.objects.filter(program=program).select_related("market", "data_key")
    assert Counter(h.market.country for h in hcps) == {c: t.doctors for c, t in PSORIASIS.population.markets.items()}
    assert hcps.count() == 120
    for hcp in hcps:
        scheme = hcp.market.pack["professional_id"]["scheme"]
        assert check_professional_id(scheme, normalize_professional_id(read_hcp_field(hcp, "professional_id"))) is None
        assert hcp.status == "active" and hcp.specialty == "dermatology"

    patients = Patient.objects.filter(program=program).select_related("market")
    assert {p.locale for p in patients} == {"de-DE", "en-US", "en-GB", "ja-JP", "en-CA", "fr-CA"}
    assert all(p.status == "active" and may_contact(p, "email", ignore_quiet_hours=True).allowed for p in patients)
    assert ConsentRecord.objects.filter(patient__program=program, status="active").count() == patients.count()

    approved = {q.name for q in Questionnaire.objects.filter(program=program, status="approved")}
    assert approved == {"who-5", "phq-2", "phq-9", "gad-7", "itch-nrs", "psoriasis-needs"}
    completed = QuestionnaireResponse.objects.filter(status="completed", patient__program=program)
    assert completed.count() == 2 * patients.count()
    assert all(r.scores for r in completed)
    profiled = PatientNeed.objects.filter(patient__program=program)
    assert profiled.count() == 11 * patients.count() and profiled.filter(explicit__isnull=False).exists()
    assert PatientProfile.objects.filter(patient__program=program, stage__isnull=False).count() == patients.count()

    items = ContentItem.objects.filter(program=program)
    assert items.count() >= 40
    assert {"article", "tip", "checklist", "video", "email", "sms", "call_script", "print_block"} == set(
        items.values_list("kind", flat=True))
    for item in items:
        channel = item.channels[0]
        for locale in LOCALES:
            found = resolve(program.pk, item.code, locale=locale, channel=channel, country=locale[-2:])
            assert found.content is not None, (item.code, locale, found.reason)

    live = RuleSetVersion.objects.get(rule_set__program=program, rule_set__name="companion", status="live")
    assert live.rules == PSORIASIS.rules()[1] and check_rules(program, live.rules) == []
    assert live.author_id != live.reviewer_id

    # A first refill moves a newly diagnosed patient to treatment initiation, puts the stage's feature
    # in the next magazine and a refill reminder on the agenda three weeks later.
    diagnosed = PatientProfile.objects.filter(patient__program=program, stage__code="diagnosis").first().patient
    result = record_events(Actor.system("pharmacy feed"), [{
        "client_id": "refill-1", "type": "medication.refilled", "patient": diagnosed.pseudonym,
        "occurred_at": timezone.now().isoformat(), "data": {"days_supply": 28}}], source="test")
    assert result.rejected == [] and len(result.accepted) == 1
    assert PatientProfile.objects.get(patient=diagnosed).stage.code == "treatment_initiation"
    assert OutboxMessage.objects.filter(patient=diagnosed, channel="print", rule_key="magazine-treatment-initiation",
                                        payload__content="magazine-starting").exists()
    # (by text message, or by email for those without text consent: decided when the step is due)
    reminders = AgendaItem.objects.filter(patient=diagnosed, status="pending", rule_key__startswith="refill-")
    assert sorted(reminders.values_list("rule_key", flat=True)) == ["refill-reminder", "refill-reminder-email"]
    assert all(timedelta(days=20) < r.due_at - timezone.now() <= timedelta(days=21) for r in reminders)

    counts = (Patient.objects.count(), Hcp.objects.count(), ConsentRecord.objects.count(), AuditEntry.objects.count())
    build_demo()
    assert (Patient.objects.count(), Hcp.objects.count(), ConsentRecord.objects.count()) == counts[:3]
    assert QuestionnaireResponse.objects.count() == completed.count()
    assert Questionnaire.objects.count() == len(approved)
    assert ContentItem.objects.count() == items.count()
    assert RuleSetVersion.objects.filter(rule_set__program=program).count() == 1
    assert verify_audit_chain().problems == []

    # The program is its definition: exported, and applied to an empty database, it is the same program
    # (the needs' scales wait for their questionnaire there, declared and not yet mapped).
    exported = StringIO()
    call_command("program", "export", program.slug, stdout=exported)
    assert exported.getvalue() == DEFINITION.read_text(encoding="utf-8")
    assert NeedMapping.objects.filter(need__program=program).count() == len(program.needs.all())
    call_command("flush", interactive=False, verbosity=0)
    with NamedTemporaryFile("w", suffix=".yaml", encoding="utf-8") as handle:
        handle.write(exported.getvalue())
        handle.flush()
        call_command("program", "apply", handle.name, stdout=StringIO())
        again = StringIO()
        call_command("program", "export", program.slug, stdout=again)
        assert again.getvalue() == exported.getvalue()
        assert not NeedMapping.objects.exists()  # no instrument yet
        applied = StringIO()
        call_command("program", "apply", handle.name, stdout=applied)  # twice is once
    assert DefinitionVersion.objects.get().number == 1
