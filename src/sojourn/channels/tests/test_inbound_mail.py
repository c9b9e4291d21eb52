"""Reading a relayed email: the sender, the thread, and the reply's own words with the quoted earlier
message cut off, as the mail clients of each language quote it; hostile input refused or bounded."""

from __future__ import annotations

import time

import pytest

from sojourn.channels.inbound_mail import html_text, own_words, read_mail
from sojourn.channels.tests.providers import ATTRIBUTION, reply_mime
from sojourn.core.errors import InvalidInput

LANGUAGES = ["de", "en", "fr", "ja"]
EARLIER = {"de": "Bei Kopfschmerzen oder Ausschlag melden Sie sich bitte.",
           "en": "If you notice a rash or a headache, tell your doctor.",
           "fr": "Si vous avez des nausées, parlez-en à votre médecin.",
           "ja": "発疹や頭痛が出たら医師に相談してください。"}
WORDS = {"de": "Danke für die Tipps!", "en": "Thank you, the tips helped.", "fr": "Merci pour les conseils.",
         "ja": "ありがとうございます。"}


@pytest.mark.parametrize("lang", sorted(ATTRIBUTION))
def test_the_attribution_and_everything_under_it_are_cut_in_each_language(lang):
    text = f"{WORDS[lang]}\n\n{ATTRIBUTION[lang]}\n\n{EARLIER[lang]}\n"  # quoted without ">", as some clients do
    assert own_words(text, LANGUAGES) == WORDS[lang]


def test_quoted_lines_are_dropped_wherever_they_are():
    text = "> If you notice a rash, tell your doctor.\n\nStill itching a lot.\n>> older\n"
    assert own_words(text, LANGUAGES) == "Still itching a lot."


def test_an_outlook_reply_is_cut_at_its_header_block():
    text = ("Mir ist seit gestern übel.\n\nVon: Psoriasis companion <companion@sponsor.example>\n"
            "Gesendet: Montag, 9. März 2026 10:00\nAn: lena@example.org\nBetreff: Tipps\n\n" + EARLIER["de"])
    assert own_words(text, LANGUAGES) == "Mir ist seit gestern übel."


def test_a_signature_and_a_greeting_stay_with_the_words():
    """The parser can strip signatures, but a patient's "Thanks," may come before the side effect."""
    assert own_words("Thanks,\nbut since Monday I have a rash.\n-- \nLena", LANGUAGES) == (
        "Thanks,\nbut since Monday I have a rash.\n--\nLena")


def test_html_is_read_as_text_without_what_a_blockquote_quotes():
    markup = ("<html><head><style>p{color:red}</style></head><body><div>Seit gestern&nbsp;<b>Kopfweh</b>.</div>"
              "<div>Lena</div><div class=gmail_quote><div>Am Mo., 9. März 2026 schrieb Psoriasis companion:</div>"
              "<blockquote>Bei <i>Ausschlag</i> melden Sie sich.</blockquote></div></body></html>")
    assert html_text(markup) == "Seit gestern Kopfweh.\nLena\nAm Mo., 9. März 2026 schrieb Psoriasis companion:"
    assert own_words(html_text(markup), LANGUAGES) == "Seit gestern Kopfweh.\nLena"


def test_long_lines_are_kept_and_read_quickly():
    """The parser's patterns backtrack on long lines; no attribution is that long, so they are hidden
    from it (a line of "On On On …" used to take minutes)."""
    hostile = "\n".join(["On " * 33_000, ("On " * 95 + "\n") * 300, "Kopfweh"])
    started = time.monotonic()
    words = own_words(hostile, LANGUAGES)
    assert time.monotonic() - started < 5
    assert words.startswith("On On") and words.endswith("Kopfweh")


def test_the_sender_the_thread_and_the_message_id_are_read():
    mime = reply_mime("Hallo", sender="Lena Hoffmann <Lena@Example.org>", in_reply_to="<sojourn-ab@sponsor.example>",
                      message_id="<reply-1@mail.example>")
    mail = read_mail(mime.encode())
    assert (mail.sender, mail.message_id, mail.thread) == (
        "Lena@Example.org", "<reply-1@mail.example>", ["<sojourn-ab@sponsor.example>"])
    assert mail.text.strip() == "Hallo"


@pytest.mark.parametrize("raw", [b"", b"hello, this is not an email", b"From: nobody\n\nno address",
                                 b"From: a@example.org, b@example.org\n\ntwo senders",
                                 b"Subject: no sender\n\nKopfweh"])
def test_a_message_without_one_sender_address_is_refused_naming_the_field(raw):
    with pytest.raises(InvalidInput) as refused:
        read_mail(raw)
    assert refused.value.field == "mime"


def test_an_unknown_charset_is_read_as_utf8_rather_than_refused():
    raw = "From: lena@example.org\nContent-Type: text/plain; charset=x-unknown\n\nKopfweh seit gestern\n"
    assert read_mail(raw.encode()).text.strip() == "Kopfweh seit gestern"
