"""The print channel: a rule's print action puts a block in the patient's next magazine issue."""

from __future__ import annotations

from datetime import datetime

from sojourn.channels.adapters import Outcome
from sojourn.channels.models import OutboxMessage, PrintBlock
from sojourn.core.db import insert_rows


class PrintAdapter:
    def deliver(self, messages: list[OutboxMessage], now: datetime) -> dict[int, Outcome]:
        insert_rows(PrintBlock, ["program", "patient", "message_id", "content_code", "added_at"],
                    [(m.program_id, m.patient_id, m.pk, str(m.payload.get("content", "")), now) for m in messages],
                    skip_conflicts_on="message_id")
        return {m.pk: Outcome("sent", provider_id=f"print-block:{m.pk}") for m in messages}
