"""HTML pages to PDF files with WeasyPrint, on every core for a large batch (a magazine issue is a PDF
per reader: about a twentieth of a second each, three times that in Japanese, so 10,000 readers are
minutes on one core).

The batch is split across forked processes that only lay out pages and write the files: they touch
neither the database nor Django, and hand back each file's SHA-256 in the order they were given.
`Press` does the same on one process beside a caller that goes on with its own work (the simulator
keeps simulating while its magazine is laid out on the second core)."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

PARALLEL_FROM = 40  # below this, starting processes costs more than it saves
CHUNK = 8  # pages a process lays out per round trip

# One font configuration per process: building it for each page (WeasyPrint's default) was a quarter
# of a Latin magazine page's time. Keyed by process, as a forked child must not share its parent's.
_fonts: dict[int, FontConfiguration] = {}

Job = tuple[str, Path]  # the page as HTML, the file to write


def render_pdf(html: str) -> bytes:
    fonts = _fonts.get(os.getpid())
    if fonts is None:
        _fonts.clear()
        fonts = _fonts[os.getpid()] = FontConfiguration()
    return HTML(string=html).write_pdf(font_config=fonts)


def write_pdf(job: Job) -> str:
    """Lay out one page into its file; the file's SHA-256."""
    html, path = job
    document = render_pdf(html)
    Path(path).write_bytes(document)
    return hashlib.sha256(document).hexdigest()


def _write_chunk(jobs: list[Job]) -> list[str]:
    return [write_pdf(job) for job in jobs]


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def write_pdfs(jobs: Sequence[Job]) -> Iterator[str]:
    """Write each page's PDF; the checksums, in order, as the files are written."""
    workers = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 8)
    if workers < 2 or len(jobs) < PARALLEL_FROM or not _can_fork():
        yield from map(write_pdf, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        yield from pool.map(write_pdf, jobs, chunksize=CHUNK)


class Press:
    """One forked process that writes PDFs while its owner goes on: `submit` returns at once, `wait`
    gives the checksums in order. Without fork (not on Linux), `submit` writes the files there and then."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, jobs: Sequence[Job]) -> list[Future[list[str]]]:
        if not _can_fork():
            done: Future[list[str]] = Future()
            done.set_result(_write_chunk(list(jobs)))
            return [done]
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
        return [self._pool.submit(_write_chunk, list(jobs[i:i + CHUNK])) for i in range(0, len(jobs), CHUNK)]

    @staticmethod
    def wait(futures: list[Future[list[str]]]) -> Iterator[str]:
        for future in futures:
            yield from future.result()

    def close(self, *, cancel: bool = False) -> None:
        """Stop the press; `cancel` drops the chunks not begun. The chunk being written is always waited
        for: left running, it would write its pages after a resumed run wrote them again, over files
        whose checksums the resumed run recorded."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None
