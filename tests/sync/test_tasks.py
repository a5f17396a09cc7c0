"""Schedules: due flows are started, not-due ones left alone; Verwerk runs with priority."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from koppeling.sync import tasks
from koppeling.sync.models import ActivityEvent, Flow, Link, LinkStatus, RecordState, SyncRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def immediate(settings):
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = False


def test_dispatch_runs_due_flows_once_per_schedule(link, immediate):
    started = tasks.dispatch_due_flows.call_local()
    flow = Flow.objects.get(link=link)
    assert started == 1
    assert flow.next_run_at > timezone.now() + dt.timedelta(minutes=59)
    assert SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).exists()
    assert tasks.dispatch_due_flows.call_local() == 0  # not due again, nothing waiting


def test_daily_schedule_runs_at_the_chosen_local_hour(link):
    import zoneinfo

    flow = Flow.objects.get(link=link)
    flow.daily_at = dt.time(6, 30)
    amsterdam = zoneinfo.ZoneInfo("Europe/Amsterdam")
    before = dt.datetime(2026, 12, 2, 5, 0, tzinfo=amsterdam)
    after = dt.datetime(2026, 12, 2, 7, 0, tzinfo=amsterdam)
    assert tasks.next_run(flow, before) == dt.datetime(2026, 12, 2, 6, 30, tzinfo=amsterdam)
    assert tasks.next_run(flow, after) == dt.datetime(2026, 12, 3, 6, 30, tzinfo=amsterdam)


def test_dispatch_skips_paused_links(link, immediate):
    Link.objects.filter(pk=link.pk).update(status=LinkStatus.PAUSED)
    assert tasks.dispatch_due_flows.call_local() == 0


def test_push_order_now_task(link, seeded_shop, immediate):
    number = next(n for n in seeded_shop.order_numbers() if seeded_shop.order(n)["status"] in (3, 6, 7))
    result = tasks.push_record_now(Flow.objects.get(link=link).pk, str(number))
    assert result.get()["pushed"] == 1


def test_purge_activity_respects_retention(link, settings):
    old = ActivityEvent.objects.create(
        organisation=link.organisation,
        link=link,
        code="x",
        params={"text": "old"},
        created_at=timezone.now() - dt.timedelta(days=31),
    )
    fresh = ActivityEvent.objects.create(organisation=link.organisation, link=link, code="x", params={})
    assert tasks.purge_activity.call_local() == 1
    assert not ActivityEvent.objects.filter(pk=old.pk).exists()
    assert ActivityEvent.objects.filter(pk=fresh.pk).exists()


def test_enqueue_on_commit_enqueues_with_priority_only_after_commit(link, django_capture_on_commit_callbacks):
    import uuid

    from huey.contrib.djhuey import HUEY

    number = uuid.uuid4().hex  # the queue file is shared by test runs: find exactly ours

    flow_id = Flow.objects.get(link=link).pk

    def ours():
        return [t for t in HUEY.pending() if t.args == (flow_id, number)]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        tasks.enqueue_on_commit(tasks.push_record_now, flow_id, number, priority=10)
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


def test_a_rate_limited_run_schedules_its_next_run_for_the_free_slot(
    db, seeded_shop, books_sim, django_capture_on_commit_callbacks
):
    import uuid

    from huey.contrib.djhuey import HUEY
    from tests.conftest import make_link

    limits = [{"name": "invoices", "limit": 1, "period_seconds": 3600, "applies_to": ["writes_invoices"]}]
    books_sim.contractcode = uuid.uuid4().hex[:8]  # its own bucket
    link = make_link(seeded_shop, books_sim, books_options={"rate_limits": limits})
    flow = Flow.objects.get(link=link)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.run_flow(flow.pk)
    flow.refresh_from_db()
    assert flow.waiting_until is not None
    free = flow.waiting_until.astimezone(dt.UTC).replace(tzinfo=None)
    ours = [
        t
        for t in HUEY.pending() + HUEY.scheduled()  # the queue file is shared by test runs: find ours
        if t.args == (flow.pk,) and t.eta and abs((t.eta - free).total_seconds()) < 1
    ]
    assert len(ours) == 1
    for task in ours:
        HUEY.revoke(task)


def test_due_flows_finds_retries_and_stale_claims_in_three_queries_however_many_flows(
    link, django_assert_num_queries
):
    now = timezone.now()
    later = now + dt.timedelta(hours=1)
    first = Flow.objects.get(link=link)
    flows = [first]
    for kind in ("credit_orders_to_notes", "products", "stock", "customers", "orders_to_batch"):
        flows.append(Flow.objects.create(link=link, kind=kind, source=link.source, target=link.target))
    Flow.objects.filter(pk__in=[f.pk for f in flows]).update(next_run_at=later)
    retry, stale, waiting = flows[1], flows[2], flows[3]

    def record(flow, number, **values):
        return SyncRecord.objects.create(
            link=link, flow=flow, object_type="order", source_id=number, **values
        )

    record(retry, "1", state=RecordState.PENDING, attempts=1, next_attempt_at=now - dt.timedelta(minutes=1))
    record(flows[4], "2", state=RecordState.PENDING, attempts=1, next_attempt_at=later)  # not yet
    record(stale, "3", state=RecordState.PUSHING, claimed_at=now - dt.timedelta(days=1))
    record(waiting, "4", state=RecordState.PENDING, attempts=1, next_attempt_at=now)
    Flow.objects.filter(pk=waiting.pk).update(waiting_until=later)  # a rate limit holds it
    with django_assert_num_queries(3):
        due = tasks.due_flows(now)
    assert {f.pk for f in due} == {retry.pk, stale.pk}
