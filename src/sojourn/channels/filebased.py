"""The mail spool, for development and the demo (no SMTP server configured): each message is a file in
a folder of its recipient, `<EMAIL_FILE_PATH>/<blind index of the address>/<time>-<id>.eml`, readable
as a mailbox is (the demo's one-time codes are read there). The folder is named by the keyed hash that
finds patients by email, never by the address, and erasing a patient deletes their folder: the spool
stands in for the person's mailbox, which is theirs, not the program's. `sojourn check --deploy`
refuses this backend in production (EMAIL_BACKEND ending in filebased.EmailBackend)."""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Sequence
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage
from django.utils import timezone

from sojourn.people.services.patients import email_index


def spool_root() -> Path | None:
    path = getattr(settings, "EMAIL_FILE_PATH", None)
    return Path(path) if path else None


def recipient_folder(root: Path, address: str) -> Path:
    return root / email_index(parseaddr(address)[1] or address)


def forget_recipient(index: str) -> None:
    """Delete every spooled message to the address with this blind index (an erasure)."""
    root = spool_root()
    if root is not None and index and "/" not in index:
        shutil.rmtree(root / index, ignore_errors=True)


class EmailBackend(BaseEmailBackend):
    def __init__(self, *args: Any, file_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        root = Path(file_path) if file_path else spool_root()
        if root is None:
            raise ImproperlyConfigured("The mail spool needs EMAIL_FILE_PATH.")
        self.root = root
        self._lock = threading.RLock()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        with self._lock:
            for message in email_messages:
                recipients = message.recipients()
                if not recipients:
                    continue
                data = message.message().as_bytes(linesep="\n")
                for folder in {recipient_folder(self.root, r) for r in recipients}:
                    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                    name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
                    (folder / name).write_bytes(data)
                sent += 1
        return sent
