"""The other seed links in ``koppeling demo``, beside Mijnwebwinkel → Acumulus, each on its own
simulators served on localhost sockets (so each connection is an ordinary base URL):

- seed 003: the same Mijnwebwinkel shop → Factuursturen (paid invoices, 60 an hour, daily);
- seed 002: a Lightspeed eCom shop → Asperion (paid orders awaiting shipment, one file a day,
  minimal privacy);
- seed 004: Visma eAccounting ↔ AccountView (orders, customers, articles and stock).

Each is created like a person would (organisation's connections, a link, its flows) and run once,
so the dashboard shows all of them with bookings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

#: the Factuursturen account's categories for the simulator's rates 21, 9 and 0
FACTUURSTUREN_TARGET = {"vat_rates": {"21": {"category": 1}, "9": {"category": 1}, "0": {"category": 1}}}
LIGHTSPEED_SELECTED = ["paid/processing_awaiting_shipment", "paid/processing_awaiting_pickup"]
ACCOUNTVIEW_ORDERS = {
    "document_type": "sales_order",
    "shipping_costs": {"article": "VERZEND", "account": "8100"},
    "products_without_sku": {"article": "SKU-1001"},
    "vat_codes": {"21": "1", "9": "2", "0": "0"},
}


@dataclass
class DemoLinks:
    """The simulators (kept alive while the demo runs) and the links made on them."""

    servers: list[Any] = field(default_factory=list)
    sims: dict[str, Any] = field(default_factory=dict)
    links: list[Any] = field(default_factory=list)

    def shutdown(self) -> None:
        for server in self.servers:
            server.shutdown()


def _serve(demo: DemoLinks, name: str, sim: Any, host: str) -> str:
    from koppeling.connectors.simserver import serve_wsgi

    server = serve_wsgi(sim.wsgi, host=host, port=0)
    demo.servers.append(server)
    demo.sims[name] = sim
    return server.url


def _connection(org, name: str, system: str, base_url: str, credentials: dict, options=None):
    from koppeling.sync.models import Connection

    connection, _ = Connection.objects.get_or_create(organisation=org, name=name, defaults={"system": system})
    connection.system, connection.base_url, connection.credentials = system, base_url, credentials
    connection.options = options or {}
    connection.save()
    return connection


def _link(org, name: str, source, target, flows: list[dict[str, Any]]):
    from koppeling.sync.models import Flow, Link

    link, _ = Link.objects.get_or_create(
        organisation=org, name=name, defaults={"source": source, "target": target}
    )
    link.source, link.target, link.status = source, target, "active"
    link.save()
    for spec in flows:
        reverse = spec.get("reverse", False)
        src, dst = (target, source) if reverse else (source, target)
        flow, _ = Flow.objects.get_or_create(
            link=link, kind=spec["kind"], source=src, defaults={"target": dst}
        )
        flow.target, flow.status = dst, "active"
        flow.settings, flow.target_settings = spec.get("settings", {}), spec.get("target_settings", {})
        if spec.get("daily_at"):
            flow.daily_at = spec["daily_at"]
        else:
            flow.schedule_minutes = spec.get("schedule_minutes", 60)
        flow.save()
    return link


def factuursturen_link(demo: DemoLinks, org, shop_connection, host: str):
    """Seed 003 on the demo's own shop: paid orders as paid Factuursturen invoices, daily at 06:00."""
    from koppeling.connectors.factuursturen.simulator import FactuursturenSimulator

    books = FactuursturenSimulator()
    url = _serve(demo, "factuursturen", books, host)
    target = _connection(
        org, "Factuursturen (simulator)", "factuursturen", f"{url}/api/v1", books.valid_credentials()
    )
    # the simulated account has the Dutch rates only: foreign (OSS) orders stay with Acumulus
    settings = {"version": 2, "statuses": ["3", "6", "7"], "order_prefix": "FS", "payment_status": "paid"}
    settings["countries"] = ["NL"]
    flows = [
        {
            "kind": "orders_to_invoices",
            "settings": settings,
            "target_settings": FACTUURSTUREN_TARGET,
            "daily_at": dt.time(6, 0),
        }
    ]
    return _link(org, "Webwinkel → Factuursturen", shop_connection, target, flows)


def lightspeed_asperion_link(demo: DemoLinks, org, host: str, today: dt.date):
    """Seed 002: a Lightspeed shop's day into one Asperion file (delivered on demand in the demo)."""
    from koppeling.connectors.asperion.simulator import AsperionSimulator
    from koppeling.connectors.lightspeed.simulator import LightspeedSimulator

    shop = LightspeedSimulator()
    start = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(8, 0), tzinfo=dt.UTC)
    shop.seed(40, seed=2026, start=start, days=0.5)
    books = AsperionSimulator()
    shop_url, books_url = _serve(demo, "lightspeed", shop, host), _serve(demo, "asperion", books, host)
    source = _connection(
        org,
        "Lightspeed (simulator)",
        "lightspeed",
        shop_url,
        {"api_key": shop.api_key, "api_secret": shop.api_secret},
        {"language": "nl", "cluster": "eu1"},
    )
    target = _connection(
        org, "Asperion (simulator)", "asperion", books_url, {"licence_code": books.licence_code}
    )
    settings = {"statuses": LIGHTSPEED_SELECTED, "oss_registered": False, "deliver_at": "06:00"}
    flows = [{"kind": "orders_to_batch", "settings": settings, "target_settings": {}}]
    return _link(org, "SEOshop → Asperion", source, target, flows)


def eaccounting_accountview_link(demo: DemoLinks, org, host: str):
    """Seed 004: four flows between Visma eAccounting and AccountView."""
    from koppeling.connectors.accountview.simulator import AccountViewSimulator
    from koppeling.connectors.eaccounting.simulator import EAccountingSimulator

    shop = EAccountingSimulator()
    shop.seed(customers=8, articles=20, orders=10, invoices=0)
    books = AccountViewSimulator()
    books.seed(debtors=5, articles=24, sales_orders=0, invoices=0)
    shipping = dict(books.company.articles["SKU-1001"])
    shipping.update(ART_CODE="VERZEND", ART_DESC1="Verzendkosten", EAN_CODE=None, AG_CODE="DIENST")
    shipping.update(QTY_TECH=Decimal(0), QTY_BESTEL=Decimal(0))
    books.company.articles["VERZEND"] = shipping
    books.company.refresh_stock()
    shop_url, books_url = _serve(demo, "eaccounting", shop, host), _serve(demo, "accountview", books, host)
    source = _connection(org, "eAccounting (simulator)", "eaccounting", shop_url, _oauth(shop))
    options = {"timezone": "UTC", "unmanaged_article_groups": ["DIENST"]}
    target = _connection(
        org, "AccountView (simulator)", "accountview", f"{books_url}/api/v3", _oauth(books), options
    )
    flows = [
        {
            "kind": "orders_to_invoices",
            "settings": {"statuses": ["2"]},
            "target_settings": ACCOUNTVIEW_ORDERS,
        },
        {"kind": "customers", "settings": {"update_existing": True}},
        {"kind": "products", "reverse": True, "settings": {"update_existing": False}},
        {"kind": "stock", "reverse": True},
    ]
    return _link(org, "eAccounting ↔ AccountView", source, target, flows)


def _oauth(sim: Any) -> dict[str, str]:
    """Credentials as a finished OAuth sign-in stores them (text values, expiry in epoch seconds)."""
    issued = sim.valid_credentials()
    creds = {k: str(v) for k, v in issued.items() if k not in ("expires_in", "token_type")}
    creds["access_token_expires_at"] = str(int(sim.clock() + int(issued["expires_in"])))
    return creds


def pay_lightspeed_orders(shop: Any, at: dt.datetime) -> None:
    """The merchant marks the day's unpaid orders paid, awaiting shipment (seed 002's trigger)."""
    for oid, state in sorted(shop.store.orders.items()):
        fields = state.fields
        if fields["paymentStatus"] == "not_paid" and not fields["_vat_shifted"]:
            shop.set_status(oid, "processing_awaiting_shipment", payment_status="paid", at=at)


def start_demo_links(org, shop_connection, host: str = "127.0.0.1") -> DemoLinks:
    """Create the three seed links on fresh simulators (their ledgers start afresh too)."""
    from koppeling.sync.models import Cursor, SyncRecord

    demo = DemoLinks()
    today = dt.date.today()
    with transaction.atomic():
        demo.links = [
            factuursturen_link(demo, org, shop_connection, host),
            lightspeed_asperion_link(demo, org, host, today),
            eaccounting_accountview_link(demo, org, host),
        ]
        SyncRecord.objects.filter(link__in=demo.links).delete()
        Cursor.objects.filter(flow__link__in=demo.links).delete()
    pay_lightspeed_orders(demo.sims["lightspeed"], dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    return demo


def first_runs(demo: DemoLinks) -> dict[str, int]:
    """Run every flow of the demo links once (a batch is delivered now); pushed per link name."""
    from koppeling.sync.engine import Engine

    pushed: dict[str, int] = {}
    for link in demo.links:
        for flow in link.flows.select_related("link", "source", "target").order_by("pk"):
            with Engine(link, flow=flow) as engine:
                report = engine.run(kind="manual", deliver_now=True)
            pushed[link.name] = pushed.get(link.name, 0) + report.pushed
    return pushed
