"""Before a message leaves: find the words it carries. Content is resolved for the patient's locale,
market and channel at the moment of sending (it may have been withdrawn or expired since the
decision); a message whose words cannot be used fails for good, with the reason, and nothing of it
is sent."""

from __future__ import annotations

from collections import defaultdict

from sojourn.channels.models import OutboxMessage
from sojourn.consent.queries import ContactFacts
from sojourn.content.queries import ResolvedContent, resolve_requests

# Message kinds whose payload names content, and the payload key that names it.
CONTENT_KEYS = {"content": "content", "print_block": "content", "nurse_task": "script"}


def attach_content(messages: list[OutboxMessage], facts: dict[int, ContactFacts]) -> dict[int, str]:
    """Set `message.content` (a ResolvedContent or None) on each message; returns the ones that cannot
    go out, message id → reason."""
    wanted: dict[int, dict[tuple[str, str, str], set[str]]] = defaultdict(lambda: defaultdict(set))
    for message in messages:
        message.content = None  # type: ignore[attr-defined]
        code = message.payload.get(CONTENT_KEYS.get(message.kind, ""), "")
        if code:
            fact = facts[message.patient_id]
            wanted[message.program_id][(fact.locale, fact.country, message.channel)].add(code)
    found: dict[tuple[int, str, str, str, str], ResolvedContent | str] = {}
    for program_id, requests in wanted.items():
        for (locale, country, channel, code), resolution in resolve_requests(program_id, requests).items():
            found[(program_id, locale, country, channel, code)] = resolution.content or resolution.reason
    refused: dict[int, str] = {}
    for message in messages:
        code = message.payload.get(CONTENT_KEYS.get(message.kind, ""), "")
        if not code:
            continue
        fact = facts[message.patient_id]
        result = found[(message.program_id, fact.locale, fact.country, message.channel, code)]
        if isinstance(result, str):
            refused[message.pk] = result
        else:
            message.content = result  # type: ignore[attr-defined]
    return refused
