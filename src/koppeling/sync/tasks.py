"""Huey tasks and schedules. Work is enqueued only after the transaction that asked for it commits."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from . import alerts
from .models import (
    ActivityEvent,
    AttemptOutcome,
    Link,
    LinkStatus,
    RecordState,
    Run,
    RunKind,
    SyncAttempt,
    SyncRecord,
)

log = logging.getLogger(__name__)


def enqueue_on_commit(task, *args, priority: int = 0, **kwargs) -> None:
    """The one way to start background work: never for a transaction that rolls back."""
    transaction.on_commit(lambda: task(*args, priority=priority or None, **kwargs))


def run_link(link_id: int, kind: str = RunKind.SCHEDULED, order_number: str | None = None) -> dict:
    from .engine import Engine

    link = Link.objects.select_related("source", "target").get(pk=link_id)
    with Engine(link) as engine:
        report = engine.run(kind=kind, order_number=order_number)
    return {"pushed": report.pushed, "failed": report.failed, "status": report.status}


# No task lock per link: a Huey lock has no expiry on every storage, so a killed worker would stop
# the link for good. Two runs of one link at once are safe: the ledger's claims decide who pushes.


@db_task(priority=0)
def sync_link(link_id: int, kind: str = RunKind.SCHEDULED) -> dict:
    return run_link(link_id, kind)


@db_task(priority=10)
def push_order_now(link_id: int, order_number: str) -> dict:
    """The seed's "Verwerk": one order, now, ahead of the queue."""
    return run_link(link_id, RunKind.ORDER, order_number)


@db_periodic_task(crontab(minute="*"))
def dispatch_due_links() -> int:
    """Start each active link whose schedule is due, or which has retries due."""
    now = timezone.now()
    started = 0
    for link in Link.objects.filter(status=LinkStatus.ACTIVE):
        due = link.next_run_at is None or link.next_run_at <= now
        retry_due = (
            SyncRecord.objects.filter(link=link, state=RecordState.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .exists()
        )
        if due or retry_due:
            Link.objects.filter(pk=link.pk).update(
                next_run_at=now + dt.timedelta(minutes=link.schedule_minutes)
            )
            sync_link(link.pk)
            started += 1
    alerts.resend_unnotified()
    return started


@db_periodic_task(crontab(hour="3", minute="17"))
def daily_sweep() -> None:
    """Guarantee 2: re-read recent orders in full, catching whatever the incremental fetch missed."""
    for link_id in Link.objects.filter(status=LinkStatus.ACTIVE).values_list("pk", flat=True):
        sync_link(link_id, RunKind.SWEEP)


@db_periodic_task(crontab(hour="4", minute="7"))
def purge_activity() -> int:
    """Guarantee 6: activity payloads live only as long as the retention period."""
    days = settings.KOPPELING["ACTIVITY_RETENTION_DAYS"]
    before = timezone.now() - dt.timedelta(days=days)
    deleted, _ = ActivityEvent.objects.filter(created_at__lt=before).delete()
    # attempt details can hold the other side's error texts (customer data): same retention
    SyncAttempt.objects.filter(started_at__lt=before).exclude(outcome=AttemptOutcome.SENDING).delete()
    Run.objects.filter(started_at__lt=before).delete()
    return deleted


__all__ = [
    "HUEY",
    "daily_sweep",
    "dispatch_due_links",
    "enqueue_on_commit",
    "purge_activity",
    "push_order_now",
    "sync_link",
]
