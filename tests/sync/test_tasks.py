"""Schedules: due links are started, not-due ones left alone; Verwerk runs with priority."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from koppeling.sync import tasks
from koppeling.sync.models import ActivityEvent, Link, LinkStatus, RecordState, SyncRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def immediate(settings):
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = False


def test_dispatch_runs_due_links_once_per_schedule(link, immediate):
    started = tasks.dispatch_due_links.call_local()
    link.refresh_from_db()
    assert started == 1
    assert link.next_run_at > timezone.now() + dt.timedelta(minutes=59)
    assert SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).exists()
    assert tasks.dispatch_due_links.call_local() == 0  # not due again, nothing waiting


def test_dispatch_skips_paused_links(link, immediate):
    Link.objects.filter(pk=link.pk).update(status=LinkStatus.PAUSED)
    assert tasks.dispatch_due_links.call_local() == 0


def test_push_order_now_task(link, seeded_shop, immediate):
    number = next(n for n in seeded_shop.order_numbers() if seeded_shop.order(n)["status"] in (3, 6, 7))
    result = tasks.push_order_now(link.pk, str(number))
    assert result.get()["pushed"] == 1


def test_purge_activity_respects_retention(link, settings):
    old = ActivityEvent.objects.create(
        organisation=link.organisation,
        link=link,
        code="x",
        message="old",
        created_at=timezone.now() - dt.timedelta(days=31),
    )
    fresh = ActivityEvent.objects.create(organisation=link.organisation, link=link, code="x", message="new")
    assert tasks.purge_activity.call_local() == 1
    assert not ActivityEvent.objects.filter(pk=old.pk).exists()
    assert ActivityEvent.objects.filter(pk=fresh.pk).exists()


def test_enqueue_on_commit_enqueues_with_priority_only_after_commit(link, django_capture_on_commit_callbacks):
    import uuid

    from huey.contrib.djhuey import HUEY

    number = uuid.uuid4().hex  # the queue file is shared by test runs: find exactly ours

    def ours():
        return [t for t in HUEY.pending() if t.args == (link.pk, number)]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        tasks.enqueue_on_commit(tasks.push_order_now, link.pk, number, priority=10)
        assert ours() == []  # nothing before the commit
    assert len(callbacks) == 1
    queued = ours()
    assert len(queued) == 1 and queued[0].priority == 10
    HUEY.revoke(queued[0])  # never run it


def test_purge_also_drops_old_runs_and_attempt_details(link):
    from koppeling.sync.engine import Engine
    from koppeling.sync.models import Run, SyncAttempt

    Engine(link).run()
    old = timezone.now() - dt.timedelta(days=40)
    Run.objects.update(started_at=old)
    SyncAttempt.objects.update(started_at=old)
    tasks.purge_activity.call_local()
    assert not Run.objects.exists()
    assert not SyncAttempt.objects.exists()
    assert SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).exists()  # the ledger stays
