"""Batch flows: many records delivered as one document per period (e.g. a daily import file).

During the day eligible orders collect in the ledger as pending *members*. Once a day (from the
flow's ``deliver_at``, or at once when asked) they go out together: a **batch row** (object type
``batch``, its source id the batch's reference) is created, the batch row and its members are
claimed with one token, the members are prepared by the same core rule as single invoices, an
attempt is committed, the document is delivered, and the answer is written for the batch and
every member in one transaction. Members stay assigned to their batch (``SyncRecord.batch``): a
batch that must be delivered again carries exactly the same members, under the same reference —
and a batch target must not duplicate a reference it already has (conformance-tested).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
import zoneinfo

from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Q

from koppeling.connectors.base import BatchDocument, PushResult
from koppeling.connectors.errors import (
    AuthError,
    ConnectorError,
    DataError,
    QuotaError,
    RateLimited,
    TransientError,
)

from . import ledger
from .batch_imports import watch_imports
from .flowkinds import Prepared
from .ledger import Event
from .models import (
    IN_PAUSED_BACKFILL,
    ActivityEvent,
    ActivityLevel,
    AttemptOutcome,
    ReasonCode,
    RecordState,
    SyncAttempt,
    SyncRecord,
)
from .outcomes import SyncCode
from .privacy import forget_contents, is_minimal
from .pushing import DEFAULT_HOLD_SECONDS, Pusher, Stop, _ms_since
from .runstate import FlowRun, SimulatedCrash
from .uncertain import InFlight
from .workers import worker_id

__all__ = ["BATCH_OBJECT", "BatchPusher"]

log = logging.getLogger(__name__)

BATCH_OBJECT = "batch"


class BatchPusher(Pusher):
    """Delivers a batch flow's members as batch documents."""

    def __init__(self, run: FlowRun) -> None:
        super().__init__(run)
        self.tz = zoneinfo.ZoneInfo(django_settings.TIME_ZONE)

    def batches(self) -> list[SyncRecord]:
        return list(SyncRecord.objects.filter(flow=self.run.flow, object_type=BATCH_OBJECT))

    # -- when ------------------------------------------------------------------------------------

    def due(self, *, force: bool = False) -> bool:
        """A new batch is due once a day from ``deliver_at`` (local time), or whenever forced."""
        if force:
            return True
        local = self.run.now().astimezone(self.tz)
        if local.time() < self.run.context.settings.deliver_at:
            return False
        today = local.date().isoformat()
        return not any(
            row.source_id.split("/")[1].startswith(today) for row in self.batches() if "/" in row.source_id
        )

    def push_due(self, only: list[str] | None = None, *, force: bool = False) -> Stop | None:
        watch_imports(self.run)  # what became of the batches delivered before
        now = self.run.now()
        for row in SyncRecord.objects.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
            flow=self.run.flow,
            object_type=BATCH_OBJECT,
            state=RecordState.PENDING,
        ).order_by("id"):
            if self._deliver(row) is not None:
                return self.stop
        if not self.due(force=force):
            return None
        members = list(
            SyncRecord.objects.filter(
                flow=self.run.flow,
                object_type=self.kind.object_type,
                state=RecordState.PENDING,
            )
            # not in a batch yet, or left behind by one already delivered (failed, then Verwerk)
            .filter(Q(batch__isnull=True) | Q(batch__state=RecordState.PUSHED))
            .exclude(IN_PAUSED_BACKFILL)
            .order_by("id")
        )
        for day, group in _by_batch_day(members):
            row = self._new_batch_row(day)
            SyncRecord.objects.filter(pk__in=[m.pk for m in group], state=RecordState.PENDING).update(
                batch=row
            )
            if self._deliver(row) is not None:
                break
        return self.stop

    def _new_batch_row(self, day: dt.date | None = None) -> SyncRecord:
        """Today's next batch, or (a migration's) the next batch dated ``day``."""
        local_day = (day or self.run.now().astimezone(self.tz).date()).isoformat()
        taken = {row.source_id for row in self.batches()}
        sequence = 1
        while (reference := f"{self.run.flow.pk}/{local_day}-{sequence}") in taken:
            sequence += 1
        row = SyncRecord(
            link_id=self.run.flow.link_id,
            flow=self.run.flow,
            object_type=BATCH_OBJECT,
            source_id=reference,
            source_number=reference,
            reference=reference,
            fingerprint=reference,
        )
        ledger.create_many([row], [Event.SEEN_ELIGIBLE])
        return SyncRecord.objects.get(flow=self.run.flow, object_type=BATCH_OBJECT, source_id=reference)

    # -- delivering one batch -----------------------------------------------------------------------

    def _claim_batch(self, row: SyncRecord) -> tuple[uuid.UUID, list[SyncRecord]] | None:
        token = uuid.uuid4()
        now = self.run.now()
        self.run.checkpoint("before_claim")
        with transaction.atomic():
            if not ledger.apply(
                row, Event.CLAIM, now=now, claim_token=token, claimed_at=now, claimed_by=worker_id()
            ):
                return None
            members = list(SyncRecord.objects.filter(batch=row, state=RecordState.PENDING))
            ledger.apply_many(
                members, Event.CLAIM, now=now, claim_token=token, claimed_at=now, claimed_by=worker_id()
            )
        self.run.checkpoint("after_claim")
        return token, [m for m in members if m.state == RecordState.PUSHING]

    def _deliver(self, row: SyncRecord) -> Stop | None:
        claimed = self._claim_batch(row)
        if claimed is None:
            return None
        token, members = claimed
        kept = self._prepare_members(token, members)
        left = SyncRecord.objects.filter(batch=row, state=RecordState.PENDING)
        if self.stop is not None and left.exists():  # the source's limit while reading members:
            # what was read goes now; the rest forms the next batch of the day, delivered by the
            # next runs (each batch once, by its own reference)
            left.update(batch=self._new_batch_row(_day_of(row)))
        if not kept:
            ledger.apply(row, Event.RELEASE, token=token, now=self.run.now())
            return self.stop
        invoices = [prepared.document for _, prepared in kept]
        slot = self.run.write_slot()
        if not slot.granted:
            self.stop = Stop("rate_limited", slot.retry_at)
            self._follow(row, [m for m, _ in kept], token, Event.DEFER, next_attempt_at=slot.retry_at)
            return self.stop
        dates = [invoice.issue_date for invoice in invoices]
        document = BatchDocument(row.reference, min(dates), max(dates), tuple(invoices))
        sent = {"count": len(invoices), "total_inc": format(document.total_inc, "f")}
        flight = InFlight(row, self._attempt_row(row, token), Prepared(document, sent=sent), 0.0)
        try:
            result = self.kind.push(self.target, flight.prepared, self.run.context, row)
            self.run.checkpoint("after_target_accepted")
        except SimulatedCrash:
            raise
        except Exception as exc:
            self._batch_failed(row, kept, token, flight, exc)
            return self.stop
        self._delivered(row, kept, token, flight, result)
        return self.stop

    def _prepare_members(
        self, token: uuid.UUID, members: list[SyncRecord]
    ) -> list[tuple[SyncRecord, Prepared]]:
        """Each member's document, checked by the target one by one: a member that cannot go into
        the batch fails alone, with the target's reason; the others go."""
        kept: list[tuple[SyncRecord, Prepared]] = []
        for member in members:
            if self.stop is not None:  # stopped (a limit): the rest is not even read
                ledger.apply(member, Event.RELEASE, token=token, now=self.run.now())
                continue
            prepared = self.prepare(token, member)
            if prepared is None:
                continue
            try:
                self.target.check_batch_member(prepared.document, self.run.context.target_settings)
            except DataError as exc:
                self._reject(token, member, ReasonCode.TARGET_REJECTED, exc.outcome, exc=exc)
                continue
            kept.append((member, prepared))
        return kept

    def _attempt_row(self, row: SyncRecord, token: uuid.UUID) -> SyncAttempt:
        with transaction.atomic():
            SyncRecord.objects.filter(claim_token=token, state=RecordState.PUSHING).update(
                claimed_at=self.run.now()
            )
            attempt = SyncAttempt.objects.create(record=row, claim_token=token, started_at=self.run.now())
        self.run.checkpoint("after_attempt_logged")
        return attempt

    def _delivered(
        self,
        row: SyncRecord,
        kept: list[tuple[SyncRecord, Prepared]],
        token: uuid.UUID,
        flight: InFlight,
        result: PushResult,
    ) -> None:
        run, now = self.run, self.run.now()
        run.checkpoint("before_ledger_update")
        ids = {"target_id": result.target_id[:100], "target_number": result.number[:100], "pushed_at": now}
        with transaction.atomic():
            won = ledger.apply(row, Event.SUCCEED, token=token, now=now, sent=flight.prepared.sent, **ids)
            per_member = {
                m.pk: {"sent": p.sent, "warnings": [run.outcome(w) for w in p.warnings]} for m, p in kept
            }
            members_won = ledger.apply_many(
                [m for m, _ in kept], Event.SUCCEED, token=token, now=now, per_record=per_member, **ids
            )
            flight.attempt.outcome, flight.attempt.duration_ms = (
                AttemptOutcome.SUCCESS,
                _ms_since(flight.started),
            )
            flight.attempt.save(update_fields=["outcome", "duration_ms"])
            run.checkpoint("inside_ledger_update")
            params = {"reference": row.reference, "count": len(members_won), "system": self.target.label}
            ActivityEvent.objects.bulk_create([run.info(SyncCode.BATCH_DELIVERED, params, row)])
            if won and is_minimal(run.context.settings, self.target):  # nothing to read back from a file
                forget_contents([row.pk, *members_won])
        if won:
            run.report.pushed += len(members_won)
            run.report.pushed_ids.extend(members_won)

    def _batch_failed(
        self,
        row: SyncRecord,
        kept: list[tuple[SyncRecord, Prepared]],
        token: uuid.UUID,
        flight: InFlight,
        exc: BaseException,
    ) -> None:
        members = [m for m, _ in kept]
        run = self.run
        if isinstance(exc, RateLimited):
            until = run.now() + dt.timedelta(seconds=exc.retry_after or DEFAULT_HOLD_SECONDS)
            run.limiter.hold(self.target, until)
            self._attempt(flight, AttemptOutcome.RATE_LIMITED, exc)
            self._follow(row, members, token, Event.DEFER, next_attempt_at=until)
            self.stop = Stop("rate_limited", until)
        elif isinstance(exc, AuthError | QuotaError):
            self._attempt(flight, AttemptOutcome.AUTH, exc)
            self._follow(row, members, token, Event.RELEASE)
            self.stop = Stop("quota" if isinstance(exc, QuotaError) else "auth", error=exc)
        elif isinstance(exc, TransientError) and not exc.maybe_processed:
            self._attempt(flight, AttemptOutcome.TRANSIENT, exc)
            self._follow(row, members, token, Event.RELEASE)
            self.stop = Stop("unreachable", error=exc)
        elif isinstance(exc, ConnectorError) and not isinstance(exc, TransientError):
            self._attempt(flight, AttemptOutcome.REJECTED, exc)
            stored = run.outcome(exc.outcome)
            outcome = {
                "reason_code": ReasonCode.TARGET_REJECTED,
                "error_code": stored["code"],
                "params": stored["params"],
            }
            self._follow(row, members, token, Event.REJECT, **outcome)
            run.report.failed += len(members)
        else:  # it may have arrived: find it by its reference, never deliver blindly again
            self.recover_batch(row, token, members=members, flight=flight, exc=exc)

    def recover_batch(
        self,
        row: SyncRecord,
        token: uuid.UUID,
        *,
        members: list[SyncRecord] | None = None,
        flight: InFlight | None = None,
        exc: BaseException | None = None,
    ) -> None:
        """A batch that may have been delivered: found by reference → done, else a person decides."""
        members = (
            members if members is not None else list(SyncRecord.objects.filter(batch=row, claim_token=token))
        )
        try:
            found = self.kind.find(self.target, row)
        except ConnectorError as lookup_exc:
            log.warning("lookup of batch %s failed: %s", row.reference, lookup_exc.code)
            found = None
        if found is not None:
            kept = [(m, Prepared(None, sent=m.sent)) for m in members]
            flight = flight or InFlight(row, SyncAttempt(record=row, claim_token=token), Prepared(None), 0.0)
            self._delivered(row, kept, token, flight, found)
            return
        params = self.run.params(
            {
                "number": row.reference,
                "reference": row.reference,
                "system": self.target.label,
                "cause": "interrupted",
            }
        )
        outcome = {
            "reason_code": ReasonCode.INTERRUPTED,
            "error_code": SyncCode.NEEDS_REVIEW,
            "params": params,
        }
        event = Event.UNCERTAIN if flight is not None else Event.RECOVER_UNCERTAIN
        self._follow(row, members, token, event, **outcome)
        SyncAttempt.objects.filter(record=row, claim_token=token, outcome=AttemptOutcome.SENDING).update(
            outcome=AttemptOutcome.UNCERTAIN
        )
        self.run.report.needs_review += 1
        ActivityEvent.objects.bulk_create(
            [self.run.event(ActivityLevel.WARNING, SyncCode.NEEDS_REVIEW, params, row)]
        )

    def _follow(
        self, row: SyncRecord, members: list[SyncRecord], token: uuid.UUID, event: Event, **values
    ) -> None:
        """The batch row and its members take the same event together."""
        with transaction.atomic():
            ledger.apply(row, event, token=token, now=self.run.now(), **values)
            ledger.apply_many(members, event, token=token, now=self.run.now(), **values)
        if event == Event.DEFER:
            self.run.report.deferred += len(members)


def _by_batch_day(members: list[SyncRecord]) -> list[tuple[dt.date | None, list[SyncRecord]]]:
    """The day's orders in today's batch; a migration's past orders in batches dated by their
    order day (seed 002: "queued into dated batches"), oldest first, after today's."""
    today = [m for m in members if m.backfill_id is None or m.order_date is None]
    past: dict[dt.date, list[SyncRecord]] = {}
    for member in members:
        if member.backfill_id is not None and member.order_date is not None:
            past.setdefault(member.order_date, []).append(member)
    groups: list[tuple[dt.date | None, list[SyncRecord]]] = [(None, today)] if today else []
    return groups + sorted(past.items())


def _day_of(row: SyncRecord) -> dt.date | None:
    """The day a batch row is dated (its reference is ``<flow>/<YYYY-MM-DD>-<n>``)."""
    try:
        return dt.date.fromisoformat(row.reference.split("/", 1)[1].rsplit("-", 1)[0])
    except (IndexError, ValueError):
        return None
