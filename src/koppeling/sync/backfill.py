"""Backfills: past orders a person asks for (a migration), previewed, started, paused, resumed.

A backfill is a date range (optionally narrowed to a number range) of one order flow. Its preview
reads the range without writing anything and says how many orders would be booked, their totals,
how many per day and when the last should be done at the target's rate limit. Started, it is a
row the runner reads on its next run (again on every run until the range was read completely);
the rows it brings in wait in the ledger at a lower priority than the daily orders, so a running
migration never starves them, and at the same shared rate limits as everything else. It is not
capped in size. Pausing holds its waiting rows back; resuming lets them go; cancelling ignores
the rest (each can be brought back one by one).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count

from koppeling.connectors.base import Capability

from . import ledger
from .fetching import Ingest, in_number_range
from .ledger import Event
from .models import (
    IN_PAUSED_BACKFILL,
    ActivityEvent,
    ActivityLevel,
    Backfill,
    BackfillStatus,
    Flow,
    ReasonCode,
    RecordState,
    SyncRecord,
)
from .outcomes import SyncCode

if TYPE_CHECKING:
    from .runner import FlowRunner
    from .runstate import FlowRun

__all__ = [
    "BackfillError",
    "BackfillPreview",
    "BackfillProgress",
    "cancel",
    "close_finished",
    "pause",
    "preview",
    "progress",
    "read_open",
    "resume",
    "start",
]

#: the kinds of flow a backfill applies to (documents made from orders)
ORDER_KINDS = ("orders_to_invoices", "credit_orders_to_notes", "orders_to_batch")


class BackfillError(ValueError):
    """A backfill that cannot be asked for (a bad range, a flow that reads no orders)."""

    def __init__(self, code: str, params: dict[str, object] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.params = params or {}


@dataclass
class BackfillPreview:
    """What a backfill of a range would do, read from the source without writing anything."""

    start: dt.date
    end: dt.date
    from_number: int | None = None
    to_number: int | None = None
    #: orders it would book
    eligible: int = 0
    #: orders of the range the ledger already has booked, waiting, or failed (not touched)
    already_known: Counter[str] = field(default_factory=Counter)
    #: orders the conditions leave out (status, payment method, …), by reason code
    skipped: Counter[str] = field(default_factory=Counter)
    unreadable: int = 0
    #: incl. VAT per currency, as the customers paid
    totals: dict[str, Decimal] = field(default_factory=dict)
    #: excl. VAT per currency, where every order of it states its VAT (else the currency is absent)
    totals_ex: dict[str, Decimal] = field(default_factory=dict)
    per_day: dict[dt.date, int] = field(default_factory=dict)
    #: daily orders waiting that go first
    ahead: int = 0
    eta: dt.datetime | None = None

    def totals_as_text(self, *, excl: bool = False) -> dict[str, str]:
        totals = self.totals_ex if excl else self.totals
        return {currency: f"{amount:.2f}" for currency, amount in sorted(totals.items())}


@dataclass
class BackfillProgress:
    backfill: Backfill
    by_state: dict[str, int]
    #: rows of it still to go (waiting or being pushed)
    remaining: int
    eta: dt.datetime | None = None

    @property
    def booked(self) -> int:
        return self.by_state.get(RecordState.PUSHED, 0)

    @property
    def total(self) -> int:
        return sum(self.by_state.values())


# -- asking for one ---------------------------------------------------------------------------------


def _check(flow: Flow, start: dt.date, end: dt.date, numbers: tuple[int | None, int | None]) -> None:
    if flow.kind not in ORDER_KINDS:
        raise BackfillError(SyncCode.BACKFILL_NOT_ORDERS, {"kind": flow.kind})
    if end < start:
        raise BackfillError(
            SyncCode.BACKFILL_RANGE_REVERSED, {"start": start.isoformat(), "end": end.isoformat()}
        )
    low, high = numbers
    if low is not None and high is not None and high < low:
        raise BackfillError(SyncCode.BACKFILL_NUMBERS_REVERSED, {"start": low, "end": high})


def preview(
    runner: FlowRunner,
    start: dt.date,
    end: dt.date,
    numbers: tuple[int | None, int | None] = (None, None),
) -> BackfillPreview:
    """Read the range and count; the ledger is only read. ``runner`` gives the connectors."""
    flow = runner.flow
    _check(flow, start, end, numbers)
    run = runner.prepare_run()
    probe = Backfill(flow=flow, start_date=start, end_date=end, from_number=numbers[0], to_number=numbers[1])
    result = BackfillPreview(start=start, end=end, from_number=numbers[0], to_number=numbers[1])
    context = run.context_for(None, backfill=True)
    known = dict(
        SyncRecord.objects.filter(flow=flow, object_type=run.kind.object_type)
        .exclude(state=RecordState.SKIPPED)
        .values_list("source_id", "state")
    )
    per_day: Counter[dt.date] = Counter()
    unstated: set[str] = set()
    for fetched in runner.source.fetch_created(start, end):  # type: ignore[attr-defined]
        if not in_number_range(fetched, probe):
            continue
        if fetched.source_id in known:
            result.already_known[known[fetched.source_id]] += 1
        elif fetched.item is None:
            result.unreadable += 1
        elif reason := run.kind.skip_reason(fetched.item, context):
            result.skipped[reason] += 1
        else:
            order = fetched.item
            result.eligible += 1
            result.totals[order.currency] = result.totals.get(order.currency, Decimal(0)) + order.total_inc
            if order.total_vat is None:
                unstated.add(order.currency)
            else:
                ex = order.total_inc - order.total_vat
                result.totals_ex[order.currency] = result.totals_ex.get(order.currency, Decimal(0)) + ex
            per_day[order.date] += 1
    result.per_day = dict(sorted(per_day.items()))
    for currency in unstated:
        result.totals_ex.pop(currency, None)
    result.ahead = _waiting(flow, run.kind.object_type).filter(priority__gt=ledger.BACKFILL_PRIORITY).count()
    result.eta = runner.eta(result.ahead + result.eligible)
    return result


def start(
    flow: Flow,
    start: dt.date,
    end: dt.date,
    numbers: tuple[int | None, int | None] = (None, None),
    *,
    requested_by: str = "",
    expected: BackfillPreview | None = None,
) -> Backfill:
    """Ask for the range; the flow's next run reads it (run the flow, or let the schedule)."""
    _check(flow, start, end, numbers)
    with transaction.atomic():
        backfill = Backfill.objects.create(
            flow=flow,
            start_date=start,
            end_date=end,
            from_number=numbers[0],
            to_number=numbers[1],
            requested_by=requested_by[:150],
            expected=expected.eligible if expected else 0,
            expected_totals=expected.totals_as_text() if expected else {},
        )
        _activity(backfill, SyncCode.BACKFILL_STARTED)
    return backfill


def pause(backfill: Backfill) -> bool:
    """Hold its waiting rows back (a row being pushed right now finishes)."""
    return _move(backfill, BackfillStatus.RUNNING, BackfillStatus.PAUSED, SyncCode.BACKFILL_PAUSED)


def resume(backfill: Backfill) -> bool:
    return _move(backfill, BackfillStatus.PAUSED, BackfillStatus.RUNNING, SyncCode.BACKFILL_RESUMED)


def cancel(backfill: Backfill, *, now: dt.datetime | None = None) -> int:
    """Stop it for good: its waiting rows are ignored (a person can un-ignore any of them).
    Returns how many were ignored."""
    with transaction.atomic():
        moved = Backfill.objects.filter(
            pk=backfill.pk, status__in=(BackfillStatus.RUNNING, BackfillStatus.PAUSED)
        ).update(status=BackfillStatus.CANCELLED, finished_at=now or _now())
        if not moved:
            return 0
        waiting = list(SyncRecord.objects.filter(backfill=backfill, state=RecordState.PENDING))
        ignored = ledger.apply_many(
            waiting, Event.PERSON_IGNORE, now=now, reason_code=ReasonCode.IGNORED_BY_PERSON
        )
        backfill.status = BackfillStatus.CANCELLED
        _activity(backfill, SyncCode.BACKFILL_CANCELLED, {"ignored": len(ignored)})
    return len(ignored)


def progress(backfill: Backfill, runner: FlowRunner | None = None) -> BackfillProgress:
    """Its rows by state, and (given the connectors) when the last should be booked."""
    rows = SyncRecord.objects.filter(backfill=backfill).values("state").annotate(n=Count("id"))
    by_state = {row["state"]: row["n"] for row in rows}
    remaining = by_state.get(RecordState.PENDING, 0) + by_state.get(RecordState.PUSHING, 0)
    result = BackfillProgress(backfill=backfill, by_state=by_state, remaining=remaining)
    if runner is not None and remaining and backfill.status == BackfillStatus.RUNNING:
        flow = backfill.flow
        ahead = _waiting(flow, runner.kind.object_type).filter(priority__gt=ledger.BACKFILL_PRIORITY).count()
        result.eta = runner.eta(ahead + remaining)
    return result


# -- the runner's part ---------------------------------------------------------------------------------


def read_open(run: FlowRun, ingest: Ingest) -> None:
    """Read every running backfill of the flow whose range was not read completely yet."""
    if run.kind.reads != Capability.READS_ORDERS:
        return
    for backfill in Backfill.objects.filter(
        flow=run.flow, status=BackfillStatus.RUNNING, fetched_at__isnull=True
    ).order_by("id"):
        ingest.backfill_range(backfill)
        Backfill.objects.filter(pk=backfill.pk).update(fetched_at=run.now())


def close_finished(flow: Flow, now: dt.datetime) -> None:
    """Backfills read completely with nothing left to go are done."""
    for backfill in Backfill.objects.filter(
        flow=flow, status=BackfillStatus.RUNNING, fetched_at__isnull=False
    ):
        busy = SyncRecord.objects.filter(
            backfill=backfill, state__in=(RecordState.PENDING, RecordState.PUSHING)
        ).exists()
        if busy:
            continue
        with transaction.atomic():
            if Backfill.objects.filter(pk=backfill.pk, status=BackfillStatus.RUNNING).update(
                status=BackfillStatus.DONE, finished_at=now
            ):
                done = progress(backfill)
                params = {"booked": done.booked, "total": done.total}
                _activity(backfill, SyncCode.BACKFILL_DONE, params, now=now)


# -- helpers ---------------------------------------------------------------------------------------------


def _waiting(flow: Flow, object_type: str):
    return SyncRecord.objects.filter(flow=flow, object_type=object_type, state=RecordState.PENDING).exclude(
        IN_PAUSED_BACKFILL
    )


def _move(backfill: Backfill, before: str, after: str, code: str) -> bool:
    with transaction.atomic():
        if not Backfill.objects.filter(pk=backfill.pk, status=before).update(status=after):
            return False
        backfill.status = after
        _activity(backfill, code)
    return True


def _activity(
    backfill: Backfill, code: str, extra: dict[str, object] | None = None, *, now: dt.datetime | None = None
) -> None:
    flow = backfill.flow
    params: dict[str, object] = {
        "backfill": backfill.pk,
        "start": backfill.start_date.isoformat(),
        "end": backfill.end_date.isoformat(),
        **(extra or {}),
    }
    ActivityEvent.objects.create(
        organisation_id=flow.link.organisation_id,
        link_id=flow.link_id,
        flow=flow,
        level=ActivityLevel.INFO,
        code=str(code),
        params=params,
        created_at=now or _now(),
    )


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()
