"""The product's Redis queue takes Verwerk's priority tasks (scale-out runs on Redis).

The harnesses found that ``huey.RedisHuey`` refuses every task with a priority
(``NotImplementedError``), so Verwerk could not even be queued there; this keeps it fixed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_QUEUE_VERWERK = """
import django
django.setup()
from huey.contrib.djhuey import HUEY
class Nowhere:  # a Redis that takes every command: only the storage class decides
    def __getattr__(self, name):
        return lambda *args, **kwargs: None
HUEY.storage.conn = Nowhere()
from koppeling.sync.tasks import push_record_now
push_record_now(1, "1001")
"""


def test_verwerk_can_be_queued_on_the_redis_queue(tmp_path):
    """No Redis server needed: a RedisHuey refuses before it sends anything; the fake connection
    takes whatever a queue that supports priorities sends."""
    path = os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH", "")) if p)
    env = {
        **os.environ,
        "PYTHONPATH": path,
        "DJANGO_SETTINGS_MODULE": "koppeling.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "KOPPELING_QUEUE_URL": "redis://127.0.0.1:6379/14",
        "KOPPELING_DATA_DIR": str(tmp_path),
        "KOPPELING_ALLOW_LOCAL_KEYS": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", _QUEUE_VERWERK],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "NotImplementedError" not in done.stderr, done.stderr[-600:]
    assert done.returncode == 0, done.stderr[-2000:]
