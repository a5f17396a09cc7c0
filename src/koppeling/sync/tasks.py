"""Huey tasks and schedules. Work is enqueued only after the transaction that asked for it commits.

No task lock per flow: a Huey lock has no expiry on every storage, so a killed worker would stop
the flow for good. Two runs of one flow at once are safe: the ledger's claims decide who pushes.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from . import alerts
from .models import (
    Flow,
    FlowStatus,
    LinkStatus,
    RecordState,
    Run,
    RunKind,
    SyncRecord,
)

log = logging.getLogger(__name__)

#: pushed documents not reconciled after this long are read back again (a read-back that failed)
RECONCILE_AFTER = dt.timedelta(minutes=10)


def enqueue_on_commit(task, *args, priority: int = 0, **kwargs) -> None:
    """The one way to start background work: never for a transaction that rolls back."""
    transaction.on_commit(lambda: task(*args, priority=priority or None, **kwargs))


def run_flow(flow_id: int, kind: str = RunKind.SCHEDULED, order_number: str | None = None) -> dict:
    from .runner import FlowRunner

    flow = Flow.objects.select_related("link", "source", "target").get(pk=flow_id)
    with FlowRunner(flow) as runner:
        report = runner.run(kind=kind, order_number=order_number)
    if report.waiting_until is not None:  # a rate limit: wake exactly when the next slot is free
        eta = report.waiting_until  # aware: Huey takes a naive time as the machine's local time
        transaction.on_commit(lambda: sync_flow.schedule(args=(flow_id,), eta=eta))
    return {"pushed": report.pushed, "failed": report.failed, "status": report.status}


@db_task(priority=0)
def sync_flow(flow_id: int, kind: str = RunKind.SCHEDULED) -> dict:
    return run_flow(flow_id, kind)


@db_task(priority=10)
def push_record_now(flow_id: int, source_id: str) -> dict:
    """The seed's "Verwerk": one record, now, ahead of the queue (and within the rate limit)."""
    return run_flow(flow_id, RunKind.ORDER, source_id)


def sync_link(link_id: int, kind: str = RunKind.MANUAL) -> list:
    """Start every active flow of a link (the dashboard's "Sync now")."""
    return [
        sync_flow(flow_id, kind)
        for flow_id in Flow.objects.filter(link_id=link_id, status=FlowStatus.ACTIVE).values_list(
            "pk", flat=True
        )
    ]


def next_run(flow: Flow, now: dt.datetime) -> dt.datetime:
    """The flow's next scheduled start: every ``schedule_minutes``, or daily at ``daily_at`` (local)."""
    if flow.daily_at is None:
        return now + dt.timedelta(minutes=flow.schedule_minutes)
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    local = now.astimezone(tz)
    candidate = dt.datetime.combine(local.date(), flow.daily_at, tzinfo=tz)
    if candidate <= local:
        candidate = dt.datetime.combine(local.date() + dt.timedelta(days=1), flow.daily_at, tzinfo=tz)
    return candidate.astimezone(dt.UTC)


def due_flows(now: dt.datetime) -> list[Flow]:
    """Active flows whose schedule is due, or with retries due and no rate-limit wait.

    Three queries whatever the number of flows (the dispatcher asks every minute): the active
    flows, and — over all of them at once — those with a retry due and those with a claim gone
    stale (the ledger's index on (state, claimed_at) finds the few pending and pushing rows)."""
    flows = [
        flow
        for flow in Flow.objects.filter(
            status=FlowStatus.ACTIVE, link__status=LinkStatus.ACTIVE
        ).select_related("link")
        if flow.waiting_until is None or flow.waiting_until <= now  # a rate limit: nothing before then
    ]
    active = Q(flow__status=FlowStatus.ACTIVE, flow__link__status=LinkStatus.ACTIVE)
    retry_due = set(
        SyncRecord.objects.filter(active, state=RecordState.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .exclude(next_attempt_at__isnull=True, priority__lte=0, attempts=0)
        .values_list("flow_id", flat=True)
        .distinct()
    )
    stale = set(
        SyncRecord.objects.filter(active, state=RecordState.PUSHING, claimed_at__lte=now - _claim_timeout())
        .values_list("flow_id", flat=True)
        .distinct()
    )
    return [
        flow
        for flow in flows
        if flow.next_run_at is None
        or flow.next_run_at <= now
        or flow.pk in retry_due
        or flow.pk in stale
        or (flow.waiting_until is not None and flow.backlog)
    ]


@db_periodic_task(crontab(minute="*"))
def dispatch_due_flows() -> int:
    """Start each flow whose schedule is due, which has retries due, or whose rate limit freed up."""
    now = timezone.now()
    started = 0
    for flow in due_flows(now):
        updates = {"waiting_until": None} if flow.waiting_until is not None else {}
        if flow.next_run_at is None or flow.next_run_at <= now:
            updates["next_run_at"] = next_run(flow, now)
        Flow.objects.filter(pk=flow.pk).update(**updates)
        sync_flow(flow.pk)
        started += 1
    alerts.resend_unnotified()
    reconcile_overdue()
    return started


# kept under the first landing's name (web views, docs)
dispatch_due_links = dispatch_due_flows


@db_periodic_task(crontab(minute="*"))
def compact_ledger_totals() -> int:
    """Fold the ledger's totals deltas (``sync.ledger_totals``): the dashboard then adds up few."""
    from . import ledger_totals

    return ledger_totals.compact()


@db_periodic_task(crontab(hour="3", minute="17"))
def daily_sweep() -> None:
    """Guarantee 2: re-read what changed recently in full, catching whatever the cursor missed."""
    for flow_id in Flow.objects.filter(status=FlowStatus.ACTIVE, link__status=LinkStatus.ACTIVE).values_list(
        "pk", flat=True
    ):
        sync_flow(flow_id, RunKind.SWEEP)


@db_periodic_task(crontab(hour="4", minute="7"))
def purge_activity() -> int:
    """Guarantee 6: activity payloads live only as long as their organisation's retention period."""
    from .retention import purge

    return purge()


@db_periodic_task(crontab(hour="16,18", minute="41"))
def fetch_exchange_rates() -> int:
    """The ECB publishes its reference rates around 16:00 CET on working days: fetch them (twice,
    in case the first attempt was early or failed); an order in another currency uses its day's."""
    from koppeling.connectors.errors import ConnectorError

    from .lookups import refresh_exchange_rates

    try:
        return refresh_exchange_rates("90d")
    except ConnectorError as exc:
        log.warning("ECB rates not fetched: %s", exc.code)
        return 0


# -- webhooks -----------------------------------------------------------------------------------------


@db_periodic_task(crontab(minute="*"))
def webhook_upkeep() -> dict:
    """Flows with webhooks: the reconciliation scan (an incremental run every 15 minutes, whatever
    the schedule) and the watchdog (subscriptions checked, registered again, alerted); each keeps
    its own interval (``WEBHOOK_SCAN_MINUTES``, ``WEBHOOK_WATCHDOG_MINUTES``)."""
    from . import webhooks

    scanned = webhooks.scan_due()
    checked = webhooks.watch_due()
    return {"scanned": len(scanned), "checked": checked}


@db_periodic_task(crontab(hour="4", minute="37"))
def purge_webhook_events() -> int:
    """Received deliveries are kept as long as the activity log (the dedupe window)."""
    from . import webhooks

    return webhooks.purge_events()


# -- reconciliation ------------------------------------------------------------------------------------


def enqueue_reconcile(flow_id: int, record_ids: list[int]) -> None:
    """Read back what a run pushed, once the run's writes are committed."""
    enqueue_on_commit(reconcile_task, flow_id, record_ids)


@db_task(priority=0)
def reconcile_task(flow_id: int, record_ids: list[int]) -> dict:
    from .reconcile import reconcile_records
    from .runner import FlowRunner

    flow = Flow.objects.select_related("link", "source", "target").get(pk=flow_id)
    with FlowRunner(flow) as runner:
        run = runner.prepare_run()
        return reconcile_records(run, record_ids)


def reconcile_overdue() -> int:
    """Pushed documents whose read-back never happened (the task failed or was lost)."""
    cutoff = timezone.now() - RECONCILE_AFTER
    pending = (
        SyncRecord.objects.filter(state=RecordState.PUSHED, reconcile_status="", pushed_at__lte=cutoff)
        .exclude(target_id="")
        .exclude(object_type="batch")
        .values_list("flow_id", "pk")[:500]
    )
    by_flow: dict[int, list[int]] = {}
    for flow_id, pk in pending:
        by_flow.setdefault(flow_id, []).append(pk)
    for flow_id, ids in by_flow.items():
        reconcile_task(flow_id, ids)
    return sum(len(ids) for ids in by_flow.values())


# -- worker start ---------------------------------------------------------------------------------------


@HUEY.on_startup()
def recover_on_startup() -> None:
    """A starting worker resolves what a dead one left in flight, at once (not an hour later)."""
    try:
        recover_everywhere()
    except Exception:  # the worker must start even if one flow's target is unreachable
        log.exception("recovery at worker start failed")


def recover_everywhere() -> int:
    from .recovery import recover_flow
    from .runner import FlowRunner

    recovered = 0
    flow_ids = set(
        SyncRecord.objects.filter(state=RecordState.PUSHING).values_list("flow_id", flat=True).distinct()
    ) | set(Run.objects.filter(status="running").values_list("flow_id", flat=True).distinct())
    for flow in Flow.objects.filter(pk__in=flow_ids).select_related("link", "source", "target"):
        try:
            with FlowRunner(flow) as runner:
                recovered += recover_flow(runner.prepare_run())
        except Exception:
            log.exception("recovery of flow %s failed", flow.pk)
    return recovered


def _claim_timeout() -> dt.timedelta:
    return dt.timedelta(seconds=settings.KOPPELING["CLAIM_TIMEOUT_SECONDS"])


__all__ = [
    "HUEY",
    "daily_sweep",
    "dispatch_due_flows",
    "dispatch_due_links",
    "enqueue_on_commit",
    "enqueue_reconcile",
    "purge_activity",
    "purge_webhook_events",
    "push_record_now",
    "reconcile_task",
    "recover_everywhere",
    "sync_flow",
    "sync_link",
    "webhook_upkeep",
]
