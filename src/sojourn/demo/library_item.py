"""One demo content item as written by the program's editors: its kind, tags and words per language."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Item:
    code: str
    kind: str
    needs: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)  # empty: every channel the kind allows
    level: int = 1
    segment_budget: int = 2
    title: dict[str, str] = field(default_factory=dict)
    subject: dict[str, str] = field(default_factory=dict)
    summary: dict[str, str] = field(default_factory=dict)
    body: dict[str, str] = field(default_factory=dict)
    url: dict[str, str] = field(default_factory=dict)

    def variant(self, locale: str) -> dict[str, Any]:
        """The words for a locale: its language's text (en-US, en-GB and en-CA share English)."""
        language = locale.split("-")[0]
        fields = {"title": self.title, "subject": self.subject, "summary": self.summary, "body": self.body,
                  "url": self.url}
        return {name: texts[language] for name, texts in fields.items() if texts}

    def tags(self) -> dict[str, Any]:
        tags: dict[str, Any] = {"needs": self.needs, "stages": self.stages, "level": self.level,
                                "segment_budget": self.segment_budget}
        if self.channels:
            tags["channels"] = self.channels
        return tags
