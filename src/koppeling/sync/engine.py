"""The engine of a link: runs its flows (``sync.runner.FlowRunner``) and reports them as one.

Exactly-once and the other guarantees live in the stages: ``ledger`` (the one writer of state),
``fetching`` (cursor and decisions), ``pushing`` / ``batches`` (claims, attempts, rate limits),
``recovery`` and ``reconcile``. This module only chooses which flows run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone

from koppeling.connectors.base import Capability, Connector

from .flowkinds import kind_of
from .models import Flow, FlowStatus, Link
from .pushing import backoff_seconds
from .ratelimit import Limiter
from .runner import FlowRunner
from .runstate import CHECKPOINTS, RunReport, SimulatedCrash

__all__ = ["CHECKPOINTS", "Engine", "RunReport", "SimulatedCrash", "backoff_seconds"]


class Engine:
    """Runs the active flows of one link (or just ``flow``); one per run."""

    def __init__(
        self,
        link: Link,
        *,
        flow: Flow | None = None,
        kind: str | None = None,
        source: Connector | None = None,
        target: Connector | None = None,
        now: Callable[[], dt.datetime] = timezone.now,
        crash_at: str | None = None,
        rate_limiter: Limiter | None = None,
    ) -> None:
        self.link = link
        flows = (
            [flow] if flow is not None else list(link.flows.select_related("source", "target").order_by("pk"))
        )
        if kind is not None:
            flows = [f for f in flows if f.kind == kind]
        for each in flows:
            each.link = link  # one object: a pause by one flow is seen by the next
        self.runners = [
            FlowRunner(
                each, source=source, target=target, now=now, crash_at=crash_at, rate_limiter=rate_limiter
            )
            for each in flows
        ]
        self.report = RunReport()

    @property
    def source(self) -> Connector:
        """The first flow's source connector (tests patch it; the CLI reads statuses from it)."""
        return self.runners[0].source

    @property
    def target(self) -> Connector:
        return self.runners[0].target

    def run(self, **options: object) -> RunReport:
        """One run of each active flow; a single order (``order_number``) only for order flows."""
        self.report = report = RunReport()
        if not self.runners:
            report.status = "failed"
        for runner in self.runners:
            flow = runner.flow
            if flow.status != FlowStatus.ACTIVE and not options.get("dry_run"):
                continue
            if options.get("order_number") and kind_of(flow.kind).reads != Capability.READS_ORDERS:
                continue
            report.merge(runner.run(**options))  # type: ignore[arg-type]
        return report

    def close(self) -> None:
        for runner in self.runners:
            runner.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
