"""The map's layout: text stays inside its column and its lane in every language, Japanese too (it is
written without spaces, and each of its characters is twice as wide as a Latin letter)."""

from __future__ import annotations

from django.utils import translation

from sojourn.journeys.drawing import draw

WORRY = "副作用が心配で、治療を始める前に看護師と話したいと思っている患者さんの気持ち"


def one_stage(touchpoint: str) -> dict:
    return {"stages": [{"code": "start", "name": "Start", "emotion": 0,
                        "touchpoints": [{"lane": "patient", "name": touchpoint, "channel": "web"}]}]}


def test_japanese_text_wraps_inside_its_column():
    with translation.override("ja"):
        canvas = draw(one_stage(WORRY))
    lines = [t["text"] for t in canvas.texts if t["css"] == "map-touchpoint-text"]
    assert "".join(lines) == WORRY
    # 12 px a character: at most 15 of them fill the column's 194 px between its paddings.
    assert len(lines) > 2 and all(len(line) <= 15 for line in lines), lines
    assert all(line[0] not in "、。" for line in lines)  # a comma never begins a line


def test_latin_text_still_breaks_between_words():
    canvas = draw(one_stage("Talks to the nurse before the first injection about side effects"))
    lines = [t["text"] for t in canvas.texts if t["css"] == "map-touchpoint-text"]
    assert lines == ["Talks to the nurse before the", "first injection about side", "effects"]


def test_a_lane_is_as_tall_as_its_wrapped_name():
    with translation.override("de"):
        canvas = draw(one_stage("Hilfe"))
    lane = next(r for r in canvas.rects if r["css"] == "map-lane map-lane-support")
    label = [t for t in canvas.texts if t["css"] == "map-label" and lane["y"] <= t["y"] - 12 < lane["y"] + lane["h"]]
    assert [t["text"] for t in label] == ["Unterstützende", "Prozesse"]
    assert all(t["y"] + 3 <= lane["y"] + lane["h"] for t in label)  # the last line's descenders included
