"""Concurrency: several worker processes, and every order pushed three more times at once; one invoice each.

The shop's orders (every one eligible) sync into Acumulus (both served over HTTP by a process of
their own; Acumulus answers after ``--latency`` seconds so the workers really overlap). The queue
gets one run of the flow per worker and then, for every order, three Verwerk tasks in a row
(``tasks.push_record_now``, the priority path duplicate webhooks take) — consecutive tasks, so
different workers take them at the same moment. ``--workers`` ``koppeling worker`` processes
(one thread each) work the queue until it is empty and nothing is left to push.

Goal: exactly one invoice per order in the target, no order left pending, failed or in review,
no worker traceback. Defaults: 4 workers on PostgreSQL with the Redis queue; ``--database
sqlite --workers 2`` is the embedded default (one SQLite file, Huey's SQLite queue).
Run: ``python -m benchmarks.concurrency [--workers 4] [--orders 500] [--database postgres|sqlite]``.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from typing import Any

from benchmarks import harness

VERWERK_TIMES = 3


def run(
    *,
    workers: int,
    orders: int,
    database: str,
    queue: str | None = None,
    latency: float = 0.01,
    seed: int = 5,
    postgres: str = harness.DEFAULT_POSTGRES,
    redis: str = harness.DEFAULT_REDIS,
) -> dict[str, Any]:
    config = harness.SimConfig(orders=orders, seed=seed, books_latency=latency, shop_latency=latency / 2)
    started = time.monotonic()
    with (
        harness.SimHost(config) as sims,
        harness.environment(database, queue, vies_url=sims.vies, postgres=postgres, redis=redis) as env,
    ):
        from huey.contrib.djhuey import HUEY

        from koppeling.sync.models import ActivityEvent, Run
        from koppeling.sync.tasks import push_record_now, sync_flow

        flow = harness.make_flow(0, sims.shops[0], sims.books)
        harness.hold_schedule([flow])
        for _ in range(workers):
            sync_flow(flow.pk, priority=10)  # level with Verwerk, so they run side by side
        for number in range(1001, 1001 + orders):
            for _ in range(VERWERK_TIMES):
                push_record_now(flow.pk, str(number))
        queued = HUEY.pending_count()
        pool = [harness.Worker(env, name=f"w{i}") for i in range(workers)]
        try:
            done = harness.wait_settled([flow], timeout=120 + orders * VERWERK_TIMES * 1.5, workers=pool)
        finally:
            harness.stop_all(pool)
        seconds = time.monotonic() - started
        timeline = _timeline(flow, pool[0].started_wall)
        result = harness.verdict([flow], sims, orders)
        runs = Counter(Run.objects.filter(flow=flow).values_list("kind", "status"))
        claim_lost = ActivityEvent.objects.filter(flow=flow, code="claim_lost").count()
        tracebacks = sorted({line for worker in pool for line in worker.tracebacks()})
        queue_name = env.queue
    states = result["ledger_states"]
    clean = set(states) <= {"pushed"} and states.get("pushed", 0) == orders
    ok = done and clean and not result["duplicates"] and not result["missing"] and not tracebacks
    return {
        "name": "concurrency",
        "metric": "orders_without_exactly_one_invoice",
        "value": len(result["duplicates"]) + len(result["missing"]),
        "goal": 0,
        "ok": ok,
        "workers": workers,
        "database": database,
        "queue": queue_name,
        "orders": orders,
        "tasks_queued": queued,
        "verwerk_per_order": VERWERK_TIMES,
        "invoices": result["invoices"],
        "duplicates": result["duplicates"],
        "missing": result["missing"],
        "ledger_states": states,
        "runs": {f"{kind}/{status}": n for (kind, status), n in runs.items()},
        "claim_lost_events": claim_lost,
        "settled": done,
        "worker_tracebacks": tracebacks,
        "seconds": round(seconds, 1),
        "machine": harness.machine(),
        "timeline": timeline,
    }


def _timeline(flow, workers_started: float) -> dict[str, float]:
    """When the first run started and the last one ended, in seconds after the workers started."""
    from django.db.models import Max, Min

    from koppeling.sync.models import Run

    span = Run.objects.filter(flow=flow).aggregate(first=Min("started_at"), last=Max("finished_at"))
    return {
        name: round(moment.timestamp() - workers_started, 2)
        for name, moment in span.items()
        if moment is not None
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument(
        "--queue", choices=("redis", "sqlite"), default=None, help="default: redis with postgres"
    )
    parser.add_argument("--latency", type=float, default=0.01)
    parser.add_argument("--postgres", default=harness.DEFAULT_POSTGRES)
    parser.add_argument("--redis", default=harness.DEFAULT_REDIS)
    args = parser.parse_args(argv)
    result = run(
        workers=args.workers,
        orders=args.orders,
        database=args.database,
        queue=args.queue,
        latency=args.latency,
        postgres=args.postgres,
        redis=args.redis,
    )
    print(
        f"{result['workers']} workers on {result['database']} + {result['queue']} queue, "
        f"{result['orders']} orders, "
        f"each also pushed {VERWERK_TIMES}x through Verwerk ({result['tasks_queued']} tasks): "
        f"{result['invoices']} invoices, {len(result['duplicates'])} duplicates, "
        f"{len(result['missing'])} missing; "
        f"ledger {result['ledger_states']}; runs {result['runs']}; {result['seconds']} s"
    )
    harness.emit(result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
