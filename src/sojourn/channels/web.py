"""The web channel: a message becomes a card on the patient's personal page (drawn by the portal app)."""

from __future__ import annotations

from datetime import datetime

from sojourn.channels.adapters import Outcome
from sojourn.channels.models import OutboxMessage, PortalCard
from sojourn.core.db import insert_rows


class PortalCardAdapter:
    def deliver(self, messages: list[OutboxMessage], now: datetime) -> dict[int, Outcome]:
        insert_rows(PortalCard, ["program", "patient", "message_id", "content_code", "questionnaire", "rule_key",
                                 "delivered_at"],
                    [(m.program_id, m.patient_id, m.pk, str(m.payload.get("content", "")),
                      str(m.payload.get("questionnaire", "")) if m.kind == "questionnaire" else "", m.rule_key, now)
                     for m in messages], skip_conflicts_on="message_id")
        return {m.pk: Outcome("sent", provider_id=f"card:{m.pk}") for m in messages}
