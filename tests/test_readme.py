"""The README stays a short user guide that is true: under 15 kB, every `sojourn` command it shows exists
with the options it shows, every relative link and image resolves, every path and setting it names is
in the tree. docs/reference.md, where the README sends readers for the detail, is held to the same."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
GUIDES = [README, ROOT / "docs" / "reference.md"]


def _code(text: str) -> list[str]:
    """Every inline code span and every line of a fenced block."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.M | re.S)
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", text, flags=re.M | re.S))
    return inline + [line for block in fenced for line in block.splitlines()]


def _sojourn_commands(text: str) -> list[list[str]]:
    """`sojourn <command> …` as words, brackets and `=value` taken off (placeholders such as COMMAND are
    not commands)."""
    shown = []
    for code in _code(text):
        for mention in re.findall(r"(?:^|\$ )(sojourn [a-z][^|#]*)", code.strip()):
            words = [re.sub(r"=.*", "", word.strip("[]().,;")) for word in mention.split()]
            shown.append([word for word in words if word])
    return shown


def _choices(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser | None]:
    """The words a command takes first: its subcommands (each with its own parser) or a positional's choices."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
        if not action.option_strings and action.choices:
            return {choice: None for choice in action.choices}
    return {}


@pytest.mark.parametrize("guide", GUIDES, ids=lambda path: path.name)
def test_every_sojourn_command_shown_exists_with_the_options_shown(guide: Path) -> None:
    commands = get_commands()
    shown = _sojourn_commands(guide.read_text(encoding="utf-8"))
    assert len(shown) > 10  # the parsing found the command tables
    wrong = []
    for words in shown:
        name = words[1]
        if name not in commands:
            wrong.append(f"{' '.join(words)}: no command {name!r}")
            continue
        parser = load_command_class(commands[name], name).create_parser("sojourn", name)
        choices = _choices(parser)
        if choices and len(words) > 2 and not words[2].startswith("-"):
            if words[2] not in choices:
                wrong.append(f"{' '.join(words)}: {name} has no {words[2]!r} (it has {', '.join(sorted(choices))})")
                continue
            parser = choices[words[2]] or parser
        for option in (word for word in words[2:] if word.startswith("--")):
            if option not in parser._option_string_actions:
                wrong.append(f"{' '.join(words)}: no option {option}")
    assert wrong == []


def test_the_readme_stays_under_15_kb() -> None:
    assert README.stat().st_size < 15_000, "move the detail to docs/ and link to it"


@pytest.mark.parametrize("guide", GUIDES, ids=lambda path: path.name)
def test_every_relative_link_and_path_shown_is_in_the_tree(guide: Path) -> None:
    text = guide.read_text(encoding="utf-8")
    links = [link.split("#")[0] for link in re.findall(r"\]\(([^)\s]+)\)", text)
             if not re.match(r"[a-z]+:", link) and not link.startswith("#")]
    paths = [code for code in _code(text)
             if re.fullmatch(r"(src|scripts|docs|tests|bench|requirements)/[\w./-]+", code)]
    assert links or paths  # the parsing found them
    missing = [target for target in links if not (guide.parent / target).exists()]
    missing += [path for path in paths if not (ROOT / path).exists()]
    assert missing == []


@pytest.mark.parametrize("guide", GUIDES, ids=lambda path: path.name)
def test_every_setting_named_is_read_by_the_code(guide: Path) -> None:
    sources = [path for path in (ROOT / "src" / "sojourn").rglob("*.py") if "tests" not in path.parts]
    code = "\n".join(path.read_text(encoding="utf-8") for path in [*sources, *(ROOT / "scripts").iterdir()])
    named = set(re.findall(r"\bSOJOURN_[A-Z_]*[A-Z]\b", guide.read_text(encoding="utf-8")))
    assert named
    assert sorted(name for name in named if not re.search(rf"\b{name}\b", code)) == []
