"""“Where is my order?”: one order's whole story in a link, told from the ledger and the shop.

For every order flow of the link: when the order was first seen, which import conditions it
meets (checked against the order as the shop has it now), each push attempt and its answer, as
which document it was booked, what the read-back found, and the activity rows about it — ending
with a verdict: booked, waiting (and for what), skipped (and why), failed (and what to do). An
order the ledger does not know is looked up in the shop, so "not fetched yet", "older than the
start date" and "not in the shop at all" are told apart without support.

Everything is a code with parameters (``sync.outcomes`` renders it in the reader's language).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from koppeling.connectors.errors import ConnectorError, NotFound

from .flow_settings import Condition
from .models import (
    ActivityEvent,
    BackfillStatus,
    Flow,
    Link,
    RecordState,
    SyncAttempt,
    SyncRecord,
)
from .outcomes import SyncCode

__all__ = ["Explanation", "FlowStory", "Step", "explain"]

ORDER_OBJECTS = ("order", "credit_order")


@dataclass(frozen=True)
class Step:
    """One thing that happened, at a time, as a code with parameters."""

    at: dt.datetime | None
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    level: str = "info"


@dataclass
class FlowStory:
    flow: Flow
    record: SyncRecord | None
    steps: list[Step] = field(default_factory=list)
    #: the import conditions checked against the order as the shop has it now (empty: not read)
    conditions: list[Condition] = field(default_factory=list)
    #: the order as read now could not be (why, as a step)
    lookup: Step | None = None
    verdict: Step | None = None


@dataclass
class Explanation:
    link: Link
    number: str
    stories: list[FlowStory]


def explain(
    link: Link,
    number: str,
    *,
    live: bool = True,
    runner_for: Callable[[Flow], Any] | None = None,
) -> Explanation:
    """The story of order ``number`` in every order flow of ``link``.

    ``live`` reads the order from the shop (one call per flow) to check the conditions now;
    ``runner_for`` builds the flow's runner (tests hand in simulators).
    """
    number = number.strip()
    stories = []
    flows = Flow.objects.filter(link=link).select_related("link").order_by("id")
    for flow in flows:
        if flow.kind not in ("orders_to_invoices", "credit_orders_to_notes"):
            continue
        record = _find(flow, number)
        story = FlowStory(flow=flow, record=record)
        if record is not None:
            story.steps = _history(record)
        if live:
            _check_now(story, number, runner_for)
        story.verdict = _verdict(story)
        stories.append(story)
    return Explanation(link=link, number=number, stories=stories)


def _find(flow: Flow, number: str) -> SyncRecord | None:
    rows = SyncRecord.objects.filter(flow=flow, object_type__in=ORDER_OBJECTS).select_related("backfill")
    return (
        rows.filter(source_number=number).first()
        or rows.filter(source_id=number).first()
        or rows.filter(reference=number).first()
    )


# -- the ledger's part ----------------------------------------------------------------------------------


def _history(record: SyncRecord) -> list[Step]:
    steps = [
        Step(
            record.first_seen_at,
            SyncCode.EXPLAIN_FIRST_SEEN,
            {"status": record.source_status, "date": record.order_date, "amount": record.amount_inc},
        )
    ]
    if record.backfill is not None:
        backfill = record.backfill
        steps.append(
            Step(
                backfill.created_at,
                SyncCode.EXPLAIN_IN_BACKFILL,
                {
                    "backfill": backfill.pk,
                    "start": backfill.start_date,
                    "end": backfill.end_date,
                    "status": backfill.status,
                },
            )
        )
    for attempt in SyncAttempt.objects.filter(record=record).order_by("started_at"):
        params = {"outcome": attempt.outcome, "status": attempt.status_code or "", "answer": attempt.code}
        level = "info" if attempt.outcome == "success" else "warning"
        steps.append(Step(attempt.started_at, SyncCode.EXPLAIN_ATTEMPT, params, level))
    for event in ActivityEvent.objects.filter(record=record).order_by("created_at", "id"):
        steps.append(Step(event.created_at, event.code, dict(event.params), event.level))
    if record.reconciled_at is not None:
        steps.append(
            Step(record.reconciled_at, SyncCode.EXPLAIN_READ_BACK, {"result": record.reconcile_status or "?"})
        )
        for problem in record.reconcile.get("problems", []) if isinstance(record.reconcile, dict) else []:
            if isinstance(problem, dict) and "code" in problem:
                steps.append(
                    Step(record.reconciled_at, problem["code"], problem.get("params", {}), "warning")
                )
    return sorted(steps, key=lambda s: s.at or dt.datetime.min.replace(tzinfo=dt.UTC))


# -- the shop's part -------------------------------------------------------------------------------------


def _check_now(story: FlowStory, number: str, runner_for: Callable[[Flow], Any] | None) -> None:
    from .runner import FlowRunner

    source_id = story.record.source_id if story.record is not None else number
    try:
        runner = runner_for(story.flow) if runner_for else FlowRunner(story.flow)
    except ConnectorError as exc:
        story.lookup = Step(None, SyncCode.EXPLAIN_SHOP_UNAVAILABLE, {"detail": str(exc.code)}, "warning")
        return
    try:
        run = runner.prepare_run()
        fetched = run.kind.fetch_one(runner.source, source_id)
        if fetched.item is None:
            code = str(fetched.error.code) if fetched.error else "?"
            story.lookup = Step(None, SyncCode.EXPLAIN_UNREADABLE, {"detail": code}, "error")
            return
        context = run.context_for(story.record)
        story.conditions = list(run.kind.conditions(fetched.item, context))
    except NotFound:
        story.lookup = Step(None, SyncCode.EXPLAIN_NOT_IN_SHOP, {"number": number}, "error")
    except ConnectorError as exc:
        story.lookup = Step(None, SyncCode.EXPLAIN_SHOP_UNAVAILABLE, {"detail": str(exc.code)}, "warning")
    finally:
        if runner_for is None:
            runner.close()


# -- the verdict -----------------------------------------------------------------------------------------


def _verdict(story: FlowStory) -> Step:
    record = story.record
    unmet = next((c for c in story.conditions if not c.met), None)
    if record is None:
        if story.lookup is not None and story.lookup.code == SyncCode.EXPLAIN_NOT_IN_SHOP:
            return story.lookup
        if unmet is not None:
            return Step(None, SyncCode.EXPLAIN_WOULD_SKIP, {"reason": unmet.reason})
        last = story.flow.last_run_at
        return Step(None, SyncCode.EXPLAIN_NOT_SEEN_YET, {"last_run": last}, "warning")
    state = record.state
    if state == RecordState.PUSHED:
        return Step(
            record.pushed_at, SyncCode.EXPLAIN_BOOKED, {"booked_as": record.target_number or record.target_id}
        )
    if state == RecordState.SKIPPED:
        return Step(record.updated_at, SyncCode.EXPLAIN_SKIPPED, {"reason": record.reason_code})
    if state == RecordState.PENDING:
        if record.backfill is not None and record.backfill.status == BackfillStatus.PAUSED:
            return Step(None, SyncCode.EXPLAIN_WAITING_BACKFILL_PAUSED, {"backfill": record.backfill_id})
        until = record.next_attempt_at or story.flow.waiting_until
        return Step(None, SyncCode.EXPLAIN_WAITING, {"until": until, "eta": story.flow.backlog_eta})
    if state == RecordState.PUSHING:
        return Step(record.claimed_at, SyncCode.EXPLAIN_PUSHING, {"worker": record.claimed_by})
    if state == RecordState.IGNORED:
        return Step(record.updated_at, SyncCode.EXPLAIN_IGNORED, {})
    # failed or needs review: the stored outcome says what and what to do
    return Step(record.updated_at, record.error_code or SyncCode.EXPLAIN_FAILED, dict(record.params), "error")
