"""Scale-out: tasks go through the real Redis queue and run in a separate consumer."""

from __future__ import annotations

import pytest
from django.conf import settings


@pytest.mark.redis
def test_queue_is_redis_and_round_trips_a_task():
    from huey.contrib.djhuey import HUEY

    assert settings.HUEY["huey_class"] == "huey.RedisHuey", "KOPPELING_QUEUE_URL must point at Redis"
    HUEY.storage.conn.ping()
    HUEY.flush()
    from koppeling.sync.tasks import purge_activity

    result = purge_activity()  # enqueue only: periodic tasks are plain tasks when called
    assert HUEY.pending_count() == 1
    task = HUEY.dequeue()
    assert task is not None
    HUEY.flush()
    assert result is not None
