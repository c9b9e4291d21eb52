"""Every action the dialogue can take and every export that leaves the program declares the consent
purposes it needs (consent.purposes); a patient who withdrew research use is left out of research
exports. The nurse-call behaviour is tested with the queue (channels/tests/test_nurse_queue.py)."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from sojourn.channels.models import KINDS
from sojourn.channels.services.delivery import ACTION_OF_KIND
from sojourn.consent.purposes import ACTION_PURPOSES, EXPORT_PURPOSES, action_refusal, export_purposes
from sojourn.consent.services.withdrawal import withdraw_consent
from sojourn.consent.tests.factories import enroll, me
from sojourn.core.packs import PURPOSES
from sojourn.dialogue.rules import ACTIONS
from sojourn.insights.queries import MarketKpis
from sojourn.insights.services.facts import refresh_journey_facts

# A URL that hands over a file or names an export: a route ending in a file's suffix, or an export,
# a FHIR resource or a receipt in its name.
EXPORT_LIKE = re.compile(r"(\.(csv|pdf|png|json|xlsx|zip|ndjson|xml)$)|export|fhir|receipt|access", re.I)


def exports_in_the_urlconf() -> set[str]:
    found: set[str] = set()

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern, prefix + str(pattern.pattern), pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                route, name = prefix + str(pattern.pattern), f"{namespace}:{pattern.name}"
                if name == "api-v1:openapi-json" or pattern.name.startswith("import"):  # no one's data leaves
                    continue
                if EXPORT_LIKE.search(route.rstrip("/")) or EXPORT_LIKE.search(pattern.name):
                    found.add(name)

    walk(get_resolver(), "", "")
    return found


def test_every_action_kind_declares_its_consent_purposes():
    assert set(ACTIONS) - set(ACTION_PURPOSES) == set(), "declare the new action in consent.purposes.ACTION_PURPOSES"
    assert set(ACTION_PURPOSES) - set(ACTIONS) == set(), "ACTION_PURPOSES names an action that no longer exists"
    assert set(ACTION_OF_KIND) == set(KINDS) and set(ACTION_OF_KIND.values()) <= set(ACTION_PURPOSES)
    for kind, needs in ACTION_PURPOSES.items():
        assert set(needs.purposes) <= set(PURPOSES), kind
        assert needs.purposes or needs.without_consent, f"{kind} needs no purpose: say why (without_consent)"


def test_every_export_declares_its_consent_purposes():
    exports = exports_in_the_urlconf()
    assert exports - set(EXPORT_PURPOSES) == set(), "declare the export in consent.purposes.EXPORT_PURPOSES"
    assert set(EXPORT_PURPOSES) - exports == set(), "EXPORT_PURPOSES names an export that no longer exists"
    for name, needs in EXPORT_PURPOSES.items():
        assert set(needs.purposes) <= set(PURPOSES), name
        assert needs.purposes or needs.without_consent, f"{name} needs no purpose: say why (without_consent)"


def test_a_safety_referral_needs_no_purpose_and_a_nurse_call_needs_nurse_calls():
    assert action_refusal("refer_safety", set()) == ""
    granted = {"program_participation", "contact_phone"}
    assert action_refusal("nurse_task", granted, "phone") == "no consent for nurse_calls"
    assert action_refusal("nurse_task", granted | {"nurse_calls"}, "phone") == ""
    assert action_refusal("send", {"program_participation"}, "sms") == "no consent for contact_sms"


@pytest.mark.django_db
def test_a_patient_who_withdrew_research_use_is_left_out_of_research_exports(program):
    staying, _record = enroll(program, "DE", email="anna@example.org")
    leaving, _record = enroll(program, "DE", email="ben@example.org")
    withdraw_consent(actor=me(leaving), patient=leaving, purposes=["research_use"], via="portal")
    refresh_journey_facts(program)
    everyone = set(MarketKpis(program, "DE").facts.values_list("patient_id", flat=True))
    assert {staying.pk, leaving.pk} <= everyone  # the program's own dashboard still counts them
    exported = set(MarketKpis(program, "DE", purposes=export_purposes("insights-console:csv")).facts
                   .values_list("patient_id", flat=True))
    assert staying.pk in exported and leaving.pk not in exported
