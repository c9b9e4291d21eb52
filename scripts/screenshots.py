"""Take the README's screenshots (docs/images/*.png) from a small demo.

    .venv/bin/python scripts/screenshots.py [--var DIR] [--port 8765] [--out docs/images]

Builds a small demo (300 patients over 120 days, seed 1, every nurse call left waiting) in its own
SQLite folder unless one is there, serves it with `sojourn serve`, signs in as the demo's roles in
Debian's Chromium (/usr/bin/chromium, headless, through Playwright; never a downloaded browser) and
writes palette PNGs 1200 px wide. The portal is shot on a phone-sized screen, as patients use it. Not
part of the test run: the pictures change whenever a page's look does, and no test should wait on them.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHROMIUM = Path(os.environ.get("SOJOURN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]
PASSWORD = "companion-demo-2026"  # the demo's (sojourn.demo.builder.DEMO_PASSWORD)
PATIENTS, DAYS, SEED = 300, 120, 1
DESK = {"viewport": {"width": 1200, "height": 800}, "locale": "en-GB"}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "en-US"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--var", type=Path, default=ROOT / "var" / "screenshots",
                        help="the demo's folder (SOJOURN_VAR_DIR); built when it holds no database")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing (apt-get install chromium)")
    var = args.var.resolve()
    # The demo gets its own SQLite file and keys, whatever database the shell points at.
    env = {**os.environ, "SOJOURN_VAR_DIR": str(var), "SOJOURN_DATABASE_URL": "", "SOJOURN_EMAIL_HOST": ""}
    var.mkdir(parents=True, exist_ok=True)
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sojourn.settings")
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    if not (var / "sojourn.sqlite3").exists():
        call_command("demo", "--no-serve", "--patients", "0")
        # A nurse team that makes no calls leaves every call waiting, so the queue has something to show.
        call_command("simulate", "--patients", str(PATIENTS), "--days", str(DAYS), "--seed", str(SEED),
                     "--nurse-calls-per-day", "0")
    timeline_patient, portal_email = _subjects()
    connections.close_all()  # the server opens the file on its own
    log = (var / "screenshots-serve.log").open("w")
    server = subprocess.Popen(  # noqa: S603  (our own command and arguments)
        [BIN / "sojourn", "serve", "--port", str(args.port), "--workers", "1"], env=env, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{args.port}"
        _wait_until_ready(args.port)
        args.out.mkdir(parents=True, exist_ok=True)
        _shoot(base, args.out, var / "mail", timeline_patient, portal_email)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def _subjects() -> tuple[str, str]:
    """A German patient with a full timeline, and the address of an American one whose page has cards."""
    from django.db.models import Count

    from sojourn.people.models import Patient
    from sojourn.people.services.patients import email_index

    busiest = (Patient.objects.filter(status="active").annotate(recorded=Count("events")).order_by("-recorded", "pk"))
    german = busiest.filter(market__country="DE").values_list("pseudonym", flat=True).first()
    # The simulator's addresses follow one pattern (sojourn.simulation.cohort); find one by its blind index.
    readers = set(busiest.filter(market__country="US", events__type="content.viewed")
                  .values_list("email_index", flat=True)[:50])
    for index in range(1, PATIENTS + 1):
        address = f"patient{index}.seed{SEED}@cohort.sim.example"
        if email_index(address) in readers:
            return german, address
    sys.exit("no American patient of the demo has read an article: rebuild the demo (delete --var)")


def _wait_until_ready(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.5)
    sys.exit(f"sojourn serve did not answer at http://127.0.0.1:{port}/readyz within a minute")


def _shoot(base: str, out: Path, mail: Path, timeline_patient: str, portal_email: str) -> None:
    from playwright.sync_api import sync_playwright

    console = {
        "analyst@demo.sojourn.example": [
            ("kpi-dashboard", "/console/insights/?market=DE"),
            ("journey", "/console/journeys/patient-journey/?market=DE"),
            ("hypotheses", "/console/insights/hypotheses/"),
        ],
        "manager@demo.sojourn.example": [
            ("dry-run", "/console/dialogue/rules/companion/v1/dry-run/?days=30"),
            ("timeline", f"/console/dialogue/patients/{timeline_patient}/timeline/"),
        ],
        "nurse.na@demo.sojourn.example": [("nurse-queue", "/console/nurse/")],
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        for account, pages in console.items():
            context = browser.new_context(base_url=base, **DESK)
            page = context.new_page()
            page.goto("/console/sign-in/")
            page.fill("#id_username", account)
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            for name, address in pages:
                page.goto(address)
                page.wait_for_load_state("networkidle")
                _save(page, out / f"{name}.png")
            context.close()
        context = browser.new_context(base_url=base, **PHONE)
        page = context.new_page()
        page.goto("/p/sign-in/")
        page.fill("#id_email", portal_email)
        asked_at = time.time()
        page.click("button[type=submit]")
        page.click("a.button")
        page.fill("#id_code", _code_mailed_since(mail, asked_at))
        page.click("button[type=submit]")
        page.wait_for_url("**/p/me/page/")
        page.wait_for_load_state("networkidle")
        _save(page, out / "portal.png")
        context.close()
        browser.close()


def _code_mailed_since(mail: Path, since: float) -> str:
    """The one-time code in the newest mail file written after `since` (the spool names folders by a
    blind index, not by address)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        fresh = sorted((p for p in mail.glob("*/*.eml") if p.stat().st_mtime >= since - 1),
                       key=lambda p: p.stat().st_mtime)
        if fresh:
            found = re.search(r"\b(\d{6})\b", fresh[-1].read_text(encoding="utf-8", errors="replace"))
            if found:
                return found.group(1)
        time.sleep(0.3)
    sys.exit(f"no sign-in code was written to {mail}")


def _save(page, path: Path) -> None:
    """A viewport's shot, reduced to 256 colours: a tenth of the bytes, no visible loss on a console page."""
    from PIL import Image

    page.screenshot(path=str(path))
    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {path.stat().st_size // 1024} kB")


if __name__ == "__main__":
    main()
