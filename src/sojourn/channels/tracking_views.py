"""What comes back from an email: the open pixel, a click (recorded, then on to the link) and the
one-click unsubscribe of RFC 8058. Each address holds a signed message id, never personal data."""

from __future__ import annotations

import base64
import hashlib

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from sojourn.channels.email import read_token
from sojourn.channels.services.replies import email_clicked, email_opened, unsubscribe_email

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def opened(request: HttpRequest, token: str) -> HttpResponse:
    found = read_token(token)
    if found is not None:
        email_opened(message_id=int(found["m"]))  # type: ignore[call-overload]
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response


def clicked(request: HttpRequest, token: str) -> HttpResponse:
    found = read_token(token)
    url = str(found.get("u", "")) if found else ""
    if not found or not url.startswith("https://"):
        return render(request, "channels/link_gone.html", status=404)
    email_clicked(message_id=int(found["m"]), url=url,  # type: ignore[call-overload]
                  link_key=hashlib.sha256(url.encode()).hexdigest()[:16])
    return HttpResponseRedirect(url)


@csrf_exempt  # a mail provider's one-click POST carries no CSRF token; the signed address is the proof
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    found = read_token(token)
    if found is None:
        return render(request, "channels/link_gone.html", status=404)
    if request.method == "POST":
        done = unsubscribe_email(message_id=int(found["m"]))  # type: ignore[call-overload]
        return render(request, "channels/unsubscribed.html", {"done": done})
    return render(request, "channels/unsubscribe.html", {"token": token})
