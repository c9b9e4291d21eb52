"""The journeys API: the atlas, a journey created from its template and exported whole, a new version
with precise errors, personas; nothing written without journeys.edit."""

from __future__ import annotations

import pytest

from sojourn.core.tests.factories import SYSTEM
from sojourn.people.services.tokens import issue_api_token


def bearer(user) -> dict[str, str]:
    _row, token = issue_api_token(actor=SYSTEM, user=user, name="journeys")
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.mark.django_db
def test_journeys_and_personas_through_the_api(client, cast, journey_world):
    analyst = bearer(cast.analyst)
    base = "/api/v1/programs/psoriasis"
    persona = client.put(f"{base}/personas/nora", {"kind": "patient", "name": "Nora", "needs": {"itch": 0.8}},
                         content_type="application/json", **analyst)
    assert persona.status_code == 200 and persona.json()["needs"] == {"itch": 0.8}
    made = client.post(f"{base}/journeys", {"code": "patient", "title": "Living with it", "kind": "patient",
                                            "persona": "nora", "markets": ["DE"]},
                       content_type="application/json", **analyst)
    assert made.status_code == 201 and made.json()["versions"] == 1
    assert [j["code"] for j in client.get(f"{base}/journeys?market=JP", **analyst).json()] == []
    assert [j["code"] for j in client.get(f"{base}/journeys?market=DE", **analyst).json()] == ["patient"]

    exported = client.get(f"{base}/journeys/patient", **analyst).json()
    document = exported["versions"][0]["map"]
    bad = {"stages": [{**document["stages"][0], "touchpoints": [{"name": "x", "lane": "offstage"}]}]}
    refused = client.post(f"{base}/journeys/patient/versions", {"map": bad, "basis": "hypothesis"},
                          content_type="application/json", **analyst)
    assert refused.status_code == 422
    assert [d["field"] for d in refused.json()["error"]["details"]] == ["map.stages.0.touchpoints.0.lane"]
    saved = client.post(f"{base}/journeys/patient/versions",
                        {"map": {"stages": document["stages"][:2]}, "basis": "hypothesis", "note": "Shorter."},
                        content_type="application/json", **analyst)
    assert saved.status_code == 201 and saved.json()["number"] == 2
    assert len(client.get(f"{base}/journeys/patient", **analyst).json()["versions"]) == 2

    nurse = bearer(cast.nurse_de)
    assert client.get(f"{base}/journeys", **nurse).status_code == 200  # reading is for every role
    denied = client.post(f"{base}/journeys/patient/versions", {"map": document, "basis": "hypothesis"},
                         content_type="application/json", **nurse)
    assert denied.status_code == 403
    assert client.get(f"{base}/journeys/nope", **analyst).status_code == 404


@pytest.mark.django_db
def test_links_and_status_through_the_api(client, cast, journey_world):
    analyst = bearer(cast.analyst)
    base = "/api/v1/programs/psoriasis/journeys"
    for code, kind in (("patient", "patient"), ("carer", "caregiver")):
        client.post(base, {"code": code, "title": code.title(), "kind": kind}, content_type="application/json",
                    **analyst)
    linked = client.post(f"{base}/patient/links", {"target": "carer", "relation": "cared for by"},
                         content_type="application/json", **analyst)
    assert linked.status_code == 201 and linked.json() == {"source": "patient", "target": "carer",
                                                           "relation": "cared for by"}
    itself = client.post(f"{base}/patient/links", {"target": "patient", "relation": "me"},
                         content_type="application/json", **analyst)
    assert itself.status_code == 422 and itself.json()["error"]["details"][0]["field"] == "target"
    assert client.post(f"{base}/patient/links", {"target": "nobody", "relation": "x"},
                       content_type="application/json", **analyst).status_code == 404
    exported = client.get(f"{base}/patient", **analyst).json()
    assert exported["links"] == [{"relation": "cared for by", "journey": "carer"}]
    changed = client.put(f"{base}/patient/status", {"status": "in_use"}, content_type="application/json", **analyst)
    assert changed.status_code == 200 and changed.json()["status"] == "in_use"
    assert [j["code"] for j in client.get(f"{base}?status=in_use", **analyst).json()] == ["patient"]
    bad = client.put(f"{base}/patient/status", {"status": "retired"}, content_type="application/json", **analyst)
    assert bad.status_code == 422


@pytest.mark.django_db
def test_evidence_that_cannot_be_a_hypothesis_is_refused_not_crashed_on(client, cast, journey_world):
    analyst = bearer(cast.analyst)
    base = "/api/v1/programs/psoriasis/journeys"
    client.post(base, {"code": "j", "title": "J", "kind": "patient"}, content_type="application/json", **analyst)
    for evidence in ([99999999999999999999999], [-1], [424242]):
        refused = client.post(f"{base}/j/versions", {"map": {"stages": [{"code": "a", "name": "A"}]},
                                                     "basis": "evidence", "note": "Why.", "evidence": evidence},
                              content_type="application/json", **analyst)
        assert refused.status_code == 422, evidence
        assert [d["field"] for d in refused.json()["error"]["details"]] == ["evidence"]
    client.force_login(cast.analyst)
    form = client.post("/console/journeys/j/revise/", {"map": "stages: [{code: a, name: A}]", "basis": "evidence",
                                                        "note": "Why.", "evidence": ["99999999999999999999999"]})
    assert form.status_code == 400 and "<code>evidence</code>" in form.content.decode()
