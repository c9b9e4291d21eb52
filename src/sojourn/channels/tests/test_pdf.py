"""A batch of pages becomes PDF files, checksums back in the order given, on several processes or on
one; the press lays them out on a process of its own while the caller goes on."""

from __future__ import annotations

import hashlib
import os

import pypdfium2

from sojourn.channels import pdf


def _text(path) -> str:
    page = pypdfium2.PdfDocument(path.read_bytes())[0]
    return page.get_textpage().get_text_range().strip()


def _jobs(tmp_path, count):
    return [(f"<html><body><p>Reader {n}</p></body></html>", tmp_path / f"reader-{n}.pdf") for n in range(count)]


def test_a_large_batch_is_laid_out_in_parallel_and_comes_back_in_order(monkeypatch, tmp_path):
    jobs = _jobs(tmp_path, pdf.PARALLEL_FROM + 3)
    forked = []
    real_pool = pdf.ProcessPoolExecutor

    def counting_pool(*args, **kwargs):
        forked.append(kwargs["max_workers"])
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(pdf, "ProcessPoolExecutor", counting_pool)
    monkeypatch.setattr(pdf.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    checksums = list(pdf.write_pdfs(jobs))
    assert forked == [2]
    assert [_text(path) for _html, path in jobs] == [f"Reader {n}" for n in range(len(jobs))]
    assert checksums == [hashlib.sha256(path.read_bytes()).hexdigest() for _html, path in jobs]


def test_a_small_batch_stays_in_this_process(monkeypatch, tmp_path):
    monkeypatch.setattr(pdf, "ProcessPoolExecutor", None)  # would fail if used
    [(_html, path)] = jobs = [("<p>only one</p>", tmp_path / "one.pdf")]
    assert list(pdf.write_pdfs(jobs)) == [hashlib.sha256(path.read_bytes()).hexdigest()]
    assert _text(path) == "only one"


def test_the_press_lays_out_on_its_own_process_and_gives_the_checksums_in_order(tmp_path):
    press = pdf.Press()
    first = press.submit([(f"<p>A {n}</p>", tmp_path / f"a-{n}.pdf") for n in range(11)])
    second = press.submit([(f"<p>B {n}</p>", tmp_path / f"b-{n}.pdf") for n in range(3)])
    assert len(first) == 2 and len(second) == 1  # chunks of eight pages
    checksums = list(press.wait(first)) + list(press.wait(second))
    press.close()
    paths = [tmp_path / f"a-{n}.pdf" for n in range(11)] + [tmp_path / f"b-{n}.pdf" for n in range(3)]
    assert checksums == [hashlib.sha256(path.read_bytes()).hexdigest() for path in paths]
    assert [_text(path) for path in paths] == [f"A {n}" for n in range(11)] + [f"B {n}" for n in range(3)]


def test_the_press_works_on_one_process_that_is_not_the_callers(monkeypatch, tmp_path):
    def note_the_process(job):
        job[1].write_text(str(os.getpid()))
        return "noted"

    monkeypatch.setattr(pdf, "write_pdf", note_the_process)  # the forked child inherits it
    press = pdf.Press()
    jobs = [("<p>page</p>", tmp_path / f"{n}.txt") for n in range(20)]
    assert list(press.wait(press.submit(jobs))) == ["noted"] * 20
    press.close()
    pids = {int(path.read_text()) for _html, path in jobs}
    assert len(pids) == 1 and os.getpid() not in pids
