"""The journey pages: the map with the KPIs and verdicts of its stages for readers with insights only,
a revision typed as YAML (a mistake says where, and saves nothing), the comparison of two versions,
and the exports as PDF, PNG and JSON: drawn in colour, and in machine numbers whatever the language."""

from __future__ import annotations

import io
import struct

import numpy as np
import pypdfium2
import pytest
import yaml
from PIL import Image
from pypdf import PdfReader

from sojourn.core.permissions import Role
from sojourn.core.tests.factories import SYSTEM
from sojourn.core.tests.svg import svg_problems
from sojourn.insights.tests.factories import worry
from sojourn.journeys.models import Journey
from sojourn.journeys.services import create_journey
from sojourn.people.tests.factories import make_staff

STAGE_BLUE = (0x1F, 0x5F, 0xAE)  # .map-stage in _map.css


@pytest.fixture
def mapped(cohort):
    hypothesis = worry(cohort)  # supported in DE, refuted in GB (test_hypotheses)
    journey = create_journey(actor=SYSTEM, program=cohort["program"], code="patient-journey",
                             title="Living with psoriasis", kind="patient")
    return journey, hypothesis


@pytest.mark.django_db
def test_the_map_carries_kpis_and_verdicts_for_readers_with_insights(client, cast, mapped):
    client.force_login(cast.analyst)
    page = client.get("/console/journeys/patient-journey/?market=DE").content.decode()
    assert 'data-stage="treatment_initiation"' in page and "Front stage" in page and "line of visibility" in page
    assert "KPIs in DE" in page and "Hypotheses in DE" in page
    assert 'class="map-verdict verdict-supported">Supported: At treatment' in page
    gb = client.get("/console/journeys/patient-journey/?market=GB").content.decode()
    assert 'class="map-verdict verdict-refuted">Refuted: At treatment' in gb

    client.force_login(cast.nurse_de)  # may see the program's journeys, not its figures (and reads German)
    page = client.get("/console/journeys/patient-journey/").content.decode()
    assert "Vorderbühne" in page and 'class="map-lane map-lane-front"' in page
    assert "map-kpis" not in page and "map-hypotheses" not in page
    assert client.get("/console/journeys/patient-journey/revise/").status_code == 403
    client.force_login(cast.outsider)
    assert client.get("/console/journeys/patient-journey/").status_code == 404


@pytest.mark.django_db
def test_a_revision_in_yaml_then_the_comparison(client, cast, mapped):
    journey, hypothesis = mapped
    client.force_login(cast.analyst)
    url = "/console/journeys/patient-journey/revise/"
    form = client.get(url).content.decode()
    assert "program_stage: treatment_initiation" in form
    current = journey.versions.get().map

    broken = client.post(url, {"map": "stages:\n  - code: a\n   name: b", "basis": "hypothesis"})
    assert broken.status_code == 400 and "line 3" in broken.content.decode()
    wrong = yaml.safe_dump({"stages": [{**current["stages"][0], "emotion": 9}]})
    refused = client.post(url, {"map": wrong, "basis": "evidence", "note": "", "evidence": []})
    page = refused.content.decode()
    assert refused.status_code == 400
    assert "map.stages.0.emotion" in page and "<code>note</code>" in page and "<code>evidence</code>" in page
    assert journey.versions.count() == 1

    revised = dict(current)
    revised["stages"] = [{**current["stages"][1], "pain_points": ["Worry about side effects, most in Germany"]},
                         *current["stages"][2:]]
    saved = client.post(url, {"map": yaml.safe_dump(revised, allow_unicode=True), "basis": "evidence",
                              "note": "Germany's patients worry most.", "evidence": [str(hypothesis.pk)]})
    assert saved.status_code == 302 and saved.url.endswith("/compare/?to=2")
    compare = client.get(saved.url).content.decode()
    assert 'data-stage="diagnosis" data-change="removed"' in compare
    assert "pain point added: Worry about side effects, most in Germany" in compare
    assert hypothesis.statement in compare and "Germany&#x27;s patients worry most." in compare
    assert Journey.objects.get().versions.count() == 2


@pytest.mark.django_db
def test_the_map_exports_as_pdf_png_and_json(client, cast, mapped):
    client.force_login(cast.analyst)
    pdf = client.get("/console/journeys/patient-journey/map.pdf?market=DE")
    assert pdf["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    text = reader.pages[0].extract_text()
    assert len(reader.pages) == 1 and "Living with psoriasis" in text and "Treatment initiation" in text
    png = client.get("/console/journeys/patient-journey/map.png").content
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width > 1000 and height > 600
    exported = client.get("/console/journeys/patient-journey/journey.json").json()
    assert exported["code"] == "patient-journey" and exported["versions"][0]["map"]["stages"][0]["code"] == "diagnosis"


def drawing_problems(image: Image.Image) -> list[str]:
    """What makes a rendered map unreadable: a page mostly dark or of few colours, no stage headers, or
    headers without their names written in them."""
    pixels = np.asarray(image.convert("RGB")).astype(int)
    total = pixels.shape[0] * pixels.shape[1]
    problems = []
    light = (pixels.min(axis=2) >= 200).sum() / total
    if light < 0.6:
        problems.append(f"only {light:.0%} of the pixels are light")
    buckets, counts = np.unique(pixels.reshape(-1, 3) // 32, axis=0, return_counts=True)
    if (counts >= total / 1000).sum() < 5:
        problems.append(f"only {(counts >= total / 1000).sum()} colours: {buckets[counts >= total / 1000].tolist()}")
    blue = np.abs(pixels - STAGE_BLUE).max(axis=2) <= 24
    header_rows = np.nonzero(blue.mean(axis=1) >= 0.3)[0]
    if len(header_rows) < 10:
        return [*problems, "no stage headers"]
    # Inside the headers (their rounded corners left out) rows across a name hold more light pixels than
    # rows under it.
    light_in_headers = []
    for row in header_rows[5:-5]:
        columns = np.nonzero(blue[row])[0]
        light_in_headers.append((pixels[row, columns.min():columns.max()] >= 200).all(axis=1).sum())
    if max(light_in_headers) - min(light_in_headers) < 10:
        problems.append("the stage headers hold no names")
    return problems


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "de", "ja"])
def test_the_exported_map_is_drawn_in_colour_with_its_stage_names(client, cast, mapped, language):
    client.force_login(make_staff(f"analyst.{language}@sponsor.example", Role.INSIGHTS_ANALYST, cast.program,
                                  language=language))
    pdf = client.get("/console/journeys/patient-journey/map.pdf?market=DE").content
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0].render(scale=1).to_pil()
    finally:
        document.close()
    assert drawing_problems(page) == []
    png = client.get("/console/journeys/patient-journey/map.png?market=DE").content
    assert drawing_problems(Image.open(io.BytesIO(png))) == []
    fonts = {str(font.get_object()["/BaseFont"]) for font in
             PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"].values()}
    if language == "ja":  # the lane names are drawn in a Japanese font, not as empty boxes
        assert any("CJK-JP" in font for font in fonts), fonts


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_map_is_drawn_in_machine_numbers_in_every_language(client, cast, mapped, language):
    client.force_login(make_staff(f"analyst.{language}@sponsor.example", Role.INSIGHTS_ANALYST, cast.program,
                                  language=language))
    response = client.get("/console/journeys/patient-journey/?market=DE")
    page = response.content.decode()
    assert response["Content-Language"] == language
    assert page.count("<circle") >= 3 and "map-kpis" in page and "map-hypotheses" in page  # the whole drawing
    assert svg_problems(page) == []


@pytest.mark.django_db
def test_personas_and_journeys_are_made_in_the_console(client, cast, world):
    from sojourn.tracking.services.taxonomy import define_need

    define_need(actor=SYSTEM, program=world["program"], code="itch", labels={"en": "Itch"}, position=0)
    client.force_login(cast.analyst)
    refused = client.post("/console/journeys/personas/new/", {"code": "nora", "kind": "patient", "name": "Nora",
                                                              "need-itch": "lots"})
    assert refused.status_code == 400 and "A need&#x27;s weight lies from 0 to 1." in refused.content.decode()
    saved = client.post("/console/journeys/personas/new/", {"code": "nora", "kind": "patient", "name": "Nora",
                                                            "goals": "Sleep\n\nFewer flares", "need-itch": "0,8"})
    assert saved.status_code == 302
    listing = client.get("/console/journeys/personas/").content.decode()
    assert 'data-persona="nora"' in listing and "Itch 0.8" in listing and "Sleep; Fewer flares" in listing

    made = client.post("/console/journeys/", {"code": "nora-journey", "title": "Nora's year", "kind": "patient",
                                              "persona": "nora", "markets": ["JP"]})
    assert made.status_code == 302 and made.url == "/console/journeys/nora-journey/"
    twice = client.post("/console/journeys/", {"code": "nora-journey", "title": "Again", "kind": "patient"})
    assert twice.status_code == 400 and "already" in twice.content.decode()
    atlas = client.get("/console/journeys/?market=JP&persona=nora").content.decode()
    assert 'data-journey="nora-journey"' in atlas
    assert 'data-journey="nora-journey"' not in client.get("/console/journeys/?market=DE").content.decode()
    client.force_login(cast.nurse_de)
    assert client.post("/console/journeys/", {"code": "x", "title": "X", "kind": "hcp"}).status_code == 404


@pytest.mark.django_db
def test_status_and_links_from_the_journey_page(client, cast, mapped):
    create_journey(actor=SYSTEM, program=mapped[0].program, code="carer", title="Caring for a parent",
                   kind="caregiver")
    client.force_login(cast.analyst)
    url = "/console/journeys/patient-journey/"
    assert client.post(url, {"status": "in_use"}).status_code == 302
    assert client.post(url, {"target": "carer", "relation": "cared for by"}).status_code == 302
    page = client.get(url).content.decode()
    assert "cared for by" in page and "Caring for a parent" in page
    journey = Journey.objects.get(code="patient-journey")
    assert journey.status == "in_use" and journey.links_out.get().target.code == "carer"
    refused = client.post(url, {"target": "patient-journey", "relation": "itself"}, follow=True)
    assert "A journey is not linked to itself." in refused.content.decode()
    client.force_login(cast.nurse_de)
    assert client.post(url, {"status": "archived"}).status_code == 404
    assert Journey.objects.get(code="patient-journey").status == "in_use"
