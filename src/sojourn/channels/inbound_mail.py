"""An email a patient sent back, read from the raw RFC 5322 message the provider relays: who sent it,
which of our messages it answers, and the reply's own words without the earlier message it quotes.

The MIME structure is the standard library's to read (`email`, policy.default), never ours; quoted
text is cut by `mail-parser-reply` (the "On … wrote:" / "Am … schrieb …:" / "Le … a écrit :" /
"2026年3月9日(月) 10:00 … <…>:" attribution and the Outlook "From:/Sent:" block, in each language
given) and by dropping every line that starts with ">". Attachments are never decoded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser

from django.utils.translation import gettext as _
from mailparser_reply import EmailReplyParser

from sojourn.core.errors import InvalidInput

MSG_ID = re.compile(r"<[^<>\s]{1,250}>")
MAX_THREAD = 50  # Message-IDs read from In-Reply-To and References (a long thread names hundreds)
# The reply parser's attribution patterns backtrack badly on one very long line ("On On On …" of 60,000
# characters takes minutes); no attribution line is this long, so longer lines are kept out of its sight.
LONG_LINE = 300
SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\x00": None})  # French "a écrit :" has a no-break space


@dataclass(frozen=True)
class ReceivedMail:
    sender: str  # the From address
    message_id: str  # the reply's own Message-ID, "" without one
    thread: list[str] = field(default_factory=list)  # In-Reply-To first, then References, latest first
    text: str = ""  # the text/plain body, or the text/html body as text; the quoted thread still in it


def read_mail(raw: bytes) -> ReceivedMail:
    """Read the message, or refuse it (field "mime") when it has no single From address or the parser
    cannot make sense of it."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        addresses = getattr(message["From"], "addresses", ())
        thread = [*MSG_ID.findall(str(message["In-Reply-To"] or "")),
                  *reversed(MSG_ID.findall(str(message["References"] or "")))]
        found = MSG_ID.findall(str(message["Message-ID"] or ""))
        text = _body_text(message)
    # The standard library's header and MIME parsers answer hostile input with assorted exceptions
    # (IndexError, TypeError, RecursionError …), a bug each; every one of them means "not readable".
    except Exception as error:
        raise InvalidInput(_("The message could not be read as an email (RFC 5322)."), field="mime") from error
    if len(addresses) != 1 or "@" not in addresses[0].addr_spec:
        raise InvalidInput(_("The message must have one sender address in its From header."), field="mime")
    return ReceivedMail(sender=addresses[0].addr_spec, message_id=found[0] if found else "",
                        thread=list(dict.fromkeys(thread))[:MAX_THREAD], text=text)


def _body_text(message: EmailMessage) -> str:
    """The text/plain body, else the text/html one as text; attachments are never looked at."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except LookupError:  # a charset Python does not know: the words are still mostly readable
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    if not isinstance(content, str):
        return ""
    return html_text(content) if part.get_content_subtype() == "html" else content


class _HtmlText(HTMLParser):
    """Text of an HTML body, a line per block; what a <blockquote> holds is the quoted thread, left out."""

    SKIP = frozenset({"blockquote", "head", "script", "style", "title", "template"})
    BLOCKS = frozenset({"address", "br", "div", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "ol", "p",
                        "pre", "table", "td", "tr", "ul"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_text(markup: str) -> str:
    reader = _HtmlText()
    reader.feed(markup)
    reader.close()
    return "\n".join(line.strip() for line in "".join(reader.parts).split("\n") if line.strip())


def own_words(text: str, languages: list[str]) -> str:
    """The reply above the message it answers: cut at the first attribution or forwarded-header block
    in one of `languages` (English always), quoted (">") lines dropped."""
    text = text.replace("\r\n", "\n").translate(SPACES)
    shielded: dict[str, str] = {}
    lines = []
    for line in text.split("\n"):
        if len(line) > LONG_LINE:
            key = f"\x00{len(shielded)}\x00"
            shielded[key] = line
            line = key
        lines.append(line)
    parsed = EmailReplyParser(languages=languages).read("\n".join(lines))
    first = parsed.replies[0].full_body if parsed.replies else ""
    kept = [shielded.get(line.strip(), line) for line in first.split("\n")]
    kept = [line.rstrip() for line in kept if not line.lstrip().startswith(">")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
