"""An erased reader's printed copies leave the print house's drop folder and its manifest, including a
copy laid out from an identity read just before the erasure."""

from __future__ import annotations

import csv
import io

import pytest

from sojourn.channels.pdf import write_pdfs
from sojourn.channels.services.magazine import build_issue, lay_out_issue
from sojourn.consent.services.dsr import complete_erasure_request, open_data_subject_request
from sojourn.consent.tests.factories import me
from sojourn.dialogue.tests.factories import SYSTEM
from sojourn.people.queries import actor_for_user

pytestmark = pytest.mark.django_db


def erase(patient, cast):
    request = open_data_subject_request(actor=me(patient), patient=patient, kind="erasure", via="portal")
    complete_erasure_request(actor=actor_for_user(cast.admin), request=request)


def manifest_files(folder):
    return sorted(r["file"] for r in csv.DictReader(io.StringIO((folder / "manifest.csv").read_text("utf-8"))))


def test_an_erased_readers_copy_leaves_the_drop_folder_and_the_manifest(program, readers, cast, tmp_path):
    tokyo, berlin, _nowhere = readers
    build_issue(actor=SYSTEM, program=program, label="2026-12", folder=tmp_path)
    folder = tmp_path / program.slug / "2026-12"
    assert manifest_files(folder) == sorted([f"{tokyo.pseudonym}.pdf", f"{berlin.pseudonym}.pdf"])
    erase(berlin, cast)
    assert sorted(p.name for p in folder.glob("*.pdf")) == [f"{tokyo.pseudonym}.pdf"]
    assert manifest_files(folder) == [f"{tokyo.pseudonym}.pdf"]
    assert berlin.pseudonym not in (folder / "SHA256SUMS").read_text(encoding="utf-8")


def test_a_reader_erased_while_the_issue_is_laid_out_never_reaches_the_print_house(
        program, readers, cast, tmp_path):
    tokyo, berlin, _nowhere = readers
    composed = build_issue(actor=SYSTEM, program=program, label="2026-12", folder=tmp_path, lay_out=False)
    erase(berlin, cast)  # the page was composed from the identity read before
    folder = tmp_path / program.slug / "2026-12"
    lay_out_issue(actor=SYSTEM, program=program, report=composed,
                  checksums=write_pdfs([(page.html, folder / page.file_name) for page in composed.pages]))
    assert sorted(p.name for p in folder.glob("*.pdf")) == [f"{tokyo.pseudonym}.pdf"]
    assert manifest_files(folder) == [f"{tokyo.pseudonym}.pdf"]
