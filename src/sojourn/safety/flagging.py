"""Possible adverse events in a patient's own words: the per-language term lists (safety/terms/*.yaml,
plus a market pack's own words) flag a message for a safety officer's review. A flag decides nothing;
the lists are written for recall, because a false flag costs a reviewer a minute and a missed adverse
event costs the sponsor an inspection finding. docs/safety.md says how the lists were measured."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

TERMS = Path(__file__).parent / "terms"
KINDS = ("general", "events", "special")  # general: "side effects" as such; special: special situations
NEGATION_WINDOW = 2  # a negation this many words before a match negates it ("no more headaches")
GAP = 2  # words a phrase's words may have between them ("throwing it all up")
# Japanese has no spaces: a term matches anywhere, and a negation follows it, perhaps after a particle
# and an adverb ("副作用は特にありません").
KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}
JA_PARTICLES = "(?:は|も|が|を)?(?:特に|とくに|全然|まったく|全く|もう)?"


@dataclass(frozen=True)
class Flag:
    term: str  # the list's entry, as written there
    kind: str  # general, events or special
    language: str


@dataclass(frozen=True)
class _Entry:
    term: str
    kind: str
    words: tuple[re.Pattern[str], ...]  # one pattern per word; Japanese: one substring pattern


@dataclass(frozen=True)
class TermList:
    language: str
    entries: tuple[_Entry, ...]
    negations: tuple[re.Pattern[str], ...]

    def flags(self, text: str) -> list[Flag]:
        if self.language == "ja":
            return self._flags_ja(normalize(text, "ja"))
        tokens = tokenize(normalize(text, self.language), self.language)
        found = []
        for entry in self.entries:
            for start, _end in _phrase_matches(entry.words, tokens):
                before = tokens[max(0, start - NEGATION_WINDOW):start]
                if not any(n.match(word) for n in self.negations for word in before):
                    found.append(Flag(entry.term, entry.kind, self.language))
                    break
        return found

    def _flags_ja(self, text: str) -> list[Flag]:
        negated = re.compile(JA_PARTICLES + "(?:" + "|".join(n.pattern for n in self.negations) + ")")
        found = []
        for entry in self.entries:
            for match in entry.words[0].finditer(text):
                if not negated.match(text, match.end()):
                    found.append(Flag(entry.term, entry.kind, "ja"))
                    break
        return found


def normalize(text: str, language: str) -> str:
    """Case, width and accents read alike: nausée = nausee, Übelkeit = uebelkeit = ubelkeit."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("’", "'").replace("‘", "'")
    if language == "ja":  # katakana as hiragana (ムカムカ = むかむか); no mark stripped (the dakuten of が)
        return text.translate(KATAKANA_TO_HIRAGANA)
    text = text.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    if language == "de":
        text = text.replace("ae", "a").replace("oe", "o").replace("ue", "u")
    return text


def tokenize(text: str, language: str) -> list[str]:
    # English keeps a negative contraction whole (can't, don't) and splits off the rest (tummy's);
    # French splits at the apostrophe (d'effets).
    pattern = r"[^\W_]+(?:'t)?" if language == "en" else r"[^\W_]+"
    return re.findall(pattern, text)


def _word(word: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in word.split("*")) + "$")


def _phrase_matches(words: Sequence[re.Pattern[str]], tokens: Sequence[str]) -> Iterable[tuple[int, int]]:
    for start, token in enumerate(tokens):
        if not words[0].match(token):
            continue
        at = start
        for pattern in words[1:]:
            at = next((i for i in range(at + 1, min(at + 2 + GAP, len(tokens))) if pattern.match(tokens[i])), -1)
            if at < 0:
                break
        else:
            yield start, at


def compile_list(language: str, terms: Mapping[str, Sequence[str]], negations: Sequence[str]) -> TermList:
    entries = []
    for kind in KINDS:
        for term in terms.get(kind, ()):
            text = normalize(str(term), language)
            if language == "ja":
                words: tuple[re.Pattern[str], ...] = (re.compile(re.escape(text)),)
            else:
                split = r"[^\w*']+" if language == "en" else r"[^\w*]+"  # as tokenize() splits the text
                words = tuple(_word(w) for w in re.split(split, text) if w.strip("_"))
            if words:
                entries.append(_Entry(str(term), kind, words))
    if language == "ja":
        cues = tuple(re.compile(re.escape(normalize(n, "ja"))) for n in negations)
    else:
        cues = tuple(_word(normalize(n, language)) for n in negations)
    return TermList(language, tuple(entries), cues)


@cache
def shipped(language: str) -> TermList | None:
    """The list Sojourn ships for a language (de, en, fr, ja), or None for another language."""
    path = TERMS / f"{language}.yaml"
    if not path.exists():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return compile_list(language, {kind: data.get(kind) or () for kind in KINDS}, data.get("negations") or ())


def languages_for(locale: str, market_locales: Sequence[str]) -> list[str]:
    """The patient's language first, then the market's others: a French Canadian may write in English."""
    ordered = [locale, *market_locales]
    return list(dict.fromkeys(tag.split("-")[0].lower() for tag in ordered if tag))


def possible_adverse_event(text: str, languages: Sequence[str],
                           market_terms: Mapping[str, Sequence[str]] | None = None) -> list[Flag]:
    """Every term of the given languages' lists the text mentions, negated mentions left out; empty when
    nothing suggests an adverse event. `market_terms` adds a market pack's own words per locale."""
    found: list[Flag] = []
    for language in languages:
        term_list = shipped(language)
        if term_list is not None:
            found += term_list.flags(text)
        extra = [t for tag, terms in (market_terms or {}).items() if tag.split("-")[0].lower() == language
                 for t in terms]
        if extra:
            found += _market_list(language, tuple(extra)).flags(text)
    return list({(f.term, f.kind, f.language): f for f in found}.values())


@cache
def _market_list(language: str, terms: tuple[str, ...]) -> TermList:
    base = shipped(language)
    negations = [p.pattern for p in base.negations] if base else []
    term_list = compile_list(language, {"events": terms}, [])
    return TermList(language, term_list.entries, tuple(re.compile(n) for n in negations))
