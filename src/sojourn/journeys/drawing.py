"""A journey map drawn as a service blueprint in SVG: the stages as columns; the emotion curve; the
four lanes (patient actions, front stage, back stage, support processes) separated by the lines of
interaction, visibility and internal interaction; pain points and opportunities; and, for stages that
map onto a program stage, its KPIs and hypothesis verdicts in the chosen market.

The layout is computed here (text wrapped to the column, rows as tall as their fullest cell) and the
template only writes the shapes out: the same SVG is shown, printed and exported as PDF and PNG."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from unicodedata import east_asian_width

from django.utils.translation import gettext as _

from sojourn.insights.forest import verdict_word
from sojourn.insights.presenting import Tile
from sojourn.insights.verdicts import Evaluation

LABEL_W, COL_W, GAP, PAD, LINE = 150, 210, 10, 8, 15
WRAP = 30  # characters per line in a column


def channel_names() -> dict[str, str]:
    return {"web": _("Web"), "email": _("Email"), "sms": _("Text"), "print": _("Print"), "phone": _("Phone"),
            "in_person": _("In person"), "app": _("App"), "pharmacy": _("Pharmacy"), "other": ""}


@dataclass
class Canvas:
    width: int = 0
    height: int = 0
    rects: list[dict[str, Any]] = field(default_factory=list)
    texts: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    path: str = ""  # the emotion curve
    dots: list[dict[str, Any]] = field(default_factory=list)

    def text(self, x: float, y: float, text: str, css: str, **extra: Any) -> None:
        self.texts.append({"x": x, "y": y, "text": text, "css": css, **extra})


# Japanese punctuation that may not begin a line: it stays with the character before it.
NO_LINE_START = "、。，．・：；！？）」』】〕ーっゃゅょぁぃぅぇぉッャュョァィゥェォ々"


def _cells(text: str) -> int:
    """The width of the text in narrow characters: a wide (CJK) character takes two."""
    return sum(2 if east_asian_width(char) in "WF" else 1 for char in text)


def _pieces(text: str) -> list[tuple[str, bool]]:
    """The unbreakable pieces of the text, each with whether a space comes before it: words, and in
    CJK text (written without spaces) each character, closing punctuation kept with the one before."""
    pieces: list[tuple[str, bool]] = []
    for word in text.split():
        spaced, run = True, ""
        for char in word:
            if east_asian_width(char) not in "WF":
                run += char
                continue
            if run:
                pieces.append((run, spaced))
                spaced, run = False, ""
            if char in NO_LINE_START and pieces and not spaced:
                pieces[-1] = (pieces[-1][0] + char, pieces[-1][1])
            else:
                pieces.append((char, spaced))
                spaced = False
        if run:
            pieces.append((run, spaced))
    return pieces


def _wrapped(text: str, width: int = WRAP) -> list[str]:
    """Lines at most `width` narrow characters wide (a CJK character counts two, so Japanese stays in
    its column), broken between words, or between any two CJK characters."""
    lines, line = [], ""
    for piece, spaced in _pieces(text):
        joined = f"{line} {piece}" if line and spaced else line + piece
        if line and _cells(joined) > width:
            lines.append(line)
            joined = piece
        while _cells(joined) > width:  # a word longer than a line is cut
            cut = next(n for n in range(len(joined), 0, -1) if _cells(joined[:n]) <= width or n == 1)
            lines.append(joined[:cut])
            joined = joined[cut:]
        line = joined
    return [*lines, line] if line else lines or [""]


def lane_names() -> list[tuple[str, str]]:
    return [("patient", _("Patient actions")), ("front", _("Front stage")), ("back", _("Back stage")),
            ("support", _("Support processes"))]


def draw(document: dict[str, Any], kpis: dict[str, list[Tile]] | None = None,
         evidence: dict[str, list[Evaluation]] | None = None, market: str = "") -> Canvas:
    """`kpis` and `evidence` are keyed by program stage code; both may be empty."""
    kpis, evidence = kpis or {}, evidence or {}
    stages = document["stages"]
    channels = channel_names()
    canvas = Canvas(width=LABEL_W + len(stages) * (COL_W + GAP))

    def col_x(i: int) -> int:
        return LABEL_W + i * (COL_W + GAP)

    y = 0
    # Stage headers, as arrows along the journey.
    header = max(len(_wrapped(s["name"], 24)) for s in stages) * LINE + 2 * PAD
    for i, stage in enumerate(stages):
        x = col_x(i)
        canvas.rects.append({"x": x, "y": y, "w": COL_W, "h": header, "css": "map-stage", "stage": stage["code"]})
        for n, line in enumerate(_wrapped(stage["name"], 24)):
            canvas.text(x + PAD, y + PAD + (n + 1) * LINE - 3, line, "map-stage-name")
    canvas.text(4, y + PAD + LINE, _("Stage"), "map-label")
    y += header + GAP

    # The emotion curve: +2 at the top of the band, −2 at the bottom.
    band = 70
    canvas.text(4, y + band / 2, _("Emotion"), "map-label")
    canvas.lines.append({"x1": LABEL_W, "x2": canvas.width, "y1": y + band / 2, "y2": y + band / 2,
                         "css": "map-neutral"})
    points = []
    for i, stage in enumerate(stages):
        px, py = col_x(i) + COL_W / 2, y + band / 2 - stage.get("emotion", 0) * (band / 2 - 8) / 2
        points.append(f"{px:.0f},{py:.0f}")
        canvas.dots.append({"x": px, "y": py, "emotion": stage.get("emotion", 0)})
    canvas.path = "M" + " L".join(points)
    y += band + GAP

    # The blueprint's lanes, with the lines that separate them.
    separators = {"front": _("line of interaction"), "back": _("line of visibility"),
                  "support": _("line of internal interaction")}
    for lane, label in lane_names():
        if lane in separators:
            canvas.lines.append({"x1": 0, "x2": canvas.width, "y1": y - GAP / 2, "y2": y - GAP / 2,
                                 "css": "map-separator"})
            canvas.text(canvas.width - 4, y - GAP / 2 - 3, separators[lane], "map-separator-label", anchor="end")
        cells = []
        for stage in stages:
            boxes = []
            for tp in stage.get("touchpoints", []):
                if tp["lane"] == lane:
                    lines = [(line, "map-touchpoint-text") for line in _wrapped(tp["name"])]
                    said = " · ".join(t for t in (channels.get(tp["channel"], ""), tp.get("owner", "")) if t)
                    if said:
                        lines.append((said, "map-touchpoint-meta"))
                    boxes.append(lines)
            cells.append(boxes)
        height = max([sum(len(b) * LINE + 2 * PAD + 4 for b in boxes) for boxes in cells]
                     + [len(_wrapped(label, 18)) * LINE + 2 * PAD])  # the lane's own name fits too
        canvas.rects.append({"x": 0, "y": y, "w": canvas.width, "h": height, "css": f"map-lane map-lane-{lane}"})
        for n, line in enumerate(_wrapped(label, 18)):
            canvas.text(4, y + PAD + (n + 1) * LINE - 3, line, "map-label")
        for i, boxes in enumerate(cells):
            by = y + 2
            for lines in boxes:
                h = len(lines) * LINE + 2 * PAD
                canvas.rects.append({"x": col_x(i) + 2, "y": by, "w": COL_W - 4, "h": h, "css": "map-touchpoint"})
                for n, (line, css) in enumerate(lines):
                    canvas.text(col_x(i) + PAD, by + PAD + (n + 1) * LINE - 3, line, css)
                by += h + 4
        y += height + GAP

    # Pain points, opportunities, KPIs and verdicts: rows of wrapped lines per stage.
    def rows(label: str, css: str, per_stage: list[list[tuple[str, str]]]) -> None:
        nonlocal y
        if not any(per_stage):
            return
        height = max([sum(len(_wrapped(t)) for t, _c in items) * LINE + PAD * 2 for items in per_stage]
                     + [len(_wrapped(label, 18)) * LINE + PAD * 2])
        canvas.rects.append({"x": 0, "y": y, "w": canvas.width, "h": height, "css": f"map-row {css}"})
        for n, line in enumerate(_wrapped(label, 18)):
            canvas.text(4, y + PAD + (n + 1) * LINE - 3, line, "map-label")
        for i, items in enumerate(per_stage):
            ly = y + PAD
            for text, item_css in items:
                for line in _wrapped(text):
                    ly += LINE
                    canvas.text(col_x(i) + PAD, ly - 3, line, item_css)
        y += height + GAP

    rows(_("Pain points"), "map-pains", [[(f"– {p}", "map-pain") for p in s.get("pain_points", [])] for s in stages])
    rows(_("Opportunities"), "map-opportunities",
         [[(f"+ {o}", "map-opportunity") for o in s.get("opportunities", [])] for s in stages])
    rows(_("KPIs in %(market)s") % {"market": market} if market else _("KPIs"), "map-kpis",
         [[(f"{t.label}: {t.shown}", f"map-kpi map-kpi-{t.status}") for t in kpis.get(s.get("program_stage") or "", [])]
          for s in stages])
    verdict_rows = []
    for s in stages:
        items = []
        for evaluation in evidence.get(s.get("program_stage") or "", []):
            row = evaluation.verdict_in(market) if market else None
            word = verdict_word(row.verdict) if row else "—"
            items.append((f"{word}: {evaluation.hypothesis.statement}",
                          f"map-verdict verdict-{row.verdict if row else 'none'}"))
        verdict_rows.append(items)
    rows(_("Hypotheses in %(market)s") % {"market": market} if market else _("Hypotheses"), "map-hypotheses",
         verdict_rows)
    canvas.height = y
    return canvas
