"""The printed magazine: a Japanese and a German patient's copies, read back with pdftotext; the
manifest and checksums; a re-run adds nothing; the print house's report comes back as events."""

from __future__ import annotations

import csv
import hashlib
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from sojourn.channels.models import PrintBlock, PrintCopy
from sojourn.channels.services.magazine import build_issue, record_delivery_manifest
from sojourn.channels.tests.helpers import patient_with_address, text_of
from sojourn.consent.services.withdrawal import withdraw_consent
from sojourn.core.errors import InvalidInput
from sojourn.dialogue.tests.factories import SYSTEM
from sojourn.tracking.models import Event, PatientNeed

pytestmark = pytest.mark.django_db


def test_an_issue_for_a_japanese_and_a_german_patient_reads_back(program, readers, tmp_path):
    tokyo, berlin, nowhere = readers
    assert PrintBlock.objects.get().content_code == "welcome-page"  # the rule's block waits for the issue
    report = build_issue(actor=SYSTEM, program=program, label="2026-12", folder=tmp_path)
    assert sorted(report.made) == sorted([tokyo.pseudonym, berlin.pseudonym])
    assert report.skipped == {nowhere.pseudonym: "no postal address"}
    folder = tmp_path / program.slug / "2026-12"
    japanese = text_of(folder / f"{tokyo.pseudonym}.pdf")
    assert "〒100-0005" in japanese and "東京都" in japanese and "丸の内1-1-1" in japanese
    assert "ようこそ" in japanese and "かゆみとうまく付き合う" in japanese
    assert "Lenaさん、肌を冷やすとかゆみが和らぎます。" in japanese  # the enrolled name, filled in
    assert japanese.index("ようこそ") < japanese.index("かゆみとうまく付き合う")  # the rule's block first
    german = text_of(folder / f"{berlin.pseudonym}.pdf")
    assert "Unter den Linden 5" in german and "10117 BERLIN" in german
    assert "Lena, Kühlen lindert den Juckreiz." in german and "PSO-PRINT-0007" in german
    assert "Willkommen" not in german  # only the Japanese patient was sent the welcome page
    assert "Beim Wechsel" not in german and "切り替えのとき" not in japanese  # for another journey stage
    rows = list(csv.DictReader(io.StringIO((folder / "manifest.csv").read_text(encoding="utf-8"))))
    assert {r["file"]: r["country"] for r in rows} == {f"{tokyo.pseudonym}.pdf": "JP", f"{berlin.pseudonym}.pdf": "DE"}
    for row in rows:
        assert hashlib.sha256((folder / row["file"]).read_bytes()).hexdigest() == row["sha256"]
    assert PrintBlock.objects.get().issue is not None


def test_a_report_longer_than_an_event_batch_is_recorded_whole(program, readers, tmp_path, monkeypatch):
    tokyo, berlin, _nowhere = readers
    build_issue(actor=SYSTEM, program=program, label="2026-12", folder=tmp_path)
    monkeypatch.setattr("sojourn.channels.services.magazine.MAX_BATCH", 1)  # as 1,001 copies against 1,000
    today = timezone.now().date()
    report = f"file,status,date\n{tokyo.pseudonym}.pdf,delivered,{today}\n{berlin.pseudonym}.pdf,delivered,{today}\n"
    assert record_delivery_manifest(actor=SYSTEM, program=program, label="2026-12", text=report) == 2
    assert set(Event.objects.filter(type="print.delivered").values_list("patient_id", flat=True)) == {
        tokyo.pk, berlin.pk}


def test_a_rerun_adds_no_copy_and_the_print_houses_report_comes_back(program, readers, tmp_path):
    tokyo, berlin, _nowhere = readers
    build_issue(actor=SYSTEM, program=program, label="2026-12", folder=tmp_path)
    folder = tmp_path / program.slug / "2026-12"
    manifest = (folder / "manifest.csv").read_text(encoding="utf-8")
    again = build_issue(actor=SYSTEM, program=program, label="2026-12", folder=tmp_path)
    assert again.made == [] and sorted(again.already) == sorted([tokyo.pseudonym, berlin.pseudonym])
    assert PrintCopy.objects.count() == 2 and (folder / "manifest.csv").read_text(encoding="utf-8") == manifest
    bad = f"file,status,date\n{tokyo.pseudonym}.pdf,delivered,2026-12-03\nnobody.pdf,delivered,2026-12-03\n" \
          f"{berlin.pseudonym}.pdf,lost,2026-12-03\n"
    with pytest.raises(InvalidInput) as error:
        record_delivery_manifest(actor=SYSTEM, program=program, label="2026-12", text=bad)
    assert [(d.line, d.field) for d in error.value.details] == [(3, "file"), (4, "status")]
    assert not Event.objects.filter(type="print.delivered").exists()  # nothing from a file that fails
    good = f"file,status,date\n{tokyo.pseudonym}.pdf,delivered,{timezone.now().date()}\n"
    path = tmp_path / "report.csv"
    path.write_text(good, encoding="utf-8")
    call_command("magazine", "delivered", "--program", program.slug, "--issue", "2026-12", "--file", str(path))
    delivered = Event.objects.get(type="print.delivered")
    assert delivered.patient_id == tokyo.pk and delivered.data["issue"] == "2026-12"
    assert PrintCopy.objects.get(patient=tokyo).delivered_at is not None


def test_a_build_stopped_before_the_pdfs_is_finished_by_the_next_and_a_withdrawn_readers_copy_dropped(
        program, readers, tmp_path):
    tokyo, berlin, _nowhere = readers
    composed = build_issue(actor=SYSTEM, program=program, label="2026-12", folder=tmp_path, lay_out=False)
    folder = tmp_path / program.slug / "2026-12"
    assert sorted(composed.made) == sorted([tokyo.pseudonym, berlin.pseudonym]) and len(composed.pages) == 2
    # The copies and their blocks are recorded; no PDF, no checksum, no manifest yet.
    assert set(PrintCopy.objects.values_list("sha256", flat=True)) == {""}
    assert PrintBlock.objects.get().issue_id == composed.issue_id
    assert not list(folder.glob("*.pdf")) and not (folder / "manifest.csv").exists()
    withdraw_consent(actor=SYSTEM, patient=berlin, purposes=None, via="portal", reason="test")

    again = build_issue(actor=SYSTEM, program=program, label="2026-12", folder=tmp_path, new_readers=False)
    assert again.made == [tokyo.pseudonym] and again.pages == []
    assert again.skipped == {berlin.pseudonym: "no longer receives the magazine"}
    copy = PrintCopy.objects.get()  # the withdrawn reader's copy was never made
    assert copy.patient_id == tokyo.pk and copy.sha256 == hashlib.sha256(
        (folder / copy.file_name).read_bytes()).hexdigest()
    assert [p.name for p in folder.glob("*.pdf")] == [copy.file_name]
    assert (folder / "manifest.csv").read_text(encoding="utf-8").count(".pdf") == 1
    assert build_issue(actor=SYSTEM, program=program, label="2026-12", folder=tmp_path).already == [tokyo.pseudonym]


@pytest.fixture
def print_house(tmp_path, settings):
    """A real SFTP server (asyncssh) on a local port: the print house's side of the drop folder."""
    import asyncio
    import socket
    import threading

    import asyncssh

    root = tmp_path / "print-house"
    root.mkdir()
    host_key, client_key = asyncssh.generate_private_key("ssh-ed25519"), asyncssh.generate_private_key("ssh-ed25519")
    (tmp_path / "id").write_bytes(client_key.export_private_key())
    loop = asyncio.new_event_loop()

    class Chrooted(asyncssh.SFTPServer):
        def __init__(self, channel):
            super().__init__(channel, chroot=str(root))

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = loop.run_until_complete(asyncssh.listen(
        "127.0.0.1", port, server_host_keys=[host_key], sftp_factory=Chrooted,
        authorized_client_keys=asyncssh.import_authorized_keys(client_key.export_public_key().decode())))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    (tmp_path / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key.export_public_key().decode()}")
    settings.SOJOURN_PRINT_SFTP_URL = f"sftp://printer@127.0.0.1:{port}/inbox"
    settings.SOJOURN_PRINT_SFTP_KEY = str(tmp_path / "id")
    settings.SOJOURN_PRINT_SFTP_KNOWN_HOSTS = str(tmp_path / "known_hosts")
    yield root
    loop.call_soon_threadsafe(server.close)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)


def test_the_issue_goes_to_the_print_houses_sftp_server_once(program, readers, tmp_path, print_house, settings):
    tokyo, berlin, _nowhere = readers
    report = build_issue(actor=SYSTEM, program=program, label="2026-12", folder=tmp_path / "drop")
    assert report.upload_error == ""
    assert report.uploaded[-2:] == ["SHA256SUMS", "manifest.csv"]  # the manifest last: the batch is whole
    remote = print_house / "inbox" / program.slug / "2026-12"
    local = tmp_path / "drop" / program.slug / "2026-12"
    for name in (f"{tokyo.pseudonym}.pdf", f"{berlin.pseudonym}.pdf", "manifest.csv", "SHA256SUMS"):
        assert (remote / name).read_bytes() == (local / name).read_bytes()
    again = build_issue(actor=SYSTEM, program=program, label="2026-12", folder=tmp_path / "drop")
    assert again.uploaded == ["SHA256SUMS", "manifest.csv"]  # no copy sent twice
    (tmp_path / "known_hosts").write_text(f"[127.0.0.1]:1 {(tmp_path / 'known_hosts').read_text().split(' ', 1)[1]}")
    refused = build_issue(actor=SYSTEM, program=program, label="2026-12", folder=tmp_path / "drop")
    assert refused.upload_error  # an unknown host key is never trusted; the files stay in the drop folder


def test_a_copy_prints_its_issue_by_number_and_month_in_the_readers_language(program, readers, tmp_path):
    from datetime import UTC, datetime

    from sojourn.channels.models import PrintIssue

    tokyo, berlin, _nowhere = readers
    PrintIssue.objects.create(program=program, label="2026-11", created_at=datetime(2026, 11, 5, 9, tzinfo=UTC))
    PrintIssue.objects.create(program=program, label="sim-2026-12-05", created_at=datetime(2026, 12, 5, 9, tzinfo=UTC))
    build_issue(actor=SYSTEM, program=program, label="sim-2026-12-05", folder=tmp_path)
    folder = tmp_path / program.slug / "sim-2026-12-05"
    german, japanese = (text_of(folder / f"{p.pseudonym}.pdf") for p in (berlin, tokyo))
    # The second issue the program built, in December: never the run's internal name.
    assert "Ausgabe 2, Dezember 2026" in german and "sim-2026" not in german
    assert "2026年12月" in japanese and "第2号" in japanese and "sim-2026" not in japanese


def test_a_copy_prints_the_whole_address_and_names_the_country_only_across_a_border(
        program, readers, tmp_path, django_capture_on_commit_callbacks):
    from sojourn.tracking.models import Need

    tokyo, berlin, _nowhere = readers
    vienna = patient_with_address(program, "DE", "wien@example.org", {
        "lines": ["Stephansplatz 1"], "postal_code": "1010", "city": "Wien", "region": "", "country": "AT"},
        django_capture_on_commit_callbacks)
    PatientNeed.objects.create(patient=vienna, need=Need.objects.get(code="itch"), explicit=0.9, implicit=0.0,
                               combined=0.9, confidence=0.5, explanation=[], updated_at=timezone.now())
    build_issue(actor=SYSTEM, program=program, label="2026-12", folder=tmp_path)
    folder = tmp_path / program.slug / "2026-12"
    german, japanese, austrian = (text_of(folder / f"{p.pseudonym}.pdf") for p in (berlin, tokyo, vienna))
    # The prefecture, then the city with the street, as Japan Post reads them (Japan's format has no
    # line of its own for the city).
    assert "東京都" in japanese and "千代田区丸の内1-1-1" in japanese
    # No country line on domestic post; across a border, the country in the letter's language.
    assert "GERMANY" not in german and "JAPAN" not in japanese
    assert "1010 WIEN" in austrian and "ÖSTERREICH" in austrian and "AUSTRIA" not in austrian
