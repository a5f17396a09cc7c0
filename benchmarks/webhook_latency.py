"""Webhook latency: a paid Lightspeed order → its invoice in Acumulus, through the webhook path.

Everything real but the shops: the Lightspeed, Acumulus and VIES simulators on localhost sockets,
koppeling's web app on a socket (the endpoint ``POST /hooks/<token>/``), and **one** ``koppeling
worker --workers 1`` process on a fresh database and queue (``benchmarks.harness``). For each
event the merchant marks an unpaid order paid; the simulator sends its signed deliveries
(``updated`` and ``paid``: one event, one duplicate) to the endpoint; the clock stops when the
invoice is in the target. Events come one at a time with random pauses between them
(``--gap-min``/``--gap-max`` seconds): a quiet worker polls its queue less often, so the pause is
part of what is measured: an idle Huey worker polls a SQLite queue ever less often (up to every
10 s), so after long pauses (``--gap-min 40 --gap-max 60``) the wait for the poll dominates;
``--max-delay 1`` runs the same consumer polling at most every second. Redis blocks instead.

Goal: p95 < 2 s with one worker. Also checked: exactly one invoice per event (the duplicate did
nothing), none missing. Run: ``python -m benchmarks.webhook_latency [--events 40] [--queue
sqlite|redis] [--database sqlite|postgres]``. The last line is one JSON object.

``measure_inline`` is the same path in one thread (the queue runs its task at once, the app is
called in-process): the tiny run in ``tests/benchmarks`` that keeps this module from rotting.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

GOAL_P95_SECONDS = 2.0
SELECTED = "paid/processing_awaiting_shipment"
PLAN = {"calls_5min": 1000, "calls_hour": 12000, "calls_day": 288000}


def make_flow(shop: Any, shop_url: str, books: Any, books_url: str, public_url: str) -> tuple[Any, Any]:
    """A Lightspeed → Acumulus orders → invoices flow with its webhook registered; booked up to now
    (a first run), and no scheduled or scan run due during the measurement."""
    from django.utils import timezone

    from koppeling.sync import webhooks
    from koppeling.sync.engine import Engine
    from koppeling.sync.models import Connection, Flow, Link, Organisation
    from koppeling.sync.webhook_models import WebhookSubscription

    org, _ = Organisation.objects.get_or_create(slug="webhook-bench", defaults={"name": "Webhook bench"})
    source = Connection(organisation=org, name="Lightspeed", system="lightspeed", base_url=shop_url)
    source.credentials = {"api_key": shop.api_key, "api_secret": shop.api_secret}
    source.options = {"language": "nl", "account_limits": PLAN}
    source.save()
    target = Connection(organisation=org, name="Acumulus", system="acumulus", base_url=books_url)
    target.credentials = books.valid_credentials()
    target.save()
    link = Link.objects.create(organisation=org, name="Webhook bench", source=source, target=target)
    flow = Flow.objects.create(
        link=link,
        kind="orders_to_invoices",
        source=source,
        target=target,
        settings={"version": 2, "statuses": [SELECTED]},
        target_settings={"version": 1, "accounts": {"*": "1"}, "cost_centers": {"*": "1"}},
    )
    with Engine(link) as engine:
        engine.run()
    sub = webhooks.enable(flow, public_url=public_url)
    later = timezone.now() + dt.timedelta(days=1)
    Flow.objects.filter(pk=flow.pk).update(next_run_at=later, last_run_at=timezone.now())
    WebhookSubscription.objects.filter(pk=sub.pk).update(scanned_at=later, checked_at=later)
    shop.outbox.clear()
    return flow, sub


def hooks_routed() -> Callable[[], None]:
    """Make ``/hooks/`` reachable even before the root URLs include it; returns the undo."""
    import types

    from django.conf import settings
    from django.urls import NoReverseMatch, clear_url_caches, include, path, reverse

    try:
        reverse("hooks:receive", args=["x"])
        return lambda: None
    except NoReverseMatch:
        pass
    root = settings.ROOT_URLCONF
    module = types.ModuleType("benchmarks._webhook_urls")
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("hooks/", include("koppeling.web.webhook_urls")),
        path("", include(root)),
    ]
    sys.modules[module.__name__] = module
    settings.ROOT_URLCONF = module.__name__
    clear_url_caches()

    def undo() -> None:
        settings.ROOT_URLCONF = root
        clear_url_caches()

    return undo


def seeded_shop(events: int, seed: int) -> Any:
    from koppeling.connectors.lightspeed.simulator import LightspeedSimulator

    shop = LightspeedSimulator(rate_limits=tuple(PLAN.values()))
    shop.seed(events * 6 + 20, seed=seed, start=dt.datetime.now(dt.UTC) - dt.timedelta(days=2), days=2)
    return shop


def candidates(shop: Any) -> list[int]:
    """Unpaid orders that become plain invoices once paid (no intra-EU business sale at 0 %)."""
    return [
        oid
        for oid, state in sorted(shop.store.orders.items())
        if state.fields["paymentStatus"] == "not_paid"
        and state.fields["status"]
        in ("processing_awaiting_payment", "processing_awaiting_shipment", "on_hold")
        and not state.fields["_vat_shifted"]
    ]


def run_events(
    shop: Any,
    books: Any,
    deliver: Callable[[], list[tuple[Any, int | None]]],
    events: int,
    *,
    gaps: tuple[float, float],
    timeout: float,
    seed: int,
) -> dict[str, Any]:
    """``events`` orders paid one after another; seconds from payment to invoice, per event."""
    rng = random.Random(seed)
    orders = candidates(shop)[:events]
    if len(orders) < events:
        raise SystemExit(f"the seed has only {len(orders)} unpaid orders for {events} events")
    latencies: list[float] = []
    missed = 0
    refused = 0
    for oid in orders:
        time.sleep(rng.uniform(*gaps))
        before = len(books.invoices)
        start = time.perf_counter()
        shop.set_status(oid, "processing_awaiting_shipment", payment_status="paid")
        refused += sum(1 for _, status in deliver() if status != 200)
        while len(books.invoices) <= before and time.perf_counter() - start < timeout:
            time.sleep(0.005)
        if len(books.invoices) > before:
            latencies.append(time.perf_counter() - start)
        else:
            missed += 1
    return {"latencies": latencies, "missed": missed, "refused": refused, "orders": orders}


def summary(outcome: dict[str, Any], books: Any, booked_before: int, **facts: Any) -> dict[str, Any]:
    latencies = sorted(outcome["latencies"])
    events = len(outcome["orders"])
    invoices = len(books.invoices) - booked_before

    def pct(q: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, round(q * (len(latencies) - 1)))], 3)

    p95 = pct(0.95)
    return {
        "benchmark": "webhook_latency",
        "events": events,
        "p50_s": pct(0.5),
        "p95_s": p95,
        "max_s": round(latencies[-1], 3) if latencies else None,
        "mean_s": round(statistics.fmean(latencies), 3) if latencies else None,
        "goal_p95_s": GOAL_P95_SECONDS,
        "invoices": invoices,
        "duplicates": max(0, invoices - events),
        "missed": outcome["missed"],
        "refused_deliveries": outcome["refused"],
        "ok": bool(
            p95 is not None and p95 < GOAL_P95_SECONDS and invoices == events and not outcome["refused"]
        ),
        **facts,
    }


def measure_inline(events: int = 3, *, seed: int = 5) -> dict[str, Any]:
    """The whole path in this thread (Huey immediate, the app in-process): for tests; needs Django
    set up on a database whose transactions commit (on_commit must fire)."""
    import httpx
    from django.core.handlers.wsgi import WSGIHandler
    from huey.contrib.djhuey import HUEY

    from koppeling.connectors import http as kh
    from koppeling.connectors.acumulus.simulator import AcumulusSimulator

    shop, books = seeded_shop(events, seed), AcumulusSimulator()
    shop_url, books_url = "http://lightspeed.webhook.bench", "http://acumulus.webhook.bench"
    kh.mount_wsgi(shop_url, shop.wsgi)
    kh.mount_wsgi(books_url, books.wsgi)
    immediate = HUEY.immediate
    HUEY.immediate = True
    unroute = hooks_routed()
    app = httpx.Client(transport=httpx.WSGITransport(app=WSGIHandler()), base_url="http://testserver")
    try:
        _, sub = make_flow(shop, shop_url, books, books_url, "http://testserver")
        booked = len(books.invoices)
        outcome = run_events(
            shop, books, lambda: shop.deliver(app), events, gaps=(0.0, 0.0), timeout=10, seed=seed
        )
        return summary(outcome, books, booked, queue="immediate", workers=0, token_length=len(sub.token))
    finally:
        app.close()
        unroute()
        HUEY.immediate = immediate
        kh.unmount(shop_url)
        kh.unmount(books_url)


def measure(
    events: int,
    *,
    database: str = "sqlite",
    queue: str | None = None,
    gaps: tuple[float, float] = (0.2, 3.0),
    seed: int = 5,
    timeout: float = 30.0,
    postgres: str | None = None,
    redis: str = "redis://127.0.0.1:6379/10",
    max_delay: float | None = None,
) -> dict[str, Any]:
    """The real thing: sockets, the web app, one ``koppeling worker --workers 1`` process (with
    ``max_delay``: the same consumer, polling an idle queue at most that many seconds apart)."""
    from benchmarks import harness
    from koppeling.connectors.acumulus.simulator import AcumulusSimulator
    from koppeling.connectors.simserver import serve_wsgi
    from koppeling.connectors.vies.simulator import ViesSimulator

    load_before = _load()
    vies = serve_wsgi(ViesSimulator().wsgi)
    shop, books = seeded_shop(events, seed), AcumulusSimulator()
    servers = [vies, serve_wsgi(shop.wsgi), serve_wsgi(books.wsgi)]
    options = {"vies_url": vies.url, "redis": redis}
    if postgres:
        options["postgres"] = postgres
    try:
        with harness.environment(database, queue, **options) as env:
            import httpx
            from django.core.handlers.wsgi import WSGIHandler

            hooks_routed()
            web = serve_wsgi(WSGIHandler())
            servers.append(web)
            make_flow(shop, servers[1].url, books, servers[2].url, web.url)
            booked = len(books.invoices)
            worker = _worker(env, max_delay)
            try:
                _wait_for_worker(worker)
                with httpx.Client(timeout=10) as http:
                    outcome = run_events(
                        shop, books, lambda: shop.deliver(http), events, gaps=gaps, timeout=timeout, seed=seed
                    )
                tracebacks = worker.tracebacks()
            finally:
                worker.stop()
            return summary(
                outcome,
                books,
                booked,
                database=database,
                queue=env.queue,
                workers=1,
                worker=f"consumer, max_delay {max_delay} s" if max_delay else "koppeling worker --workers 1",
                gaps_s=list(gaps),
                load_avg_1min=[load_before, _load()],
                worker_tracebacks=tracebacks,
            )
    finally:
        for server in servers:
            server.shutdown()


def _load() -> float:
    """The machine's 1-minute load average: latency on a busy machine says little about koppeling."""
    import os

    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return -1.0


def _worker(env: Any, max_delay: float | None) -> Any:
    """``koppeling worker --workers 1``, or this module's consumer with another ``max_delay``."""
    import os
    import subprocess
    import uuid

    from benchmarks import harness

    if max_delay is None:
        return harness.Worker(env, threads=1, name="webhook-worker")
    worker = harness.Worker.__new__(harness.Worker)
    worker.log_path = env.data_dir / f"webhook-worker-{uuid.uuid4().hex[:6]}.log"
    worker._log = worker.log_path.open("wb")
    worker.started = time.monotonic()
    worker.proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.webhook_latency", "--consume", "--max-delay", str(max_delay)],
        env={**os.environ, **env.variables()},
        stdout=worker._log,
        stderr=subprocess.STDOUT,
    )
    return worker


def consume(max_delay: float) -> int:
    """What ``koppeling worker --workers 1`` runs, polling an idle queue at most ``max_delay`` apart."""
    from koppeling.cli import _django

    _django()
    from huey.contrib.djhuey import HUEY

    import koppeling.web.ops.cleanup  # noqa: F401  (its periodic tasks, as `koppeling worker` does)

    HUEY.create_consumer(workers=1, worker_type="thread", periodic=True, max_delay=max_delay).run()
    return 0


def _wait_for_worker(worker: Any, seconds: float = 20.0) -> None:
    """Until the worker process has started its consumer (its log says so) or ``seconds`` passed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and worker.alive():
        text = worker.log_path.read_text(errors="replace") if worker.log_path.exists() else ""
        if "worker" in text.lower() or time.monotonic() - worker.started > 3:
            return
        time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--queue", choices=("sqlite", "redis"), default=None, help="default: sqlite")
    parser.add_argument("--gap-min", type=float, default=0.2, help="seconds between events, at least")
    parser.add_argument("--gap-max", type=float, default=3.0, help="seconds between events, at most")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--postgres", default=None, help="server (a database is created)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/10")
    parser.add_argument(
        "--max-delay",
        type=float,
        default=None,
        help="run the worker's consumer polling an idle queue at most this many seconds apart "
        "(default: `koppeling worker` as it is)",
    )
    parser.add_argument("--consume", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.consume:
        return consume(args.max_delay or 10.0)
    if args.events < 1 or not 0 <= args.gap_min <= args.gap_max:
        parser.error("--events must be at least 1 and 0 <= --gap-min <= --gap-max")
    result = measure(
        args.events,
        database=args.database,
        queue=args.queue or "sqlite",
        gaps=(args.gap_min, args.gap_max),
        seed=args.seed,
        postgres=args.postgres,
        redis=args.redis,
        max_delay=args.max_delay,
    )
    print(
        f"{result['events']} webhooks → invoices with one worker ({result['database']} + {result['queue']} "
        f"queue): p50 {result['p50_s']} s, p95 {result['p95_s']} s, max {result['max_s']} s; "
        f"{result['invoices']} invoices, {result['missed']} missed (goal p95 < {GOAL_P95_SECONDS} s)"
    )
    from benchmarks.harness import emit

    emit(result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
