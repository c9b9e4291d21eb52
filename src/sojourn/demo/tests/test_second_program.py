"""The demo's second program (atopic dermatitis, two markets) is made from its folder of files alone:
built through the same services, lived by its own simulated cohort, and its KPIs shown per stage and
market. Nothing of it is psoriasis: not a questionnaire, an item or a rule."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from sojourn.content.models import ContentItem
from sojourn.core.errors import InvalidInput
from sojourn.core.models import ProgramMarket
from sojourn.core.tests.factories import SYSTEM
from sojourn.demo.builder import build_program
from sojourn.demo.folder import ECZEMA, PSORIASIS, ProgramFolder
from sojourn.dialogue.models import RuleSetVersion
from sojourn.people.services.tokens import issue_api_token
from sojourn.programs.activation import readiness
from sojourn.questionnaires.models import Questionnaire
from sojourn.simulation.population import read_population_text
from sojourn.simulation.runner import simulate
from sojourn.tracking.models import Event, NeedMapping, PatientProfile


@pytest.mark.django_db(transaction=True)
def test_the_eczema_program_is_built_from_its_files_lived_by_its_cohort_and_shows_kpis(client, settings, tmp_path):
    settings.SOJOURN_PRINT_DIR = str(tmp_path / "print")
    program = build_program(ECZEMA)
    assert program.status == "live" and program.indication == "Moderate to severe atopic dermatitis"
    live = ProgramMarket.objects.filter(program=program, live_at__isnull=False)
    assert sorted(live.values_list("market__country", flat=True)) == ["DE", "GB"]
    assert set(Questionnaire.objects.filter(program=program).values_list("name", flat=True)) == {
        "who-5", "phq-2", "phq-9", "gad-7", "itch-nrs", "eczema-needs"}
    assert NeedMapping.objects.filter(need__program=program).count() == 6
    assert ContentItem.objects.filter(program=program).count() == len(ECZEMA.library())
    rules = RuleSetVersion.objects.get(rule_set__program=program, status="live").rules
    assert "psoriasis" not in str(rules) and "psoriasis" not in str(ECZEMA.library())
    # Its content levels and its sponsor's forward deadline come from its definition too.
    assert program.level_names("de") == [(1, "Das Wichtigste"), (2, "Langfristig im Griff")]
    assert ContentItem.objects.get(program=program, code="staying-in-control").level == 2
    germany = live.get(market__country="DE").market
    assert next(c.note for c in readiness(program, germany) if c.code == "safety") == \
        "forward to drug safety within 1 business day (the program's definition)"
    checked = StringIO()
    call_command("rules", "check", str(ECZEMA.path / "rules.yaml"), "--program", program.slug, stdout=checked)
    assert f"{len(rules)} rules: no problems" in checked.getvalue()

    end = timezone.now().replace(minute=0, second=0, microsecond=0)
    run = simulate(program=program, population=ECZEMA.population, patients=90, days=45, seed=4,
                   start=end - timedelta(days=45), magazine_every=30)
    totals = run.totals
    assert totals["enrolled"] > 60 and totals["sent"] > 100 and totals["calls"] > 0, totals
    # The program's own events, as the cohort file describes them, checked against its event types.
    refills = Event.objects.filter(program=program, type="medication.refilled")
    assert refills.exists() and {e.data["product"] for e in refills} == {"demo-jak-tablet"}
    assert {e.data["severity"] for e in Event.objects.filter(program=program, type="flare.logged")} <= {
        "mild", "moderate", "severe"}
    assert Event.objects.filter(program=program, type="flare.logged").exists()
    # Its rules moved patients along its own stages: a first refill starts the tablets.
    stages = set(PatientProfile.objects.filter(patient__program=program).values_list("stage__code", flat=True))
    assert {"topical_care", "starting_tablets"} <= stages

    analyst = get_user_model().objects.get(username="analyst@demo.sojourn.example")
    _row, token = issue_api_token(actor=SYSTEM, user=analyst, name="reporting")
    response = client.get(f"/api/v1/programs/{program.slug}/kpis", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    markets = response.json()["markets"]
    assert [m["market"] for m in markets] == ["DE", "GB"]
    # Every KPI sits at one of its own stages: the funnel at the first, outcomes at the third.
    at = {k["code"]: s["stage"] for m in markets for s in m["stages"] for k in s["kpis"]}
    assert set(at.values()) == {"topical_care", "starting_tablets", "long_term_control"}
    assert (at["funnel_verified"], at["needs_coverage"], at["who5_change"]) == (
        "topical_care", "starting_tablets", "long_term_control")
    shown = [k for m in markets for s in m["stages"] for k in s["kpis"] if k["value"] is not None]
    assert len(shown) >= 4 and all(k["patients"] >= 5 for k in shown)


def test_a_cohort_file_is_refused_with_the_line_and_field_at_fault():
    text = (ECZEMA.path / "cohort.yaml").read_text(encoding="utf-8")
    broken = text.replace("phone: '+49 30 8#######'", "phone: '+49 1'").replace("      days_supply: 30", "")
    broken = broken.replace("personas: {struggling_with_creams: 0.35,", "personas: {struggling: 0.35,")
    reading = read_population_text(broken, "cohort.yaml")
    problems = {p.field: p for p in reading.problems}
    assert not reading.ok
    assert problems["markets.DE.personas.struggling"].message == "is not a persona of this file"
    assert "is not a valid phone number in DE" in problems["markets.DE.phone"].message
    assert problems["markets.DE.phone"].line == text[:text.index("phone: '+49 30")].count("\n") + 1


def test_a_library_file_is_refused_with_the_line_and_field_at_fault(tmp_path):
    folder = ProgramFolder(tmp_path / "eczema-companion")
    folder.path.mkdir()
    text = (ECZEMA.path / "library.yaml").read_text(encoding="utf-8")
    broken = text.replace("  level: 2\n", "  level: two\n", 1).replace("- code: sleep-tip\n", "- code: itch-tip\n", 1)
    (folder.path / "library.yaml").write_text(broken.replace("  kind: tip\n", "  kind: poster\n", 1), encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        folder.library()
    found = {(d.field, d.line): d.message for d in refused.value.details}
    lines = broken.splitlines()
    assert found[("[7].level", lines.index("  level: two") + 1)].startswith("Input should be a valid integer")
    poster = lines.index("  kind: tip") + 1
    assert "Input should be" in found[("[11].kind", poster)]
    # Duplicates are named once the types are right.
    (folder.path / "library.yaml").write_text(broken.replace("  level: two\n", "  level: 2\n"), encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        folder.library()
    [twice] = refused.value.details
    assert (twice.field, twice.message) == ("[12].code", "itch-tip is an item already (item 12)")
    assert twice.line == [n for n, line in enumerate(lines) if line == "- code: itch-tip"][1] + 1


@pytest.mark.django_db
def test_a_cohort_must_fit_the_program_it_is_simulated_in(program):
    with pytest.raises(InvalidInput) as refused:
        simulate(program=program, population=ECZEMA.population, patients=5, days=3, seed=1)
    fields = {detail.field for detail in refused.value.details}
    assert {"program", "personas.starting_tablets.stage"} <= fields
    with pytest.raises(CommandError, match=r"program\.yaml:3: definition_format: is not a field of a simulated cohort"):
        call_command("simulate", "--program", program.slug, "--cohort", str(PSORIASIS.path / "program.yaml"),
                     "--patients", "5", "--days", "3")
