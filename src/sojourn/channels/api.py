"""API: what providers report back (email bounces)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from sojourn.channels.services.replies import record_bounce
from sojourn.channels.services.sms_inbound import receive_sms, sms_status

router = Router(tags=["channels"])


class BounceIn(Schema):
    provider_id: str = Field(..., min_length=3, max_length=120,
                             description="The Message-ID Sojourn gave the email (as the provider reports it).")
    bounce: str = Field(..., description="hard (the address does not exist) or soft (try again later)")
    detail: str = Field("", max_length=500, description="The provider's diagnostic, without personal data.")


class BounceOut(Schema):
    message: int
    delivery_status: str


@router.post("/channels/email/bounces", response=BounceOut,
             summary="Report a bounced email; after a hard bounce the address is not tried again")
def post_bounce(request: HttpRequest, payload: BounceIn) -> Any:
    message = record_bounce(actor=request.actor, provider_id=payload.provider_id,  # type: ignore[attr-defined]
                            bounce=payload.bounce, detail=payload.detail)
    return {"message": message.pk, "delivery_status": message.delivery_status}


class SmsIn(Schema):
    sender: str = Field(..., alias="from", max_length=20, description="The patient's number, E.164")
    text: str = Field(..., max_length=1600)
    id: str = Field("", max_length=120, description="The provider's id of the incoming message")


class SmsInOut(Schema):
    action: str
    patient: str


@router.post("/channels/sms/inbound", response=SmsInOut,
             summary="A text message from a patient: STOP/START/HELP in the market's languages, answers, replies")
def post_sms_inbound(request: HttpRequest, payload: SmsIn) -> Any:
    found = receive_sms(actor=request.actor, sender=payload.sender, text=payload.text,  # type: ignore[attr-defined]
                        provider_id=payload.id)
    return {"action": found.action, "patient": found.patient}


class SmsStatusIn(Schema):
    id: str = Field(..., min_length=1, max_length=120)
    status: str = Field(..., description="delivered or failed")


@router.post("/channels/sms/status", response=BounceOut, url_name="sms_status",
             summary="The provider's delivery report for a text message")
def post_sms_status(request: HttpRequest, payload: SmsStatusIn) -> Any:
    message = sms_status(actor=request.actor, provider_id=payload.id, status=payload.status)  # type: ignore[attr-defined]
    return {"message": message.pk, "delivery_status": message.delivery_status}
