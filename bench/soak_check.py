"""The history checker of `sojourn bench soak`: what was asked against what the receivers got.

Asked: every outbox message that reached `done` (the worker completed it as sent). Received: for
email and SMS the sinks' journal (each message as it arrived, with the identity a receiver
de-duplicates on: the Message-ID, the provider's Idempotency-Key); for the web page, the printed
magazine and the nurse queue their own tables (portal cards, print blocks, nurse tasks). Per message:

    lost                asked, never received
    duplicated effects  received under more than one identity: the receiver could not tell it was the
                        same message, so the patient got it twice
    raw re-sends        received again under the same identity (a worker killed between sending and
                        recording it sends again: allowed, and harmless)
    received, not asked a receipt whose message is not done (sent, then the row failed or was cancelled)
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CHANNELS = ("email", "sms", "web", "print", "phone")


def receipts(journal: Path) -> dict[str, dict[str, list[tuple[str, float]]]]:
    """channel → outbox key → [(identity, time received)] from the sinks, plus the channels that
    are tables (keyed the same way, by the outbox message's idempotency key)."""
    from sojourn.channels.models import NurseTask, OutboxMessage, PortalCard, PrintBlock

    got: dict[str, dict[str, list[tuple[str, float]]]] = {channel: defaultdict(list) for channel in CHANNELS}
    keys = dict(OutboxMessage.objects.values_list("pk", "idempotency_key"))
    named = _provider_names(keys.values())
    if journal.exists():
        for line in journal.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                got[entry["channel"]][named.get(entry["key"], entry["key"])].append((entry["id"], entry["at"]))
    for message_id, at in PortalCard.objects.values_list("message_id", "delivered_at"):
        got["web"][keys.get(message_id, f"card:{message_id}")].append((f"card:{message_id}", at.timestamp()))
    for message_id, at in PrintBlock.objects.values_list("message_id", "added_at"):
        got["print"][keys.get(message_id, f"block:{message_id}")].append((f"block:{message_id}", at.timestamp()))
    for key, at in NurseTask.objects.exclude(source_key="").values_list("source_key", "created_at"):
        got["phone"][key].append((key, at.timestamp()))
    return got


def _provider_names(keys: Iterable[str]) -> dict[str, str]:
    """The name a provider is given for a message (its reference), back to the message's idempotency
    key, where the channel names it otherwise (sojourn.channels.keys.provider_key)."""
    try:
        from sojourn.channels.keys import provider_key
    except ImportError:  # the channels name a message by its idempotency key itself
        return {}
    from sojourn.channels.models import OutboxMessage

    return {provider_key(OutboxMessage(idempotency_key=key)): key for key in keys}


def check(journal: Path, faults: list[Any], windows: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """The history's figures: per channel and in all; the delay from each kind of fault to the
    delivery of what its victim held; delivered per second and latency in each window."""
    from sojourn.channels.models import OutboxMessage

    got = receipts(journal)
    rows = list(OutboxMessage.objects.values_list("pk", "channel", "status", "idempotency_key", "due_at",
                                                  "finished_at"))
    statuses: dict[str, int] = defaultdict(int)
    per_channel: dict[str, dict[str, int]] = {}
    effect_at: dict[int, float] = {}  # message → when its effect first happened
    timing: dict[int, tuple[float, float]] = {}  # message → (due, effect) times
    for channel in CHANNELS:
        mine = [r for r in rows if r[1] == channel]
        done = {r[3] for r in mine if r[2] == "done"}
        figures = {"asked": len(done), "lost": 0, "duplicated_effects": 0, "raw_resends": 0,
                   "received_not_asked": 0}
        for key, seen in got[channel].items():
            identities = {identity for identity, _at in seen}
            figures["duplicated_effects"] += len(identities) - 1
            figures["raw_resends"] += len(seen) - len(identities)
            figures["received_not_asked"] += key not in done
        figures["lost"] = sum(1 for key in done if key not in got[channel])
        per_channel[channel] = figures
        for pk, _channel, status, key, due_at, finished_at in mine:
            statuses[status] += 1
            if status != "done":
                continue
            first = min((at for _identity, at in got[channel].get(key, [])), default=None)
            at = first if first is not None else finished_at.timestamp()
            effect_at[pk] = at
            timing[pk] = (due_at.timestamp(), at)
    totals = {name: sum(f[name] for f in per_channel.values()) for name in next(iter(per_channel.values()))}
    return {"channels": per_channel, "totals": totals, "outbox": dict(statuses),
            "after_faults": _after_faults(faults, effect_at), "windows": _windows(windows, timing)}


def _after_faults(faults: list[Any], effect_at: dict[int, float]) -> dict[str, dict[str, Any]]:
    """Per kind of fault: how many, how many outbox rows the victims held, the longest wait from the
    fault to one of those rows' delivery, and how many of them were never delivered."""
    out: dict[str, dict[str, Any]] = {}
    for fault in faults:
        entry = out.setdefault(fault.kind, {"count": 0, "held": 0, "max_delay_s": 0.0, "held_not_done": 0})
        entry["count"] += 1
        entry["held"] += len(fault.held)
        for pk in fault.held:
            if pk in effect_at:
                entry["max_delay_s"] = round(max(entry["max_delay_s"], effect_at[pk] - fault.at), 2)
            else:
                entry["held_not_done"] += 1
    return out


def _windows(windows: dict[str, tuple[float, float]], timing: dict[int, tuple[float, float]]
             ) -> dict[str, dict[str, Any]]:
    """Per window: messages delivered in it per second; and for the messages that fell due in it,
    however late they were delivered, the seconds from due to delivered (median, 95th percentile)."""
    out = {}
    for name, (start, end) in windows.items():
        delivered = sum(1 for _due, at in timing.values() if start <= at < end)
        waits = sorted(max(at - due, 0.0) for due, at in timing.values() if start <= due < end)
        out[name] = {"seconds": round(end - start, 1), "delivered": delivered,
                     "per_s": round(delivered / (end - start), 2) if end > start else 0.0,
                     "latency_p50_s": round(statistics.median(waits), 2) if waits else None,
                     "latency_p95_s": round(waits[min(len(waits) - 1, int(len(waits) * 0.95))], 2) if waits else None}
    return out
