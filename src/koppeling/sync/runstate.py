"""What one run of one flow carries through its stages (recover → fetch → decide → push).

Kept apart so the stages (``fetching``, ``pushing``, ``batches``, ``recovery``) share it without
importing each other or the runner.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings as django_settings

from koppeling.connectors.base import Connector
from koppeling.core.messages import Outcome, jsonable

from .flowkinds import FlowContext, FlowKind
from .models import ActivityEvent, ActivityLevel, Flow, Link, Run, RunStatus, SyncRecord
from .ratelimit import Limiter, Slot
from .redact import Redactor

__all__ = ["CHECKPOINTS", "FlowRun", "RunReport", "SimulatedCrash"]


class SimulatedCrash(BaseException):
    """Raised by a crash hook in tests: nothing in the runtime catches a BaseException."""


#: names of the points where tests may crash the runtime
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
    """What a run did, for the CLI, the tasks and the tests."""

    run_id: int | None = None
    fetched: int = 0
    pushed: int = 0
    failed: int = 0
    skipped: int = 0
    needs_review: int = 0
    recovered: int = 0
    deferred: int = 0
    api_calls: int = 0
    paused: str = ""
    status: str = RunStatus.OK
    error_code: str = ""
    error_params: dict[str, Any] = field(default_factory=dict)
    #: rate limits: when the next write may go, and when the backlog should be done
    waiting_until: dt.datetime | None = None
    backlog: int = 0
    eta: dt.datetime | None = None
    #: rate-limit slots a record cost the target in this run (None when nothing was pushed)
    slots_per_record: float | None = None
    pushed_ids: list[int] = field(default_factory=list)
    would_push: list[tuple[str, Any]] = field(default_factory=list)
    would_fail: list[tuple[str, Outcome]] = field(default_factory=list)

    def merge(self, other: RunReport) -> None:
        """Add another flow's run to this one (a link's runs reported as one)."""
        for name in (
            "fetched",
            "pushed",
            "failed",
            "skipped",
            "needs_review",
            "recovered",
            "deferred",
            "api_calls",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.paused = self.paused or other.paused
        order = {RunStatus.OK: 0, RunStatus.PARTIAL: 1, RunStatus.FAILED: 2}
        if order.get(other.status, 0) > order.get(self.status, 0):
            self.status = other.status
        if other.error_code and not self.error_code:
            self.error_code, self.error_params = other.error_code, other.error_params
        self.run_id = self.run_id or other.run_id
        self.backlog += other.backlog
        for name in ("waiting_until", "eta"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if theirs is not None and (mine is None or theirs > mine):
                setattr(self, name, theirs)
        self.pushed_ids += other.pushed_ids
        self.would_push += other.would_push
        self.would_fail += other.would_fail


@dataclass
class FlowRun:
    """One run of one flow: the flow, its two connectors, the clock, and what was read so far."""

    flow: Flow
    kind: FlowKind
    context: FlowContext
    source: Connector
    target: Connector
    limiter: Limiter
    now: Callable[[], dt.datetime]
    report: RunReport = field(default_factory=RunReport)
    crash_at: str | None = None
    run_row: Run | None = None
    #: domain items read in this run, by source id (saves a fetch per push)
    items: dict[str, Any] = field(default_factory=dict)
    deadline: float = field(default_factory=lambda: time.monotonic() + _run_deadline())
    redactor: Redactor = field(default_factory=lambda: Redactor(()))
    #: the runner takes a slot of the target's every-request limits for each of its requests
    #: (``FlowRunner._pace_every_call``): a write then takes only the limits on writes
    target_paced: bool = False
    _backfill_context: FlowContext | None = field(default=None, repr=False)

    @property
    def link(self) -> Link:
        return self.flow.link

    def context_for(self, record: SyncRecord | None, *, backfill: bool = False) -> FlowContext:
        """The context a record is decided in: a backfill's rows (past orders a person asked for)
        are not held to the flow's start date or start number; everything else is."""
        if not backfill and (record is None or record.backfill_id is None):
            return self.context
        if self._backfill_context is None:
            settings = self.context.settings
            past = {name: None for name in ("from_date", "from_number") if hasattr(settings, name)}
            self._backfill_context = replace(self.context, settings=settings.model_copy(update=past))
        return self._backfill_context

    def checkpoint(self, name: str) -> None:
        if self.crash_at == name:
            raise SimulatedCrash(name)

    def write_slot(self, *, check_hold: bool = True) -> Slot:
        """A rate-limit slot for one write to the target: the limits on its writes, and those on
        every request unless each request takes its own (``target_paced``)."""
        paced = self.target_paced
        return self.limiter.take(
            self.target, self.kind.writes, self.now(), check_hold=check_hold, every_request=not paced
        )

    def past_deadline(self) -> bool:
        return time.monotonic() > self.deadline

    def params(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Outcome parameters as stored: JSON values, every credential of both connections redacted."""
        return self.redactor.params(jsonable(dict(params or {})))

    def outcome(self, outcome: Outcome) -> dict[str, Any]:
        return {"code": str(outcome.code), "params": self.params(outcome.as_dict()["params"])}

    def event(
        self,
        level: str,
        code: str,
        params: Mapping[str, Any] | None = None,
        record: SyncRecord | None = None,
    ) -> ActivityEvent:
        """An activity row (not saved): callers write them in bulk inside their transaction."""
        return ActivityEvent(  # by ids: setting related objects costs Django a check each
            organisation_id=self.flow.link.organisation_id,
            link_id=self.flow.link_id,
            flow_id=self.flow.pk,
            run_id=self.run_row.pk if self.run_row is not None else None,
            record_id=record.pk if record is not None else None,
            level=level,
            code=str(code),
            params=self.params(params),
            created_at=self.now(),
        )

    def info(self, code: str, params: Mapping[str, Any] | None = None, record: SyncRecord | None = None):
        return self.event(ActivityLevel.INFO, code, params, record)


def _run_deadline() -> float:
    return float(django_settings.KOPPELING.get("RUN_DEADLINE_SECONDS", 1800))
