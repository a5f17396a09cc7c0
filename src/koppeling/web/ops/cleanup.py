"""Scheduled upkeep run by every worker: its heartbeat (read by ``/ops/healthz``) and the purge of
the converter's results, which hold customers' data (design: data in flight only).

These are Huey periodic tasks; ``OpsConfig.ready`` imports this module, so every ``koppeling
worker`` (and ``serve``'s worker) schedules them without ``sync.tasks`` knowing about them.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task

from koppeling.sync.workers import worker_id

__all__ = ["HEARTBEAT_KEY", "beat", "last_heartbeat", "purge_convert_results", "worker_heartbeat"]

HEARTBEAT_KEY = "koppeling:worker-heartbeat"


def beat() -> None:
    """Say this worker is alive (Huey's own key-value store: the same for SQLite and Redis)."""
    HUEY.put(HEARTBEAT_KEY, {"at": time.time(), "worker": worker_id()})


def last_heartbeat() -> dict | None:
    """The last worker's heartbeat, or None if no worker ever checked in (kept, not consumed)."""
    return HUEY.get(HEARTBEAT_KEY, peek=True)


@db_periodic_task(crontab(minute="*"))
def worker_heartbeat() -> None:
    beat()


@HUEY.on_startup()
def heartbeat_on_startup() -> None:
    beat()


def purge_convert_results(now: float | None = None) -> int:
    """Remove every converter result older than the page keeps it (``convert_views.KEEP_SECONDS``)."""
    from koppeling.web.convert_views import KEEP_SECONDS

    root = Path(settings.DATA_DIR) / "convert"
    if not root.is_dir():
        return 0
    limit = (time.time() if now is None else now) - KEEP_SECONDS
    removed = 0
    for user_dir in root.iterdir():
        if not user_dir.is_dir():
            continue
        for entry in user_dir.iterdir():
            if entry.is_dir() and entry.stat().st_mtime < limit:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
    return removed


@db_periodic_task(crontab(minute="*/10"))
def purge_convert_results_task() -> int:
    return purge_convert_results()
