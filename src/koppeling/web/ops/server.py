"""``koppeling serve``: the web app on granian, a production server, plus a background worker.

Why granian (not gunicorn's threads): it reads requests in its Rust event loop, so connections
that send nothing (or drip their headers) hold no Python thread — beside 1,000 idle sockets, 20
real requests were answered in 1.0 s together (``tests/ops/test_serve.py`` checks 300 against 5;
``docs/operations.md``); gunicorn's gthread worker gives each new connection a thread for up to
5 s first. Requests reach Django through WSGI in ``threads`` threads per process; a client gets
``header_timeout`` seconds to send its request headers. Static files are served by whitenoise
(collected once at start).

The worker runs as a child process (``koppeling worker``) so the server owns the main thread and
its signals; both stop together.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

__all__ = ["ServerOptions", "serve"]


@dataclass(frozen=True)
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    processes: int = 2
    threads: int = 8
    header_timeout: int = 30
    backlog: int = 2048
    with_worker: bool = True


def _collect_static() -> None:
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def _start_worker() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "koppeling.cli", "worker"], env=dict(os.environ))


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def serve(options: ServerOptions) -> int:
    """Serve until interrupted (SIGINT/SIGTERM); returns the exit code."""
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings

    _collect_static()
    worker = _start_worker() if options.with_worker else None
    server = Granian(
        "koppeling.wsgi:application",
        address=options.host,
        port=options.port,
        interface=Interfaces.WSGI,
        workers=options.processes,
        blocking_threads=options.threads,
        # connections a process holds at once, idle ones included: far above the threads, so
        # sockets that send nothing (until header_timeout) never keep a real request out
        backlog=options.backlog,
        backpressure=max(options.backlog // options.processes, options.threads),
        http=HTTPModes.http1,
        websockets=False,
        http1_settings=HTTP1Settings(header_read_timeout=options.header_timeout * 1000),
        respawn_failed_workers=True,
        workers_kill_timeout=30,
        log_access=False,
    )
    scheme = "https (behind your proxy)" if os.environ.get("KOPPELING_HTTPS") == "1" else "http"
    print(
        f"koppeling is running at http://{options.host}:{options.port}/ ({scheme}; "
        f"{options.processes} processes × {options.threads} threads"
        f"{'; with a worker' if worker else '; no worker'})",
        flush=True,
    )
    try:
        server.serve()
    finally:
        _stop(worker)
    return 0
