"""The printed magazine: an issue is a PDF per patient who agreed to post, with the blocks rules sent
and blocks chosen by their needs, in their language (Japanese set in a Japanese font), the address
laid out as the country's post expects; written to the print house's drop folder with a manifest
CSV and checksums. An issue is composed first (each copy and its blocks recorded in one transaction)
and laid out after; building it again adds only the copies it lacks and lays out any an interrupted
build left without a PDF. The print house's delivery manifest comes back as events."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncssh
from babel.dates import format_skeleton
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from sojourn.channels.drop import hand_over
from sojourn.channels.email import public_url
from sojourn.channels.models import PrintBlock, PrintCopy, PrintIssue
from sojourn.channels.pdf import write_pdfs
from sojourn.consent.queries import contact_facts_for_ids
from sojourn.content.kinds import fill
from sojourn.content.models import ContentItem, ContentVersion
from sojourn.content.queries import resolve_many
from sojourn.core.actors import Actor
from sojourn.core.db import read_locked
from sojourn.core.errors import ErrorDetail, InvalidInput
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.core.spreadsheets import csv_writer
from sojourn.people.addresses import address_lines
from sojourn.people.models import Patient
from sojourn.people.services.patients import open_for_delivery
from sojourn.tracking.models import PatientNeed, PatientProfile
from sojourn.tracking.services.events import MAX_BATCH, late_window, record_events

CHANNEL = Actor.system("channel:print")
MAX_BLOCKS = 4
NEED_THRESHOLD = 0.4


@dataclass
class Page:
    """A copy composed (its reader and blocks recorded) and waiting for its PDF."""
    copy_id: int
    pseudonym: str
    file_name: str
    html: str


@dataclass
class IssueReport:
    label: str
    folder: Path
    made: list[str] = field(default_factory=list)  # pseudonyms
    already: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # pseudonym → reason
    uploaded: list[str] = field(default_factory=list)  # file names sent to the print house's SFTP server
    upload_error: str = ""
    issue_id: int = 0
    pages: list[Page] = field(default_factory=list)  # composed, not laid out yet (build_issue(lay_out=False))


def issue_number(issue: PrintIssue) -> int:
    """The issue's place in the program's run of issues (the first built is 1)."""
    return PrintIssue.objects.filter(program_id=issue.program_id).filter(
        Q(created_at__lt=issue.created_at) | Q(created_at=issue.created_at, pk__lte=issue.pk)).count()


def issue_title(issue: PrintIssue, number: int, locale: str, time_zone: str) -> str:
    """What a copy prints as its issue: its number and month in the reader's language ("Ausgabe 3,
    Dezember 2026", "2026年12月・第3号"). The label stays the print house's name for the folder."""
    month = format_skeleton("yMMMM", timezone.localtime(issue.created_at, ZoneInfo(time_zone)).date(),
                            locale=locale.replace("-", "_"))
    return _("Issue %(number)s, %(month)s") % {"number": number, "month": month}


def _chosen(program: Program, patients: list[Patient]) -> dict[int, list[str]]:
    """Per patient: the blocks rules sent (oldest first), then items for their strongest needs that
    fit their market and journey stage."""
    out: dict[int, list[str]] = defaultdict(list)
    for patient_id, code in PrintBlock.objects.filter(patient__in=patients, issue__isnull=True) \
            .order_by("added_at", "pk").values_list("patient_id", "content_code"):
        if code not in out[patient_id]:
            out[patient_id].append(code)
    usable = [i for i in ContentItem.objects.filter(program=program, versions__status=ContentVersion.Status.APPROVED)
              if "print" in i.channels and i.needs]
    scores: dict[int, dict[str, float]] = defaultdict(dict)
    for patient_id, code, combined in PatientNeed.objects.filter(patient__in=patients).values_list(
            "patient_id", "need__code", "combined"):
        scores[patient_id][code] = combined
    stages = dict(PatientProfile.objects.filter(patient__in=patients, stage__isnull=False)
                  .values_list("patient_id", "stage__code"))
    for patient in patients:
        mine = scores.get(patient.pk, {})
        ranked = sorted(((max(mine.get(n, 0.0) for n in item.needs), item.code) for item in usable
                         if (not item.markets or patient.market.country in item.markets)
                         and (not item.stages or stages.get(patient.pk) in item.stages)), reverse=True)
        for score, code in ranked:
            if score >= NEED_THRESHOLD and code not in out[patient.pk] and len(out[patient.pk]) < MAX_BLOCKS:
                out[patient.pk].append(code)
    return out


def build_issue(*, actor: Actor, program: Program, label: str, folder: Path, now: datetime | None = None,
                new_readers: bool = True, lay_out: bool = True) -> IssueReport:
    """Compose the issue (who gets a copy with which blocks, recorded at once), then lay out each copy's
    PDF into the drop folder and hand the folder to the print house. Building it again adds only the
    copies it lacks, and lays out the copies an interrupted build composed but never laid out (with
    new_readers=False, only those). With lay_out=False the composed pages come back in the report for
    `lay_out_issue` (the simulator lays them out beside the rest of its run)."""
    actor.require(Permission.PROGRAM_MANAGE, program.pk)
    now = now or timezone.now()
    if not label or len(label) > 20 or not all(c.isalnum() or c in "._-" for c in label) or not label[0].isalnum():
        raise InvalidInput(_("Name the issue with letters, digits, dots and hyphens, such as 2026-12."), field="issue")
    target = Path(folder) / program.slug / label
    report = IssueReport(label, target)
    patients = list(Patient.objects.filter(program=program, status=Patient.Status.ACTIVE).select_related("market"))
    facts = contact_facts_for_ids([p.pk for p in patients])
    allowed = [p for p in patients if facts[p.pk].check("print", None, ignore_quiet_hours=True).allowed]
    issue, _created = PrintIssue.objects.get_or_create(program=program, label=label,
                                                       defaults={"created_at": now, "folder": str(target)})
    if issue.folder != str(target):
        PrintIssue.objects.filter(pk=issue.pk).update(folder=str(target))
    report.issue_id = issue.pk
    copies = {c.patient_id: c for c in PrintCopy.objects.filter(issue=issue)}
    report.already = [p.pseudonym for p in allowed if p.pk in copies and copies[p.pk].sha256]
    fresh = [p for p in allowed if p.pk not in copies] if new_readers else []
    chosen = _chosen(program, fresh)
    unfinished = [p for p in allowed if p.pk in copies and not copies[p.pk].sha256]
    for patient in unfinished:  # composed by a build that stopped before their PDF: the same blocks again
        chosen[patient.pk] = [b["code"] for b in copies[patient.pk].blocks]
    todo = [p for p in fresh if chosen.get(p.pk)] + unfinished
    # Composed before, never laid out, and the reader no longer receives post: that copy is not made.
    allowed_ids = {p.pk for p in allowed}
    dropped = list(PrintCopy.objects.filter(pk__in=[c.pk for pid, c in copies.items()
                                                    if not c.sha256 and pid not in allowed_ids]
                                            ).select_related("patient"))
    for copy in dropped:
        report.skipped[copy.patient.pseudonym] = "no longer receives the magazine"
    people = open_for_delivery(actor=CHANNEL, patient_ids=[p.pk for p in todo],
                               fields=("given_name", "family_name", "postal_address"), purpose=f"magazine {label}")
    target.mkdir(parents=True, exist_ok=True)
    by_locale: dict[tuple[str, str], list[Patient]] = defaultdict(list)
    for patient in todo:
        by_locale[(patient.locale, patient.market.country)].append(patient)
    pages: list[tuple[Patient, list, str]] = []  # who, which blocks, the page as HTML
    number = issue_number(issue)
    for (locale, country), group in by_locale.items():
        codes = sorted({c for p in group for c in chosen[p.pk]})
        words = resolve_many(program.pk, codes, locale=locale, country=country, channel="print", at=now)
        for patient in group:
            if patient.pk not in people:
                report.skipped[patient.pseudonym] = "the patient's contact details cannot be read"
                continue
            person = people[patient.pk]
            if not person.get("postal_address"):
                report.skipped[patient.pseudonym] = "no postal address"
                continue
            values = {"given_name": str(person.get("given_name") or ""), "program_name": program.name,
                      "portal_link": public_url("/p/me/page/")}
            blocks = [replace(b, title=fill(b.title, values), body=fill(b.body, values))
                      for c in chosen[patient.pk] if (b := words[c].content) is not None]
            if not blocks:
                report.skipped[patient.pseudonym] = "; ".join(words[c].reason for c in chosen[patient.pk])
                continue
            name = f"{person.get('given_name') or ''} {person.get('family_name') or ''}".strip()
            if locale.startswith("ja"):
                name = f"{person.get('family_name') or ''} {person.get('given_name') or ''} 様".strip()
            with translation.override(locale.split("-")[0]):
                address = address_lines(json.loads(str(person["postal_address"])), name, language=locale,
                                        sender_country=country)
                html = render_to_string("channels/print/magazine.html", {
                    "program": program, "issue_title": issue_title(issue, number, locale, patient.time_zone),
                    "address": address, "blocks": blocks, "lang": locale, "pseudonym": patient.pseudonym})
            pages.append((patient, blocks, html))
    report.pages = _record_copies(issue, pages, copies, dropped, now)
    report.made = [page.pseudonym for page in report.pages]
    if lay_out:
        lay_out_issue(actor=actor, program=program, report=report,
                      checksums=write_pdfs([(page.html, target / page.file_name) for page in report.pages]))
    return report


def _record_copies(issue: PrintIssue, pages: list[tuple[Patient, list, str]], copies: dict[int, PrintCopy],
                   dropped: list[PrintCopy], now: datetime) -> list[Page]:
    """Each composed copy and the blocks it takes, in one transaction: from here on the blocks belong
    to this issue, and the copy waits for its PDF (an empty checksum). Dropped copies give their
    blocks back for the next issue."""
    out = []
    with transaction.atomic():
        for copy in dropped:
            PrintBlock.objects.filter(issue=issue, patient_id=copy.patient_id).update(issue=None)
            copy.delete()
        for patient, blocks, html in pages:
            recorded = [{"code": b.code, "version": b.version, "approval_code": b.approval_code} for b in blocks]
            copy = copies.get(patient.pk)
            if copy is None:
                copy = PrintCopy.objects.create(issue=issue, patient=patient, file_name=f"{patient.pseudonym}.pdf",
                                                sha256="", created_at=now, blocks=recorded)
            elif copy.blocks != recorded:
                PrintCopy.objects.filter(pk=copy.pk).update(blocks=recorded)
            PrintBlock.objects.filter(patient=patient, issue__isnull=True,
                                      content_code__in=[b.code for b in blocks]).update(issue=issue)
            out.append(Page(copy.pk, patient.pseudonym, copy.file_name, html))
    return out


def lay_out_issue(*, actor: Actor, program: Program, report: IssueReport, checksums: Iterable[str]) -> None:
    """Record the checksum of each composed page's PDF as its file is written (`sojourn.channels.pdf`,
    in the report's order), then write the manifest and hand the folder to the print house. A copy
    whose PDF was never written keeps an empty checksum, and building the issue again lays it out."""
    actor.require(Permission.PROGRAM_MANAGE, program.pk)
    issue = PrintIssue.objects.get(pk=report.issue_id, program=program)
    for page, checksum in zip(report.pages, checksums, strict=True):
        PrintCopy.objects.filter(pk=page.copy_id).update(sha256=checksum)
    report.pages = []
    # A reader erased while the issue was laid out: their page was written from an identity read before;
    # it never reaches the print house (the erasure itself removed what was already there).
    for copy in issue.copies.filter(patient__status=Patient.Status.ERASED):
        (report.folder / copy.file_name).unlink(missing_ok=True)
    _write_manifest(issue, report.folder)
    try:
        report.uploaded = hand_over(report.folder, program.slug, report.label)
    except (OSError, asyncssh.Error) as error:  # the files are safe in the drop folder: upload again later
        report.upload_error = f"{type(error).__name__}: {error}"[:300]
    with transaction.atomic():
        record_audit(actor=actor, action="print.issue_built", subject_type="print_issue", subject_id=report.label,
                     program_id=program.pk, after={"made": len(report.made), "already": len(report.already),
                                                   "skipped": len(report.skipped),
                                                   "uploaded": len(report.uploaded),
                                                   "upload_error": report.upload_error})


def _write_manifest(issue: PrintIssue, target: Path, without: int | None = None) -> None:
    """manifest.csv (file, SHA-256, country, blocks with approval codes) and SHA256SUMS, both rewritten
    whole from the database, so a re-run leaves them as they were plus the new copies. An erased reader's
    copy (or the one being erased, `without`) is left out."""
    copies = list(issue.copies.exclude(sha256="").exclude(patient__status=Patient.Status.ERASED)
                  .exclude(patient_id=without).select_related("patient__market").order_by("file_name"))
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(["file", "sha256", "country", "locale", "blocks"])
    for copy in copies:
        writer.writerow([copy.file_name, copy.sha256, copy.patient.market.country, copy.patient.locale,
                         " ".join(f"{b['code']}:{b['approval_code']}" for b in copy.blocks)])
    (target / "manifest.csv").write_text(out.getvalue(), encoding="utf-8")
    (target / "SHA256SUMS").write_text("".join(f"{c.sha256}  {c.file_name}\n" for c in copies), encoding="utf-8")


def remove_copies_of(patient: Patient) -> int:
    """An erasure: delete the patient's laid-out copies from the drop folder of every issue and rewrite
    those issues' manifests without them. The print house needs a page only until it is printed; a copy
    it already took is its to delete under the processing agreement (docs/privacy.md)."""
    removed = 0
    for copy in PrintCopy.objects.filter(patient=patient).select_related("issue__program"):
        issue = copy.issue
        folder = Path(issue.folder) if issue.folder else Path(settings.SOJOURN_PRINT_DIR) / issue.program.slug / \
            issue.label
        path = folder / copy.file_name
        if path.exists():
            path.unlink()
            removed += 1
        if (folder / "manifest.csv").exists():
            _write_manifest(issue, folder, without=patient.pk)
    return removed


def record_delivery_manifest(*, actor: Actor, program: Program, label: str, text: str) -> int:
    """The print house's report (CSV: file, status delivered|returned, date): checked line by line,
    recorded only when every line is good; each delivered copy becomes a print.delivered event."""
    actor.require(Permission.EVENTS_WRITE, program.pk)
    issue = PrintIssue.objects.filter(program=program, label=label).first()
    if issue is None:
        raise InvalidInput(_("There is no issue %(label)s.") % {"label": label}, field="issue")
    copies = {c.file_name: c for c in issue.copies.select_related("patient")}
    problems: list[ErrorDetail] = []
    rows: list[tuple[PrintCopy, str, datetime]] = []
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"file", "status", "date"} <= set(reader.fieldnames):
        raise InvalidInput(_("The manifest needs the columns file, status and date."), field="manifest")
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        copy = copies.get((row.get("file") or "").strip())
        if copy is None:
            problems.append(ErrorDetail(_("No copy of this issue has this file name."), field="file", line=line))
            continue
        if copy.file_name in seen:
            problems.append(ErrorDetail(_("This file is listed twice."), field="file", line=line))
            continue
        seen.add(copy.file_name)
        status = (row.get("status") or "").strip()
        if status not in {"delivered", "returned"}:
            problems.append(ErrorDetail(_("The status is delivered or returned."), field="status", line=line))
            continue
        try:
            day = datetime.fromisoformat((row.get("date") or "").strip())
        except ValueError:
            problems.append(ErrorDetail(_("Give the date as YYYY-MM-DD."), field="date", line=line))
            continue
        rows.append((copy, status, day if day.tzinfo else day.replace(tzinfo=timezone.get_fixed_timezone(0))))
    if problems:
        first = problems[0]
        raise InvalidInput(f"line {first.line}: {first.message}", field=first.field, details=problems)
    with transaction.atomic():
        # Every patient of the manifest held at once, in id order: the batches of events below would
        # otherwise lock them batch by batch, out of the order other writers take (core.db.read_locked).
        read_locked(Patient, {copy.patient_id for copy, _status, _day in rows}, ["id"])
        events = []
        for copy, status, day in rows:
            if status == "delivered" and copy.delivered_at is None:
                PrintCopy.objects.filter(pk=copy.pk).update(delivered_at=day)
                if copy.patient.status == Patient.Status.ACTIVE:
                    # An old manifest still counts: dated at the edge of the late window at most.
                    at = max(day, timezone.now() - late_window() + timedelta(minutes=5))
                    events.append({"client_id": f"print-{issue.pk}-{copy.pk}", "type": "print.delivered",
                                   "patient": copy.patient.pseudonym, "occurred_at": at.isoformat(),
                                   "data": {"issue": label, "message": copy.file_name}})
        for start in range(0, len(events), MAX_BATCH):  # a print run is often thousands of copies
            record_events(CHANNEL, events[start:start + MAX_BATCH], source="print")
        record_audit(actor=actor, action="print.delivery_recorded", subject_type="print_issue", subject_id=label,
                     program_id=program.pk, after={"lines": len(rows)})
    return len(rows)

