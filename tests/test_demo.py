"""`koppeling demo` as a new user meets it: prints the URL and sign-in, syncs, serves the app, and
has a few failed orders and one to review, so Fouten, Verwerk and Review can be tried."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_starts_syncs_and_serves(tmp_path):
    port = free_port()
    env = {**os.environ, "KOPPELING_DATA_DIR": str(tmp_path / "demo")}
    env.pop("DATABASE_URL", None)
    env.pop("KOPPELING_QUEUE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "koppeling.cli", "demo", "--port", str(port), "--orders", "25"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    output = ""
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and "Stop with Ctrl-C" not in output:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            output += line
        assert f"http://127.0.0.1:{port}/" in output, output
        assert "demo" in output and "koppeling-demo" in output
        assert "Second sync: pushed 0" in output
        assert "To try: Fouten 2 " in output and "Review 1 " in output
        first = next(line for line in output.splitlines() if "pushed" in line and "fetched" in line)
        assert "pushed 0 " not in first
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            login = client.get("/login/")
            assert login.status_code == 200
            token = client.cookies["csrftoken"]
            page = client.post(
                "/login/",
                data={"username": "demo", "password": "koppeling-demo", "csrfmiddlewaretoken": token},
                follow_redirects=True,
            )
            assert page.status_code == 200
            assert "Webwinkel → Acumulus" in page.text
            # and every other seed link beside it, each with bookings of its own
            for name in ("Webwinkel → Factuursturen", "SEOshop → Asperion", "eAccounting ↔ AccountView"):
                assert name in page.text, name
                assert f"{name}: pushed 0" not in output and f"{name}: pushed" in output
            # a new user meets Fouten (each with its way out) and Review at once
            failures = client.get("/fouten/", headers={"Accept-Language": "en"}).text
            assert failures.count('data-state="failed"') == 2, failures
            assert "VAT number" in failures and "99" in failures  # the missing number, the unknown account
            assert ">Process<" in failures  # Verwerk
            review = client.get("/review/", headers={"Accept-Language": "en"}).text
            assert review.count('class="card review"') == 1 and "Mark as booked" in review
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
