"""Scale-out: a task enqueued on the real Redis is run by a separate `koppeling worker` process
against the real PostgreSQL — the web and the workers share nothing but those two services."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection
from tests.conftest import BOOKS_URL, SHOP_URL, make_link

from koppeling.connectors import http as kh
from koppeling.connectors.simserver import serve_wsgi
from koppeling.sync.models import RecordState, SyncRecord

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_queue_is_redis():
    from huey.contrib.djhuey import HUEY

    redis_queue = settings.HUEY["huey_class"] == "huey.PriorityRedisHuey"  # Verwerk's priority needs it
    assert redis_queue, "KOPPELING_QUEUE_URL must point at Redis"
    assert HUEY.storage.conn.ping()


def test_task_on_redis_runs_in_a_separate_worker_process(seeded_shop, books_sim, tmp_path):
    from huey.contrib.djhuey import HUEY

    from koppeling.sync.tasks import sync_link

    HUEY.flush()
    shop_srv, books_srv = serve_wsgi(seeded_shop.wsgi), serve_wsgi(books_sim.wsgi)
    kh.unmount(SHOP_URL)
    kh.unmount(BOOKS_URL)
    worker = None
    try:
        link = make_link(seeded_shop, books_sim)
        for conn, url in ((link.source, shop_srv.url), (link.target, books_srv.url)):
            conn.base_url = url
            conn.credentials = dict(conn.credentials)  # a new address takes its credentials again
            conn.save()
        # given a task waiting in Redis
        sync_link(link.pk, "manual")
        assert HUEY.pending_count() >= 1
        # when a worker process on "another machine" (same services, own data folder) takes it
        db = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "KOPPELING_QUEUE_URL": os.environ["KOPPELING_QUEUE_URL"],
            "KOPPELING_DATA_DIR": str(tmp_path),
            "KOPPELING_FERNET_KEYS": ",".join(settings.KOPPELING_FERNET_KEYS),
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "koppeling.cli", "worker", "--workers", "1"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        pushed = 0
        while time.monotonic() < deadline:
            pushed = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).count()
            busy = SyncRecord.objects.filter(link=link, state__in=[RecordState.PENDING, RecordState.PUSHING])
            if pushed and not busy.exists():
                break
            time.sleep(0.3)
        # then the orders are booked, once
        assert pushed > 0, worker.stdout.read1().decode() if worker.stdout else ""
        assert pushed == len(books_sim.invoices)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(10)
        shop_srv.shutdown()
        books_srv.shutdown()
        HUEY.flush()
