"""Recovery: rows a dead worker left in flight, and runs it left "running".

A row in ``pushing`` is abandoned when its claim expired (``CLAIM_TIMEOUT_SECONDS``; renewed while
sending) or its worker is known dead (``sync.workers``). No attempt was committed → it was never
sent → back to pending. An attempt in ``sending`` → it may have been sent → looked up in the target
where it can be found, otherwise **needs review** (a person chooses *Mark as booked* or *Push
again*). Members of a batch follow their batch row.
"""

from __future__ import annotations

import logging

from django.db.models import Q

from .batches import BATCH_OBJECT, BatchPusher
from .ledger import Event
from .models import AttemptOutcome, RecordState, Run, RunStatus, SyncAttempt, SyncRecord
from .outcomes import SyncCode
from .pushing import Pusher, claim_timeout
from .runstate import FlowRun
from .workers import is_dead

__all__ = ["close_orphan_runs", "recover_flow", "stale_rows"]

log = logging.getLogger(__name__)


def close_orphan_runs(run: FlowRun) -> int:
    """Runs left ``running`` by a worker that is gone (expired, or known dead) are closed."""
    now = run.now()
    own = getattr(run.run_row, "pk", None)
    candidates = Run.objects.filter(flow=run.flow, status=RunStatus.RUNNING).exclude(pk=own)
    stale = [
        r.pk for r in candidates if r.started_at <= now - claim_timeout() or (r.worker and is_dead(r.worker))
    ]
    if not stale:
        return 0
    return Run.objects.filter(pk__in=stale, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED, finished_at=now, error_code=SyncCode.RUN_INTERRUPTED, error_params={}
    )


def stale_rows(run: FlowRun) -> list[SyncRecord]:
    """Rows of this flow in flight whose claim is abandoned (batch members follow their batch)."""
    now = run.now()
    in_flight = SyncRecord.objects.filter(flow=run.flow, state=RecordState.PUSHING).filter(
        Q(batch__isnull=True) | Q(object_type=BATCH_OBJECT)
    )
    return [
        r
        for r in in_flight
        if (r.claimed_at is not None and r.claimed_at <= now - claim_timeout())
        or (r.claimed_by and is_dead(r.claimed_by))
    ]


def recover_flow(run: FlowRun) -> int:
    """Resolve the abandoned rows of ``run``'s flow; returns how many."""
    close_orphan_runs(run)
    rows = stale_rows(run)
    if not rows:
        return 0
    pusher = BatchPusher(run) if run.kind.batch else Pusher(run)
    for row in rows:
        token = row.claim_token
        assert token is not None
        sent = SyncAttempt.objects.filter(
            record=row, claim_token=token, outcome=AttemptOutcome.SENDING
        ).exists()
        members = (
            list(SyncRecord.objects.filter(batch=row, claim_token=token))
            if row.object_type == BATCH_OBJECT
            else []
        )
        if not sent:  # claimed but never sent: safe to send
            assert isinstance(pusher, Pusher)
            if members:
                pusher._follow(row, members, token, Event.RECOVER_UNSENT)  # type: ignore[attr-defined]
            else:
                from . import ledger

                ledger.apply(row, Event.RECOVER_UNSENT, token=token, now=run.now())
        elif row.object_type == BATCH_OBJECT and isinstance(pusher, BatchPusher):
            pusher.recover_batch(row, token, members=members)
        else:
            pusher.resolve_uncertain(token, row, None, None, recovering=True)
        run.report.recovered += 1
    return len(rows)
