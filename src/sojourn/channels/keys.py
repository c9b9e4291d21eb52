"""The names a message carries to the world outside: the same on every attempt to send it.

A retry after a crash, or a second worker after a lease ran out, hands a provider the same message
again; the provider (or a mail system that keeps Message-IDs) can only tell it is the same message if
it carries the same name. So the name is derived from the outbox message's idempotency key alone,
never from the time, the process or chance (`email.utils.make_msgid` uses all three).
"""

from __future__ import annotations

import hashlib

from sojourn.channels.models import OutboxMessage


def provider_key(message: OutboxMessage) -> str:
    """The provider's idempotency key for this message: a digest of its idempotency key (short, of safe
    characters, and telling the provider nothing of how Sojourn names its decisions)."""
    return "sojourn-" + hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]


def message_id(message: OutboxMessage, domain: str) -> str:
    """The email's Message-ID (RFC 5322: `<left@right>`, the left part a dot-atom) in the sender's domain."""
    return f"<{provider_key(message)}@{domain}>"
