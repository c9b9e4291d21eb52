"""API for the signed-in staff member and for patients."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput, NotFound
from sojourn.core.permissions import ROLE_PERMISSIONS, Permission, Role
from sojourn.core.queries import access_program
from sojourn.people import queries
from sojourn.people.identity import PatientIdentity, PostalAddress
from sojourn.people.models import ApiToken, Hcp, StaffProfile
from sojourn.people.services import staff, tokens
from sojourn.people.services.invitations import MAX_RUN, issue_invitations
from sojourn.people.services.patients import read_patient_identity, register_patient

router = Router(tags=["people"])


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


class GrantOut(Schema):
    program_id: int
    role: str
    markets: list[str] | None
    permissions: list[str] = Field(description="What the role allows, narrowed by the token's scope if any")


class MeOut(Schema):
    label: str
    platform_admin: bool
    grants: list[GrantOut]


class PatientOut(Schema):
    pseudonym: str
    program: str = Field(validation_alias="program.slug")
    market: str = Field(validation_alias="market.country")
    locale: str
    time_zone: str
    status: str
    created_at: datetime


class PatientPage(Schema):
    count: int
    page: int
    items: list[PatientOut]


class PageQuery(Schema):
    market: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    page: int = Field(default=1, ge=1, le=100_000)


class AddressIn(Schema):
    lines: list[str] = Field(min_length=1, max_length=4)
    postal_code: str = Field(max_length=20)
    city: str = Field(max_length=100)
    region: str = Field(default="", max_length=100)
    country: str = Field(pattern=r"^[A-Z]{2}$")


class PatientIn(Schema):
    market: str = Field(pattern=r"^[A-Z]{2}$")
    locale: str = Field(max_length=10)
    time_zone: str = Field(max_length=64)
    given_name: str = Field(max_length=200)
    family_name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=254)
    phone: str = Field(default="", max_length=32)
    birth_date: date | None = None
    postal_address: AddressIn | None = None


class IdentityReadIn(Schema):
    purpose: str = Field(min_length=3, max_length=200, description="Why the identity is needed (audited)")


class IdentityOut(Schema):
    given_name: str
    family_name: str
    email: str
    phone: str
    birth_date: date | None
    postal_address: AddressIn | None


@router.get("/me", response=MeOut, summary="Who you are and what you may do")
def me(request: HttpRequest) -> Any:
    actor = _actor(request)
    return {
        "label": actor.label, "platform_admin": actor.is_platform_admin,
        "grants": [{"program_id": g.program_id, "role": g.role.value,
                    "markets": sorted(g.markets) if g.markets is not None else None,
                    "permissions": sorted(p.value for p in g.permissions)} for g in actor.grants],
    }


@router.get("/programs/{slug}/patients", response=PatientPage, summary="Pseudonymous patient records")
def list_patients(request: HttpRequest, slug: str, query: Query[PageQuery]) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    patients = queries.patients_for(actor, program, Permission.PATIENT_VIEW, market=query.market)
    size = 50
    return {"count": patients.count(), "page": query.page,
            "items": list(patients[(query.page - 1) * size: query.page * size])}


@router.post("/programs/{slug}/patients", response={201: PatientOut}, summary="Register a patient (pending)")
def create_patient(request: HttpRequest, slug: str, payload: PatientIn) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    address = payload.postal_address
    identity = PatientIdentity(
        given_name=payload.given_name, family_name=payload.family_name, email=payload.email, phone=payload.phone,
        birth_date=payload.birth_date,
        postal_address=PostalAddress(lines=tuple(address.lines), postal_code=address.postal_code, city=address.city,
                                     region=address.region, country=address.country) if address else None,
    )
    patient = register_patient(actor=actor, program=program, market=payload.market, identity=identity,
                               locale=payload.locale, time_zone=payload.time_zone)
    return Status(201, patient)


@router.get("/patients/{pseudonym}", response=PatientOut, summary="One pseudonymous patient record")
def get_patient(request: HttpRequest, pseudonym: str) -> Any:
    return queries.access_patient(_actor(request), pseudonym)


@router.post("/patients/{pseudonym}/identity-reads", response=IdentityOut,
             summary="Read a patient's identity; the read and its purpose are audited")
def read_identity(request: HttpRequest, pseudonym: str, payload: IdentityReadIn) -> Any:
    actor = _actor(request)
    patient = queries.access_patient(actor, pseudonym, Permission.PATIENT_VIEW)
    identity = read_patient_identity(actor=actor, patient=patient, purpose=payload.purpose)
    address = identity.postal_address
    return {
        "given_name": identity.given_name, "family_name": identity.family_name, "email": identity.email,
        "phone": identity.phone, "birth_date": identity.birth_date,
        "postal_address": {**address.__dict__, "lines": list(address.lines)} if address else None,
    }


class InvitationRunIn(Schema):
    market: str = Field(pattern=r"^[A-Z]{2}$")
    count: int = Field(ge=1, le=MAX_RUN)
    hcp: str = Field(default="", max_length=16, description="the pseudonym of the dermatologist who hands them out")
    batch: str = Field(default="", max_length=80, description="a name for the print run (default: market and time)")


class InvitationRunOut(Schema):
    market: str = Field(validation_alias="market__country")
    batch: str
    hcp: str | None = Field(validation_alias="hcp__pseudonym")
    issued_at: datetime
    cards: int
    used: int = Field(description="cards used to enroll")


class InvitationRunPage(Schema):
    count: int
    page: int
    items: list[InvitationRunOut]


class IssuedRunOut(Schema):
    market: str
    batch: str
    hcp: str | None
    issued_at: datetime
    codes: list[str]


@router.get("/programs/{slug}/invitations", response=InvitationRunPage,
            summary="Print runs of invitation cards and how many were used to enroll (program managers)")
def list_invitation_runs(request: HttpRequest, slug: str, query: Query[PageQuery]) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    actor.require(Permission.PROGRAM_MANAGE, program.pk, query.market)
    runs = queries.invitation_runs(actor, program, market=query.market)
    size = 50
    return {"count": runs.count(), "page": query.page, "items": list(runs[(query.page - 1) * size: query.page * size])}


@router.post("/programs/{slug}/invitations", response={201: IssuedRunOut},
             summary="Print a run of invitation cards: their codes, for the print house")
def create_invitation_run(request: HttpRequest, slug: str, payload: InvitationRunIn) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    hcp = None
    if payload.hcp:
        hcp = Hcp.objects.filter(program=program, pseudonym=payload.hcp).first()
        if hcp is None:
            raise InvalidInput(_("No professional %(hcp)s in this program.") % {"hcp": payload.hcp}, field="hcp")
    made = issue_invitations(actor=actor, program=program, market=payload.market, count=payload.count, hcp=hcp,
                             batch=payload.batch)
    return Status(201, {"market": payload.market, "batch": made[0].batch, "hcp": hcp.pseudonym if hcp else None,
                        "issued_at": made[0].issued_at, "codes": [card.code for card in made]})


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100, description="After the system that will use it")
    program: str | None = Field(None, description="The program's slug; omitted: every program of the owner")
    markets: list[str] | None = Field(None, description="Country codes; omitted: every market of the owner")
    permissions: list[str] | None = Field(None, description="Permission names; omitted: all of the owner's")
    days: int = Field(tokens.DEFAULT_DAYS, ge=1, le=tokens.MAX_DAYS, description="How long it runs")
    service_account: int | None = Field(None, description="Issue it to this service account (its id), not yourself")


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to recognise it")
    owner: str
    service_account: bool
    program: str | None
    markets: list[str] | None
    permissions: list[str] | None
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    state: str = Field(description="active, rotated (valid until its expiry, beside its successor), expired, revoked")
    replaced_by: int | None


class IssuedTokenOut(TokenOut):
    token: str = Field(description="Shown this once; only its hash is kept")


class RotateIn(Schema):
    overlap_hours: int = Field(tokens.DEFAULT_OVERLAP_HOURS, ge=0, le=tokens.MAX_OVERLAP_HOURS,
                               description="How long the old token keeps working beside the new one")


class ServiceAccountIn(Schema):
    name: str = Field(min_length=1, max_length=80)
    role: Role
    markets: list[str] | None = Field(None, description="Country codes; omitted: every market of the program")


class ServiceAccountOut(Schema):
    id: int
    name: str
    roles: list[GrantOut]


def token_out(row: ApiToken, token: str | None = None) -> dict[str, Any]:
    profile = getattr(row.user, "staff_profile", None)
    out = {"id": row.pk, "name": row.name, "prefix": row.prefix,
           "owner": profile.display_name if profile else row.user.get_username(),
           "service_account": bool(profile and profile.service_program_id),
           "program": row.program.slug if row.program_id else None, "markets": row.markets,
           "permissions": row.permissions, "created_at": row.created_at, "expires_at": row.expires_at,
           "last_used_at": row.last_used_at, "revoked_at": row.revoked_at, "state": tokens.token_state(row),
           "replaced_by": row.replaced_by_id}
    return out if token is None else {**out, "token": token}


def _token(actor: Actor, token_id: int) -> ApiToken:
    row = queries.tokens_for(actor).filter(pk=token_id).first()
    if row is None:
        raise NotFound()
    return row


@router.get("/tokens", response=list[TokenOut], summary="Your API tokens and those of service accounts you manage")
def list_tokens(request: HttpRequest) -> Any:
    return [token_out(row) for row in queries.tokens_for(_actor(request))]


@router.post("/tokens", response={201: IssuedTokenOut}, summary="Issue an API token (shown once)")
def create_token(request: HttpRequest, payload: TokenIn) -> Any:
    actor = _actor(request)
    program = access_program(actor, payload.program) if payload.program else None
    if payload.service_account is None:
        owner = request.user
    else:
        profile = StaffProfile.objects.select_related("user").filter(
            user_id=payload.service_account, service_program__isnull=False).first()
        if profile is None or not actor.can(Permission.STAFF_MANAGE, profile.service_program_id):
            raise InvalidInput(_("No such service account."), field="service_account")
        owner = profile.user
    row, token = tokens.issue_api_token(actor=actor, user=owner, name=payload.name, program=program,
                                        markets=payload.markets, permissions=payload.permissions, days=payload.days)
    return Status(201, token_out(row, token))


@router.post("/tokens/{token_id}/rotate", response={201: IssuedTokenOut},
             summary="Issue a token's successor; the old one works for the overlap, then stops")
def rotate_token(request: HttpRequest, token_id: int, payload: RotateIn) -> Any:
    actor = _actor(request)
    row, token = tokens.rotate_api_token(actor=actor, token_id=_token(actor, token_id).pk,
                                         overlap_hours=payload.overlap_hours)
    return Status(201, token_out(_token(actor, row.pk), token))


@router.post("/tokens/{token_id}/revoke", response=TokenOut, summary="Stop a token at once")
def revoke_token(request: HttpRequest, token_id: int) -> Any:
    actor = _actor(request)
    tokens.revoke_api_token(actor=actor, token_id=_token(actor, token_id).pk)
    return token_out(_token(actor, token_id))


def _service_account_out(profile: StaffProfile) -> dict[str, Any]:
    grants = [{"program_id": m.program_id, "role": m.role, "markets": None if m.all_markets else sorted(
        c.country for c in m.markets.all()), "permissions": sorted(ROLE_PERMISSIONS[Role(m.role)])}
        for m in profile.user.memberships.all()]
    return {"id": profile.user_id, "name": profile.display_name, "roles": grants}


@router.get("/programs/{slug}/service-accounts", response=list[ServiceAccountOut],
            summary="The program's service accounts (integrations' own accounts)")
def list_service_accounts(request: HttpRequest, slug: str) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    actor.require(Permission.STAFF_MANAGE, program.pk)
    return [_service_account_out(p) for p in queries.service_accounts(actor, program)
            .prefetch_related("user__memberships__markets")]


@router.post("/programs/{slug}/service-accounts", response={201: ServiceAccountOut},
             summary="Create a service account with one role; issue it tokens with POST /tokens")
def create_service_account(request: HttpRequest, slug: str, payload: ServiceAccountIn) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    user = staff.create_service_account(actor=actor, program=program, name=payload.name, role=payload.role,
                                        markets=payload.markets)
    return Status(201, _service_account_out(queries.service_accounts(actor, program).get(user=user)))
