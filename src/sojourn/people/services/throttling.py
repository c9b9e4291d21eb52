"""Limits on what one client, or one identifier, may do in a while: ask for sign-in codes, fail to sign
in to the console. Hits are counted in fixed windows in the database (``RateCounter``), so every web
process and every machine counts the same hits; a cache local to one process would not.

Callers count a hit whether or not the account exists, so the answer (and the refusal) never tells
who is enrolled. Identifiers are stored as keyed hashes, never in clear.
"""

from __future__ import annotations

import contextlib
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from sojourn.people.models import RateCounter


@dataclass(frozen=True)
class Limit:
    scope: str
    setting: str  # the setting that holds how many hits a window allows
    window: timedelta

    @property
    def hits(self) -> int:
        return getattr(settings, self.setting)


CODES_PER_ADDRESS = Limit("codes-per-address", "SOJOURN_CODE_REQUESTS_PER_ADDRESS", timedelta(hours=1))
CODES_PER_CLIENT = Limit("codes-per-client", "SOJOURN_CODE_REQUESTS_PER_CLIENT", timedelta(hours=1))
SIGN_IN_FAILURES_PER_CLIENT = Limit("sign-in-failures-per-client", "SOJOURN_SIGN_IN_FAILURES_PER_CLIENT",
                                    timedelta(minutes=15))


def client_address(request: HttpRequest) -> str | None:
    """The address the request came from (None when unknown, as for a test's force_login). Behind our
    reverse proxy (SOJOURN_BEHIND_PROXY) that is the last X-Forwarded-For entry, the one the proxy
    itself appended; earlier entries are the client's word. django-axes reads the same function
    (AXES_CLIENT_IP_CALLABLE) and stores it as an IP address."""
    if settings.SOJOURN_BEHIND_PROXY:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        with contextlib.suppress(ValueError):
            return str(ipaddress.ip_address(forwarded))
    return request.META.get("REMOTE_ADDR") or None


def _window_start(limit: Limit, now: datetime) -> datetime:
    seconds = int(limit.window.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=UTC)


def _key(limit: Limit, identifier: str) -> str:
    return salted_hmac(f"sojourn-throttle:{limit.scope}", identifier).hexdigest()


def seconds_left(limit: Limit, now: datetime) -> int:
    """Seconds until the window that holds `now` closes (what Retry-After says)."""
    return max(1, int((_window_start(limit, now) + limit.window - now).total_seconds()) + 1)


def count_hit(*, limit: Limit, identifier: str, now: datetime | None = None) -> int:
    """Count one hit and return the hits of this window, this one included.

    Call it outside a transaction that may roll back: a refused attempt must stay counted.
    """
    now = now or timezone.now()
    found = {"scope": limit.scope, "key": _key(limit, identifier), "window_start": _window_start(limit, now)}
    with transaction.atomic():
        if not RateCounter.objects.filter(**found).update(hits=F("hits") + 1):
            try:
                with transaction.atomic():
                    RateCounter.objects.create(**found, hits=1)
            except IntegrityError:  # another process opened the window first
                RateCounter.objects.filter(**found).update(hits=F("hits") + 1)
            else:
                # Once per window and key: earlier windows of this limit count for nothing any more.
                RateCounter.objects.filter(scope=limit.scope, window_start__lt=found["window_start"]).delete()
        return RateCounter.objects.filter(**found).values_list("hits", flat=True).get()


def exhausted(*, limit: Limit, identifier: str, now: datetime | None = None) -> int:
    """Seconds to wait if this identifier has used up its window (0 if not); counts nothing."""
    now = now or timezone.now()
    used = RateCounter.objects.filter(scope=limit.scope, key=_key(limit, identifier),
                                      window_start=_window_start(limit, now), hits__gte=limit.hits).exists()
    return seconds_left(limit, now) if used else 0


def take(hits: list[tuple[Limit, str]], *, now: datetime | None = None) -> int:
    """Count one hit on each (limit, identifier); return the seconds to wait if any is over its limit,
    else 0. Every hit is counted, so an identifier refused here stays refused until its window closes."""
    now = now or timezone.now()
    waits = [seconds_left(limit, now) for limit, identifier in hits
             if count_hit(limit=limit, identifier=identifier, now=now) > limit.hits]
    return max(waits, default=0)
