"""One demo content item as written by the program's editors in `library.yaml`: its kind, tags and
words per language, read with the line of each problem (core/yaml_documents.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from sojourn.content.models import ContentItem

Words = dict[Annotated[str, Field(pattern=r"^[a-z]{2}$")], str]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,59}$")]


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,59}$")
    kind: Literal[tuple(ContentItem.Kind.values)]  # type: ignore[valid-type]
    needs: list[Code] = Field(default_factory=list)
    stages: list[Code] = Field(default_factory=list)
    channels: list[Code] = Field(default_factory=list)  # empty: every channel the kind allows
    level: int = Field(default=1, ge=1, le=9)
    segment_budget: int = Field(default=2, ge=1, le=10)
    title: Words = Field(default_factory=dict)
    subject: Words = Field(default_factory=dict)
    summary: Words = Field(default_factory=dict)
    body: Words = Field(default_factory=dict)
    url: Words = Field(default_factory=dict)

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


class Library(RootModel[list[Item]]):
    """A program's `library.yaml`: a list of items."""
