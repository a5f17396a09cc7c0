"""Scale-out: orders per second with 2 worker processes against 1, simulators answering after 25 ms.

``--flows`` organisations (default 4) each have a shop of ``--orders`` ÷ flows orders syncing into
Acumulus; the shops and Acumulus are served over HTTP by a process of their own and answer every
request after ``--latency`` seconds. Each setting gets a fresh database and fresh simulators:
``--workers-a`` (1) and then ``--workers-b`` (2) ``koppeling worker`` processes (one thread each,
``--threads``) are started and given ``--warmup`` seconds to load; then one run of every flow is
queued, and the clock runs until the target holds every order's invoice.

Throughput = orders ÷ (last invoice booked − runs queued). Goal: the 2-process setting does at
least 1.8 × the orders per second of the 1-process one, each order booked once. Defaults run on
PostgreSQL with the Redis queue (the scale-out configuration); ``--database sqlite`` for the
embedded default. Run: ``python -m benchmarks.scale_out [--orders 500] [--flows 4]``. The last
line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from benchmarks import harness

GOAL = 1.8


def measure(
    *,
    workers: int,
    threads: int,
    orders: int,
    flows: int,
    latency: float,
    database: str,
    queue: str | None,
    warmup: float,
    postgres: str = harness.DEFAULT_POSTGRES,
    redis: str = harness.DEFAULT_REDIS,
) -> dict[str, Any]:
    """One setting: ``workers`` processes sync ``orders`` orders spread over ``flows`` flows."""
    per_flow = max(1, orders // flows)
    config = harness.SimConfig(
        orders=per_flow, shops=flows, seed=21, shop_latency=latency, books_latency=latency
    )
    with (
        harness.SimHost(config) as sims,
        harness.environment(database, queue, vies_url=sims.vies, postgres=postgres, redis=redis) as env,
    ):
        all_flows = [harness.make_flow(i, shop, sims.books) for i, shop in enumerate(sims.shops)]
        harness.hold_schedule(all_flows)
        pool = [harness.Worker(env, threads=threads, name=f"scale{i}") for i in range(workers)]
        try:
            time.sleep(warmup)
            cpu_before = _children_cpu()
            sims_cpu_before = sims.ask("cpu")
            wall_start = time.time()
            started = time.monotonic()
            harness.enqueue_sync(all_flows)
            total = per_flow * flows
            finished = None
            deadline = started + 60 + total * latency * 4
            while time.monotonic() < deadline and any(w.alive() for w in pool):
                if sims.booked_count() >= total:
                    finished = time.monotonic()
                    break
                time.sleep(0.01)
            sims_cpu = sims.ask("cpu") - sims_cpu_before
            harness.wait_settled(all_flows, timeout=60, workers=pool)
        finally:
            harness.stop_all(pool)
        worker_cpu = _children_cpu() - cpu_before
        result = harness.verdict(all_flows, sims, per_flow)
        runs = _runs(all_flows, wall_start)
        first_start = _first_start(all_flows, wall_start)
        tracebacks = sorted({line for worker in pool for line in worker.tracebacks()})
        queue_name = env.queue
    seconds = (finished - started) if finished else float("nan")
    return {
        "workers": workers,
        "threads": threads,
        "orders": per_flow * flows,
        "seconds": round(seconds, 3),
        "orders_per_second": round(per_flow * flows / seconds, 2) if finished else 0.0,
        # from the first run's start: without the time an idle worker takes to notice the queue
        "first_run_started_after": round(first_start, 3),
        "orders_per_second_running": (
            round(per_flow * flows / (seconds - first_start), 2)
            if finished and seconds > first_start
            else 0.0
        ),
        "finished": finished is not None,
        "duplicates": len(result["duplicates"]),
        "missing": len(result["missing"]),
        "worker_cpu_seconds": round(worker_cpu, 2),
        "simulators_cpu_seconds": round(sims_cpu, 2),
        "worker_tracebacks": tracebacks,
        "queue": queue_name,
        "runs": runs,
    }


def _runs(flows: list[Any], wall_start: float) -> list[str]:
    """Each run: its flow, worker, start and end (seconds after the runs were queued), pushed."""
    from koppeling.sync.models import Run

    out = []
    for r in Run.objects.filter(flow__in=flows).order_by("started_at"):
        begin = r.started_at.timestamp() - wall_start
        end = (r.finished_at.timestamp() - wall_start) if r.finished_at else float("nan")
        out.append(
            f"flow {r.flow_id} {r.kind} by {r.worker.split(':')[1]}: {begin:.2f}-{end:.2f}s pushed {r.pushed}"
        )
    return out


def _first_start(flows: list[Any], wall_start: float) -> float:
    from django.db.models import Min

    from koppeling.sync.models import Run

    first = Run.objects.filter(flow__in=flows).aggregate(first=Min("started_at"))["first"]
    return max(first.timestamp() - wall_start, 0.0) if first else 0.0


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def _setting(workers: int, options: dict[str, Any]) -> dict[str, Any]:
    """One setting in a process of its own (each has its own database and queue settings)."""
    args = [sys.executable, "-m", "benchmarks.scale_out", "--only", str(workers)]
    for name, value in options.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    if options.get("queue") is None:
        args = args[: args.index("--queue")] + args[args.index("--queue") + 2 :]
    done = subprocess.run(args, capture_output=True, text=True, check=False, cwd=harness.REPO)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"scale_out setting with {workers} worker(s) failed:\n{done.stdout}\n{done.stderr}"
        )
    return json.loads(lines[-1])


def run(**options: Any) -> dict[str, Any]:
    workers_a = options.pop("workers_a")
    workers_b = options.pop("workers_b")
    one = _setting(workers_a, options)
    two = _setting(workers_b, options)
    ratio = two["orders_per_second"] / one["orders_per_second"] if one["orders_per_second"] else 0.0
    running = (
        two["orders_per_second_running"] / one["orders_per_second_running"]
        if one["orders_per_second_running"]
        else 0.0
    )
    clean = not (one["duplicates"] or one["missing"] or two["duplicates"] or two["missing"])
    return {
        "name": "scale_out",
        "metric": f"orders_per_second_{workers_b}_workers_over_{workers_a}",
        "value": two["orders_per_second"],
        "baseline": one["orders_per_second"],
        "ratio": round(ratio, 3),
        "ratio_running": round(running, 3),
        "goal": GOAL,
        "ok": ratio >= GOAL and clean and one["finished"] and two["finished"],
        "exactly_once": clean,
        "database": options["database"],
        "latency": options["latency"],
        "flows": options["flows"],
        "cpus": os.cpu_count(),
        "machine": harness.machine(),
        "settings": [one, two],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--flows", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.025)
    parser.add_argument("--workers-a", type=int, default=1)
    parser.add_argument("--workers-b", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="Huey threads per worker process")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds the workers get to start")
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument(
        "--queue", choices=("redis", "sqlite"), default=None, help="default: redis with postgres"
    )
    parser.add_argument("--postgres", default=harness.DEFAULT_POSTGRES)
    parser.add_argument("--redis", default=harness.DEFAULT_REDIS)
    parser.add_argument("--only", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    options = {
        "threads": args.threads,
        "orders": args.orders,
        "flows": args.flows,
        "latency": args.latency,
        "database": args.database,
        "queue": args.queue,
        "warmup": args.warmup,
        "postgres": args.postgres,
        "redis": args.redis,
    }
    if args.only is not None:  # one setting, in this process
        harness.emit(measure(workers=args.only, **options))
        return 0
    result = run(workers_a=args.workers_a, workers_b=args.workers_b, **options)
    for setting in result["settings"]:
        print(
            f"{setting['workers']} worker process(es) x {setting['threads']} thread(s), "
            f"{setting['orders']} orders "
            f"over {result['flows']} flows, {result['latency'] * 1000:.0f} ms per answer: "
            f"{setting['seconds']} s "
            f"= {setting['orders_per_second']} orders/s; workers used {setting['worker_cpu_seconds']} CPU s "
            f"(start-up and read-back included), the simulators {setting['simulators_cpu_seconds']} CPU s; "
            f"duplicates {setting['duplicates']}, missing {setting['missing']}"
        )
    print(
        f"ratio {result['ratio']} (goal >= {GOAL}; {result['ratio_running']} counted from the first run's "
        f"start) on {result['cpus']} CPUs, load {result['machine']['load_average']}"
    )
    harness.emit(result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
