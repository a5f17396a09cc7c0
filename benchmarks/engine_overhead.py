"""Engine overhead: N orders Mijnwebwinkel → Acumulus through the flow runtime vs a bare loop.

The bare loop makes the same fetch, VIES and push calls with the same clients (translation, the
invoice rules and the check every push runs included), sequentially, with no ledger, no activity
log and no database — the floor. Both sides run once on a few orders first (imports and
first-call caches are a worker's start-up, not per-order work). Two settings, each measured in one
run side by side:

1. **in-process simulators, no latency**: the runtime's bookkeeping laid bare, in **CPU seconds**
   of this process (both sides include the simulators' CPU). Goal: ≤ 2.0× the bare loop.
2. **simulators in another process on a localhost socket, answering after 25 ms** (a real
   network's shape): orders per second of the runtime against the ceiling its calls in flight
   allow (``max_in_flight ÷ latency``). Goal: ≥ 80 % of that ceiling. The bare sequential loop is
   reported beside it (it can do at most ``1 ÷ latency``).

Also: the API calls an incremental run makes when nothing changed (goal 1).
Run: ``python -m benchmarks.engine_overhead [--orders N] [--latency-orders N] [--latency 0.025]``.
The last line is one JSON object (see the design's benchmark convention).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time

# core is pure (no Django): importable before the settings are; the rest is imported once set up
from koppeling.core import vat
from koppeling.core.facts import InvoiceFacts
from koppeling.core.invoicing import check_invoice, order_to_invoice

IN_FLIGHT = 4  # Acumulus's max_in_flight
ALL_STATUSES = [str(i) for i in range(0, 20)]


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


def _serve_sims(orders: int, latency: float, pipe) -> None:
    """Child process: the two simulators on sockets; sends (urls, credentials), serves until told."""
    from koppeling.connectors.simserver import serve_wsgi

    shop, books = _sims(orders, latency)
    servers = [serve_wsgi(shop.wsgi), serve_wsgi(books.wsgi)]
    pipe.send((servers[0].url, shop.valid_credentials(), servers[1].url, books.valid_credentials()))
    pipe.recv()  # stop
    for server in servers:
        server.shutdown()


def bare_loop(shop_url: str, shop_creds: dict, books_url: str, books_creds: dict) -> tuple[float, float, int]:
    """Fetch every order and push each one, sequentially, with the same clients: no bookkeeping.

    Returns (wall seconds, CPU seconds, pushed)."""
    from koppeling.connectors.acumulus.client import AcumulusSettings, AcumulusTarget
    from koppeling.connectors.base import ConnectionConfig
    from koppeling.connectors.http import make_client
    from koppeling.connectors.mijnwebwinkel.client import MijnwebwinkelSource
    from koppeling.core.invoicing import InvoiceSettings

    source = MijnwebwinkelSource(
        ConnectionConfig("mijnwebwinkel", shop_url, shop_creds), make_client(shop_url)
    )
    target = AcumulusTarget(ConnectionConfig("acumulus", books_url, books_creds), make_client(books_url))
    rules = BareRules(InvoiceSettings(totals_method=AcumulusTarget.totals_method))
    target_settings = AcumulusSettings(accounts={"*": "1"}, cost_centers={"*": "1"})
    wall, cpu = time.perf_counter(), time.process_time()
    pushed = 0
    for fetched in source.fetch_changed(None):
        if fetched.item is None:
            continue
        target.push_invoice(rules.invoice(fetched.item), target_settings)
        pushed += 1
    return time.perf_counter() - wall, time.process_time() - cpu, pushed


class BareRules:
    """What the engine decides for every order, without its bookkeeping: the invoice rules
    (``order_to_invoice`` and ``check_invoice``, run before every push) and the VIES answer about
    an EU business customer's number — asked with the same client, once per number (the engine
    asks once per number per run too), remembered in a plain dict instead of the database."""

    def __init__(self, settings) -> None:
        from koppeling.connectors.base import ConnectionConfig
        from koppeling.connectors.vies.client import ViesChecker

        self.settings = settings
        self.vies = ViesChecker(ConnectionConfig("vies", "", {"requester_vat_number": REQUESTER}))
        self.answers: dict = {}

    def invoice(self, order):
        facts = None
        number = order.customer.vat_number
        country = (order.delivery or order.customer).country_code.upper() or order.customer.country_code
        if number and vat.is_eu(country, order.date) and country != "NL":
            if number not in self.answers:
                self.answers[number] = self.vies.check_number(number)
            facts = InvoiceFacts(vat_check=self.answers[number])
        invoice = order_to_invoice(order, self.settings, facts=facts)
        check_invoice(invoice)
        return invoice


#: the shop's own VAT number, as the engine's settings give it (VIES asks who is asking)
REQUESTER = ""


def mount_vies() -> None:
    """The engine asks VIES about EU business customers: the simulator answers, in-process."""
    from koppeling.connectors import http as kh
    from koppeling.connectors.vies.client import ViesChecker
    from koppeling.connectors.vies.simulator import ViesSimulator

    kh.mount_wsgi(ViesChecker.default_base_url, ViesSimulator().wsgi)


def pooled_loop(shop_url: str, shop_creds: dict, books_url: str, books_creds: dict) -> tuple[float, int]:
    """The bare loop with ``IN_FLIGHT`` threads pushing: what the network allows with no bookkeeping."""
    from concurrent.futures import ThreadPoolExecutor

    from koppeling.connectors.acumulus.client import AcumulusSettings, AcumulusTarget
    from koppeling.connectors.base import ConnectionConfig
    from koppeling.connectors.http import make_client
    from koppeling.connectors.mijnwebwinkel.client import MijnwebwinkelSource
    from koppeling.core.invoicing import InvoiceSettings

    source = MijnwebwinkelSource(
        ConnectionConfig("mijnwebwinkel", shop_url, shop_creds), make_client(shop_url)
    )
    target = AcumulusTarget(ConnectionConfig("acumulus", books_url, books_creds), make_client(books_url))
    target_settings = AcumulusSettings(accounts={"*": "1"}, cost_centers={"*": "1"})
    wall = time.perf_counter()
    orders = [fetched.item for fetched in source.fetch_changed(None) if fetched.item is not None]
    rules = BareRules(InvoiceSettings(totals_method=AcumulusTarget.totals_method))

    def push(order):
        return target.push_invoice(rules.invoice(order), target_settings)

    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        list(pool.map(push, orders))
    return time.perf_counter() - wall, len(orders)


def engine_run(shop_url: str, shop_creds: dict, books_url: str, books_creds: dict, name: str):
    """One run of a fresh link through the runtime, then an idle run. Returns (wall, cpu, report, idle)."""
    from koppeling.sync.engine import Engine
    from koppeling.sync.models import Connection, Flow, Link, Organisation

    org, _ = Organisation.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    source = Connection(organisation=org, name=f"{name}-shop", system="mijnwebwinkel", base_url=shop_url)
    source.credentials = shop_creds
    source.save()
    target = Connection(organisation=org, name=f"{name}-books", system="acumulus", base_url=books_url)
    target.credentials = books_creds
    target.save()
    link = Link.objects.create(organisation=org, name=name, source=source, target=target)
    Flow.objects.create(
        link=link,
        kind="orders_to_invoices",
        source=source,
        target=target,
        settings={"statuses": ALL_STATUSES},
        target_settings={"accounts": {"*": "1"}, "cost_centers": {"*": "1"}},
    )
    wall, cpu = time.perf_counter(), time.process_time()
    with Engine(link) as engine:
        report = engine.run(kind="manual")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    with Engine(link) as engine:
        again = engine.run(kind="manual")
    return wall, cpu, report, again


def warm_up(orders: int = 20) -> None:
    """Both sides once on a few orders before anything is measured: imports, settings models and
    first-call caches are paid by a worker once, not per order (the engine's first run in a
    process costs ~0.25 s of them, which would be 7 % of a 3,000-order measurement)."""
    measure(orders, 0.0, "warm-up")


def measure(orders: int, latency: float, label: str) -> dict:
    """Both sides on identically seeded simulators: in-process (no latency) or in a child process."""
    from koppeling.connectors import http as kh

    results: dict = {}
    mount_vies()
    for who in ("bare", "pooled", "engine") if latency else ("bare", "engine"):
        child = pipe = None
        if latency:
            pipe, child_end = mp.Pipe()
            child = mp.get_context("spawn").Process(target=_serve_sims, args=(orders, latency, child_end))
            child.start()
            shop_url, shop_creds, books_url, books_creds = pipe.recv()
        else:
            shop, books = _sims(orders, 0.0)
            shop_url, books_url = f"http://shop-{label}-{who}.bench", f"http://books-{label}-{who}.bench"
            shop_creds, books_creds = shop.valid_credentials(), books.valid_credentials()
            kh.mount_wsgi(shop_url, shop.wsgi)
            kh.mount_wsgi(books_url, books.wsgi)
        try:
            if who == "bare":
                wall, cpu, pushed = bare_loop(shop_url, shop_creds, books_url, books_creds)
                results["bare"] = {"seconds": wall, "cpu": cpu, "pushed": pushed}
            elif who == "pooled":
                wall, pushed = pooled_loop(shop_url, shop_creds, books_url, books_creds)
                results["pooled_rate"] = pushed / wall
            else:
                wall, cpu, report, again = engine_run(shop_url, shop_creds, books_url, books_creds, label)
                results["engine"] = {
                    "seconds": wall,
                    "cpu": cpu,
                    "pushed": report.pushed,
                    "failed": report.failed,
                    "idle_api_calls": again.api_calls,
                    "second_run_pushed": again.pushed,
                }
        finally:
            if child is not None:
                pipe.send("stop")
                child.join(30)
    results["cpu_ratio"] = results["engine"]["cpu"] / max(results["bare"]["cpu"], 1e-9)
    results["ratio"] = results["engine"]["seconds"] / max(results["bare"]["seconds"], 1e-9)
    results["orders_per_second"] = results["engine"]["pushed"] / max(results["engine"]["seconds"], 1e-9)
    return results


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
        warm_up()
        fast = measure(args.orders, 0.0, "inproc")
        bare, engine = fast["bare"], fast["engine"]
        print(
            f"in-process, no latency, {args.orders} orders: bare {bare['cpu']:.2f} CPU s "
            f"({bare['cpu'] / args.orders * 1000:.3f} ms/order), engine {engine['cpu']:.2f} CPU s "
            f"({engine['cpu'] / args.orders * 1000:.3f} ms/order) -> CPU ratio {fast['cpu_ratio']:.2f} "
            "(goal <= 2.0)"
        )
        slow = measure(latency_orders, args.latency, "socket")
        ceiling = IN_FLIGHT / args.latency
        share = slow["orders_per_second"] / ceiling
        bare_rate = slow["bare"]["pushed"] / slow["bare"]["seconds"]
        print(
            f"socket in another process, {args.latency * 1000:.0f} ms per answer, {latency_orders} orders: "
            f"engine {slow['orders_per_second']:.1f} orders/s = {share:.0%} of the {ceiling:.0f}/s ceiling "
            f"({IN_FLIGHT} in flight; goal >= 80%); bare sequential loop {bare_rate:.1f} orders/s; "
            f"bare loop with {IN_FLIGHT} threads {slow['pooled_rate']:.1f} orders/s "
            f"(the engine does {slow['orders_per_second'] / slow['pooled_rate']:.0%} of that)"
        )
        idle = engine["idle_api_calls"]
        print(
            f"incremental run with nothing changed: {idle} API call(s) (goal 1); "
            f"second run pushed {engine['second_run_pushed']}"
        )
        ok = fast["cpu_ratio"] <= 2.0 and share >= 0.8 and idle == 1 and engine["failed"] == 0
        print(
            json.dumps(
                {
                    "name": "engine_overhead",
                    "metric": "engine_cpu_seconds_over_bare_loop_cpu_seconds",
                    "value": round(engine["cpu"], 4),
                    "baseline": round(bare["cpu"], 4),
                    "ratio": round(fast["cpu_ratio"], 3),
                    "goal": 2.0,
                    "latency_orders_per_second": round(slow["orders_per_second"], 1),
                    "latency_ceiling": round(ceiling, 1),
                    "latency_share_of_ceiling": round(share, 3),
                    "latency_goal": 0.8,
                    "latency_bare_orders_per_second": round(bare_rate, 1),
                    "latency_pooled_bare_orders_per_second": round(slow["pooled_rate"], 1),
                    "orders": args.orders,
                    "latency_orders": latency_orders,
                    "idle_api_calls": idle,
                    "ok": ok,
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
