"""One run of one flow: recover → fetch → decide → push → (reconcile, queued).

The runner never raises for a connector's problem — it reports it: a refused credential or an
account limit pauses the link with one alert; a source or target that cannot be reached fails
the run (and after several failed runs in a row opens one "unreachable" alert); a full rate limit
is not a failure at all, the rest waits for its slot with an ETA. Only a fault inside koppeling
surfaces as an exception, after the run recorded it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from koppeling.connectors.base import Capability, Connector
from koppeling.connectors.errors import AuthError, ConnectorCode, ConnectorError, QuotaError, RateLimited
from koppeling.connectors.http import CallCounter
from koppeling.core.messages import Outcome, english
from koppeling.mapping.codes import MappingRefused

from . import alerts, backfill
from .batches import BatchPusher
from .connections import build_connector
from .fetching import Ingest
from .flow_settings import SettingsError
from .flowkinds import FlowContext, kind_of, settings_for
from .ledger import Event
from .models import (
    IN_PAUSED_BACKFILL,
    AlertKind,
    Flow,
    FlowStatus,
    LinkStatus,
    RecordState,
    Run,
    RunKind,
    RunStatus,
    SyncRecord,
)
from .outcomes import SyncCode
from .pushing import Pusher, Stop
from .ratelimit import DEFAULT_HOLD_SECONDS, Limiter, limiter
from .recovery import recover_flow
from .redact import Redactor
from .runstate import FlowRun, RunReport, SimulatedCrash
from .workers import worker_id

__all__ = ["UNREACHABLE_AFTER_RUNS", "FlowRunner"]

log = logging.getLogger(__name__)

#: this many failed runs in a row open an "unreachable" alert
UNREACHABLE_AFTER_RUNS = 3


def paced_every_request(connector: Connector) -> bool:
    """Whether the connector has a limit on every request (then each request takes a slot)."""
    return any("*" in limit.applies_to for limit in connector.limits())


class FlowRunner:
    """Runs one flow. Cheap to build; one per run. Closes the connectors it built."""

    def __init__(
        self,
        flow: Flow,
        *,
        source: Connector | None = None,
        target: Connector | None = None,
        now: Callable[[], dt.datetime] = timezone.now,
        crash_at: str | None = None,
        rate_limiter: Limiter | None = None,
    ) -> None:
        self.flow = flow
        self.kind = kind_of(flow.kind)
        self.counter = CallCounter()
        self._owned: list[Connector] = []
        self._lookups: list[Any] = []
        self.source = source or self._build(flow.source, self.kind.reads)
        self.target = target or self._build(flow.target, self.kind.writes)
        for given in (source, target):
            if given is not None:  # handed in: count its calls too
                hooks = given.http.event_hooks
                given.http.event_hooks = {**hooks, "request": [*hooks.get("request", []), self.counter]}
        self.now = now
        self.crash_at = crash_at
        self.limiter = rate_limiter or limiter()
        #: slots the target's every-request limits took in this run (its calls beside the writes)
        self.target_call_slots = 0
        self._slots_lock = threading.Lock()  # the push threads' calls count them
        for connector in {id(c): c for c in (self.source, self.target)}.values():
            self._pace_every_call(connector)
            connector.clock = lambda: self.now().timestamp()

    def _pace_every_call(self, connector: Connector) -> None:
        """Limits on *every* request of an account (e.g. Lightspeed's calls per 5 minutes): each
        request takes a slot first; an empty bucket raises ``RateLimited`` before it is sent."""
        if not paced_every_request(connector):
            return

        def take(request: Any) -> None:
            slot = self.limiter.take(connector, None, self.now())
            if slot.granted and connector is self.target:
                with self._slots_lock:
                    self.target_call_slots += 1
            if not slot.granted:
                wait = (slot.retry_at - self.now()).total_seconds() if slot.retry_at else None
                raise RateLimited(params={"system": connector.label}, retry_after=wait, limit=slot.limit)

        hooks = connector.http.event_hooks
        connector.http.event_hooks = {**hooks, "request": [take, *hooks.get("request", [])]}

    def _build(self, connection: Any, needs: Capability) -> Connector:
        connector = build_connector(connection, self.counter, needs=needs)
        self._owned.append(connector)
        return connector

    def close(self) -> None:
        for connector in self._owned:
            connector.close()
        for lookups in self._lookups:
            lookups.close()

    def __enter__(self) -> FlowRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- set-up ------------------------------------------------------------------------------------

    def _context(self) -> FlowContext:
        settings, target_settings = settings_for(
            self.kind, type(self.target), self.flow.settings, self.flow.target_settings
        )
        mapping = (self.flow.settings or {}).get("mapping") or None
        self._use_mapping(mapping)
        target = type(self.target)
        context = FlowContext(
            settings=settings,
            target_settings=target_settings,
            totals_method=getattr(target, "totals_method", None),
            booking_currencies=tuple(getattr(target, "booking_currencies", ("EUR",))),
            mapping_version=int(mapping.get("version", 0) or 0) if mapping else 0,
        )
        if self.kind.reads == Capability.READS_ORDERS:
            from .lookups import Lookups

            context.lookups = Lookups(self.flow, settings, self.now)
            self._lookups.append(context.lookups)
        if self.kind.name == "orders_to_invoices":
            context.credits_elsewhere = Flow.objects.filter(
                link_id=self.flow.link_id,
                kind="credit_orders_to_notes",
                source_id=self.flow.source_id,
                status=FlowStatus.ACTIVE,
            ).exists()
        return context

    def _use_mapping(self, mapping: dict[str, Any] | None) -> None:
        """The source reads through the flow's mapping (the Datamapper; None: its default); a
        stored mapping that no longer fits the source's fields stops the run as invalid settings,
        naming each problem, before anything is read."""
        use = getattr(self.source, "use_mapping", None)
        if use is None:
            return
        try:
            use(self.kind.name, mapping)
        except MappingRefused as exc:
            raise SettingsError(
                {f"settings.mapping.{p.params.get('location', '')}": english(p) for p in exc.problems}
            ) from None

    def prepare_run(self, context: FlowContext | None = None) -> FlowRun:
        """The state a run carries (settings validated, secrets to redact); also for tasks and tests."""
        context = context or self._context()
        secrets = [*self.source.secrets(), *self.target.secrets()]
        return FlowRun(
            flow=self.flow,
            kind=self.kind,
            context=context,
            source=self.source,
            target=self.target,
            limiter=self.limiter,
            now=self.now,
            crash_at=self.crash_at,
            redactor=Redactor(secrets),
            target_paced=paced_every_request(self.target),
        )

    # -- the run -----------------------------------------------------------------------------------

    def run(
        self,
        *,
        kind: str = RunKind.SCHEDULED,
        since: dt.datetime | None = None,
        order_number: str | None = None,
        dry_run: bool = False,
        deliver_now: bool = False,
    ) -> RunReport:
        """One run; ``order_number`` reads and pushes that one record now (Verwerk)."""
        link = self.flow.link
        try:
            context = self._context()
        except SettingsError as exc:
            return self._settings_failed(exc)
        run = self.prepare_run(context)
        if dry_run:
            from .dryrun import dry_run as preview

            return preview(run, since=since, order_number=order_number)
        if link.status != LinkStatus.ACTIVE or self.flow.status != FlowStatus.ACTIVE:
            if link.status != LinkStatus.ACTIVE:
                run.report.paused = link.paused_code or link.status
            else:
                run.report.paused = self.flow.status
            run.report.status = RunStatus.FAILED
            return run.report
        run.run_row = Run.objects.create(
            link=link, flow=self.flow, kind=kind, started_at=self.now(), worker=worker_id()
        )
        run.report.run_id = run.run_row.pk
        failure: Outcome | None = None
        stop: Stop | None = None
        try:
            recover_flow(run)
            stop = self._work(
                run,
                kind=kind,
                since=since,
                order_number=order_number,
                deliver_now=deliver_now,
            )
        except (AuthError, QuotaError) as exc:
            self._pause(run, exc)
        except RateLimited as exc:  # a source's limit while reading: paced, not failed
            until = self.now() + dt.timedelta(seconds=exc.retry_after or DEFAULT_HOLD_SECONDS)
            if exc.status_code == 429:  # the source itself said so: nobody reads it before then
                self.limiter.hold(self.source, until)
            stop = Stop("rate_limited", until)
        except ConnectorError as exc:
            failure = self._unreachable(run, exc, SyncCode.SOURCE_UNREACHABLE, self.source)
        except SimulatedCrash:
            raise  # a dead process writes nothing more
        except Exception as exc:  # a fault in koppeling: record it on the run, then let it surface
            log.exception("run of flow %s failed", self.flow.pk)
            self._finish(run, Outcome(SyncCode.RUN_STOPPED, {"detail": type(exc).__name__}), None)
            raise
        if stop is not None and stop.reason in ("auth", "quota") and stop.error is not None:
            self._pause(run, stop.error)
        elif stop is not None and stop.reason == "unreachable" and stop.error is not None:
            failure = self._unreachable(run, stop.error, SyncCode.TARGET_UNREACHABLE, self.target)
        self._finish(run, failure, stop)
        return run.report

    def _work(
        self,
        run: FlowRun,
        *,
        kind: str,
        since: dt.datetime | None,
        order_number: str | None,
        deliver_now: bool,
    ) -> Stop | None:
        ingest = Ingest(run)
        pusher = BatchPusher(run) if self.kind.batch else Pusher(run)
        only: list[str] | None = None
        if order_number:
            record = ingest.one(order_number)
            if record is None:
                return None
            from . import ledger

            if record.state in (RecordState.FAILED, RecordState.PENDING):
                ledger.apply(record, Event.PERSON_RETRY, now=self.now(), priority=10)
            only = [record.source_id]
        else:
            try:
                if kind == RunKind.SWEEP:
                    ingest.sweep()
                else:
                    ingest.incremental(since)
                backfill.read_open(run, ingest)
            except RateLimited as exc:  # the source's limit while reading: push what was read
                pusher.source_limited(exc)
                read_stop = pusher.stop
                pusher.stop = None
                stop = self._push(pusher, only, kind, deliver_now, order_number)
                return stop or read_stop
        return self._push(pusher, only, kind, deliver_now, order_number)

    def _push(
        self, pusher: Pusher, only: list[str] | None, kind: str, deliver_now: bool, order_number: str | None
    ) -> Stop | None:
        if self.kind.batch:
            return pusher.push_due(only, force=deliver_now or bool(order_number))  # type: ignore[call-arg]
        return pusher.push_due(only)

    # -- outcomes -------------------------------------------------------------------------------------

    def _pause(self, run: FlowRun, exc: ConnectorError) -> None:
        kind = AlertKind.QUOTA if isinstance(exc, QuotaError) else AlertKind.AUTH
        stored = run.outcome(exc.outcome)
        run.report.paused = stored["code"]
        run.report.status = RunStatus.FAILED
        run.report.error_code, run.report.error_params = stored["code"], stored["params"]
        alerts.open_alert(self.flow.link, kind, stored["code"], stored["params"], pause=True, flow=self.flow)

    def _unreachable(self, run: FlowRun, exc: ConnectorError, code: str, connector: Connector) -> Outcome:
        detail = exc.message if exc.code != ConnectorCode.RATE_LIMITED else exc.code
        return Outcome(code, run.params({"system": connector.label, "detail": detail, "code": str(exc.code)}))

    def _settings_failed(self, exc: SettingsError) -> RunReport:
        report = RunReport(status=RunStatus.FAILED, error_code=SyncCode.SETTINGS_INVALID)
        report.error_params = {"problems": "; ".join(f"{k}: {v}" for k, v in exc.problems.items())}
        Run.objects.create(
            link=self.flow.link,
            flow=self.flow,
            kind=RunKind.SCHEDULED,
            status=RunStatus.FAILED,
            started_at=self.now(),
            finished_at=self.now(),
            error_code=report.error_code,
            error_params=report.error_params,
        )
        return report

    def _finish(self, run: FlowRun, failure: Outcome | None, stop: Stop | None) -> None:
        report = run.report
        report.api_calls = self.counter.count
        if failure is not None:
            report.status = RunStatus.FAILED
            report.error_code, report.error_params = str(failure.code), dict(failure.params)
        elif report.status != RunStatus.FAILED and (report.failed or report.needs_review):
            report.status = RunStatus.PARTIAL
        if stop is not None and stop.reason == "deadline" and not report.error_code:
            report.error_code, report.error_params = (
                SyncCode.RUN_DEADLINE,
                {"seconds": int(_deadline_seconds())},
            )
        self._backlog(run, stop)
        now = self.now()
        with transaction.atomic():
            if run.run_row is not None:
                Run.objects.filter(pk=run.run_row.pk).update(
                    status=report.status,
                    finished_at=now,
                    fetched=report.fetched,
                    pushed=report.pushed,
                    failed=report.failed,
                    skipped=report.skipped,
                    deferred=report.deferred,
                    api_calls=report.api_calls,
                    error_code=report.error_code,
                    error_params=report.error_params,
                )
            measured = {"slots_per_record": report.slots_per_record} if report.slots_per_record else {}
            Flow.objects.filter(pk=self.flow.pk).update(
                last_run_at=now,
                waiting_until=report.waiting_until,
                backlog=report.backlog,
                backlog_eta=report.eta,
                **measured,
            )
            type(self.flow.link).objects.filter(pk=self.flow.link_id).update(last_run_at=now)
            if report.paused:
                return
            backfill.close_finished(self.flow, now)
            self._watch_reachability(report)
            if report.pushed_ids and self.kind.reconciles:
                from .tasks import enqueue_reconcile

                enqueue_reconcile(self.flow.pk, list(report.pushed_ids))

    def _backlog(self, run: FlowRun, stop: Stop | None) -> None:
        """How many wait, when the next may go, and when all should be done (rate limits)."""
        report = run.report
        report.backlog = (
            SyncRecord.objects.filter(
                flow=self.flow, object_type=self.kind.object_type, state=RecordState.PENDING
            )
            .exclude(IN_PAUSED_BACKFILL)
            .count()
        )
        if stop is not None and stop.reason == "rate_limited":
            report.waiting_until = stop.retry_at
        if report.pushed:
            # a record costs its write slot plus the slots its calls took (a look-up before a create,
            # say), as this run measured them: an ETA of one slot a record was 6.5× too early
            own = 0 if run.target_paced else 1  # a paced target's writes are among its calls
            report.slots_per_record = own + self.target_call_slots / report.pushed
        if report.backlog:
            report.eta = self.eta(report.backlog, slots_each=report.slots_per_record)

    def eta(self, waiting: int, *, slots_each: float | None = None) -> dt.datetime | None:
        """When ``waiting`` records should all be written, within the target's limits: each costs
        ``slots_each`` slots, by default what the flow's last pushing run measured."""
        each = slots_each or self.flow.slots_per_record
        return self.limiter.eta(self.target, self.kind.writes, waiting, self.now(), slots_each=each)

    def _watch_reachability(self, report: RunReport) -> None:
        """Several failed runs in a row: one alert (no pause — retrying is right); the first run that
        gets through closes it."""
        link = self.flow.link
        if report.status != RunStatus.FAILED:
            alerts.close_alert(link, AlertKind.UNREACHABLE)
            return
        recent = list(
            Run.objects.filter(flow=self.flow)
            .order_by("-started_at")
            .values_list("status", flat=True)[:UNREACHABLE_AFTER_RUNS]
        )
        if len(recent) == UNREACHABLE_AFTER_RUNS and all(status == RunStatus.FAILED for status in recent):
            params = {"runs": UNREACHABLE_AFTER_RUNS, "detail": report.error_params.get("detail", "")}
            alerts.open_alert(
                link, AlertKind.UNREACHABLE, SyncCode.ALERT_UNREACHABLE, params, pause=False, flow=self.flow
            )


def _deadline_seconds() -> float:
    from django.conf import settings

    return float(settings.KOPPELING.get("RUN_DEADLINE_SECONDS", 1800))
