"""Writing content: tags, variants per locale, variables every language must share, SMS budgets."""

from __future__ import annotations

import pytest

from sojourn.content.kinds import sms_segments, variables_in
from sojourn.content.models import ContentItem, ContentVariant, ContentVersion
from sojourn.content.services.library import change_tags, create_item, save_draft
from sojourn.content.tests.factories import author, reviewer
from sojourn.core.errors import AccessDenied, Conflict, InvalidInput
from sojourn.core.models import AuditEntry
from sojourn.tracking.services.taxonomy import define_need, define_stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def tagged(program):
    from sojourn.core.actors import Actor

    system = Actor.system("test")
    define_need(actor=system, program=program, code="itch", labels={"en": "Itch"})
    define_stage(actor=system, program=program, code="diagnosis", labels={"en": "Diagnosis"}, position=0)
    return program


def test_an_item_is_created_with_its_tags_and_an_empty_draft(tagged):
    item = create_item(actor=author(tagged), program=tagged, code="itch-tips", kind="tip", title="Itch tips",
                       tags={"needs": ["itch"], "stages": ["diagnosis"], "level": 2})
    assert (item.needs, item.stages, item.level) == (["itch"], ["diagnosis"], 2)
    assert item.channels == ["web", "email", "sms", "print"]  # everything a tip can go on, unless narrowed
    assert list(item.versions.values_list("number", "status")) == [(1, "draft")]
    assert AuditEntry.objects.filter(action="content.created", subject_id="itch-tips").exists()


def test_unknown_tags_and_a_bad_code_are_refused_with_the_field(tagged):
    with pytest.raises(InvalidInput) as error:
        create_item(actor=author(tagged), program=tagged, code="itch-tips", kind="sms", title="x",
                    tags={"needs": ["itch", "hair-loss"], "channels": ["web"], "markets": ["FR"], "level": 12})
    fields = {d.field: d.message for d in error.value.details}
    assert set(fields) == {"needs", "channels", "markets", "level"}
    assert "hair-loss" in fields["needs"] and "FR" in fields["markets"] and "sms" in fields["channels"]
    with pytest.raises(InvalidInput) as error:
        create_item(actor=author(tagged), program=tagged, code="Itch Tips!", kind="tip", title="x")
    assert error.value.field == "code"
    assert not ContentItem.objects.exists()


def test_a_code_is_used_once_per_program_and_only_editors_create(tagged):
    create_item(actor=author(tagged), program=tagged, code="itch-tips", kind="tip", title="x")
    with pytest.raises(Conflict):
        create_item(actor=author(tagged), program=tagged, code="itch-tips", kind="article", title="y")
    with pytest.raises(AccessDenied):
        create_item(actor=reviewer(tagged), program=tagged, code="other", kind="tip", title="y")


def test_variants_are_checked_against_kind_locale_and_each_other(tagged):
    item = create_item(actor=author(tagged), program=tagged, code="welcome", kind="email", title="Welcome")
    with pytest.raises(InvalidInput) as error:
        save_draft(actor=author(tagged), item=item, variants={
            "de-DE": {"subject": "Willkommen", "body": "Hallo {given_name}, willkommen bei {program_name}."},
            "en-GB": {"subject": "Welcome", "body": "Welcome to {program_name}."},
            "fr-FR": {"subject": "Bienvenue", "body": "Bonjour"},
            "ja-JP": {"body": "ようこそ {first_name}"},
        })
    problems = {(d.field, d.message) for d in error.value.details}
    fields = {f for f, _m in problems}
    assert "variants.fr-FR" in fields  # not a language of the program's markets
    assert "variants.ja-JP.subject" in fields  # an email needs a subject
    assert "variants.ja-JP.body" in fields  # {first_name} is not a variable
    missing = [m for f, m in problems if f == "variants.en-GB"]
    assert missing and "{given_name}" in missing[0] and "de-DE" in missing[0]
    assert not ContentVariant.objects.exists()  # nothing of a refused draft is kept


def test_a_text_message_over_its_segment_budget_is_refused(tagged):
    item = create_item(actor=author(tagged), program=tagged, code="refill", kind="sms", title="Refill",
                       tags={"segment_budget": 1})
    japanese = "お薬の補充の時期です。" * 6  # 66 characters: one UCS-2 segment holds 70
    version = save_draft(actor=author(tagged), item=item, variants={"ja-JP": {"body": japanese}})
    assert version.variants.get().body == japanese
    with pytest.raises(InvalidInput) as error:
        save_draft(actor=author(tagged), item=item, variants={"ja-JP": {"body": japanese + "{given_name}"}})
    assert error.value.details[0].field == "variants.ja-JP.body"
    assert "UCS-2" in error.value.message and "budget is 1" in error.value.message
    assert version.variants.get().body == japanese  # the saved draft is untouched


def test_segments_are_counted_as_phones_count_them():
    assert (sms_segments("a" * 160).count, sms_segments("a" * 161).count) == (1, 2)
    assert sms_segments("€" * 80).units == 160  # extension characters take two septets
    assert sms_segments("a" * 306).count == 2 and sms_segments("a" * 307).count == 3  # 153 per part
    assert (sms_segments("あ" * 70).encoding, sms_segments("あ" * 70).count) == ("UCS-2", 1)
    assert sms_segments("あ" * 71).count == 2 and sms_segments("あ" * 135).count == 3  # 67 per part
    assert sms_segments("Ihre Creme: 3 × täglich").encoding == "UCS-2"  # × is not in GSM 03.38
    assert sms_segments("Ihre Creme: 3 mal täglich").encoding == "GSM-7"  # ä is


def test_variables_are_read_and_braces_can_be_written():
    assert variables_in("Hi {given_name}, {{braces}} stay") == {"given_name"}
    with pytest.raises(ValueError):
        variables_in("Hi {given_name")
    with pytest.raises(ValueError):
        variables_in("{given_name!r}")


def test_saving_again_replaces_the_draft_and_a_version_in_review_is_not_overwritten(tagged):
    from sojourn.content.services.review import submit_for_review

    item = create_item(actor=author(tagged), program=tagged, code="itch-tips", kind="tip", title="x")
    save_draft(actor=author(tagged), item=item, variants={"en-GB": {"title": "Itch", "body": "One"}})
    version = save_draft(actor=author(tagged), item=item, variants={"en-GB": {"title": "Itch", "body": "Two"},
                                                                   "de-DE": {"title": "Juckreiz", "body": "Zwei"}})
    assert sorted(version.variants.values_list("locale", "body")) == [("de-DE", "Zwei"), ("en-GB", "Two")]
    submit_for_review(actor=author(tagged), version=version)
    with pytest.raises(Conflict):
        save_draft(actor=author(tagged), item=item, variants={"en-GB": {"title": "Itch", "body": "Three"}})
    assert ContentVersion.objects.get(pk=version.pk).status == "in_review"


def test_tags_change_without_a_new_version_and_are_audited(tagged):
    item = create_item(actor=author(tagged), program=tagged, code="itch-tips", kind="tip", title="x")
    item = change_tags(actor=author(tagged), item=item, tags={"needs": ["itch"], "markets": ["DE", "GB"]})
    assert (item.needs, item.markets, item.versions.count()) == (["itch"], ["DE", "GB"], 1)
    entry = AuditEntry.objects.get(action="content.tagged")
    assert entry.before["needs"] == [] and entry.after["markets"] == ["DE", "GB"]
