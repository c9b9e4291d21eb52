"""The recording sinks of `sojourn bench soak`, in a process of their own (the workers cannot reach
into it, and it outlives every worker the chaos loop kills): a real SMTP server (aiosmtpd) and an SMS
provider's HTTP API. Every message received is appended to one JSON-lines file, one line each, as
it arrives: the channel, the key that names the outbox message (X-Sojourn-Key for email, the
`reference` for SMS), the identity a receiver de-duplicates on (the Message-ID; the Idempotency-Key
header) and the time.

    python bench/soak_sinks.py --smtp PORT --sms PORT --out FILE

prints "ready" once both listen and runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import threading
import time
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO


class Journal:
    """One line per message received, written and flushed under a lock (two sinks, many threads)."""

    def __init__(self, path: Path) -> None:
        self._out: TextIO = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def record(self, channel: str, key: str, identity: str) -> None:
        line = json.dumps({"channel": channel, "key": key, "id": identity, "at": time.time()})
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()

    def close(self) -> None:
        with self._lock:
            self._out.close()


class SmtpSink:
    """aiosmtpd's handler: accept every message and record its Message-ID and X-Sojourn-Key."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        headers = BytesHeaderParser().parsebytes(envelope.original_content or envelope.content)
        self.journal.record("email", str(headers.get("X-Sojourn-Key", "")), str(headers.get("Message-ID", "")))
        return "250 Message accepted for delivery"


def sms_handler(journal: Journal) -> type[BaseHTTPRequestHandler]:
    class Provider(BaseHTTPRequestHandler):
        """POST /messages as sojourn.channels.sms.HttpProvider sends it; answers with an id derived from
        the Idempotency-Key, as a provider that de-duplicates on it would."""

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            key = self.headers.get("Idempotency-Key", "")
            journal.record("sms", str(body.get("reference", "")), key)
            answer = json.dumps({"id": "sms-" + hashlib.sha256(key.encode()).hexdigest()[:24]}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Provider


def main() -> None:
    from aiosmtpd.controller import Controller

    parser = argparse.ArgumentParser()
    parser.add_argument("--smtp", type=int, required=True)
    parser.add_argument("--sms", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    journal = Journal(args.out)
    smtp = Controller(SmtpSink(journal), hostname="127.0.0.1", port=args.smtp)
    smtp.start()
    sms = ThreadingHTTPServer(("127.0.0.1", args.sms), sms_handler(journal))
    sms.daemon_threads = True
    threading.Thread(target=sms.serve_forever, daemon=True).start()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    print("ready", flush=True)
    stopping.wait()
    sms.shutdown()
    smtp.stop()
    journal.close()


if __name__ == "__main__":
    main()
