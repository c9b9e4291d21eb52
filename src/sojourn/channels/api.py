"""API: what providers report back (email bounces and replies, text messages from patients, SMS delivery
reports).

These endpoints take no staff token or session: only the provider's signed webhook (Standard
Webhooks, see services/callbacks.py) is let in, and every refusal answers alike.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security.base import AuthBase
from pydantic import Field

from sojourn.channels.services.callbacks import ProviderCallback, authenticate_callback
from sojourn.channels.services.email_inbound import ENCODINGS, MAX_MIME, receive_email
from sojourn.channels.services.replies import record_bounce
from sojourn.channels.services.sms_inbound import receive_sms, sms_status

router = Router(tags=["channels"])


class ProviderSignature(AuthBase):
    """The provider of one channel, known by its Standard Webhooks signature over the raw body."""

    openapi_type = "apiKey"
    openapi_in = "header"
    openapi_name = "webhook-signature"
    openapi_description = ("A Standard Webhooks signature (with the webhook-id and webhook-timestamp headers) "
                           "made with the channel's webhook secret.")

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def __call__(self, request: HttpRequest) -> ProviderCallback | None:
        return authenticate_callback(self.source, request.body, request.headers)


class BounceIn(Schema):
    provider_id: str = Field(..., min_length=3, max_length=120,
                             description="The Message-ID Sojourn gave the email (as the provider reports it).")
    bounce: str = Field(..., description="hard (the address does not exist) or soft (try again later)")
    detail: str = Field("", max_length=500, description="The provider's diagnostic, without personal data.")


class BounceOut(Schema):
    message: int
    delivery_status: str


@router.post("/channels/email/bounces", response=BounceOut, auth=ProviderSignature("email"),
             summary="Report a bounced email; after a hard bounce the address is not tried again")
def post_bounce(request: HttpRequest, payload: BounceIn) -> Any:
    message = record_bounce(callback=request.auth, provider_id=payload.provider_id,  # type: ignore[attr-defined]
                            bounce=payload.bounce, detail=payload.detail)
    return {"message": message.pk, "delivery_status": message.delivery_status}


class SmsIn(Schema):
    sender: str = Field(..., alias="from", max_length=20, description="The patient's number, E.164")
    text: str = Field(..., max_length=1600)
    id: str = Field("", max_length=120, description="The provider's id of the incoming message")


class ReceivedOut(Schema):
    received: bool = Field(..., description="Always true: the answer is the same whoever sent the message.")


class EmailIn(Schema):
    mime: str = Field(..., min_length=1, max_length=MAX_MIME,
                      description="The whole message as received (RFC 5322 headers and MIME body).")
    encoding: Literal[ENCODINGS] = Field(  # type: ignore[valid-type]
        "text", description="text (the message as UTF-8 text) or base64 (its bytes, for 8-bit messages)")
    provider_id: str = Field("", alias="id", max_length=120, description="The provider's id of the incoming message")


@router.post("/channels/email/inbound", response=ReceivedOut, auth=ProviderSignature("email"),
             summary="An email a patient sent back: a possible adverse event in its own words goes to drug safety")
def post_email_inbound(request: HttpRequest, payload: EmailIn) -> Any:
    receive_email(callback=request.auth, **payload.dict())  # type: ignore[attr-defined]
    return {"received": True}  # as for a text message: the same whoever sent it


@router.post("/channels/sms/inbound", response=ReceivedOut, auth=ProviderSignature("sms"),
             summary="A text message from a phone: STOP/START/HELP in the market's languages, answers, replies")
def post_sms_inbound(request: HttpRequest, payload: SmsIn) -> Any:
    # The outcome stays inside: whether the number is enrolled is nobody's business at this door.
    receive_sms(callback=request.auth, sender=payload.sender, text=payload.text,  # type: ignore[attr-defined]
                provider_id=payload.id)
    return {"received": True}


class SmsStatusIn(Schema):
    id: str = Field(..., min_length=1, max_length=120)
    status: str = Field(..., description="delivered or failed")


@router.post("/channels/sms/status", response=BounceOut, url_name="sms_status", auth=ProviderSignature("sms"),
             summary="The provider's delivery report for a text message")
def post_sms_status(request: HttpRequest, payload: SmsStatusIn) -> Any:
    message = sms_status(callback=request.auth, provider_id=payload.id, status=payload.status)  # type: ignore[attr-defined]
    return {"message": message.pk, "delivery_status": message.delivery_status}
