"""Crash: ``kill -9`` a real worker N times at random moments of one sync; every order booked once.

A shop with ``--orders`` orders (every one eligible) syncs into Acumulus; both simulators are served
over HTTP by a process of their own that outlives every worker, so what Acumulus booked survives
each kill. Each *life* queues a run of the flow (what the dispatcher does every minute), starts a
``koppeling worker`` process and, for all but the last life, kills it with SIGKILL at a random
moment:

- *early* (about one life in five): a random time between the start of the process and the
  moment the previous lives booked their first invoice — during start-up recovery, the fetch or
  the first claims;
- *while pushing*: once the target booked ``k`` more invoices in this life (``k`` drawn so the kills
  spread over the whole sync), plus a random 0 … 2 × latency — in the middle of calls, between
  the target's answer and the ledger's update, or between batches.

The last life runs to the end. Rows a kill left "maybe sent" wait for a person (Acumulus cannot be
searched by order number): the harness does what the person does — looks the reference up in the
target and marks it booked, or confirms it is not there — and a final worker pushes those.
Then the invoices in the target are counted per reference: 0 duplicates, 0 missing is the goal.

Run: ``python -m benchmarks.chaos_kill [--kills 100] [--orders 500] [--database postgres|sqlite]``.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from typing import Any

from benchmarks import harness


def _life(env, flow, sims: harness.SimHost, rng: random.Random, plan: dict[str, Any]) -> dict[str, Any]:
    """One worker life that ends in ``kill -9``."""
    before = sims.booked_count()
    harness.enqueue_sync([flow])
    worker = harness.Worker(env, name="chaos")
    remaining = max(plan["orders"] - before, 0)
    per_life = remaining / max(plan["kills_left"], 1)
    # the first life measures how long a start takes; an early kill needs that measure
    early = remaining == 0 or (bool(plan["first_seen"]) and (rng.random() < 0.2 or per_life < 1))
    life: dict[str, Any] = {"booked_before": before, "pid": worker.pid}
    if early:
        delay = rng.uniform(0.0, plan["first_booking_after"])
        life["trigger"] = f"early {delay:.2f}s"
        _sleep_while_alive(worker, delay)
    else:
        k = min(rng.randint(1, max(1, round(2 * per_life))), remaining)
        life["trigger"] = f"after {k} booked"
        first = _wait_booked(worker, sims, flow, before + 1, timeout=plan["life_timeout"])
        if first is not None:
            plan["first_seen"].append(first)
        if k > 1:
            _wait_booked(worker, sims, flow, before + k, timeout=plan["life_timeout"])
        _sleep_while_alive(worker, rng.uniform(0.0, 2 * plan["latency"]))
    life["alive_at_kill"] = worker.alive()
    life["seconds"] = round(time.monotonic() - worker.started, 3)
    worker.kill9()
    life["booked_after"] = sims.booked_count()
    life["tracebacks"] = worker.tracebacks()
    return life


def _sleep_while_alive(worker: harness.Worker, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and worker.alive():
        time.sleep(min(0.002, max(end - time.monotonic(), 0)))


def _wait_booked(
    worker: harness.Worker, sims: harness.SimHost, flow, count: int, *, timeout: float
) -> float | None:
    """Seconds after the worker's start until the target holds ``count`` invoices (None: never —
    the worker finished what it could, e.g. the rest waits for a person)."""
    end = time.monotonic() + timeout
    polls = 0
    while time.monotonic() < end and worker.alive():
        if sims.booked_count() >= count:
            return time.monotonic() - worker.started
        polls += 1
        if polls % 200 == 0 and time.monotonic() - worker.started > 3 and harness.idle([flow]):
            return None
        time.sleep(0.001)
    return None


def _finish(env, flow, sims: harness.SimHost, timeout: float) -> dict[str, Any]:
    """The last life: a worker that is never killed, until nothing is left to do."""
    harness.enqueue_sync([flow])
    worker = harness.Worker(env, name="final")
    try:
        done = harness.wait_settled([flow], timeout=timeout, workers=[worker])
    finally:
        worker.stop()
    return {"settled": done, "tracebacks": worker.tracebacks()}


def run(
    *,
    kills: int,
    orders: int,
    database: str,
    queue: str | None = None,
    latency: float = 0.02,
    seed: int = 1,
    postgres: str = harness.DEFAULT_POSTGRES,
    redis: str = harness.DEFAULT_REDIS,
) -> dict[str, Any]:
    rng = random.Random(seed)
    config = harness.SimConfig(orders=orders, seed=seed, books_latency=latency)
    started = time.monotonic()
    with (
        harness.SimHost(config) as sims,
        harness.environment(database, queue, vies_url=sims.vies, postgres=postgres, redis=redis) as env,
    ):
        flow = harness.make_flow(0, sims.shops[0], sims.books)
        plan: dict[str, Any] = {
            "orders": orders,
            "latency": latency,
            "first_booking_after": 2.0,
            "first_seen": [],
            "life_timeout": 60.0 + orders * latency,
        }
        lives = []
        for done in range(kills):
            plan["kills_left"] = kills - done
            if plan["first_seen"]:
                plan["first_booking_after"] = sum(plan["first_seen"]) / len(plan["first_seen"])
            lives.append(_life(env, flow, sims, rng, plan))
        final = _finish(env, flow, sims, timeout=120.0 + orders * latency * 2)
        from koppeling.sync.models import RecordState, SyncRecord

        review = SyncRecord.objects.filter(flow=flow, state=RecordState.NEEDS_REVIEW).count()
        person = harness.resolve_reviews([flow], sims)
        if person["confirmed_not_booked"]:
            final_after_review = _finish(env, flow, sims, timeout=60.0 + orders * latency)
        else:
            final_after_review = {"settled": True, "tracebacks": []}
        result = harness.verdict([flow], sims, orders)
        attempts = _attempt_outcomes(flow)
        stats = sims.stats()
    tracebacks = [t for life in lives for t in life["tracebacks"]] + final["tracebacks"]
    tracebacks += final_after_review["tracebacks"]
    killed_while_pushing = sum(1 for life in lives if life["booked_after"] > life["booked_before"])
    ok = (
        not result["duplicates"]
        and not result["missing"]
        and final["settled"]
        and final_after_review["settled"]
        and len(lives) == kills
    )
    return {
        "name": "chaos_kill",
        "metric": "duplicates_plus_missing_invoices",
        "value": len(result["duplicates"]) + len(result["missing"]),
        "goal": 0,
        "ok": ok,
        "kills": len(lives),
        "kills_while_booking": killed_while_pushing,
        "kills_early": sum(1 for life in lives if life["trigger"].startswith("early")),
        "orders": orders,
        "database": database,
        "queue": env.queue,
        "invoices": result["invoices"],
        "duplicates": result["duplicates"],
        "missing": result["missing"],
        "needs_review_after_kills": review,
        "person": person,
        "ledger_states": result["ledger_states"],
        "attempt_outcomes": attempts,
        "acumulus_requests": stats["books_requests"],
        "settled": final["settled"] and final_after_review["settled"],
        "worker_tracebacks": sorted(set(tracebacks)),
        "seconds": round(time.monotonic() - started, 1),
        "machine": harness.machine(),
        "lives": lives,
    }


def _attempt_outcomes(flow) -> dict[str, int]:
    from collections import Counter

    from koppeling.sync.models import SyncAttempt

    return dict(Counter(SyncAttempt.objects.filter(record__flow=flow).values_list("outcome", flat=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument(
        "--queue", choices=("redis", "sqlite"), default=None, help="default: redis with postgres"
    )
    parser.add_argument("--latency", type=float, default=0.02, help="seconds Acumulus takes per answer")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", default=harness.DEFAULT_POSTGRES, help="server (a database is created)")
    parser.add_argument("--redis", default=harness.DEFAULT_REDIS)
    parser.add_argument("--lives", action="store_true", help="print one line per worker life")
    args = parser.parse_args(argv)
    result = run(
        kills=args.kills,
        orders=args.orders,
        database=args.database,
        queue=args.queue,
        latency=args.latency,
        seed=args.seed,
        postgres=args.postgres,
        redis=args.redis,
    )
    lives = result.pop("lives")
    if args.lives:
        for number, life in enumerate(lives, 1):
            print(
                f"life {number:3d}: {life['trigger']:<16} killed at {life['seconds']:6.2f}s, "
                f"booked {life['booked_before']} -> {life['booked_after']}"
            )
    print(
        f"{result['kills']} kills ({result['kills_while_booking']} while booking, "
        f"{result['kills_early']} early) "
        f"during a sync of {result['orders']} orders on {result['database']} + {result['queue']} queue: "
        f"{result['invoices']} invoices, {len(result['duplicates'])} duplicates, "
        f"{len(result['missing'])} missing; "
        f"{result['needs_review_after_kills']} rows waited for a person ({result['person']}); "
        f"{result['seconds']} s"
    )
    harness.emit(result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
