"""Fetch and decide: what each record read from the source means for the ledger.

Records are read in batches; each batch is decided and written in one transaction — with the
cursor, so the cursor is never ahead of the rows it covers (``sync.cursors``). A record becomes or
updates a ledger row through a *seen* event of ``sync.ledger``: eligible, skipped (with its
reason code), unreadable (with the located error), or — for one pushed before — edited since.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from koppeling.connectors.base import Fetched
from koppeling.connectors.errors import ConnectorCode, DataError

from . import ledger
from .cursors import FlowCursor
from .ledger import Event
from .models import ActivityEvent, ActivityLevel, Backfill, ReasonCode, RecordState, SyncRecord
from .outcomes import SyncCode
from .runstate import FlowRun

__all__ = ["BATCH", "Ingest"]

log = logging.getLogger(__name__)

BATCH = 100


class Ingest:
    """Reads records of one flow into its ledger."""

    def __init__(self, run: FlowRun) -> None:
        self.run = run
        self.kind = run.kind
        self.flow = run.flow
        #: the backfill being read, whose range the rows it brings in belong to
        self.backfill: Backfill | None = None

    # -- what to read ------------------------------------------------------------------------

    def incremental(self, since: dt.datetime | None = None) -> None:
        """New and changed records since the cursor (or since ``since``: a backfill, which leaves
        the cursor alone)."""
        settings = self.run.context.settings
        cursor = FlowCursor(
            self.flow,
            ordered=self.kind.cursor_ordered(self.run.source),
            overlap=dt.timedelta(minutes=settings.overlap_minutes),
        )
        until = self.run.now()
        resume = None if since else cursor.resume_after
        if resume is not None:  # the last fetch was cut off: go on exactly after its last record
            fetched = self.kind.fetch_resumed(self.run.source, resume[0], resume[1], until)
        else:
            start = since or cursor.start(self._start_default())
            fetched = self.kind.fetch_changed(self.run.source, start, until)
        self.consume(fetched, cursor=None if since else cursor, until=until)

    def sweep(self) -> None:
        """The daily re-read of everything that changed in the sweep window."""
        days = self.run.context.settings.sweep_days
        start = self.run.now() - dt.timedelta(days=days)
        self.consume(self.kind.fetch_sweep(self.run.source, start))

    def backfill_range(self, backfill: Backfill) -> None:
        """The orders a backfill asked for: placed in its date range (and number range, if any).

        Rows it brings in (new, or skipped before as too old) become its rows: they wait at its
        priority and are not held to the flow's start date. Rows already pending, failed or booked
        stay as they are — a backfill never books anything twice.
        """
        fetched = self.run.source.fetch_created(backfill.start_date, backfill.end_date)  # type: ignore[attr-defined]
        self.backfill = backfill
        try:
            self.consume(f for f in fetched if in_number_range(f, backfill))
        finally:
            self.backfill = None

    def one(self, source_id: str) -> SyncRecord | None:
        """Read one record now (Verwerk); returns its ledger row."""
        fetched = self.kind.fetch_one(self.run.source, source_id)
        self.consume([fetched])
        return SyncRecord.objects.filter(
            flow=self.flow, object_type=self.kind.object_type, source_id=fetched.source_id
        ).first()

    def _start_default(self) -> dt.datetime | None:
        from_date = getattr(self.run.context.settings, "from_date", None)
        if from_date:
            return dt.datetime.combine(from_date, dt.time(), tzinfo=dt.UTC)
        return None

    # -- batches --------------------------------------------------------------------------------

    def consume(
        self,
        fetched: Iterable[Fetched[Any]],
        *,
        cursor: FlowCursor | None = None,
        until: dt.datetime | None = None,
    ) -> None:
        """Write ``fetched`` batch by batch; the cursor completes with the last batch only.

        A full batch waits until the next record shows it is not the last. A failure while
        reading writes everything read before it (without completing the cursor), then lets the
        failure surface.
        """
        full: list[Fetched[Any]] | None = None
        batch: list[Fetched[Any]] = []
        try:
            for record in fetched:
                if full is not None:
                    self._write(full, cursor, until, last=False)
                    full = None
                batch.append(record)
                if len(batch) == BATCH:
                    full, batch = batch, []
        except Exception:
            for read in (full, batch):
                if read:
                    self._write(read, cursor, until, last=False)
            raise
        self._write(full if full is not None else batch, cursor, until, last=True)

    def _write(
        self, batch: list[Fetched[Any]], cursor: FlowCursor | None, until: dt.datetime | None, *, last: bool
    ) -> None:
        run, now = self.run, self.run.now()
        run.report.fetched += len(batch)
        by_id: dict[str, Fetched[Any]] = {}
        for fetched in batch:  # a record seen twice in one batch: the later one wins
            by_id[fetched.source_id] = fetched
        existing = {
            r.source_id: r
            for r in SyncRecord.objects.filter(
                flow=self.flow, object_type=self.kind.object_type, source_id__in=list(by_id)
            )
        }
        creates: list[SyncRecord] = []
        create_events: list[Event] = []
        updates: list[tuple[SyncRecord, Event, dict[str, Any]]] = []
        activity: list[ActivityEvent] = []
        for source_id, fetched in by_id.items():
            if fetched.item is not None:
                run.items[source_id] = fetched.item
            record = existing.get(source_id)
            event, values = self._decide(record, fetched, activity)
            if event is None:
                continue
            if record is None:
                creates.append(
                    SyncRecord(
                        link_id=self.flow.link_id,
                        flow=self.flow,
                        object_type=self.kind.object_type,
                        source_id=source_id,
                        first_seen_at=now,
                        updated_at=now,
                        **values,
                    )
                )
                create_events.append(event)
            else:
                updates.append((record, event, values))
        latest = max((f.changed_at for f in batch if f.changed_at), default=None)
        # in an ordered fetch the batch's last record is the latest: resume after it if cut off
        latest_id = batch[-1].source_id if batch and batch[-1].changed_at == latest else None
        with transaction.atomic():
            if creates:
                ledger.create_many(creates, create_events)
                self._count_new(create_events)
            for record, event, values in updates:
                before = record.state
                if ledger.apply(record, event, now=now, **values):
                    self._count_change(before, record.state)
            if activity:
                ActivityEvent.objects.bulk_create(activity)
            if cursor is not None and until is not None:
                cursor.after_batch(latest, until, latest_id)
                if last:
                    cursor.after_complete(until)

    def _count_new(self, events: list[Event]) -> None:
        report = self.run.report
        report.skipped += sum(1 for e in events if e == Event.SEEN_SKIPPED)
        report.failed += sum(1 for e in events if e == Event.SEEN_BAD)

    def _count_change(self, before: str, after: str) -> None:
        if before != after and after == RecordState.SKIPPED:
            self.run.report.skipped += 1
        elif before != after and after == RecordState.FAILED:
            self.run.report.failed += 1

    # -- decide ---------------------------------------------------------------------------------

    def _decide(
        self, record: SyncRecord | None, fetched: Fetched[Any], activity: list[ActivityEvent]
    ) -> tuple[Event | None, dict[str, Any]]:
        """The seen-event for one record and the values it writes; (None, {}) when nothing changes."""
        takes = self.backfill is not None and (record is None or record.state == RecordState.SKIPPED)
        context = self.run.context_for(record, backfill=takes)
        values = {**self.kind.facts(fetched, context), "fingerprint": fetched.fingerprint}
        if takes:
            assert self.backfill is not None
            values.update(backfill_id=self.backfill.pk, priority=ledger.BACKFILL_PRIORITY)
        if fetched.item is None:
            error = fetched.error or DataError(ConnectorCode.FIELD_MISSING, {"path": "(record)"})
            values.update(
                reason_code=ReasonCode.SOURCE_DATA,
                error_code=str(error.code)[:80],
                params=self.run.params(error.params),
            )
            return self._if_changed(record, Event.SEEN_BAD, values)
        skip = self.kind.skip_reason(fetched.item, context)
        if record is None:
            if skip:
                values.update(reason_code=skip, error_code="", params={})
                return Event.SEEN_SKIPPED, values
            return Event.SEEN_ELIGIBLE, values
        if record.state == RecordState.PUSHED:
            return self._decide_pushed(record, fetched, values, activity)
        if skip:
            values.update(reason_code=skip, error_code="", params={})
            return self._if_changed(record, Event.SEEN_SKIPPED, values)
        changed = record.fingerprint != fetched.fingerprint or record.reason_code == ReasonCode.SOURCE_DATA
        return self._if_changed(record, Event.SEEN_CHANGED if changed else Event.SEEN_ELIGIBLE, values)

    def _decide_pushed(
        self, record: SyncRecord, fetched: Fetched[Any], values: dict[str, Any], activity: list[ActivityEvent]
    ) -> tuple[Event | None, dict[str, Any]]:
        edited = bool(record.booked_fingerprint) and fetched.fingerprint != record.booked_fingerprint
        if self.kind.upsert:
            wants_update = (
                getattr(self.run.context.settings, "update_existing", True) or self.kind.name == "stock"
            )
            if edited and wants_update and not self.kind.skip_reason(fetched.item, self.run.context):
                return Event.SEEN_EDITED_UPDATE, values
            return None, {}
        values.pop("fingerprint")  # the booked content stays what the row describes
        if edited and not record.changed_after_booking:
            activity.append(
                self.run.event(
                    ActivityLevel.WARNING,
                    SyncCode.CHANGED_AFTER_BOOKING,
                    {"number": record.source_number, "booked_as": record.target_number or record.target_id},
                    record,
                )
            )
            return Event.SEEN_EDITED, {**values, "changed_after_booking": True}
        if not edited and record.changed_after_booking:
            return Event.SEEN_EDIT_UNDONE, {**values, "changed_after_booking": False}
        return None, {}

    @staticmethod
    def _if_changed(
        record: SyncRecord | None, event: Event, values: dict[str, Any]
    ) -> tuple[Event | None, dict[str, Any]]:
        """Skip the write when the row would stay exactly as it is."""
        if record is None:
            return event, values
        action = ledger.action_for(record.state, event)
        if action is None:
            return None, {}
        if action.to == record.state and all(getattr(record, k) == v for k, v in values.items()):
            return None, {}
        return event, values


def in_number_range(fetched: Fetched[Any], backfill: Backfill) -> bool:
    """Whether a record read for ``backfill`` is one it asked for (numbers compared as numbers
    when both are; a shop's non-numeric numbers are inside any number range)."""
    if backfill.from_number is None and backfill.to_number is None:
        return True
    item = fetched.item
    number = str(getattr(item, "number", "") or fetched.number or "")
    if not number.isdigit():
        return True
    value = int(number)
    if backfill.from_number is not None and value < backfill.from_number:
        return False
    return backfill.to_number is None or value <= backfill.to_number
