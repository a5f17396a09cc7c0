"""``koppeling demo``: the whole product on the embedded default, with simulators and seeded orders.

Serves both simulators on localhost sockets (so the connections are ordinary base URLs, exactly as
they would be for the real APIs), seeds a shop, creates the demo sign-in, organisation,
connections and link, runs the first sync where you can see it, then serves the web app with an
in-process worker.
"""

from __future__ import annotations

import datetime as dt
import os

from django.contrib.auth import get_user_model
from django.db import transaction

DEMO_USER = "demo"
DEMO_PASSWORD = "koppeling-demo"  # noqa: S105 - documented demo sign-in, local only


def start_simulators(orders: int, host: str = "127.0.0.1", ports: tuple[int, int] = (0, 0)):
    from koppeling.connectors.acumulus.simulator import AcumulusSimulator
    from koppeling.connectors.mijnwebwinkel.simulator import MijnwebwinkelSimulator
    from koppeling.connectors.simserver import serve_wsgi

    shop = MijnwebwinkelSimulator()
    today = dt.date.today()
    shop.seed(orders, seed=7, start=today - dt.timedelta(days=6), days=6)
    books = AcumulusSimulator(trial=False)
    seed_problems(shop, books)
    return (
        shop,
        books,
        serve_wsgi(shop.wsgi, host=host, port=ports[0]),
        serve_wsgi(books.wsgi, host=host, port=ports[1]),
    )


#: a payment method of the demo shop that the demo's settings book on an account Acumulus lacks
UNKNOWN_ACCOUNT_METHOD = "afterpay"
UNKNOWN_ACCOUNT = "99"


#: in a shop seeded with 12 orders from seed 11: a Belgian business order at 0 % (an
#: intra-community supply), and a Dutch consumer's paid order (no VIES check: the demo runs
#: without the internet)
BUSINESS_ORDER, CONSUMER_ORDER = 1001, 1006


def _template_order(number: int) -> dict:
    """Order ``number`` of a shop seeded with 11, as the shop's API gives it, to add again."""
    import copy

    from koppeling.connectors.mijnwebwinkel.simulator import MijnwebwinkelSimulator

    template = MijnwebwinkelSimulator()
    template.seed(12, seed=11, start=dt.date.today() - dt.timedelta(days=3), days=3)
    record = copy.deepcopy(template.order(number))
    for key in ("number", "uuid", "date", "time", "status_changed_date", "status_changed_time"):
        record.pop(key, None)  # the simulator stamps them when the order is added
    return record


def seed_problems(shop, books) -> dict[str, int]:
    """What a new user should meet in Fouten and Review, each with its own way out.

    - an ICP sale without the customer's VAT number (fix: add it in the shop, press Verwerk);
    - an order paid with a method the settings book on an account Acumulus does not have (fix:
      choose the account in Configuratie, press Verwerk);
    The third, an order Acumulus booked but whose answer was lost (the Review page), is
    :func:`seed_review`, after the first syncs.
    """
    missing_vat = _template_order(BUSINESS_ORDER)
    missing_vat["debtor"]["address"]["invoice"].pop("taxnumber", None)
    unknown_account = _template_order(CONSUMER_ORDER)
    unknown_account["payment"]["method_name"] = UNKNOWN_ACCOUNT_METHOD
    return {"missing_vat": shop.add_order(missing_vat), "unknown_account": shop.add_order(unknown_account)}


def seed_review(shop, books, link):
    """One more order that Acumulus books but whose answer is lost: it waits in Review."""
    from koppeling.sync.engine import Engine

    shop.add_order(_template_order(CONSUMER_ORDER))
    books.accept_then_fail_next(502)
    with Engine(link) as engine:
        return engine.run(kind="manual")


@transaction.atomic
def ensure_demo_setup(shop_url: str, shop_creds: dict, books_url: str, books_creds: dict):
    from koppeling.sync.models import Connection, Flow, Link, Organisation

    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=DEMO_USER, defaults={"email": "demo@koppeling.local", "is_staff": True, "is_superuser": True}
    )
    if created or not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save()
    org, _ = Organisation.objects.get_or_create(slug="demo", defaults={"name": "Demo Webwinkel"})
    org.members.add(user, through_defaults={"role": "owner"})
    shop, _ = Connection.objects.get_or_create(
        organisation=org, name="Mijnwebwinkel (simulator)", defaults={"system": "mijnwebwinkel"}
    )
    shop.base_url, shop.credentials = shop_url, shop_creds
    shop.save()
    books, _ = Connection.objects.get_or_create(
        organisation=org, name="Acumulus (simulator)", defaults={"system": "acumulus"}
    )
    books.base_url, books.credentials = books_url, books_creds
    books.save()
    link, _ = Link.objects.get_or_create(
        organisation=org, name="Webwinkel → Acumulus", defaults={"source": shop, "target": books}
    )
    link.status = "active"
    link.save()
    flow, _ = Flow.objects.get_or_create(
        link=link, kind="orders_to_invoices", source=shop, defaults={"target": books}
    )
    flow.target = books
    flow.settings = {"version": 2, "statuses": ["3", "6", "7"], "order_prefix": "WA"}
    flow.target_settings = {
        "version": 1,
        "accounts": {
            "paypal": "2",
            "ideal": "3",
            "creditcard": "3",
            "bancontact": "3",
            UNKNOWN_ACCOUNT_METHOD: UNKNOWN_ACCOUNT,
            "*": "1",
        },
        "cost_centers": {"*": "1"},
    }
    flow.schedule_minutes = 60
    flow.status = "active"
    flow.save()
    return link


def run_demo(*, host: str, port: int, orders: int, once: bool = False) -> int:
    from rich.console import Console

    from koppeling.cli import cmd_worker, start_web
    from koppeling.demo_links import first_runs, start_demo_links
    from koppeling.sync.engine import Engine
    from koppeling.sync.models import Cursor, SyncRecord

    console = Console()
    shop, books, shop_srv, books_srv = start_simulators(orders, host)
    link = ensure_demo_setup(shop_srv.url, shop.valid_credentials(), books_srv.url, books.valid_credentials())
    # the simulators start empty each time: start the demo ledger afresh too
    SyncRecord.objects.filter(link=link).delete()
    Cursor.objects.filter(flow__link=link).delete()

    console.print(f"[bold]Shop simulator[/] {shop_srv.url} · [bold]Acumulus simulator[/] {books_srv.url}")
    console.print("First sync …")
    with Engine(link) as engine:
        report = engine.run(kind="manual")
    console.print(
        f"  fetched {report.fetched} orders · pushed [green]{report.pushed}[/] · "
        f"failed [red]{report.failed}[/] · "
        f"skipped by the import conditions {report.skipped} · API calls {report.api_calls}"
    )
    with Engine(link) as engine:
        again = engine.run(kind="manual")
    console.print(f"Second sync: pushed {again.pushed} (nothing twice), API calls {again.api_calls}")
    seed_review(shop, books, link)
    others = start_demo_links(link.organisation, link.source, host)
    for name, pushed in first_runs(others).items():
        console.print(f"  {name}: pushed [green]{pushed}[/]")
    open_failed = SyncRecord.objects.filter(link=link, state="failed").count()
    open_review = SyncRecord.objects.filter(link=link, state="needs_review").count()
    console.print(f"To try: Fouten {open_failed} (a missing VAT number, an unknown account)")
    console.print(f"        Review {open_review} (booked, but the answer was lost)")
    if once:
        shop_srv.shutdown()
        books_srv.shutdown()
        others.shutdown()
        return 0 if report.pushed else 1
    start_web(host, port)
    url = f"http://{host}:{port}/"
    console.rule("[bold green]koppeling demo is running")
    console.print(f"  Open      {url}")
    console.print(f"  Sign in   [bold]{DEMO_USER}[/] / [bold]{DEMO_PASSWORD}[/]")
    console.print(f"  Data      {os.environ.get('KOPPELING_DATA_DIR')}")
    console.print("  Stop with Ctrl-C")
    import argparse

    return cmd_worker(argparse.Namespace(workers=2))
