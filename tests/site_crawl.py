"""Follow every link a person can reach from their home page and check what each page answers.

Used by tests/test_every_page.py on the demo program (built by the same builder and simulator as
`make demo`). Each page is judged as a user would: it opens (no 5xx; no 404 or 403 behind a link the
page itself shows), its charts can be drawn (every inline SVG is XML with numbers where numbers go),
and its words are words (no Python reprs, no internal keys, no English left in a translated page).
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.test import Client
from django.urls import Resolver404, resolve

from sojourn.core.tests.svg import svg_problems

# Pages of one kind (one URL name) visited at most this often: the third patient page finds little
# the first two did not, and the crawl stays within the suite's time budget.
PER_KIND = 3
MAX_PAGES = 400
ROOTS = ("/console/", "/p/")
# Leaving, or changing something by merely being opened, is not browsing.
SKIPPED = ("/console/sign-out/", "/p/sign-out/", "/t/", "/static/", "/api/")

# What a person must never read: a Python value's repr, an internal key, a template left unrendered.
RAW = [
    (re.compile(r"\{'|'\}|\['|'\]|\(\)"), "a Python repr"),
    (re.compile(r"^None$|[=:]\s*None\b|^None\s*[,·]"), "None"),
    (re.compile(r"\b(by_rule|skipped_because|[a-z]+_[a-z]+_[a-z_]+)\b"), "an internal key"),
    (re.compile(r"\{\{|\{%|%\}|\}\}"), "an unrendered template"),
    (re.compile(r"%\(\w+\)[sd]"), "an unfilled placeholder"),
]
DOWNLOADS = ("application/pdf", "image/png", "text/csv", "application/json", "application/xml")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.texts: list[str] = []
        self._hidden = 0  # inside <script>/<style>/<svg> text is not prose

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "svg", "textarea", "pre", "code"}:
            self._hidden += 1
        for name, value in attrs:
            if name in {"href", "hx-get"} and value:
                self.links.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "svg", "textarea", "pre", "code"} and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(data.strip())


@dataclass
class Visit:
    url: str
    url_name: str
    status: int
    came_from: str | None


@dataclass
class Crawl:
    who: str
    language: str
    visits: list[Visit] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    texts: dict[str, list[str]] = field(default_factory=dict)  # url -> visible text, for page-data checks

    def names(self) -> set[str]:
        return {v.url_name for v in self.visits}

    def first(self, url_name: str) -> Visit | None:
        return next((v for v in self.visits if v.url_name == url_name and v.status == 200), None)


def _url_name(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def crawl(client: Client, who: str, language: str, start: str, *,
          english: dict[str, str] | None = None,
          allowed: Callable[[str], bool] = lambda _name: True) -> Crawl:
    """Breadth first from `start`; `allowed(url_name)` says whether the role may open a kind of page
    (a link to a page it may not open is a problem: the page should not have shown it), and
    `english` maps English messages to their translation (found untranslated: a problem)."""
    result = Crawl(who, language)
    queue: deque[tuple[str, str | None]] = deque([(start, None)])
    seen: set[str] = set()
    per_kind: Counter[str] = Counter()
    while queue and len(result.visits) < MAX_PAGES:
        url, came_from = queue.popleft()
        path = urlsplit(url).path
        if url in seen or not path.startswith(ROOTS) or path.startswith(SKIPPED):
            continue
        seen.add(url)
        name = _url_name(path)
        where = f"{url} (linked from {came_from})" if came_from else url
        if name is None:
            result.problems.append(f"404 {where}: no such page")
            continue
        if per_kind[name] >= PER_KIND:
            continue
        per_kind[name] += 1
        response = client.get(url)
        result.visits.append(Visit(url, name, response.status_code, came_from))
        status = response.status_code
        if status >= 500:
            result.problems.append(f"{status} {where}")
            continue
        if status == 404 and came_from is not None:
            result.problems.append(f"404 {where}: a link to nothing")
        if status == 403 and (came_from is not None or allowed(name)):
            result.problems.append(f"403 {where}: " + ("a link to a page the role may not open"
                                                       if not allowed(name) else "refused a page the role may open"))
        if status in (301, 302):
            queue.appendleft((response["Location"], url))
            continue
        kind = response.get("Content-Type", "")
        if status != 200 or not kind.startswith("text/html"):
            if status == 200 and not kind.startswith(DOWNLOADS):
                result.problems.append(f"{where}: unexpected content type {kind}")
            continue
        html = response.content.decode()
        page = _Page()
        page.feed(html)
        result.texts[url] = page.texts
        for problem in svg_problems(html):
            result.problems.append(f"{where}: SVG {problem}")
        for text in page.texts:
            for pattern, what in RAW:
                if pattern.search(text):
                    result.problems.append(f"{where}: {what} in {text[:80]!r}")
            if english and text in english:
                result.problems.append(f"{where}: untranslated {text[:60]!r} (is {english[text][:40]!r})")
        for link in page.links:
            target = link.split("#")[0]
            if target.startswith("/") and target not in seen:
                queue.append((target, url))
    return result
