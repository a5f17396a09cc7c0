"""Faults: a shop and Acumulus that fail 20 % of all requests; every order booked once anyway.

Both simulators are served over HTTP by a process of their own and answer a share of every request
(``--rate``, default 0.2) with a random fault (``koppeling.connectors.simfaults``): 5xx before or
after processing, 429 with Retry-After, a hang past the client's deadline (before or after
processing), an answer dripped a few bytes at a time, a connection dropped before or after
processing. Each connection's total call deadline is ``--deadline`` seconds (hangs last 1.5 ×
that, drips up to 2 ×, so some drips finish in time and some do not).

The runtime runs in this process on a simulated clock: after each run the clock moves to the next
moment anything is due (a retry's backoff, a rate-limit hold), so backoffs of minutes cost no
wall time while every call still crosses a real socket with real timeouts. Rows left "maybe sent"
(Acumulus cannot be searched by order number) wait for a person: when nothing else is due, the
harness does what the person does — looks the reference up in Acumulus, marks it booked or
confirms it is not there — and the runs go on.

Measured: invoices per order in the target (goal: every order exactly once), the retries the
ledger recorded (attempts per outcome) and the activity log's entries, runs and their outcomes.
Run: ``python -m benchmarks.faults [--orders 500] [--rate 0.2] [--database sqlite|postgres]``.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import traceback
from collections import Counter
from typing import Any

from benchmarks import harness


class Clock:
    """The runtime's clock: real time at the start, moved forward by the harness."""

    def __init__(self) -> None:
        self.moment = dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        return self.moment

    def advance(self, to: dt.datetime | None, *, at_least: float = 1.0) -> None:
        floor = self.moment + dt.timedelta(seconds=at_least)
        self.moment = max(to or floor, floor)


def _next_due(flow, clock: Clock) -> dt.datetime | None:
    """The earliest moment a waiting row may go, or the flow's rate-limit wait ends."""
    from django.db.models import Min

    from koppeling.sync.models import Flow, RecordState, SyncRecord

    due = SyncRecord.objects.filter(flow=flow, state=RecordState.PENDING).aggregate(Min("next_attempt_at"))
    moments = [due["next_attempt_at__min"], Flow.objects.get(pk=flow.pk).waiting_until]
    later = [m for m in moments if m is not None and m > clock.now()]
    return min(later) if later else None


def run(
    *,
    orders: int,
    rate: float,
    database: str = "sqlite",
    deadline: float = 1.0,
    seed: int = 3,
    max_runs: int = 400,
    postgres: str = harness.DEFAULT_POSTGRES,
) -> dict[str, Any]:
    fault_options = {"hang_seconds": 1.5 * deadline, "drip_seconds": 2.0 * deadline, "retry_after": 2}
    config = harness.SimConfig(
        orders=orders,
        seed=seed,
        shop_faults=(rate, fault_options),
        books_faults=(rate, fault_options),
    )
    started = time.monotonic()
    clock = Clock()
    person = Counter()
    statuses: Counter[str] = Counter()
    with (
        harness.SimHost(config) as sims,
        harness.environment(database, "sqlite", vies_url=sims.vies, postgres=postgres) as env,
    ):
        from koppeling.sync.engine import Engine
        from koppeling.sync.models import ActivityEvent, RecordState, Run, SyncAttempt, SyncRecord

        options = {"call_deadline_seconds": deadline}
        flow = harness.make_flow(0, sims.shops[0], sims.books, books_options=options, shop_options=options)
        runs = 0
        errors: list[str] = []
        while runs < max_runs:
            runs += 1
            try:
                with Engine(flow.link, now=clock.now) as engine:
                    report = engine.run()
            except Exception:
                errors.append(traceback.format_exc().strip().splitlines()[-1])
                statuses["exception"] += 1
                clock.advance(_next_due(flow, clock), at_least=60)
                continue
            statuses[report.status] += 1
            if not harness.settled([flow]) or report.status == "failed":
                clock.advance(_next_due(flow, clock))
                continue
            review = SyncRecord.objects.filter(flow=flow, state=RecordState.NEEDS_REVIEW)
            if not review.exists():
                if _everything_read(flow, orders):
                    break
                clock.advance(None, at_least=60)
                continue
            person.update(harness.resolve_reviews([flow], sims))
        result = harness.verdict([flow], sims, orders)
        attempts = Counter(SyncAttempt.objects.filter(record__flow=flow).values_list("outcome", flat=True))
        activity = Counter(ActivityEvent.objects.filter(flow=flow).values_list("code", flat=True))
        run_errors = Counter(
            Run.objects.filter(flow=flow).exclude(error_code="").values_list("error_code", flat=True)
        )
        retried = SyncRecord.objects.filter(flow=flow, attempts__gt=1).count()
        shown = _retries_shown(flow)
        stats = sims.stats()
        queue = env.queue
    delivered = not result["missing"] and not result["duplicates"] and not result["unexpected"]
    retries_recorded = sum(n for outcome, n in attempts.items() if outcome != "success") + sum(
        run_errors.values()
    )
    return {
        "name": "faults",
        "metric": "orders_not_booked_exactly_once",
        "value": len(result["missing"]) + len(result["duplicates"]),
        "goal": 0,
        "ok": delivered and runs < max_runs and not errors and (retries_recorded > 0 or not stats["faults"]),
        "orders": orders,
        "fault_rate": rate,
        "database": database,
        "queue": queue,
        "invoices": result["invoices"],
        "duplicates": result["duplicates"],
        "missing": result["missing"],
        "ledger_states": result["ledger_states"],
        "faults_injected": stats["faults"],
        "shop_requests": stats["shop_requests"],
        "acumulus_requests": stats["books_requests"],
        "attempt_outcomes": dict(attempts),
        "rows_with_retries": retried,
        "retries_recorded": retries_recorded,
        "orders_with_failed_attempts": shown["orders"],
        "of_those_in_activity_log": shown["in_activity_log"],
        "engine_exceptions": sorted(set(errors)),
        "activity_codes": dict(activity),
        "runs": runs,
        "run_statuses": dict(statuses),
        "run_errors": dict(run_errors),
        "person": dict(person),
        "simulated_hours": round((clock.now() - _start(clock, runs)).total_seconds() / 3600, 2),
        "seconds": round(time.monotonic() - started, 1),
        "machine": harness.machine(),
    }


def _start(clock: Clock, runs: int) -> dt.datetime:
    from koppeling.sync.models import Run

    first = Run.objects.order_by("started_at").values_list("started_at", flat=True).first()
    return first or clock.now()


def _retries_shown(flow) -> dict[str, int]:
    """Orders with an attempt that did not succeed, and how many of them the activity log shows
    anything for besides their booking (a retry, a wait, a review)."""
    from koppeling.sync.models import ActivityEvent, SyncAttempt

    troubled = set(
        SyncAttempt.objects.filter(record__flow=flow)
        .exclude(outcome="success")
        .values_list("record_id", flat=True)
    )
    logged = set(
        ActivityEvent.objects.filter(record_id__in=troubled)
        .exclude(code__in=["pushed", "pushed_concept"])
        .values_list("record_id", flat=True)
    )
    return {"orders": len(troubled), "in_activity_log": len(logged)}


def _everything_read(flow, orders: int) -> bool:
    """Every order of the shop has its ledger row (a fetch broken by faults may have stopped early)."""
    from koppeling.sync.models import SyncRecord

    return SyncRecord.objects.filter(flow=flow).count() >= orders


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--rate", type=float, default=0.2, help="share of requests that fail")
    parser.add_argument("--deadline", type=float, default=1.0, help="each call's total deadline (seconds)")
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="sqlite")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--postgres", default=harness.DEFAULT_POSTGRES)
    args = parser.parse_args(argv)
    result = run(
        orders=args.orders,
        rate=args.rate,
        database=args.database,
        deadline=args.deadline,
        seed=args.seed,
        postgres=args.postgres,
    )
    attempts = result["attempt_outcomes"]
    print(
        f"{result['orders']} orders, {result['fault_rate']:.0%} of all requests faulted "
        f"({sum(result['faults_injected'].values())} faults: {result['faults_injected']}): "
        f"{result['invoices']} invoices, {len(result['duplicates'])} duplicates, "
        f"{len(result['missing'])} missing; "
        f"attempts {attempts}; {result['rows_with_retries']} orders needed more than one attempt; "
        f"{result['runs']} runs {result['run_statuses']}; person {result['person']}; "
        f"{result['of_those_in_activity_log']} of {result['orders_with_failed_attempts']} orders "
        "with a failed "
        f"attempt show it in the activity log; "
        f"{result['simulated_hours']} simulated hours in {result['seconds']} s"
    )
    harness.emit(result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
