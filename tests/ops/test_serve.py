"""``koppeling serve``: a production server (granian) that keeps answering while hundreds of
connections send nothing, serves static files itself (whitenoise), and a busy port is a clear
message with exit code 2, not a traceback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")
HALF_OPEN = 300


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOPPELING_", "DATABASE_URL"))}
    return env | {"PYTHONPATH": SRC, "KOPPELING_DATA_DIR": str(tmp_path / "data")}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "koppeling.cli", *args]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module's tests (starting one migrates, collects static files, forks)."""
    tmp_path = tmp_path_factory.mktemp("serve")
    log = tmp_path / "serve.log"
    port = _free_port()
    proc = subprocess.Popen(
        _cli(
            "serve",
            "--port",
            str(port),
            "--no-worker",
            "--processes",
            "1",
            "--threads",
            "4",
            "--timeout",
            "5",
        ),
        env=_env(tmp_path),
        stdout=log.open("w"),  # a file, not a pipe: a full pipe would stall the server
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the forked server processes stop with it
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a loaded CI machine
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/ops/healthz?only=database", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
        assert proc.poll() is None, log.read_text()
    else:
        _stop(proc)
        pytest.fail(f"the server did not start in 120 s:\n{log.read_text()}")
    yield base, port
    _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server and every process it forked (its process group), however it started."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    except ProcessLookupError:
        pass


def test_half_open_connections_do_not_hold_up_real_requests(server):
    base, port = server
    idle = []
    try:
        for number in range(HALF_OPEN):
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            if number % 2:
                sock.sendall(b"GET /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
            idle.append(sock)
        started = time.monotonic()
        for _ in range(5):
            assert httpx.get(f"{base}/login/", timeout=10).status_code == 200
        took = time.monotonic() - started
    finally:
        for sock in idle:
            sock.close()
    assert took < 2.5, f"5 requests beside {HALF_OPEN} idle connections took {took:.2f} s"


def test_static_files_are_served_with_long_caching(server):
    base, _port = server
    response = httpx.get(f"{base}/static/web/koppeling.css", timeout=10)
    assert response.status_code == 200 and "text/css" in response.headers["content-type"]
    assert "max-age" in response.headers.get("cache-control", "")


def test_a_busy_port_is_a_clear_message_and_exit_code_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for command in ("serve", "demo"):
            result = subprocess.run(
                _cli(command, "--port", str(port)),
                env=_env(tmp_path),
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
            assert result.returncode == 2, result.stderr
            assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
            assert "Traceback" not in result.stderr + result.stdout


def _shell(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(_cli(*args), env=_env(tmp_path), capture_output=True, text=True, timeout=60)


def test_version_and_bad_arguments_from_the_shell(tmp_path):
    version = _shell(tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.startswith("koppeling ")
    for args, expected in (
        (("sync", "x", "--since", "2026-13-01"), "is not a date (YYYY-MM-DD)"),
        (("sync", "x", "--flow", "nope"), "'nope' is not a flow kind; known: orders_to_invoices"),
        (("serve", "--threads", "0"), "'0' is not from 1 to 256"),
    ):
        bad = _shell(tmp_path, *args)
        assert bad.returncode == 2 and expected in bad.stderr and "Traceback" not in bad.stderr


def test_a_database_not_set_up_is_a_message_not_a_traceback(tmp_path):
    result = _shell(tmp_path, "sync", "x")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "`koppeling migrate` creates or upgrades it" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("KOPPELING_SIGNIN_FAILURES", "many", "KOPPELING_SIGNIN_FAILURES='many': expected a whole number"),
        ("KOPPELING_UMASK", "0x77", "KOPPELING_UMASK='0x77': expected three octal digits"),
        ("KOPPELING_FERNET_KEY_FILE", "/nonexistent/key", "KOPPELING_FERNET_KEY_FILE=/nonexistent/key"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_the_variable(tmp_path, variable, value, expected):
    env = _env(tmp_path) | {variable: value}
    result = subprocess.run(_cli("migrate"), env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert expected in result.stderr
