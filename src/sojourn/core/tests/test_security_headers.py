"""Every answer, whoever asks and whatever the page, carries the browser security policy: a strict CSP,
a Permissions-Policy, no referrer beyond our origin, no sniffing, no framing. The browser suite
(tests/browser/test_security_headers.py) shows the pages work under it."""

from __future__ import annotations

import re

import pytest

SCRIPT_SOURCES = re.compile(r"<script[^>]*\bsrc=\"([^\"]+)\"")


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
            for part in (p.strip() for p in policy.split(";")) if part}


def assert_policed(response) -> None:
    csp = directives(response)
    assert csp["default-src"] == "'none'" and csp["script-src"] == "'self'"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert re.fullmatch(r"'self' 'nonce-[\w-]{20,}'", csp["style-src"])
    assert csp["frame-ancestors"] == "'none'" and csp["base-uri"] == "'none'" and csp["object-src"] == "'none'"
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    if response["Content-Type"].startswith("text/html"):  # static files have only frame-ancestors
        assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", [
    "/console/sign-in/", "/console/", "/console/patients/", "/p/sign-in/", "/p/me/", "/p/hcp/sign-in/",
    "/p/psoriasis/DE/enroll/", "/api/v1/docs", "/api/v1/openapi.json", "/api/v1/programs", "/t/u/not-a-token/",
    "/t/c/not-a-token/", "/t/o/not-a-token.gif", "/static/sojourn/console.css", "/no/such/page/", "/healthz",
])
def test_every_answer_carries_the_policy(client, cast, path):
    assert_policed(client.get(path))
    client.force_login(cast.admin)
    assert_policed(client.get(path))


def test_each_answer_has_its_own_nonce(client, cast):
    first, second = (directives(client.get("/console/sign-in/"))["style-src"] for _ in range(2))
    assert first != second


def test_the_api_docs_load_swagger_ui_from_our_own_static_files(client):
    page = client.get("/api/v1/docs")
    sources = SCRIPT_SOURCES.findall(page.content.decode())
    assert sources and all(src.startswith("/static/") for src in sources)
    assert any(src.startswith("/static/ninja/swagger-ui-bundle") for src in sources)
    assert client.get(next(src for src in sources if "swagger-ui-bundle" in src)).status_code == 200
