"""What a market needs before it goes live in a program, checked, with what is missing named.

A market is opened in a program in set-up (`sojourn market activate`, or a definition naming it);
people then write its consents and content and staff it. It goes live when every check below holds;
going live is refused, listing what is missing, until then, and a program launches only with a live
market. The market pack has already been validated whole (safety deadlines, quiet hours, SMS
keywords); what is checked here is what the pack cannot hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from sojourn.consent.queries import current_version
from sojourn.content.models import ContentVariant
from sojourn.core.actors import Actor
from sojourn.core.errors import ErrorDetail, InvalidInput, NotFound
from sojourn.core.models import Market, Program, ProgramMarket
from sojourn.core.permissions import Permission, Role
from sojourn.core.services.audit import record_audit
from sojourn.people.models import Membership
from sojourn.safety.clocks import Clocks, agreed_forward
from sojourn.tracking.models import Need

CHECKS = {
    "patient_consent": gettext_lazy("Patient consent approved in each language"),
    "hcp_consent": gettext_lazy("Doctors' consent approved in each language"),
    "content": gettext_lazy("Approved content for each need in each language"),
    "nurses": gettext_lazy("Nurses who cover the market"),
    "safety": gettext_lazy("A safety officer who covers the market, and drug safety's address"),
    "print_house": gettext_lazy("A print house for the magazine"),
    "sms_sender": gettext_lazy("An SMS sender and provider"),
    "quiet_hours": gettext_lazy("Quiet hours"),
}


@dataclass(frozen=True)
class Check:
    code: str
    missing: list[str] = field(default_factory=list)
    note: str = ""  # what is in place, when it helps to see it (the quiet hours, the safety deadline)

    @property
    def ok(self) -> bool:
        return not self.missing

    @property
    def label(self) -> str:
        return str(CHECKS[self.code])


def _covered_by(program: Program, market: Market, role: Role) -> bool:
    return Membership.objects.filter(program=program, role=role, user__is_active=True).filter(
        Q(all_markets=True) | Q(markets=market)).exists()


def _consent(program: Program, market: Market, audience: str) -> list[str]:
    version = current_version(program, market, audience)
    if version is None:
        return [_("no approved version")]
    have = {text.locale for text in version.texts.all()}
    return [_("no text in %(locale)s") % {"locale": locale} for locale in market.locales if locale not in have]


def _content(program: Program, market: Market) -> list[str]:
    """Each need with no approved content in one of the market's languages (a library holds hundreds
    of items: read once, matched here)."""
    rows = list(ContentVariant.objects.filter(version__item__program=program, version__status="approved")
                .values_list("version__item__needs", "version__item__markets", "locale"))
    served = {(need, locale) for needs, markets, locale in rows if not markets or market.country in markets
              for need in needs or ()}
    return [_("%(need)s in %(locale)s") % {"need": need, "locale": locale}
            for need in Need.objects.filter(program=program).order_by("position", "code").values_list("code", flat=True)
            for locale in market.locales if (need, locale) not in served]


def forward_deadline(program: Program, market: Market) -> str:
    """The forward deadline in force in the market, as the safety clocks count it, and whose it is:
    the sponsor's agreement in the program's definition, else the market pack's."""
    clocks = Clocks.for_pack(market.pack, program.safety_deadlines)
    source = _("the program's definition") if agreed_forward(market.pack, program.safety_deadlines) \
        else _("the market pack")
    if clocks.deadline_hours is not None:
        n = clocks.deadline_hours
        span = ngettext("%(n)d hour", "%(n)d hours", n) % {"n": n}
    else:
        n = clocks.deadline_business_days or 0
        span = ngettext("%(n)d business day", "%(n)d business days", n) % {"n": n}
    return _("forward to drug safety within %(span)s (%(source)s)") % {"span": span, "source": source}


def readiness(program: Program, market: Market) -> list[Check]:
    """Every check of the market in the program, in the order a program manager works through them."""
    pack = market.pack
    channels = set(market.channels)
    checks = [
        Check("patient_consent", _consent(program, market, "patient")),
        Check("hcp_consent", _consent(program, market, "hcp")),
        Check("content", _content(program, market)),
        Check("nurses", [] if "phone" not in channels or _covered_by(program, market, Role.NURSE)
              else [_("no nurse has a role in %(country)s") % {"country": market.country}]),
        Check("safety", ([] if _covered_by(program, market, Role.SAFETY_OFFICER)
                         else [_("no safety officer has a role in %(country)s") % {"country": market.country}])
              + ([] if pack.get("regulatory", {}).get("adverse_events", {}).get("forward_to")
                 else [_("no address for drug safety in the market pack")]),
              note=forward_deadline(program, market)),
    ]
    if "print" in channels:
        ready = bool(settings.SOJOURN_PRINT_SFTP_URL or settings.SOJOURN_PRINT_DIR)
        checks.append(Check("print_house", [] if ready else [_("no print drop folder or SFTP address")]))
    if "sms" in channels:
        missing = [] if pack.get("sms_sender") else [_("no sender in the market pack")]
        if not settings.SOJOURN_SMS_PROVIDER:
            missing.append(_("no SMS provider configured"))
        checks.append(Check("sms_sender", missing))
    quiet = pack.get("regulatory", {}).get("quiet_hours") or {}
    checks.append(Check("quiet_hours", [] if quiet.get("start") else [_("none in the market pack")],
                        note=f"{quiet.get('start', '')}–{quiet.get('end', '')}"))
    return checks


def go_live(*, actor: Actor, program: Program, country: str) -> ProgramMarket:
    """Take the market live in the program once every check holds; refused, naming what is missing,
    until then. Going live again changes nothing."""
    actor.require(Permission.MARKET_ACTIVATE, program.pk, country)
    link = ProgramMarket.objects.select_related("market").filter(program=program, market__country=country).first()
    if link is None:
        raise NotFound()
    if link.live_at is not None:
        return link
    missing = [ErrorDetail(f"{check.label}: {'; '.join(check.missing)}", field=check.code)
               for check in readiness(program, link.market) if not check.ok]
    if missing:
        raise InvalidInput(_("%(country)s is not ready to go live: %(n)d check(s) are open.")
                           % {"country": country, "n": len(missing)}, details=missing)
    with transaction.atomic(durable=True):
        locked = ProgramMarket.objects.select_for_update().get(pk=link.pk)
        if locked.live_at is None:
            locked.live_at = timezone.now()
            locked.save(update_fields=["live_at"])
            record_audit(actor=actor, action="market.went_live", subject_type="program_market",
                         subject_id=f"{program.slug}/{country}", program_id=program.pk, market=country)
        return locked
