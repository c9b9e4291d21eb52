"""What a definition says beyond stages and needs: the names of its content levels (which bound the
content library and the unlock_level action) and the forward deadline the sponsor agreed, which the
safety clocks count from day zero in place of the market pack's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from sojourn.content.services.library import change_tags, create_item
from sojourn.core.errors import InvalidInput
from sojourn.core.models import AuditEntry, Program
from sojourn.core.tests.factories import SYSTEM
from sojourn.demo.definition import DEFINITION
from sojourn.dialogue.engine import program_shape
from sojourn.dialogue.rules import RuleSetInvalid, compile_rules
from sojourn.programs import services
from sojourn.programs.activation import readiness
from sojourn.programs.definition import read_definition_text
from sojourn.safety.clocks import Clocks
from sojourn.safety.services import record_intake

LEVELS = [{"level": 1, "labels": {"en": "Essentials", "de": "Das Wichtigste"}},
          {"level": 2, "labels": {"en": "Going further", "fr": "Aller plus loin"}}]
# Mondays 09:00 in Berlin: one business day later is the end of Tuesday, two the end of Wednesday.
MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def definition(**parts) -> str:
    document = yaml.safe_load(DEFINITION.read_text(encoding="utf-8"))
    document.update(parts)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def problems(text: str) -> dict[str | None, str]:
    return {p.field: p.message for p in read_definition_text(text, "psoriasis.yaml").problems}


def test_levels_are_numbered_from_one_and_a_deadline_is_hours_or_business_days():
    assert problems(definition(content_levels=LEVELS, safety={"forward_deadline": {"hours": 24},
                                                              "markets": {"JP": {"business_days": 1}}})) == {}
    found = problems(definition(
        content_levels=[LEVELS[0], {"level": 3, "labels": {"en": "Expert"}}, {"level": 4, "labels": {"de": "x"}}],
        safety={"forward_deadline": {"hours": 24, "business_days": 1}, "markets": {"FR": {"hours": 12}}}))
    assert found == {
        "content_levels[2].labels": "give an English label at least (en)",
    }
    found = problems(definition(
        content_levels=[LEVELS[0], {"level": 3, "labels": {"en": "Expert"}}],
        safety={"forward_deadline": {"hours": 24, "business_days": 1}, "markets": {"FR": {"hours": 12}}}))
    assert found == {
        "content_levels[1].level": "levels are numbered 1, 2, 3… in order; this one should be 2",
        "safety.forward_deadline": "give the deadline as hours or as business_days, one of them",
        "safety.markets.FR": "FR is not one of the program's markets",
    }
    assert "less than or equal to 720" in problems(definition(safety={"forward_deadline": {"hours": 1000}}))[
        "safety.forward_deadline.hours"]


@pytest.mark.django_db
def test_named_levels_bound_the_library_and_the_rules_and_travel_with_the_export():
    services.apply_definition(actor=SYSTEM, text=definition(content_levels=LEVELS))
    program = Program.objects.get(slug="psoriasis-companion")
    assert program.level_names("de") == [(1, "Das Wichtigste"), (2, "Going further")]
    assert program.level_names("fr") == [(1, "Essentials"), (2, "Aller plus loin")]
    exported = services.export_yaml(program)
    assert "content_levels:\n- level: 1\n  labels:\n    en: Essentials\n    de: Das Wichtigste\n" in exported
    assert services.diff(program, services.read(exported)) == []

    with pytest.raises(InvalidInput) as refused:
        create_item(actor=SYSTEM, program=program, code="deep-dive", kind="article", title="Deep dive",
                    tags={"level": 3})
    assert refused.value.details[0].field == "level" and "from 1 to 2" in refused.value.details[0].message
    item = create_item(actor=SYSTEM, program=program, code="deep-dive", kind="article", title="Deep dive",
                       tags={"level": 2})
    with pytest.raises(RuleSetInvalid, match="a content level from 1 to 2"):
        compile_rules([{"key": "more", "name": "More", "trigger": {"events": ["enrollment.completed"]},
                        "condition": "true", "actions": [{"do": "unlock_level", "level": 3}]}],
                      program_shape(program.pk))
    # A level in use keeps its name: dropping it is refused, naming the item.
    with pytest.raises(InvalidInput, match="deep-dive is at level 2") as refused:
        services.apply_definition(actor=SYSTEM, text=definition(content_levels=LEVELS[:1]))
    assert refused.value.field == "content_levels"
    change_tags(actor=SYSTEM, item=item, tags={"level": 1})
    services.apply_definition(actor=SYSTEM, text=definition(content_levels=LEVELS[:1]))
    program.refresh_from_db()
    assert program.level_names("en") == [(1, "Essentials")]
    assert AuditEntry.objects.filter(action="program.content_levels_set", subject_id=str(program.pk)).count() == 2


@pytest.mark.django_db
def test_the_sponsors_forward_deadline_is_counted_in_place_of_the_packs(active_patient):
    program = active_patient.program
    germany = active_patient.market
    assert Clocks.for_pack(germany.pack).deadline_business_days == 1  # the German pack's
    services.set_definition_parts(actor=SYSTEM, program=program, safety_deadlines={
        "forward_deadline": {"business_days": 2}, "markets": {"DE": {"hours": 4}}})
    intake = record_intake(actor=SYSTEM, patient=active_patient, source="test", reason="a rash", detail={},
                           idempotency_key="rash-1", day_zero=MONDAY)
    assert intake.due_at == MONDAY + timedelta(hours=4)
    note = next(c.note for c in readiness(program, germany) if c.code == "safety")
    assert note == "forward to drug safety within 4 hours (the program's definition)"

    services.set_definition_parts(actor=SYSTEM, program=program,
                                  safety_deadlines={"forward_deadline": {"business_days": 2}})
    intake = record_intake(actor=SYSTEM, patient=active_patient, source="test", reason="a rash", detail={},
                           idempotency_key="rash-2", day_zero=MONDAY)
    berlin = intake.due_at.astimezone(Clocks.for_pack(germany.pack).zone)
    assert (berlin.date().isoformat(), berlin.hour, berlin.minute) == ("2026-03-05", 0, 0)  # end of Wednesday
    # The authorities' clocks are the law's: the sponsor's agreement does not move them.
    agreed = Clocks.for_pack(germany.pack, program.safety_deadlines)
    assert agreed.authority_serious_days == Clocks.for_pack(germany.pack).authority_serious_days == 15

    services.set_definition_parts(actor=SYSTEM, program=program, safety_deadlines={})
    note = next(c.note for c in readiness(program, germany) if c.code == "safety")
    assert note == "forward to drug safety within 1 business day (the market pack)"
