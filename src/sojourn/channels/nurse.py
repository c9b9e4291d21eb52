"""The phone channel: a nurse task from the outbox becomes a call in the nurse queue."""

from __future__ import annotations

from datetime import datetime

from sojourn.channels.adapters import Outcome
from sojourn.channels.models import NurseTask, OutboxMessage
from sojourn.core.db import insert_rows


def _call_by(message: OutboxMessage, now: datetime) -> datetime:
    """When the call is due: the deadline the rule set (24 hours when it set none)."""
    try:
        return datetime.fromisoformat(str(message.payload["call_by"]))
    except (KeyError, ValueError):
        return max(message.due_at, now)


class NurseQueueAdapter:
    def deliver(self, messages: list[OutboxMessage], now: datetime) -> dict[int, Outcome]:
        rows = [(m.program_id, m.patient_id, m.idempotency_key, str(m.payload.get("reason", ""))[:200],
                 str(m.payload.get("script", "")), _call_by(m, now), now, "open", "", False, "", False)
                for m in messages if m.kind == "nurse_task"]
        insert_rows(NurseTask, ["program", "patient", "source_key", "reason", "script_code", "due_at", "created_at",
                                "status", "outcome", "adverse_event", "claimed_by_name", "urgent"], rows,
                    skip_conflicts_on="source_key")
        return {m.pk: Outcome("sent", provider_id=f"nurse-task:{m.idempotency_key}") if m.kind == "nurse_task"
                else Outcome("permanent", error="only nurse tasks go to the nurse queue") for m in messages}
