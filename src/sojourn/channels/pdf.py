"""HTML pages to PDF with WeasyPrint, on every core for a large batch (a magazine issue is a PDF per
reader: about a tenth of a second each, so 10,000 readers are minutes on one core).

The batch is split across forked processes that only lay out pages: they touch neither the database
nor Django, and the parent writes the files and rows in the order it was given."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor

from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

PARALLEL_FROM = 40  # below this, starting processes costs more than it saves

# One font configuration per process: building it for each page (WeasyPrint's default) was a quarter
# of a Latin magazine page's time. Keyed by process, as a forked child must not share its parent's.
_fonts: dict[int, FontConfiguration] = {}


def render_pdf(html: str) -> bytes:
    fonts = _fonts.get(os.getpid())
    if fonts is None:
        _fonts.clear()
        fonts = _fonts[os.getpid()] = FontConfiguration()
    return HTML(string=html).write_pdf(font_config=fonts)


def render_pdfs(pages: Sequence[str]) -> Iterator[bytes]:
    """The PDF of each page, in order."""
    workers = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 8)
    if workers < 2 or len(pages) < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(render_pdf, pages)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        yield from pool.map(render_pdf, pages, chunksize=8)
