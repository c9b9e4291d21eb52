"""The browser-facing security headers every response carries: a strict Content-Security-Policy, a
Permissions-Policy that switches off the device features Sojourn never uses, and frame-ancestors.

Django 5.2 has no CSP of its own (6.0 has). Scripts may come only from our origin: no inline script,
no ``on…=`` handler, no eval. Inline ``<style>`` needs the request's nonce (``{{ csp_nonce }}``), which
the journey map's SVG uses so that the same drawing renders in WeasyPrint; ``style=`` attributes are
refused, so styling goes into the static style sheets. Referrer-Policy, nosniff, X-Frame-Options and
Cross-Origin-Opener-Policy come from Django's SecurityMiddleware and XFrameOptionsMiddleware (settings).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Each page needs only our own origin: the console, the portals and the API docs (Swagger UI served
# from django-ninja's package files) load nothing from anywhere else.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)

# Only features Chromium knows (an unknown name is a console warning); none is granted to any origin.
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope", "hid",
    "idle-detection", "magnetometer", "microphone", "midi", "payment", "publickey-credentials-get",
    "screen-wake-lock", "serial", "usb", "xr-spatial-tracking",
))


class SecurityHeadersMiddleware:
    """Give the request a CSP nonce and every response the policy headers (a view may set its own)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(18)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY.format(nonce=nonce))
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


def csp_nonce(request: HttpRequest) -> dict[str, str]:
    """Put the request's nonce in every template as ``csp_nonce`` (the name django-htmx reads too)."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
