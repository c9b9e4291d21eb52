"""`sojourn migrate` and `sojourn serve` as an operator runs them: a real gunicorn on a free port."""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.error
import urllib.request

from tests.helpers import SOJOURN, free_port, get


def test_serve_answers_probes_and_the_sign_in_page(tmp_path):
    env = {**os.environ, "SOJOURN_VAR_DIR": str(tmp_path), "SOJOURN_DATABASE_URL": f"sqlite:///{tmp_path}/s.db",
           "DJANGO_SETTINGS_MODULE": "sojourn.settings"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([SOJOURN, "serve", "--port", str(port), "--workers", "1"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # A liveness bound, not a timing: a loaded machine (CI beside other work) can take minutes.
        deadline = time.monotonic() + 180
        while True:
            try:
                status, _body = get(f"{base}/healthz")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the server did not start within 180 s"
                time.sleep(0.3)
        assert status == 200
        status, body = get(f"{base}/readyz")
        assert status == 503 and "migrations pending" in body
        subprocess.run([SOJOURN, "migrate", "--no-input", "-v", "0"], env=env, check=True, timeout=120)
        assert get(f"{base}/readyz")[0] == 200
        status, page = get(f"{base}/console/sign-in/")
        assert status == 200 and '<meta charset="utf-8">' in page
        status, css = get(f"{base}/static/sojourn/console.css")
        assert status == 200 and "--accent" in css
        # htmx comes from the django-htmx package, installed from the registry, never from this repository.
        script = re.search(r'<script src="(/static/django_htmx/[^"]+)"', page).group(1)
        status, js = get(f"{base}{script}")
        assert status == 200 and "htmx" in js
    finally:
        server.terminate()
        server.wait(timeout=20)
