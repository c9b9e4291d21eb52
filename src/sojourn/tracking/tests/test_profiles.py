"""Need scores from the needs analysis and from behaviour, each explaining itself; engagement; stage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from sojourn.consent.portal import patient_actor
from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, InvalidInput
from sojourn.core.models import AuditEntry
from sojourn.people.queries import actor_for_user
from sojourn.people.tests.api import Api
from sojourn.questionnaires.answers import response_items
from sojourn.questionnaires.needs_analysis import NEEDS
from sojourn.questionnaires.services.definitions import definition
from sojourn.questionnaires.services.responses import save_response
from sojourn.questionnaires.tests.factories import approved_instrument
from sojourn.tracking.models import PatientNeed, PatientProfile
from sojourn.tracking.queries import needs_of
from sojourn.tracking.services.events import record_events
from sojourn.tracking.services.profiles import record_need_signal, refresh_profile, set_journey_stage
from sojourn.tracking.services.taxonomy import define_need, define_stage, map_scale_to_need

SYSTEM = Actor.system("test")
ANSWERS = {"na-treatment": ["topical"], "na-itch": ["2"], "na-sleep": ["2"], "na-flares": ["1"], "na-knowledge": ["0"],
           "na-side-effects": ["2"], "na-routine": ["0"], "na-mood": ["3"], "na-visible": ["1"], "na-doctor": ["1"],
           "na-lifestyle": ["2"], "na-practical": ["0"]}


@pytest.fixture
def analysis(program):
    questionnaire = approved_instrument(program, "psoriasis-needs")
    for position, (code, labels) in enumerate(NEEDS.items()):
        need = define_need(actor=SYSTEM, program=program, code=code, labels=labels, position=position)
        map_scale_to_need(actor=SYSTEM, need=need, questionnaire=questionnaire, scale=code)
    define_stage(actor=SYSTEM, program=program, code="treatment_initiation", labels={"en": "Treatment initiation"},
                 position=1)
    return questionnaire


def answer(patient, questionnaire, **changes):
    values = {**ANSWERS, **{k.replace("_", "-"): [v] for k, v in changes.items()}}
    return save_response(actor=patient_actor(patient), patient=patient, questionnaire=questionnaire,
                         items=response_items(definition(questionnaire), values), source="portal", complete=True)


def scores(patient) -> dict[str, PatientNeed]:
    return {row.need.code: row for row in PatientNeed.objects.filter(patient=patient).select_related("need")}


def test_the_needs_analysis_sets_each_need_and_says_why(analysis, active_patient):
    assert not PatientNeed.objects.exists()
    answer(active_patient, analysis)  # completing refreshes the profile in the same transaction
    found = scores(active_patient)
    assert found["itch"].explicit == pytest.approx(2 / 3, abs=0.001)
    assert found["psychosocial"].combined == pytest.approx(2 / 3, abs=0.001)  # mean of 3 and 1, over 3
    assert found["injection_confidence"].explicit is None  # not asked without injections
    sentence = next(n.sentence for n in needs_of(active_patient) if n.code == "itch")
    assert sentence.startswith("itch 0.67:") and "na-itch = Often" in sentence
    assert found["itch"].confidence == pytest.approx(0.6, abs=0.01)


def test_behaviour_adds_decaying_evidence_and_explains_it(analysis, active_patient):
    answer(active_patient, analysis, na_itch="1")  # 0.33 stated
    now = timezone.now()
    for days in (1, 3, 5):
        record_need_signal(patient=active_patient, need_code="itch", kind="content_viewed",
                           occurred_at=now - timedelta(days=days), detail={"content": f"itch-{days}"})
    itch = scores(active_patient)["itch"]
    assert 0.33 + 0.07 < itch.combined < 0.33 + 0.09  # three views, a little decayed
    sentence = next(n.sentence for n in needs_of(active_patient) if n.code == "itch")
    assert "3 × itch content viewed in the last 14 days (+0.08)" in sentence
    # Four weeks later the same behaviour weighs a quarter as much.
    later = refresh_profile(active_patient, now + timedelta(days=28))
    itch_later = next(r for r in later if r.need.code == "itch")
    assert itch_later.implicit == pytest.approx(itch.implicit / 4, rel=0.05)
    assert record_need_signal(patient=active_patient, need_code="unknown-need", kind="content_viewed",
                              occurred_at=now) is None
    with pytest.raises(InvalidInput):
        record_need_signal(patient=active_patient, need_code="itch", kind="gossip", occurred_at=now)


def test_events_change_a_scores_numbers_and_the_signals_explain_it_when_read(analysis, active_patient):
    answer(active_patient, analysis, na_itch="1")
    stored = scores(active_patient)["itch"].explanation
    assert [part["source"] for part in stored] == ["Your needs: living with psoriasis"]
    now = timezone.now()
    record_events(SYSTEM, [{"client_id": f"v{n}", "type": "content.viewed", "patient": active_patient.pseudonym,
                            "occurred_at": (now - timedelta(days=n)).isoformat(),
                            "data": {"content": "itch-tips", "needs": ["itch"]}} for n in (1, 2)], source="test")
    itch = scores(active_patient)["itch"]
    assert itch.explanation == stored and itch.implicit > 0  # numbers moved, the words stayed
    view = next(n for n in needs_of(active_patient) if n.code == "itch")
    assert [p["source"] for p in view.explanation] == ["Your needs: living with psoriasis", "behaviour"]
    assert "2 × itch content viewed in the last 14 days (+0.06)" in view.sentence
    # A refresh tells the same story, and a row stored with a behaviour part long ago is not read twice.
    refresh_profile(active_patient)
    PatientNeed.objects.filter(pk=itch.pk).update(explanation=[*stored, {
        "source": "behaviour", "kind": "content_viewed", "count": 9, "value": 0.27, "detail": "9 × old words"}])
    again = next(n for n in needs_of(active_patient) if n.code == "itch")
    assert again.explanation == view.explanation and "9 ×" not in again.sentence


def test_evidence_from_behaviour_is_bounded(analysis, active_patient):
    now = timezone.now()
    for n in range(30):
        record_need_signal(patient=active_patient, need_code="sleep", kind="call_note",
                           occurred_at=now - timedelta(hours=n))
    sleep = scores(active_patient)["sleep"]
    assert sleep.implicit == 0.5 and sleep.combined == 0.5 and sleep.explicit is None


def test_engagement_follows_recency_and_frequency(analysis, active_patient):
    now = timezone.now()
    refresh_profile(active_patient, now)
    assert PatientProfile.objects.get(patient=active_patient).engagement == "new"
    record_events(SYSTEM, [{"client_id": f"view-{days}", "type": "content.viewed", "patient": active_patient.pseudonym,
                            "occurred_at": (now - timedelta(days=days)).isoformat(),
                            "data": {"content": "itch-tips", "needs": ["itch"]}} for days in (1, 2, 3)],
                  source="test", now=now)
    profile = PatientProfile.objects.get(patient=active_patient)
    assert (profile.engagement, profile.interactions_30d) == ("high", 3)
    assert scores(active_patient)["itch"].implicit > 0
    refresh_profile(active_patient, now)  # the full recount agrees with the incremental update
    assert PatientProfile.objects.get(patient=active_patient).engagement == "high"
    for days, level in ((12, "medium"), (25, "low"), (45, "lapsed")):
        refresh_profile(active_patient, now + timedelta(days=days))
        assert PatientProfile.objects.get(patient=active_patient).engagement == level, days


def test_a_completed_questionnaire_counts_once_as_an_interaction(analysis, active_patient):
    answer(active_patient, analysis)
    profile = PatientProfile.objects.get(patient=active_patient)
    assert profile.interactions_30d == 1 and profile.last_meaningful_at is not None
    refresh_profile(active_patient)  # the full recount agrees with the incremental count
    assert PatientProfile.objects.get(patient=active_patient).interactions_30d == 1
    answer(active_patient, analysis, na_itch="3")
    assert PatientProfile.objects.get(patient=active_patient).interactions_30d == 2


def test_the_stage_is_set_by_staff_of_the_market_and_audited(analysis, active_patient, cast):
    set_journey_stage(actor=actor_for_user(cast.nurse_de), patient=active_patient, stage_code="treatment_initiation",
                      reason="first biologic")
    assert PatientProfile.objects.get(patient=active_patient).stage.code == "treatment_initiation"
    assert AuditEntry.objects.filter(action="stage.changed", subject_id=active_patient.pseudonym).count() == 1
    with pytest.raises(AccessDenied):
        set_journey_stage(actor=actor_for_user(cast.nurse_gb), patient=active_patient, stage_code="diagnosis")
    with pytest.raises(InvalidInput):
        set_journey_stage(actor=actor_for_user(cast.nurse_de), patient=active_patient, stage_code="remission")


def test_the_profile_page_and_api_show_needs_history_and_stage(analysis, active_patient, cast, client):
    who5 = approved_instrument(cast.program, "who-5")
    for value in ("2", "4"):
        save_response(actor=patient_actor(active_patient), patient=active_patient, questionnaire=who5,
                      items=response_items(definition(who5), {f"who5-{n}": [value] for n in range(1, 6)}),
                      source="portal", complete=True)
    answer(active_patient, analysis)
    nurse = Client()
    nurse.force_login(cast.nurse_de)
    page = nurse.get(f"/console/profiles/patients/{active_patient.pseudonym}/profile/")
    html = page.content.decode()
    assert page.status_code == 200 and 'data-need="psychosocial" data-score="0.67"' in html
    assert "na-mood = All the time" in html and 'data-scale="wellbeing"' in html and "<polyline" in html
    changed = nurse.post(f"/console/profiles/patients/{active_patient.pseudonym}/stage/",
                         {"stage": "treatment_initiation"})
    assert changed.status_code == 302
    analyst = Client()
    analyst.force_login(cast.analyst)
    assert analyst.get(f"/console/profiles/patients/{active_patient.pseudonym}/profile/").status_code == 403
    body = Api(client, cast.nurse_de).get(f"/patients/{active_patient.pseudonym}/profile").json()
    assert body["stage"] == "treatment_initiation" and body["needs"][0]["combined"] >= body["needs"][-1]["combined"]
    assert any("na-itch" in n["sentence"] for n in body["needs"])
    assert body["engagement"] == "high"

    # Forty days of silence later, page and API say the patient has lapsed, though no event said so.
    PatientProfile.objects.filter(patient=active_patient).update(
        last_meaningful_at=timezone.now() - timedelta(days=40))
    assert Api(client, cast.nurse_de).get(f"/patients/{active_patient.pseudonym}/profile").json()[
        "engagement"] == "lapsed"
    page = nurse.get(f"/console/profiles/patients/{active_patient.pseudonym}/profile/").content.decode()
    assert '<dd id="engagement">abgewandert</dd>' in page  # the German nurse reads German


def test_the_profile_says_whether_ratings_were_helpful_in_the_readers_language(analysis, active_patient, cast):
    now = timezone.now()
    record_events(SYSTEM, [{"client_id": f"r{n}", "type": "content.rated", "patient": active_patient.pseudonym,
                            "occurred_at": (now - timedelta(hours=n)).isoformat(),
                            "data": {"content": f"itch-{n}", "needs": ["itch"], "helpful": helpful}}
                           for n, helpful in ((1, False), (2, False), (3, True))], source="test")
    nurse = Client()
    nurse.force_login(cast.nurse_de)  # reads the console in German
    row = nurse.get(f"/console/profiles/patients/{active_patient.pseudonym}/profile/").content.decode() \
        .split('data-need="itch"')[1].split("</tr>")[0]
    assert "Letzte 14 Tage: 2 Inhalte als nicht hilfreich bewertet (\N{MINUS SIGN}0,12)" in row
    assert "Letzte 14 Tage: 1 Inhalt als hilfreich bewertet (+0,06)" in row
    assert "behaviour" not in row and "rated" not in row
    # The sentence the API gives says the same in English: a rating below zero is not called helpful.
    sentence = next(n.sentence for n in needs_of(active_patient) if n.code == "itch")
    assert "2 × itch content rated not helpful in the last 14 days (-0.12)" in sentence
    assert "1 × itch content rated helpful in the last 14 days (+0.06)" in sentence


def test_the_profile_names_stage_engagement_and_questionnaires_in_the_readers_language(
        analysis, active_patient, cast):
    define_stage(actor=SYSTEM, program=cast.program, code="switching", labels={"en": "Switching", "de": "Wechsel"},
                 position=3)
    answer(active_patient, analysis)
    who5 = approved_instrument(cast.program, "who-5")
    save_response(actor=patient_actor(active_patient), patient=active_patient, questionnaire=who5,
                  items=response_items(definition(who5), {f"who5-{n}": ["3"] for n in range(1, 6)}),
                  source="portal", complete=True)
    set_journey_stage(actor=actor_for_user(cast.nurse_de), patient=active_patient, stage_code="switching")
    nurse = Client()
    nurse.force_login(cast.nurse_de)  # reads the console in German
    page = nurse.get(f"/console/profiles/patients/{active_patient.pseudonym}/profile/").content.decode()
    assert '<dd id="stage">Wechsel</dd>' in page and '<dd id="engagement">mittel</dd>' in page
    assert '<option value="switching" selected>Wechsel</option>' in page
    assert ">Ihr Bedarf: Leben mit Psoriasis</a>" in page and ">Your needs: living with psoriasis</a>" not in page
    assert "<h3>WHO-5-Fragebogen zum Wohlbefinden</h3>" in page
    assert ": 60 (Kein Hinweis auf geringes Wohlbefinden)</li>" in page
