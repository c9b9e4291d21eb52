"""A batch of pages becomes PDFs in the order given, on several processes or on one."""

from __future__ import annotations

import pypdfium2

from sojourn.channels import pdf


def _text(document: bytes) -> str:
    page = pypdfium2.PdfDocument(document)[0]
    return page.get_textpage().get_text_range().strip()


def test_a_large_batch_is_laid_out_in_parallel_and_comes_back_in_order(monkeypatch):
    pages = [f"<html><body><p>Reader {n}</p></body></html>" for n in range(pdf.PARALLEL_FROM + 3)]
    forked = []
    real_pool = pdf.ProcessPoolExecutor

    def counting_pool(*args, **kwargs):
        forked.append(kwargs["max_workers"])
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(pdf, "ProcessPoolExecutor", counting_pool)
    monkeypatch.setattr(pdf.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    out = list(pdf.render_pdfs(pages))
    assert forked == [2]
    assert [_text(document) for document in out] == [f"Reader {n}" for n in range(len(pages))]


def test_a_small_batch_stays_in_this_process(monkeypatch):
    monkeypatch.setattr(pdf, "ProcessPoolExecutor", None)  # would fail if used
    out = list(pdf.render_pdfs(["<p>only one</p>"]))
    assert [_text(document) for document in out] == ["only one"]
