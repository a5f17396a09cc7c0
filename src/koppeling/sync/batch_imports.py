"""After a batch is delivered: did the target import it? (Seed 002: a file that Asperion rejects, or
that is never imported, must surface clearly in the dashboard and by e-mail.)

A batch target that can tell (``WritesBatches.batch_import``; None from one that cannot) is asked
on each later run about its delivered batches not yet confirmed: imported cleanly → the row's
read-back is "ok"; imported with orders left out, or refused → "differs", with the first problem,
and an alert; still waiting for a person to import it after the grace period → an alert (the row is
asked again next run).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings as django_settings
from django.db import transaction

from koppeling.connectors.base import BatchImport, PushResult
from koppeling.connectors.errors import ConnectorError

from . import alerts
from .models import ActivityEvent, AlertKind, ReconcileStatus, RecordState, SyncRecord
from .outcomes import SyncCode
from .reconcile import store_result
from .runstate import FlowRun

log = logging.getLogger(__name__)

#: how far back delivered batches are still asked about
WATCH_DAYS = 14


def grace() -> dt.timedelta:
    """How long a delivered file may wait for its import before the owner is told (a day and a bit:
    the seed's owner imports each morning)."""
    return dt.timedelta(hours=float(django_settings.KOPPELING.get("BATCH_IMPORT_GRACE_HOURS", 26)))


def watch_imports(run: FlowRun) -> int:
    """Ask the target about this flow's delivered, unconfirmed batches; returns how many it told."""
    now = run.now()
    rows = SyncRecord.objects.filter(
        flow=run.flow,
        object_type="batch",
        state=RecordState.PUSHED,
        reconcile_status=ReconcileStatus.NONE,
        pushed_at__gte=now - dt.timedelta(days=WATCH_DAYS),
    ).order_by("pushed_at")
    told = 0
    for row in rows:
        try:
            found = run.target.batch_import(
                row.reference, PushResult(row.target_id, number=row.target_number)
            )
        except ConnectorError as exc:
            log.warning("import status of batch %s unknown: %s", row.reference, exc.code)
            continue
        if found is not None:
            told += 1
            _follow_up(run, row, found, now)
    return told


def _follow_up(run: FlowRun, row: SyncRecord, found: BatchImport, now: dt.datetime) -> None:
    system = run.target.label
    if found.status == "received":
        waited = now - (row.pushed_at or now)
        if waited > grace():
            hours = int(waited.total_seconds() // 3600)
            params = run.params({"reference": row.reference, "system": system, "hours": hours})
            alerts.open_alert(
                run.flow.link, AlertKind.RECONCILIATION, SyncCode.BATCH_NOT_IMPORTED, params, pause=False
            )
        return
    if found.status == "imported" and not found.problems:
        with transaction.atomic():
            store_result(row, ReconcileStatus.OK, [], at=now)
            params = {"reference": row.reference, "system": system, "count": found.imported}
            ActivityEvent.objects.bulk_create([run.info(SyncCode.BATCH_IMPORTED, params, row)])
        return
    first_number, first_detail = found.problems[0] if found.problems else ("", found.status)
    params = run.params(
        {
            "reference": row.reference,
            "system": system,
            "count": len(found.problems) or 1,
            "number": first_number or row.reference,
            "detail": first_detail,
        }
    )
    problem = {"code": SyncCode.BATCH_IMPORT_PROBLEMS, "params": params}
    store_result(row, ReconcileStatus.MISMATCH, [problem], at=now)
    alerts.open_alert(
        run.flow.link,
        AlertKind.RECONCILIATION,
        SyncCode.BATCH_IMPORT_PROBLEMS,
        params,
        pause=False,
        flow=run.flow,
    )
