"""Engine overhead: N orders Mijnwebwinkel → Acumulus through the engine vs a bare loop.

The bare loop makes the same fetch and push calls with the same clients, sequentially, with no
ledger, no activity log and no database at all — the floor. Two settings:

1. simulators in-process, no latency: the engine's bookkeeping cost laid bare (goal ratio ≤ 2.0);
2. simulators on a localhost socket answering after 25 ms: the engine keeps several requests in
   flight where the bare loop waits for each (goal ratio ≤ 0.5).

Also: orders/second, and the API calls an incremental sync makes when nothing changed (goal 1).
Run: ``python -m benchmarks.engine_overhead [--orders N] [--latency-orders N] [--latency 0.025]``.
The last line is one JSON object (see the design's benchmark convention).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time


def _setup_django(data_dir: str) -> None:
    os.environ["KOPPELING_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koppeling.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _sims(orders: int, latency: float):
    from koppeling.connectors.acumulus.simulator import AcumulusSimulator
    from koppeling.connectors.mijnwebwinkel.simulator import MijnwebwinkelSimulator

    shop = MijnwebwinkelSimulator()
    shop.seed(orders, seed=3, start=dt.date.today() - dt.timedelta(days=20), days=20)
    books = AcumulusSimulator()
    shop.latency = books.latency = latency
    return shop, books


ALL_STATUSES = [str(i) for i in range(0, 20)]


def bare_loop(shop_url: str, shop_creds: dict, books_url: str, books_creds: dict) -> tuple[float, int]:
    """Fetch every order and push each one, sequentially, with the same clients: no bookkeeping."""
    from koppeling.connectors.acumulus.client import AcumulusTarget
    from koppeling.connectors.base import ConnectionConfig
    from koppeling.connectors.http import make_client
    from koppeling.connectors.mijnwebwinkel.client import MijnwebwinkelSource
    from koppeling.core.invoicing import InvoiceSettings, order_to_invoice

    source = MijnwebwinkelSource(
        ConnectionConfig("mijnwebwinkel", shop_url, shop_creds), make_client(shop_url)
    )
    target = AcumulusTarget(ConnectionConfig("acumulus", books_url, books_creds), make_client(books_url))
    settings = InvoiceSettings(account="1", cost_center="1")
    start = time.perf_counter()
    pushed = 0
    for fetched in source.fetch_changed(None):
        if fetched.order is None:
            continue
        target.push_invoice(order_to_invoice(fetched.order, settings))
        pushed += 1
    return time.perf_counter() - start, pushed


def engine_run(shop_url: str, shop_creds: dict, books_url: str, books_creds: dict, name: str):
    from koppeling.sync.engine import Engine
    from koppeling.sync.models import Connection, Link, Organisation

    org, _ = Organisation.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    source = Connection(organisation=org, name=f"{name}-shop", system="mijnwebwinkel", base_url=shop_url)
    source.credentials = shop_creds
    source.save()
    target = Connection(organisation=org, name=f"{name}-books", system="acumulus", base_url=books_url)
    target.credentials = books_creds
    target.save()
    link = Link.objects.create(
        organisation=org,
        name=name,
        source=source,
        target=target,
        settings={"statuses": ALL_STATUSES, "accounts": {"*": "1"}, "cost_centers": {"*": "1"}},
    )
    start = time.perf_counter()
    report = Engine(link).run(kind="manual")
    elapsed = time.perf_counter() - start
    again = Engine(link).run(kind="manual")
    return elapsed, report, again


def measure(orders: int, latency: float, label: str) -> dict:
    from koppeling.connectors import http as kh
    from koppeling.connectors.simserver import serve_wsgi

    # bare loop and engine each get their own, identically seeded simulators
    results = {}
    for who in ("bare", "engine"):
        shop, books = _sims(orders, latency)
        servers = []
        if latency:
            shop_srv, books_srv = serve_wsgi(shop.wsgi), serve_wsgi(books.wsgi)
            servers = [shop_srv, books_srv]
            shop_url, books_url = shop_srv.url, books_srv.url
        else:
            shop_url, books_url = f"http://shop-{label}-{who}.bench", f"http://books-{label}-{who}.bench"
            kh.mount_wsgi(shop_url, shop.wsgi)
            kh.mount_wsgi(books_url, books.wsgi)
        try:
            if who == "bare":
                elapsed, pushed = bare_loop(
                    shop_url, shop.valid_credentials(), books_url, books.valid_credentials()
                )
                results["bare"] = {"seconds": elapsed, "pushed": pushed}
            else:
                elapsed, report, again = engine_run(
                    shop_url, shop.valid_credentials(), books_url, books.valid_credentials(), f"{label}"
                )
                results["engine"] = {
                    "seconds": elapsed,
                    "pushed": report.pushed,
                    "failed": report.failed,
                    "idle_api_calls": again.api_calls,
                    "second_run_pushed": again.pushed,
                }
        finally:
            for srv in servers:
                srv.shutdown()
    ratio = results["engine"]["seconds"] / results["bare"]["seconds"]
    results["ratio"] = ratio
    return results


def _line(setting: str, orders: int, result: dict, goal: float) -> str:
    bare, engine = result["bare"]["seconds"], result["engine"]["seconds"]
    rate = result["engine"]["pushed"] / engine
    return (
        f"{setting}, {orders} orders: bare {bare:.2f} s ({bare / orders * 1000:.3f} ms/order), "
        f"engine {engine:.2f} s ({rate:.0f} orders/s) -> ratio {result['ratio']:.2f} (goal <= {goal})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--latency-orders", type=int, default=None, help="orders for the latency setting")
    parser.add_argument("--latency", type=float, default=0.025)
    args = parser.parse_args(argv)
    latency_orders = args.latency_orders or args.orders

    with tempfile.TemporaryDirectory(prefix="koppeling-bench-") as data_dir:
        _setup_django(data_dir)
        fast = measure(args.orders, 0.0, "inproc")
        print(_line("in-process, no latency", args.orders, fast, 2.0))
        slow = measure(latency_orders, args.latency, "socket")
        print(_line(f"socket, {args.latency * 1000:.0f} ms latency", latency_orders, slow, 0.5))
        idle = fast["engine"]["idle_api_calls"]
        print(
            f"incremental sync with nothing changed: {idle} API call(s) (goal 1); "
            f"second run pushed {fast['engine']['second_run_pushed']}"
        )
        ok = fast["ratio"] <= 2.0 and slow["ratio"] <= 0.5 and idle == 1 and fast["engine"]["failed"] == 0
        print(
            json.dumps(
                {
                    "name": "engine_overhead",
                    "metric": "engine_seconds_over_bare_loop_seconds",
                    "value": round(fast["engine"]["seconds"], 4),
                    "baseline": round(fast["bare"]["seconds"], 4),
                    "ratio": round(fast["ratio"], 3),
                    "goal": 2.0,
                    "latency_value": round(slow["engine"]["seconds"], 4),
                    "latency_baseline": round(slow["bare"]["seconds"], 4),
                    "latency_ratio": round(slow["ratio"], 3),
                    "latency_goal": 0.5,
                    "orders": args.orders,
                    "latency_orders": latency_orders,
                    "orders_per_second": round(fast["engine"]["pushed"] / fast["engine"]["seconds"], 1),
                    "idle_api_calls": idle,
                    "ok": ok,
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
