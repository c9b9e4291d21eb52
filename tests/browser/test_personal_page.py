"""A Japanese patient signs in on a phone and sees the cards chosen for her needs, in Japanese, each
saying why; she opens one and rates it; the page passes axe."""

from __future__ import annotations

import pytest
from django.utils import timezone

from sojourn.consent.services.enrollment import verify_patient
from sojourn.consent.tests.factories import SELF, approved_version, enroll
from sojourn.content.tests.factories import approved_item
from sojourn.core.actors import Actor
from sojourn.tracking.models import Event, PatientNeed
from sojourn.tracking.services.taxonomy import define_need
from tests.browser.helpers import PHONE, last_code, serious_violations, sign_in_to_portal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_patient_sees_the_cards_for_her_needs_and_rates_one(chromium, live_server, program):
    system = Actor.system("test")
    itch = define_need(actor=system, program=program, code="itch", labels={"en": "Itch", "ja": "かゆみ"})
    define_need(actor=system, program=program, code="sleep", labels={"en": "Sleep", "ja": "睡眠"})
    approved_item(program, "itch-cooling", "article", {
        "ja-JP": {"title": "かゆみを和らげる", "summary": "冷やすと楽になります",
                  "body": "{given_name}さん、冷やすと楽になります。"},
        "de-DE": {"title": "Juckreiz lindern", "summary": "Kühlen", "body": "{given_name}, kühlen hilft."}},
        needs=["itch"])
    approved_item(program, "sleep-better", "article", {
        "ja-JP": {"title": "よく眠るために", "summary": "寝室を涼しく", "body": "寝室を涼しく保ちましょう。"}},
        needs=["sleep"])
    email = "jp.page@example.org"
    patient, _record = enroll(program, "JP", version=approved_version(program, "JP"), email=email)
    verify_patient(actor=SELF, patient=patient, code=last_code(email))
    PatientNeed.objects.create(patient=patient, need=itch, explicit=0.9, implicit=0.0, combined=0.9, confidence=0.5,
                               explanation=[], updated_at=timezone.now())

    context = chromium.new_context(base_url=live_server.url, locale="ja-JP", **PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in_to_portal(page, email)  # signed in, the patient lands on their content
    cards = page.locator("#cards li.card")
    assert cards.count() == 1  # sleep is not a need of hers; the German words never show
    assert cards.first.locator("h2").inner_text() == "かゆみを和らげる"
    assert "「かゆみ」があなたにとって大切だからです" in cards.first.locator(".why").inner_text()
    assert serious_violations(page) == []
    cards.first.locator("h2 a").click()
    page.wait_for_selector("#card")
    assert "冷やすと楽になります。" in page.locator("#card").inner_text()
    page.locator("form.rate button[value=yes]").click()
    page.wait_for_selector(".notice")
    context.close()
    assert list(Event.objects.filter(patient=patient, type__startswith="content.").order_by("pk")
                .values_list("type", flat=True)) == ["content.viewed", "content.rated"]
