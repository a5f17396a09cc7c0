"""A dry run: what the next run would push, exactly as it would be booked — with no write anywhere.

No ledger row, no cursor, no push, no rate-limit slot. It reads from the cursor (or ``since``, or
one record) and runs the same selection and core rule as a real run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from koppeling.connectors.base import Fetched
from koppeling.core.errors import RuleError

from .cursors import FlowCursor
from .models import Cursor, RecordState, SyncRecord
from .runstate import FlowRun, RunReport

__all__ = ["dry_run"]


def dry_run(run: FlowRun, *, since: dt.datetime | None = None, order_number: str | None = None) -> RunReport:
    kind, report = run.kind, run.report
    if order_number:
        fetched: Iterable[Fetched[Any]] = [kind.fetch_one(run.source, order_number)]
    else:
        start = since
        if start is None and Cursor.objects.filter(flow=run.flow).exists():
            cursor = FlowCursor(
                run.flow,
                ordered=kind.cursor_ordered(run.source),
                overlap=dt.timedelta(minutes=run.context.settings.overlap_minutes),
            )
            start = cursor.start(None)
        if start is None:
            from_date = getattr(run.context.settings, "from_date", None)
            start = dt.datetime.combine(from_date, dt.time(), tzinfo=dt.UTC) if from_date else None
        fetched = kind.fetch_changed(run.source, start, run.now())
    done = set(
        SyncRecord.objects.filter(
            flow=run.flow, state__in=[RecordState.PUSHED, RecordState.PUSHING, RecordState.NEEDS_REVIEW]
        ).values_list("source_id", flat=True)
    )
    for record in fetched:
        report.fetched += 1
        number = record.number or record.source_id
        if record.item is None:
            error = record.error
            if error is not None:
                report.would_fail.append((number, error.outcome))
            continue
        if record.source_id in done:
            continue
        if kind.skip_reason(record.item, run.context):
            report.skipped += 1
            continue
        try:
            prepared = kind.prepare(record.item, run.context)
        except RuleError as exc:
            report.would_fail.append((number, exc.outcome))
            continue
        report.would_push.append((number, prepared))
    report.api_calls = 0
    return report
