"""Rate-limited: N invoices into a target that takes 60 an hour, on a simulated clock.

The target (the Acumulus simulator with a rolling-window limit, refusing with 429 + Retry-After past
it) and the connection that declares the same limit share one simulated clock with the runtime and
its rate limiter. A dispatcher loop plays the worker: it runs the flow whenever the flow says its
next slot is free (``Flow.waiting_until``, the moment a worker's scheduled task would start) and
otherwise moves the clock a minute on.

Measured: when the last invoice was booked (the optimum for a rolling window of 60 an hour is
``(⌈N/60⌉ − 1)`` hours after the start: ⌈N/60⌉ windows), how many 429s the target had to give
(goal: at most one), how many orders failed (goal: none), and how far the ETA the runtime showed
after its first minute was from the real finish (goal: within 5 %).
Run: ``python -m benchmarks.rate_limited [--orders N] [--limit 60]``. The last line is one JSON
object (see the design's benchmark convention).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import tempfile

START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
HOUR = 3600


class Clock:
    """One simulated clock for the runtime, its limiter and the simulated target."""

    def __init__(self, start: dt.datetime) -> None:
        self.moment = start

    def now(self) -> dt.datetime:
        return self.moment

    def epoch(self) -> float:
        return self.moment.timestamp()


def _setup(orders: int, limit: int, clock: Clock):
    from koppeling.connectors import http as kh
    from koppeling.connectors.acumulus.simulator import AcumulusSimulator
    from koppeling.connectors.mijnwebwinkel.simulator import MijnwebwinkelSimulator
    from koppeling.sync.models import Connection, Flow, Link, Organisation

    shop = MijnwebwinkelSimulator()
    shop.seed(orders, seed=9, start=(START - dt.timedelta(days=3)).date(), days=2)
    for number in shop.order_numbers():
        shop.set_status(number, 3, at=dt.datetime(2026, 12, 1, 12, 0))
    books = AcumulusSimulator(rate_limit=(limit, HOUR), clock=clock.epoch)
    kh.mount_wsgi("http://shop.rate.bench", shop.wsgi)
    kh.mount_wsgi("http://books.rate.bench", books.wsgi)
    from benchmarks.engine_overhead import mount_vies

    mount_vies()
    org = Organisation.objects.create(name="Rate", slug="rate")
    source = Connection(
        organisation=org, name="shop", system="mijnwebwinkel", base_url="http://shop.rate.bench"
    )
    source.credentials = shop.valid_credentials()
    source.save()
    declared = [
        {"name": "invoices", "limit": limit, "period_seconds": HOUR, "applies_to": ["writes_invoices"]}
    ]
    target = Connection(
        organisation=org,
        name="books",
        system="acumulus",
        base_url="http://books.rate.bench",
        options={"rate_limits": declared},
    )
    target.credentials = books.valid_credentials()
    target.save()
    link = Link.objects.create(organisation=org, name="rate", source=source, target=target)
    flow = Flow.objects.create(
        link=link,
        kind="orders_to_invoices",
        source=source,
        target=target,
        settings={"statuses": ["3"], "from_date": "2026-11-01", "order_prefix": "WA"},
        target_settings={"accounts": {"*": "1"}, "cost_centers": {"*": "1"}},
    )
    return books, link, flow


def simulate(orders: int, limit: int = 60, max_runs: int = 10_000) -> dict:
    """Run the flow on the simulated clock until every order is booked; returns the figures."""
    from koppeling.sync.engine import Engine
    from koppeling.sync.models import Flow, RecordState, SyncRecord

    clock = Clock(START)
    books, link, flow = _setup(orders, limit, clock)
    first_eta: dt.datetime | None = None
    runs = failed = 0
    while runs < max_runs:
        with Engine(link, now=clock.now) as engine:
            report = engine.run()
        runs += 1
        failed += report.failed
        flow = Flow.objects.get(pk=flow.pk)
        if first_eta is None and clock.moment - START <= dt.timedelta(minutes=1):
            first_eta = flow.backlog_eta
        if not SyncRecord.objects.filter(link=link, state=RecordState.PENDING).exists():
            break
        # the worker wakes when the next slot is free, else a minute later (the dispatcher)
        nxt = flow.waiting_until or clock.moment + dt.timedelta(minutes=1)
        clock.moment = max(nxt, clock.moment + dt.timedelta(seconds=1))
    pushed = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED)
    last = max(pushed.values_list("pushed_at", flat=True))
    elapsed_h = (last - START).total_seconds() / HOUR
    optimum_h = math.ceil(orders / limit) - 1
    eta_error = (
        abs((first_eta - last).total_seconds()) / max((last - START).total_seconds(), 1) if first_eta else 1.0
    )
    return {
        "orders": orders,
        "limit_per_hour": limit,
        "pushed": pushed.count(),
        "failed": failed + SyncRecord.objects.filter(link=link, state=RecordState.FAILED).count(),
        "runs": runs,
        "rate_limited_answers": books.rate_limited_count,
        "last_booked_after_hours": round(elapsed_h, 4),
        "optimum_hours": optimum_h,
        "windows_used": math.floor(elapsed_h) + 1,
        "windows_needed": math.ceil(orders / limit),
        "first_eta_after_hours": round((first_eta - START).total_seconds() / HOUR, 4) if first_eta else None,
        "eta_error": round(eta_error, 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=60)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="koppeling-bench-") as data_dir:
        from benchmarks.engine_overhead import _setup_django

        _setup_django(data_dir)
        result = simulate(args.orders, args.limit)
    on_time = abs(result["last_booked_after_hours"] - result["optimum_hours"]) <= 0.01 * max(
        result["optimum_hours"], 1
    )
    ok = (
        on_time
        and result["windows_used"] == result["windows_needed"]
        and result["rate_limited_answers"] <= 1
        and result["failed"] == 0
        and result["pushed"] == args.orders
        and result["eta_error"] <= 0.05
    )
    r = result
    print(
        f"{args.orders} invoices at {args.limit}/hour: all booked after {r['last_booked_after_hours']:.2f} "
        f"simulated hours, in {r['windows_used']} hourly windows (needed {r['windows_needed']}; "
        f"optimum {r['optimum_hours']} h after the start), {r['runs']} runs, "
        f"{r['rate_limited_answers']} answers 429, {r['failed']} failed; "
        f"ETA after the first minute {r['first_eta_after_hours']} h ({r['eta_error']:.1%} off)"
    )
    print(
        json.dumps(
            {
                "name": "rate_limited",
                "metric": "simulated_hours_until_the_last_booking",
                "value": result["last_booked_after_hours"],
                "baseline": result["optimum_hours"],
                "ratio": round(result["last_booked_after_hours"] / max(result["optimum_hours"], 1), 4),
                "goal": "within 1% of the optimum, at most one 429, none failed, ETA within 5%",
                **{k: v for k, v in result.items() if k not in ("last_booked_after_hours", "optimum_hours")},
                "ok": ok,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
