"""The engine: fetch → decide → claim → push → record, for one link.

Exactly-once (design guarantee 1) rests on four things done in this order:
1. the ledger row ``(link, object_type, source_id)`` is unique;
2. a worker claims rows (pending → pushing, with its own claim token) in a committed
   transaction before it calls the target — a conditional UPDATE, so two workers never both win;
3. an attempt row is committed *before* the call, so after a crash we know whether the target
   may have been reached;
4. the target's answer is written in one local transaction right after it arrives.
A row found in ``pushing`` after its claim expired is resolved by ``recover``: never sent → back to
pending; maybe sent → looked up in the target where it can be searched, otherwise "needs review".
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

from django.conf import settings as django_settings
from django.db import connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from koppeling.connectors.base import Connector, FetchedOrder, PushResult, SourceConnector, TargetConnector
from koppeling.connectors.errors import (
    AuthError,
    ConnectorError,
    DataError,
    NotFound,
    QuotaError,
    TransientError,
)
from koppeling.connectors.http import CallCounter
from koppeling.core.errors import RuleError
from koppeling.core.invoicing import order_to_invoice
from koppeling.core.models import Invoice, Order

from . import alerts
from .link_settings import LinkSettings
from .models import (
    ActivityEvent,
    ActivityLevel,
    AlertKind,
    AttemptOutcome,
    Cursor,
    Link,
    LinkStatus,
    ReasonCode,
    RecordState,
    Run,
    RunKind,
    RunStatus,
    SyncAttempt,
    SyncRecord,
)
from .sql import (
    ATTEMPT_INSERT_SQL,
    ATTEMPT_SUCCESS_SQL,
    DT_FIELD,
    EVENT_INSERT_SQL,
    PUSHED_SQL,
    RENEW_SQL,
    UUID_FIELD,
)

log = logging.getLogger(__name__)

BATCH = 100
OBJECT_TYPE = "order"


#: this many failed runs in a row open an "unreachable" alert
UNREACHABLE_AFTER_RUNS = 3

#: below this per-call time the engine calls the target inline instead of from threads
FAST_CALL_SECONDS = 0.003


class _InlineExecutor:
    """Runs the call at once in this thread; returns a finished Future like a pool would."""

    def submit(self, fn: Callable[..., PushResult], *args: object) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except (Exception, SimulatedCrash) as exc:  # as a pool would; Ctrl-C still stops the process
            future.set_exception(exc)
        return future


_INLINE = _InlineExecutor()


class SimulatedCrash(BaseException):
    """Raised by a crash hook in tests: nothing in the engine catches a BaseException."""


#: names of the points where tests may crash the engine
CHECKPOINTS = (
    "before_claim",
    "after_claim",
    "after_attempt_logged",
    "after_target_accepted",
    "before_ledger_update",
    "inside_ledger_update",
)


@dataclass
class RunReport:
    run_id: int | None = None
    fetched: int = 0
    pushed: int = 0
    failed: int = 0
    skipped: int = 0
    needs_review: int = 0
    recovered: int = 0
    api_calls: int = 0
    paused: str = ""
    status: str = RunStatus.OK
    would_push: list[tuple[str, Invoice]] = field(default_factory=list)
    would_fail: list[tuple[str, str]] = field(default_factory=list)


def backoff_seconds(attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter, 30 s … 1 h; a server's Retry-After wins if longer."""
    base = min(30 * 2 ** max(attempt - 1, 0), 3600)
    delay = base / 2 + random.uniform(0, base / 2)
    return max(delay, retry_after or 0)


def _order_fields(order: Order) -> dict:
    return {
        "source_number": order.number[:100],
        "source_status": order.status[:50],
        "order_date": order.date,
        "amount_inc": order.total_inc.quantize(Decimal("0.01")),
    }


class Engine:
    """Runs one link. Cheap to build; one per run."""

    def __init__(
        self,
        link: Link,
        *,
        source: SourceConnector | None = None,
        target: TargetConnector | None = None,
        now: Callable[[], dt.datetime] = timezone.now,
        crash_at: str | None = None,
    ) -> None:
        from .connections import build_source, build_target

        self.link = link
        self.settings = LinkSettings.from_dict(link.settings or {})
        self.counter = CallCounter()
        self._owned: list[Connector] = []
        self.source = source or build_source(link.source, self.counter)
        self.target = target or build_target(link.target, self.counter)
        for given, built in ((source, self.source), (target, self.target)):
            if given is None:
                self._owned.append(built)  # built here: closed by close()
            else:  # handed in: count its calls too (built ones count from the start)
                hooks = given.http.event_hooks
                given.http.event_hooks = {**hooks, "request": [*hooks.get("request", []), self.counter]}
        self.now = now
        self.crash_at = crash_at
        self._orders: dict[str, Order] = {}
        self.report = RunReport()
        self.run_row: Run | None = None
        self._call_seconds: float | None = None  # moving average of one target call

    def close(self) -> None:
        """Close the connections this engine opened (not ones it was handed)."""
        for connector in self._owned:
            connector.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- test hooks ---------------------------------------------------------------------------

    def checkpoint(self, name: str) -> None:
        if self.crash_at == name:
            raise SimulatedCrash(name)

    # -- public -------------------------------------------------------------------------------

    def run(
        self,
        *,
        kind: str = RunKind.SCHEDULED,
        since: dt.datetime | None = None,
        order_number: str | None = None,
        dry_run: bool = False,
    ) -> RunReport:
        """One run: recover, fetch, push. Never raises for a connector problem; reports it."""
        link = self.link
        if link.status != LinkStatus.ACTIVE and not dry_run:
            self.report.paused = link.paused_reason or link.status
            self.report.status = RunStatus.FAILED
            return self.report
        if dry_run:
            return self._dry_run(since=since, order_number=order_number)
        self.run_row = Run.objects.create(link=link, kind=kind, started_at=self.now())
        self.report.run_id = self.run_row.pk
        error: str | None = ""
        try:
            self.recover()
            if order_number:
                self._ingest([self.source.fetch_one(order_number)], force=True)
            elif kind == RunKind.SWEEP:
                start = self.now().date() - dt.timedelta(days=self.settings.sweep_days)
                self._ingest(self.source.fetch_created(start))
            else:
                cursor = self._cursor()
                start = since or self._cursor_start(cursor)
                self._ingest(self.source.fetch_changed(start), cursor=None if since else cursor)
            self.push_due(only=[order_number] if order_number else None)
        except AuthError as exc:
            self._pause(AlertKind.AUTH, exc)
        except QuotaError as exc:
            self._pause(AlertKind.QUOTA, exc)
        except (TransientError, ConnectorError) as exc:
            error = str(exc)
            self._event(ActivityLevel.ERROR, exc.code, f"Run stopped: {exc.message}")
        except SimulatedCrash:
            error = None  # a dead process writes nothing more
            raise
        except Exception as exc:  # a fault in koppeling: record it on the run, then let it surface
            error = f"{type(exc).__name__}: {exc}"
            log.exception("run of link %s failed", link.pk)
            raise
        finally:
            if error is not None:
                self._finish(error)
        return self.report

    # -- cursor -------------------------------------------------------------------------------

    def _cursor(self) -> Cursor:
        cursor, _ = Cursor.objects.get_or_create(link=self.link, stream="orders")
        return cursor

    def _cursor_start(self, cursor: Cursor) -> dt.datetime | None:
        state = cursor.state or {}
        if state.get("last_value"):
            last = dt.datetime.fromisoformat(state["last_value"])
            return last - dt.timedelta(minutes=self.settings.overlap_minutes)
        if self.settings.from_date:
            return dt.datetime.combine(self.settings.from_date, dt.time(), tzinfo=dt.UTC)
        return None

    # -- ingest: decide what each fetched order means for the ledger ---------------------------

    def _ingest(
        self, fetched: Iterable[FetchedOrder], *, cursor: Cursor | None = None, force: bool = False
    ) -> None:
        iterator: Iterator[FetchedOrder] = iter(fetched)
        while batch := list(islice(iterator, BATCH)):
            self._ingest_batch(batch, cursor, force)

    def _ingest_batch(self, batch: list[FetchedOrder], cursor: Cursor | None, force: bool) -> None:
        now = self.now()
        self.report.fetched += len(batch)
        by_id: dict[str, FetchedOrder] = {}
        for fo in batch:  # a record seen twice in one batch: the later one wins
            by_id[fo.source_id] = fo
        existing = {
            r.source_id: r
            for r in SyncRecord.objects.filter(
                link=self.link, object_type=OBJECT_TYPE, source_id__in=list(by_id)
            )
        }
        creates: list[SyncRecord] = []
        updates: list[tuple[str, SyncRecord]] = []
        events: list[ActivityEvent] = []
        for source_id, fo in by_id.items():
            if fo.order is not None:
                self._orders[source_id] = fo.order
            record = existing.get(source_id)
            if record is None:
                record = SyncRecord(
                    link=self.link, object_type=OBJECT_TYPE, source_id=source_id, first_seen_at=now
                )
                if self._decide(record, fo, force, events, new=True):
                    creates.append(record)
            else:
                original_state = record.state
                if self._decide(record, fo, force, events, new=False):
                    record.updated_at = now
                    updates.append((original_state, record))
        last_value = max((fo.changed_at for fo in batch if fo.changed_at), default=None)
        if last_value is not None and last_value > now:
            # a source clock ahead of ours must not push the cursor past changes still to come
            last_value = now
        with transaction.atomic():
            if creates:
                # another worker may have created some of these a moment ago: theirs stand
                SyncRecord.objects.bulk_create(creates, ignore_conflicts=True)
            for original_state, record in updates:
                # optimistic: if another worker moved the row on (e.g. claimed it), leave it be
                SyncRecord.objects.filter(pk=record.pk, state=original_state).update(
                    **{name: getattr(record, name) for name in UPDATE_FIELDS}
                )
            if events:  # only for rows that already exist (see _event_row)
                ActivityEvent.objects.bulk_create(events)
            if cursor is not None and last_value is not None:
                # committed with the ledger rows it covers (dlt): never ahead of them
                previous = (cursor.state or {}).get("last_value")
                if previous is None or dt.datetime.fromisoformat(previous) < last_value:
                    cursor.state = {"version": Cursor.STATE_VERSION, "last_value": last_value.isoformat()}
                    cursor.save(update_fields=["state", "updated_at"])

    def _decide(
        self,
        record: SyncRecord,
        fo: FetchedOrder,
        force: bool,
        events: list[ActivityEvent],
        *,
        new: bool,
    ) -> bool:
        """Update ``record`` in memory for what was fetched; True when it must be written."""
        before = (record.state, record.reason_code, record.fingerprint, record.changed_after_booking)
        if fo.number:
            record.source_number = fo.number[:100]
        if fo.error is not None or fo.order is None:
            err = fo.error or DataError("the shop returned no order", code="empty")
            if new or record.state in (RecordState.PENDING, RecordState.FAILED, RecordState.SKIPPED):
                self._fail(record, ReasonCode.SOURCE_DATA, err.code, err.message, err.suggestion)
                self.report.failed += 1
            return new or before != (
                record.state,
                record.reason_code,
                record.fingerprint,
                record.changed_after_booking,
            )
        order = fo.order
        for name, value in _order_fields(order).items():
            setattr(record, name, value)
        record.reference = self.settings.reference(order.number)[:120]
        fingerprint_changed = bool(record.fingerprint) and record.fingerprint != fo.fingerprint
        if record.state != RecordState.PUSHING:  # in flight: the booking will carry the pushed content
            record.fingerprint = fo.fingerprint
        skip = self.settings.skip_reason(order)
        state = record.state
        if new:
            if skip:
                self._skip(record, skip)
            else:
                record.state = RecordState.PENDING
        elif state == RecordState.PUSHED:
            if record.booked_fingerprint and fo.fingerprint != record.booked_fingerprint:
                if not record.changed_after_booking:
                    record.changed_after_booking = True
                    events.append(
                        self._event_row(
                            ActivityLevel.WARNING,
                            ReasonCode.CHANGED_AFTER_BOOKING,
                            f"Order {order.number} was changed in the shop after it was booked as "
                            f"{record.target_number or record.target_id}. It was not booked again; "
                            "correct the booking by hand (credit and re-book) if the change matters.",
                            record,
                        )
                    )
            elif record.changed_after_booking:
                record.changed_after_booking = False  # changed back to what was booked
        elif state in (RecordState.PUSHING, RecordState.NEEDS_REVIEW):
            pass  # in flight, or waiting for a person: only they may push it again
        elif skip:
            if state != RecordState.SKIPPED or record.reason_code != skip:
                self._skip(record, skip)
        elif state == RecordState.SKIPPED:
            self._make_pending(record)
        elif state == RecordState.FAILED:
            if force or fingerprint_changed or record.reason_code == ReasonCode.SOURCE_DATA:
                self._make_pending(record, priority=10 if force else 0)
        elif state == RecordState.PENDING and force:
            record.priority = 10
            record.next_attempt_at = None
        if record.state == RecordState.SKIPPED and (new or before[0] != RecordState.SKIPPED):
            self.report.skipped += 1
        after = (record.state, record.reason_code, record.fingerprint, record.changed_after_booking)
        return new or force or before != after

    @staticmethod
    def _skip(record: SyncRecord, reason: str) -> None:
        record.state = RecordState.SKIPPED
        record.reason_code = reason
        record.message = ReasonCode(reason).label
        record.suggestion = ""

    @staticmethod
    def _make_pending(record: SyncRecord, priority: int = 0) -> None:
        record.state = RecordState.PENDING
        record.reason_code = record.error_code = record.message = record.suggestion = ""
        record.attempts = 0
        record.next_attempt_at = None
        record.priority = priority

    @staticmethod
    def _fail(record: SyncRecord, reason: str, code: str, message: str, suggestion: str = "") -> None:
        record.state = RecordState.FAILED
        record.reason_code = reason
        record.error_code = code[:80]
        record.message = message
        record.suggestion = suggestion

    # -- push ---------------------------------------------------------------------------------

    def _due_ids(self, only: list[str] | None) -> list[int]:
        now = self.now()
        qs = SyncRecord.objects.filter(link=self.link, state=RecordState.PENDING).filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        )
        if only is not None:
            qs = qs.filter(source_id__in=only)
        return list(qs.order_by("-priority", "id").values_list("id", flat=True))

    def claim(self, ids: list[int]) -> tuple[uuid.UUID, list[SyncRecord]]:
        """Take rows for this worker: pending → pushing, atomically; others get nothing."""
        token = uuid.uuid4()
        self.checkpoint("before_claim")
        with transaction.atomic():
            SyncRecord.objects.filter(id__in=ids, state=RecordState.PENDING).update(
                state=RecordState.PUSHING, claim_token=token, claimed_at=self.now()
            )
        claimed = list(
            SyncRecord.objects.filter(id__in=ids, claim_token=token, state=RecordState.PUSHING).order_by(
                "-priority", "id"
            )
        )
        self.checkpoint("after_claim")
        return token, claimed

    def push_due(self, only: list[str] | None = None) -> None:
        ids = self._due_ids(only)
        if not ids:
            return
        in_flight = max(1, int(getattr(self.target, "max_in_flight", 1)))
        with ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="push") as pool:
            for start in range(0, len(ids), BATCH):
                token, claimed = self.claim(ids[start : start + BATCH])
                if not self._push_batch(pool, token, claimed, in_flight):
                    break

    def _push_batch(
        self, pool: ThreadPoolExecutor, token: uuid.UUID, claimed: list[SyncRecord], in_flight: int
    ) -> bool:
        """Push claimed rows, keeping ``in_flight`` calls going; False when the link got paused."""
        pending: dict[Future, tuple[SyncRecord, uuid.UUID, float]] = {}
        queue = list(claimed)
        stop: ConnectorError | None = None
        try:
            while queue or pending:
                to_send: list[tuple[SyncRecord, Invoice]] = []
                while queue and len(pending) + len(to_send) < in_flight and stop is None:
                    record = queue.pop(0)
                    invoice = self._prepare(record)
                    if invoice is not None:
                        to_send.append((record, invoice))
                if to_send:
                    invoices = {record.pk: invoice for record, invoice in to_send}
                    # a target that answers in a millisecond gains nothing from threads, only GIL
                    # hand-offs: call it inline; a slow (networked) one gets calls in flight
                    executor = _INLINE if self._target_is_fast() else pool
                    for record, attempt_id in self._log_attempts([record for record, _ in to_send]):
                        started = time.perf_counter()
                        future = executor.submit(self._call_target, invoices[record.pk])
                        pending[future] = (record, attempt_id, started)
                if not pending:
                    break
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                successes: list[tuple[SyncRecord, uuid.UUID, PushResult, int]] = []
                for future in done:
                    record, attempt_id, started = pending.pop(future)
                    elapsed = time.perf_counter() - started
                    self._call_seconds = (
                        elapsed if self._call_seconds is None else (0.8 * self._call_seconds + 0.2 * elapsed)
                    )
                    duration = int(elapsed * 1000)
                    exc = future.exception()
                    if isinstance(exc, SimulatedCrash):
                        raise exc
                    if exc is None:
                        successes.append((record, attempt_id, future.result(), duration))
                        continue
                    if isinstance(exc, AuthError | QuotaError):
                        self._release(record, token, attempt_id, exc, duration)
                        stop = stop or exc
                    else:
                        self._record_failure(record, token, attempt_id, exc, duration)
                if successes:  # everything that came back together is recorded in one transaction
                    self._record_successes(token, successes)
                if stop is not None:
                    queue_left, queue = queue, []
                    for record in queue_left:
                        self._release(record, token, None, None, 0)
        except Exception:  # a real error (not a crash): hand back what was never sent
            for record in queue:
                self._release(record, token, None, None, 0)
            raise
        if stop is not None:
            raise stop
        return True

    def _target_is_fast(self) -> bool:
        return self._call_seconds is not None and self._call_seconds < FAST_CALL_SECONDS

    def _call_target(self, invoice: Invoice) -> PushResult:
        result = self.target.push_invoice(invoice)
        self.checkpoint("after_target_accepted")
        return result

    def _prepare(self, record: SyncRecord) -> Invoice | None:
        """Build the invoice; None when the record failed before any call."""
        order = self._orders.get(record.source_id)
        try:
            if order is None:
                fetched = self.source.fetch_one(record.source_id)
                if fetched.order is None:
                    raise fetched.error or DataError("the shop returned no order")
                order = fetched.order
            invoice = order_to_invoice(order, self.settings.invoice_settings(order))
        except RuleError as exc:
            self._finish_record(record, None, ReasonCode.RULE, exc.code, exc.message, exc.suggestion)
            return None
        except NotFound as exc:
            self._finish_record(record, None, ReasonCode.SOURCE_DATA, exc.code, exc.message, exc.suggestion)
            return None
        except TransientError as exc:
            self._retry_later(record, None, exc, 0)
            return None
        except (AuthError, QuotaError):
            self._release(record, record.claim_token, None, None, 0)
            raise
        except ConnectorError as exc:
            self._finish_record(record, None, ReasonCode.SOURCE_DATA, exc.code, exc.message, exc.suggestion)
            return None
        except Exception as exc:  # a fault in koppeling: this order fails with the cause, the run goes on
            log.exception("preparing order %s failed", record.source_id)
            self._finish_record(
                record,
                None,
                ReasonCode.RULE,
                type(exc).__name__,
                f"Internal error: {exc}",
                "This is a fault in koppeling, not in your data; it has been logged. "
                "Press Verwerk once it is fixed.",
            )
            return None
        return invoice

    def _log_attempts(self, records: list[SyncRecord]) -> list[tuple[SyncRecord, uuid.UUID]]:
        """Commit the attempt rows *before* the calls: after a crash they say "maybe sent".

        In the same transaction the claim is renewed; a row whose claim expired and was taken over
        meanwhile (a long batch against a slow target) is dropped here, never sent a second time.
        """
        conn = connections[SyncAttempt.objects.db]
        stamp = DT_FIELD.get_db_prep_value(self.now(), conn)
        kept: list[tuple[SyncRecord, uuid.UUID]] = []
        with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
            renew = [(stamp, r.pk, UUID_FIELD.get_db_prep_value(r.claim_token, conn)) for r in records]
            cursor.executemany(RENEW_SQL, renew)
            if cursor.rowcount == len(records):
                ours = records
            else:
                still = set(
                    SyncRecord.objects.filter(
                        pk__in=[r.pk for r in records],
                        state=RecordState.PUSHING,
                        claim_token__in={r.claim_token for r in records},
                    ).values_list("pk", "claim_token")
                )
                ours = [r for r in records if (r.pk, r.claim_token) in still]
                log.warning(
                    "%d claim(s) expired before sending; left to their new owner", len(records) - len(ours)
                )
            kept = [(r, uuid.uuid4()) for r in ours]
            cursor.executemany(
                ATTEMPT_INSERT_SQL,
                [
                    (
                        UUID_FIELD.get_db_prep_value(attempt_id, conn),
                        r.pk,
                        UUID_FIELD.get_db_prep_value(r.claim_token, conn),
                        stamp,
                    )
                    for r, attempt_id in kept
                ],
            )
        self.checkpoint("after_attempt_logged")
        return kept

    def _record_success(
        self, record: SyncRecord, token: uuid.UUID, attempt_id: uuid.UUID, result: PushResult, duration: int
    ) -> None:
        self._record_successes(token, [(record, attempt_id, result, duration)])

    def _record_successes(
        self, token: uuid.UUID | None, items: list[tuple[SyncRecord, uuid.UUID, PushResult, int]]
    ) -> None:
        """Write the target's answers in one local transaction, right after they arrived.

        The hot path of the engine: one ``executemany`` per table instead of an ORM query per
        row. A row whose claim was taken over (expired, recovered elsewhere) is not touched and is
        reported loudly instead.
        """
        self.checkpoint("before_ledger_update")
        unbooked = [item for item in items if not item[2].target_id]
        for record, attempt_id, result, duration in unbooked:  # e.g. a target in test mode
            self._finish_record(
                record,
                attempt_id,
                ReasonCode.TARGET_REJECTED,
                "not_booked",
                "The accounting package checked the invoice but booked nothing"
                + (f" ({'; '.join(result.warnings)})" if result.warnings else "")
                + ".",
                "Switch off test mode for this connection, then press Verwerk.",
                duration=duration,
            )
        items = [item for item in items if item[2].target_id]
        if not items:
            return
        now = self.now()
        conn = connections[SyncRecord.objects.db]
        stamp = DT_FIELD.get_db_prep_value(now, conn)
        rows, attempts, events = [], [], []
        for record, attempt_id, result, duration in items:
            claim = UUID_FIELD.get_db_prep_value(token or record.claim_token, conn)
            message = "; ".join(result.warnings)[:2000]
            rows.append(
                (
                    result.target_id[:100],
                    result.number[:100],
                    result.token[:100],
                    stamp,
                    stamp,
                    message,
                    record.pk,
                    claim,
                )
            )
            attempts.append(
                (AttemptOutcome.SUCCESS.value, duration, UUID_FIELD.get_db_prep_value(attempt_id, conn))
            )
        with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
            cursor.executemany(PUSHED_SQL, rows)
            all_updated = cursor.rowcount == len(rows)
            cursor.executemany(ATTEMPT_SUCCESS_SQL, attempts)
            self.checkpoint("inside_ledger_update")
            lost: set[int] = set()
            if not all_updated:  # rare: find which claims were lost
                pks = [r.pk for r, *_ in items]
                pushed = set(
                    SyncRecord.objects.filter(
                        pk__in=pks, state=RecordState.PUSHED, pushed_at=now
                    ).values_list("pk", flat=True)
                )
                lost = set(pks) - pushed
            base = (self.link.organisation_id, self.link.pk, self.run_row.pk if self.run_row else None)
            for record, _attempt_id, result, _duration in items:
                number = record.source_number or record.source_id
                booked_as = result.number or result.target_id
                if record.pk in lost:
                    level, code = ActivityLevel.ERROR.value, "claim_lost"
                    message = (
                        f"Order {number} was booked as {booked_as}, but its claim had expired and was "
                        "taken over; check for a duplicate booking."
                    )
                else:
                    self.report.pushed += 1
                    level, code = ActivityLevel.INFO.value, "pushed"
                    message = f"Order {number} booked as {booked_as}" + (
                        " (concept)" if result.concept else ""
                    )
                events.append((*base, record.pk, level, code, message, "{}", stamp))
            cursor.executemany(EVENT_INSERT_SQL, events)

    def _record_failure(
        self, record: SyncRecord, token: uuid.UUID, attempt_id: uuid.UUID, exc: BaseException, duration: int
    ) -> None:
        if isinstance(exc, TransientError):
            if exc.maybe_processed:
                self._resolve_uncertain(record, attempt_id, exc)
            else:
                self._retry_later(record, attempt_id, exc, duration)
            return
        if isinstance(exc, ConnectorError):
            self._finish_record(
                record,
                attempt_id,
                ReasonCode.TARGET_REJECTED,
                exc.code,
                exc.message,
                exc.suggestion,
                status_code=exc.status_code,
                duration=duration,
            )
            return
        # anything else happened after the request left: it may have been booked
        log.error("unexpected error pushing %s", record.source_id, exc_info=exc)
        self._resolve_uncertain(record, attempt_id, exc if isinstance(exc, Exception) else None)

    def _finish_record(
        self,
        record: SyncRecord,
        attempt_id: uuid.UUID | None,
        reason: str,
        code: str,
        message: str,
        suggestion: str = "",
        *,
        status_code: int | None = None,
        duration: int = 0,
    ) -> None:
        now = self.now()
        with transaction.atomic():
            SyncRecord.objects.filter(
                pk=record.pk, claim_token=record.claim_token, state=RecordState.PUSHING
            ).update(
                state=RecordState.FAILED,
                reason_code=reason,
                error_code=(code or "")[:80],
                message=message,
                suggestion=suggestion,
                claim_token=None,
                updated_at=now,
                attempts=F("attempts") + 1,
                priority=0,
            )
            if attempt_id:
                SyncAttempt.objects.filter(pk=attempt_id).update(
                    outcome=AttemptOutcome.REJECTED,
                    duration_ms=duration,
                    status_code=status_code,
                    detail=message[:2000],
                )
            self._event(
                ActivityLevel.ERROR,
                code or reason,
                f"Order {record.source_number or record.source_id}: {message}",
                record,
            )
        self.report.failed += 1

    def _retry_later(
        self, record: SyncRecord, attempt_id: uuid.UUID | None, exc: TransientError, duration: int
    ) -> None:
        attempts = record.attempts + 1
        now = self.now()
        if attempts >= self.settings.max_attempts:
            self._finish_record(
                record,
                attempt_id,
                ReasonCode.GAVE_UP,
                exc.code,
                exc.message,
                "The other side kept failing; press Verwerk to try again once it is back.",
                status_code=exc.status_code,
                duration=duration,
            )
            return
        when = now + dt.timedelta(seconds=backoff_seconds(attempts, exc.retry_after))
        with transaction.atomic():
            SyncRecord.objects.filter(
                pk=record.pk, claim_token=record.claim_token, state=RecordState.PUSHING
            ).update(
                state=RecordState.PENDING,
                attempts=attempts,
                next_attempt_at=when,
                claim_token=None,
                reason_code=ReasonCode.TRANSIENT,
                error_code=exc.code[:80],
                message=exc.message,
                updated_at=now,
            )
            if attempt_id:
                SyncAttempt.objects.filter(pk=attempt_id).update(
                    outcome=AttemptOutcome.TRANSIENT,
                    duration_ms=duration,
                    status_code=exc.status_code,
                    detail=exc.message[:2000],
                )

    def _release(
        self,
        record: SyncRecord,
        token: uuid.UUID | None,
        attempt_id: uuid.UUID | None,
        exc: ConnectorError | None,
        duration: int,
    ) -> None:
        """Give a claimed row back untouched (auth/quota stop, or not reached in this run)."""
        with transaction.atomic():
            SyncRecord.objects.filter(
                pk=record.pk, claim_token=record.claim_token, state=RecordState.PUSHING
            ).update(state=RecordState.PENDING, claim_token=None)
            if attempt_id:
                outcome = AttemptOutcome.QUOTA if isinstance(exc, QuotaError) else AttemptOutcome.AUTH
                SyncAttempt.objects.filter(pk=attempt_id).update(
                    outcome=outcome, duration_ms=duration, detail=(exc.message if exc else "")[:2000]
                )

    # -- recovery -----------------------------------------------------------------------------

    def recover(self) -> int:
        """Resolve rows left in ``pushing`` by a worker that died; returns how many."""
        timeout = dt.timedelta(seconds=django_settings.KOPPELING["CLAIM_TIMEOUT_SECONDS"])
        # runs a dead worker left "running" are closed, so the dashboard does not show them forever
        Run.objects.filter(
            link=self.link, status=RunStatus.RUNNING, started_at__lte=self.now() - timeout
        ).exclude(pk=getattr(self.run_row, "pk", None)).update(
            status=RunStatus.FAILED, finished_at=self.now(), error="interrupted: the worker stopped mid-run"
        )
        stale = list(
            SyncRecord.objects.filter(
                link=self.link, state=RecordState.PUSHING, claimed_at__lte=self.now() - timeout
            )
        )
        for record in stale:
            sent = (
                SyncAttempt.objects.filter(
                    record=record, claim_token=record.claim_token, outcome=AttemptOutcome.SENDING
                )
                .order_by("-id")
                .first()
            )
            if sent is None:  # claimed but never sent: safe to send
                SyncRecord.objects.filter(pk=record.pk, claim_token=record.claim_token).update(
                    state=RecordState.PENDING, claim_token=None
                )
            else:
                self._resolve_uncertain(record, sent.pk, None)
            self.report.recovered += 1
        return len(stale)

    def _resolve_uncertain(self, record: SyncRecord, attempt_id: uuid.UUID, exc: Exception | None) -> None:
        """The target may have booked it. Look it up; if we cannot, ask a person, never re-push."""
        found: PushResult | None = None
        searched = False
        if self.target.searchable_by_reference:
            try:
                found = self.target.lookup(record.reference or record.source_id)
                searched = True
            except ConnectorError as lookup_exc:
                log.warning("lookup of %s failed: %s", record.reference, lookup_exc)
        if found is not None:
            self._record_success(record, record.claim_token, attempt_id, found, 0)
            return
        ours = SyncRecord.objects.filter(
            pk=record.pk, claim_token=record.claim_token, state=RecordState.PUSHING
        )
        code = getattr(exc, "code", None) or (type(exc).__name__ if exc else "interrupted")
        detail = (getattr(exc, "message", None) or str(exc)) if exc else "interrupted"
        if searched:  # certainly not there: safe to push again
            if isinstance(exc, TransientError):
                self._retry_later(record, attempt_id, exc, 0)
            else:
                ours.update(state=RecordState.PENDING, claim_token=None)
                SyncAttempt.objects.filter(pk=attempt_id).update(
                    outcome=AttemptOutcome.TRANSIENT, detail="interrupted; not found in target"
                )
            return
        number = record.source_number or record.source_id
        system = (
            self.link.target.get_system_display()
            if hasattr(self.link.target, "get_system_display")
            else (self.link.target.system.capitalize())
        )
        with transaction.atomic():
            if not ours.update(
                state=RecordState.NEEDS_REVIEW,
                reason_code=ReasonCode.INTERRUPTED,
                error_code=code[:80],
                message=(
                    f"The push of order {number} was interrupted after it was sent; {system} may or may not "
                    "have booked it, and it cannot be searched by order number."
                ),
                suggestion=(
                    f"Look for '{record.reference or number}' in {system}. If it is there, choose "
                    "'Mark as booked'; if not, choose 'Push again'."
                ),
                claim_token=None,
                updated_at=self.now(),
            ):
                return  # no longer ours: its new owner decides
            SyncAttempt.objects.filter(pk=attempt_id).update(
                outcome=AttemptOutcome.TRANSIENT, detail=detail[:2000]
            )
            self._event(
                ActivityLevel.WARNING,
                ReasonCode.INTERRUPTED,
                f"Order {number} needs review: push interrupted, outcome unknown",
                record,
            )
        self.report.needs_review += 1

    # -- bookkeeping --------------------------------------------------------------------------

    def _pause(self, kind: str, exc: ConnectorError) -> None:
        self.report.paused = exc.message
        self.report.status = RunStatus.FAILED
        alerts.open_alert(self.link, kind, exc.message, suggestion=exc.suggestion)

    def _event_row(
        self, level: str, code: str, message: str, record: SyncRecord | None = None
    ) -> ActivityEvent:
        return ActivityEvent(
            organisation_id=self.link.organisation_id,
            link=self.link,
            run=self.run_row,
            record=record if record is not None and record.pk else None,
            level=level,
            code=str(code),
            message=message,
            created_at=self.now(),
        )

    def _event(self, level: str, code: str, message: str, record: SyncRecord | None = None) -> None:
        self._event_row(level, code, message, record).save()

    def _finish(self, error: str) -> None:
        report = self.report
        report.api_calls = self.counter.count
        if report.status != RunStatus.FAILED:
            if error:
                report.status = RunStatus.FAILED
            elif report.failed or report.needs_review:
                report.status = RunStatus.PARTIAL
        if self.run_row is not None:
            now = self.now()
            Run.objects.filter(pk=self.run_row.pk).update(
                status=report.status,
                finished_at=now,
                fetched=report.fetched,
                pushed=report.pushed,
                failed=report.failed,
                skipped=report.skipped,
                api_calls=report.api_calls,
                error=error or report.paused,
            )
            Link.objects.filter(pk=self.link.pk).update(last_run_at=now)
            self._watch_reachability(error)

    def _watch_reachability(self, error: str) -> None:
        """Several runs in a row that could not reach a system: one alert (no pause — retrying is
        right); the first run that gets through closes it."""
        if not error:
            alerts.close_alert(
                self.link, AlertKind.UNREACHABLE, "The systems answer again; the link runs normally."
            )
            return
        recent = list(
            Run.objects.filter(link=self.link)
            .order_by("-started_at")
            .values_list("status", flat=True)[:UNREACHABLE_AFTER_RUNS]
        )
        if len(recent) == UNREACHABLE_AFTER_RUNS and all(status == RunStatus.FAILED for status in recent):
            alerts.open_alert(
                self.link,
                AlertKind.UNREACHABLE,
                f"The last {UNREACHABLE_AFTER_RUNS} runs could not complete: {error}",
                suggestion="koppeling keeps retrying on schedule and misses nothing meanwhile; check the "
                "system's status page, or the connection's address if it keeps failing.",
                pause=False,
            )

    # -- dry run ------------------------------------------------------------------------------

    def _dry_run(self, *, since: dt.datetime | None, order_number: str | None) -> RunReport:
        """What would happen, with no write anywhere: no ledger, no cursor, no push."""
        if order_number:
            fetched: Iterable[FetchedOrder] = [self.source.fetch_one(order_number)]
        else:
            cursor = Cursor.objects.filter(link=self.link, stream="orders").first()
            fetched = self.source.fetch_changed(since or (self._cursor_start(cursor) if cursor else None))
        done = set(
            SyncRecord.objects.filter(
                link=self.link, state__in=[RecordState.PUSHED, RecordState.PUSHING]
            ).values_list("source_id", flat=True)
        )
        for fo in fetched:
            self.report.fetched += 1
            if fo.order is None:
                self.report.would_fail.append((fo.number or fo.source_id, str(fo.error)))
                continue
            if fo.source_id in done:
                continue
            if self.settings.skip_reason(fo.order):
                self.report.skipped += 1
                continue
            try:
                invoice = order_to_invoice(fo.order, self.settings.invoice_settings(fo.order))
            except RuleError as exc:
                self.report.would_fail.append((fo.order.number, str(exc)))
                continue
            self.report.would_push.append((fo.order.number, invoice))
        self.report.api_calls = self.counter.count
        return self.report


UPDATE_FIELDS = [
    "source_number",
    "reference",
    "state",
    "reason_code",
    "error_code",
    "message",
    "suggestion",
    "fingerprint",
    "changed_after_booking",
    "source_status",
    "order_date",
    "amount_inc",
    "attempts",
    "priority",
    "next_attempt_at",
    "updated_at",
]
