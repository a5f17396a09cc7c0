"""``/ops/healthz``: is the database answering, the queue reachable, a worker alive?

200 when every check passes, 503 otherwise, with one line per check. ``?only=database,queue``
limits the checks (a load balancer probing the web process should not take it out of rotation
because the workers are down). Nothing here names a host, a user or a password.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

__all__ = ["CHECKS", "healthz"]


def _database() -> tuple[bool, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return True, "ok"


def _queue() -> tuple[bool, str]:
    from huey.contrib.djhuey import HUEY

    return True, f"ok, {HUEY.pending_count()} waiting"


def _worker() -> tuple[bool, str]:
    from .cleanup import last_heartbeat

    beat = last_heartbeat()
    if not beat:
        return False, "no worker has checked in"
    age = time.time() - float(beat.get("at", 0))
    stale = settings.KOPPELING.get("WORKER_STALE_SECONDS", 180)
    if age > stale:
        return False, f"last heartbeat {int(age)} s ago"
    return True, f"ok, last heartbeat {int(age)} s ago"


CHECKS: dict[str, Callable[[], tuple[bool, str]]] = {
    "database": _database,
    "queue": _queue,
    "worker": _worker,
}


def run_checks(names: list[str]) -> dict[str, tuple[bool, str]]:
    results = {}
    for name in names:
        try:
            results[name] = CHECKS[name]()
        except Exception as exc:  # the point of a health check: report it, do not raise it
            results[name] = (False, f"failed: {type(exc).__name__}")
    return results


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    wanted = [n.strip() for n in request.GET.get("only", "").split(",") if n.strip()] or list(CHECKS)
    unknown = [n for n in wanted if n not in CHECKS]
    if unknown:
        return JsonResponse(
            {"ok": False, "error": f"unknown check {', '.join(unknown)}; known: {', '.join(CHECKS)}"},
            status=400,
        )
    results = run_checks(wanted)
    ok = all(passed for passed, _ in results.values())
    body = {"ok": ok, "checks": {name: {"ok": p, "detail": d} for name, (p, d) in results.items()}}
    return JsonResponse(body, status=200 if ok else 503)
