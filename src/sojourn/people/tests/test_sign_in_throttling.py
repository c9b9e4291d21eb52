"""Password spraying: one client trying one password on many usernames is stopped after a number of
failures, for usernames that exist or not, before any password is checked; other clients, and the
same client after the window, sign in as usual. django-axes still locks one username on its own."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from django.test import Client
from django.utils import timezone

from sojourn.people.tests.factories import PASSWORD

SPRAYER = "192.0.2.66"
PER_REQUEST = re.compile(r'"X-CSRFToken": "[^"]+"|nonce="[^"]+"')  # what differs on every answer


def sign_in(client: Client, email: str, password: str, address: str = SPRAYER, **headers):
    return client.post("/console/sign-in/", {"username": email, "password": password}, REMOTE_ADDR=address,
                       **headers)


def page(response) -> str:
    return PER_REQUEST.sub("", response.content.decode())


def spray(client: Client, cast, failures: int) -> list[int]:
    real = [cast.admin.email, cast.nurse_de.email, cast.nurse_gb.email, cast.analyst.email]
    # Half real usernames, half unknown; no real one fails often enough for its own lock (django-axes).
    names = [real[n // 2 % 4] if n % 2 else f"nobody{n}@sponsor.example" for n in range(failures)]
    return [sign_in(client, name, "Winter2026!").status_code for name in names]


def test_a_client_spraying_one_password_over_usernames_is_stopped(client, cast, settings):
    limit = settings.SOJOURN_SIGN_IN_FAILURES_PER_CLIENT
    assert spray(client, cast, limit) == [200] * limit  # each refused as a wrong password
    stopped = sign_in(client, cast.admin.email, PASSWORD)  # even the right password now waits
    unknown = sign_in(client, "nobody@sponsor.example", PASSWORD)
    assert stopped.status_code == unknown.status_code == 429
    assert page(stopped) == page(unknown)  # whether the account exists or not
    assert "too many failed sign-ins from your network" in stopped.content.decode()
    assert 0 < int(stopped["Retry-After"]) <= 15 * 60
    assert "_auth_user_id" not in client.session

    elsewhere = Client()
    assert sign_in(elsewhere, cast.admin.email, PASSWORD, address="203.0.113.7").status_code == 302
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert sign_in(Client(), cast.admin.email, PASSWORD).status_code == 302


def test_the_refusal_is_said_in_the_staff_members_language(client, cast, settings):
    settings.SOJOURN_SIGN_IN_FAILURES_PER_CLIENT = 2
    spray(client, cast, 2)
    refused = sign_in(client, cast.nurse_de.email, PASSWORD, HTTP_ACCEPT_LANGUAGE="de")
    assert refused.status_code == 429
    assert "Aus Ihrem Netzwerk gab es zu viele fehlgeschlagene Anmeldungen" in refused.content.decode()


def test_one_username_is_still_locked_after_five_failures_from_one_client(client, cast, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, cast.nurse_gb.email, "wrong password")
    locked = sign_in(client, cast.nurse_gb.email, PASSWORD)
    assert locked.status_code == 429 and "locked" in locked.content.decode()


def test_behind_the_proxy_each_client_is_counted_by_the_address_the_proxy_saw(client, cast, settings):
    settings.SOJOURN_BEHIND_PROXY = True
    settings.SOJOURN_SIGN_IN_FAILURES_PER_CLIENT = 2
    proxy = "10.0.0.2"
    for n in range(2):  # the first X-Forwarded-For entries are the client's word, and change every time
        sign_in(client, f"nobody{n}@sponsor.example", "x", address=proxy, HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, {SPRAYER}")
    assert sign_in(client, cast.admin.email, PASSWORD, address=proxy,
                   HTTP_X_FORWARDED_FOR=f"10.9.9.9, {SPRAYER}").status_code == 429
    assert sign_in(Client(), cast.admin.email, PASSWORD, address=proxy,
                   HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 302
