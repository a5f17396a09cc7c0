"""Seed 004 end to end through the runtime: eAccounting ⇄ AccountView, every flow, twice.

Each test builds the rows a person would (``Organisation``, two ``Connection``s, a ``Link``, a
``Flow``), mounts both simulators at the connections' addresses, and runs
``Engine(link, flow=flow).run()`` as the scheduler does: orders eAccounting → AccountView (as
sales orders and as sales invoices), articles and stock AccountView → eAccounting, customers
eAccounting → AccountView. A second run must change nothing; the update box must be honoured.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from tests.connectors.eaccounting.helpers import add_orders
from tests.connectors.eaccounting.helpers import credentials as ea_credentials

from koppeling.connectors import http as kh
from koppeling.connectors.accountview.simulator import AccountViewSimulator
from koppeling.connectors.eaccounting.simulator import EAccountingSimulator
from koppeling.connectors.testing import sample_invoice
from koppeling.sync.engine import Engine
from koppeling.sync.models import Connection, Flow, Link, Organisation, RecordState, SyncRecord

from .helpers import OPTIONS, add_article, connector, order_settings
from .helpers import credentials as av_credentials

pytestmark = pytest.mark.django_db

EA_URL = "http://eaccounting-seed004.sim"
AV_URL = "http://accountview-seed004.sim"
ORDER_TARGET = {
    "document_type": "sales_order",
    "shipping_costs": {"article": "VERZEND", "account": "8100"},
    "vat_codes": {"21": "1", "9": "2", "0": "0"},
}
INVOICE_TARGET = {
    "document_type": "sales_invoice",
    "vat_codes": {"21": "1", "9": "2", "0": "0"},
    "revenue_accounts": {"*": "8000", "*:9": "8010", "*:0": "8020"},
}


@pytest.fixture
def eaccounting():
    sim = EAccountingSimulator()
    sim.seed(customers=8, articles=20, orders=0, invoices=0)
    kh.mount_wsgi(EA_URL, sim.wsgi)
    yield sim
    kh.unmount(EA_URL)


@pytest.fixture
def accountview():
    sim = AccountViewSimulator()
    sim.seed(debtors=5, articles=24, sales_orders=0, invoices=0)
    add_article(sim, "VERZEND", "Verzendkosten", AG_CODE="DIENST")
    kh.mount_wsgi(AV_URL, sim.wsgi)
    yield sim
    kh.unmount(AV_URL)


def connections(org, eaccounting, accountview, **options) -> tuple[Connection, Connection]:
    """The organisation's eAccounting and AccountView connections to the mounted simulators;
    ``options`` join AccountView's (the long description is ``ART_DESC2``)."""
    shop = Connection(organisation=org, name="eAccounting", system="eaccounting", base_url=EA_URL)
    shop.credentials = ea_credentials(eaccounting)
    shop.save()
    books = Connection(
        organisation=org,
        name="AccountView",
        system="accountview",
        base_url=f"{AV_URL}/api/v3",
        options={**OPTIONS, "article_fields": {"description_long": "ART_DESC2"}, **options},
    )
    books.credentials = av_credentials(accountview)
    books.save()
    return shop, books


@pytest.fixture
def link(eaccounting, accountview) -> Link:
    org = Organisation.objects.create(slug="seed004", name="AccountView ↔ eAccounting")
    shop, books = connections(org, eaccounting, accountview, unmanaged_article_groups=["DIENST"])
    return Link.objects.create(organisation=org, name="Seed 004", source=shop, target=books)


def flow(link: Link, kind: str, *, reverse: bool = False, settings=None, target_settings=None) -> Flow:
    source, target = (link.target, link.source) if reverse else (link.source, link.target)
    return Flow.objects.create(
        link=link,
        kind=kind,
        source=source,
        target=target,
        settings=settings or {},
        target_settings=target_settings or {},
    )


def run(flow: Flow):
    flow = Flow.objects.select_related("link", "source", "target").get(pk=flow.pk)
    with Engine(flow.link, flow=flow) as engine:
        return engine.run()


def api_writes(sim) -> int:
    return len(sim.writes)


def states(flow: Flow) -> dict[str, int]:
    out: dict[str, int] = {}
    for state in SyncRecord.objects.filter(flow=flow).values_list("state", flat=True):
        out[state] = out.get(state, 0) + 1
    return out


# ------------------------------------------------------------ orders eAccounting -> AccountView


@pytest.mark.parametrize(
    "target_settings", [ORDER_TARGET, INVOICE_TARGET], ids=["sales_order", "sales_invoice"]
)
def test_orders_flow_books_each_selected_order_once(link, eaccounting, accountview, target_settings):
    # given four ongoing orders and one draft (not selected)
    ongoing = add_orders(eaccounting, 4, status=2)
    add_orders(eaccounting, 1, status=1)
    orders = flow(
        link,
        "orders_to_invoices",
        settings={"statuses": ["2", "3"], "order_prefix": "EA"},
        target_settings=target_settings,
    )
    # when the flow runs twice
    first = run(orders)
    writes = api_writes(accountview)
    second = run(orders)
    # then each ongoing order is booked once, under its reference; the second run wrote nothing
    assert (first.pushed, first.failed, first.skipped) == (4, 0, 1), first
    assert second.pushed == 0 and api_writes(accountview) == writes
    references = {f"EA{o['Number']}" for o in ongoing}
    if target_settings["document_type"] == "sales_order":
        assert {o["COMMENT1"] for o in accountview.company.orders.values()} == references
    else:
        assert {p["INV_NR"] for p in accountview.company.pages.values()} == references
    # and every customer is one debtor, found by e-mail
    emails = {eaccounting.books.customers[o["CustomerId"]]["EmailAddress"].lower() for o in ongoing}
    debtors = [d for d in accountview.company.debtors.values() if d.get("MAIL_BUS") in emails]
    assert len(debtors) == len(emails)
    assert states(orders) == {RecordState.PUSHED: 4, RecordState.SKIPPED: 1}


def test_orders_flow_reconciles_what_it_booked(link, eaccounting, accountview):
    # given booked orders
    add_orders(eaccounting, 2, status=2)
    orders = flow(link, "orders_to_invoices", settings={"statuses": ["2"]}, target_settings=ORDER_TARGET)
    run(orders)
    # when each is read back from AccountView
    target = connector(accountview)
    for record in SyncRecord.objects.filter(flow=orders):
        booked = target.read_back_invoice(record.target_id)
        # then the totals are what was sent
        assert booked.total_inc == Decimal(record.sent["total_inc"])
        assert record.reference in booked.reference_text


def test_orders_flow_missing_article_fails_that_order_only(link, eaccounting, accountview):
    # given two orders, one of an article AccountView does not have
    add_orders(eaccounting, 1, status=2)
    missing = next(a for a in eaccounting.books.articles.values() if a["Number"] == "SKU-1001")
    del accountview.company.articles["SKU-1001"]
    rows = [
        {
            "LineNumber": 1,
            "ArticleId": missing["Id"],
            "Quantity": Decimal(1),
            "IsTextRow": False,
            "IsWorkCost": False,
            "EligibleForReverseChargeOnVat": False,
        }
    ]
    bad = add_orders(eaccounting, 1, status=2, Rows=rows)[0]
    orders = flow(link, "orders_to_invoices", settings={"statuses": ["2"]}, target_settings=ORDER_TARGET)
    # when
    report = run(orders)
    # then
    assert (report.pushed, report.failed) == (1, 1)
    failed = SyncRecord.objects.get(flow=orders, source_id=bad["Id"])
    assert failed.state == RecordState.FAILED and failed.error_code == "av_product_missing"
    assert failed.params["sku"] == "SKU-1001"


# ------------------------------------------------------------ articles AccountView -> eAccounting


def test_articles_flow_creates_new_links_existing_and_repeats_nothing(link, eaccounting, accountview):
    # given AccountView with 25 articles, eAccounting with 20 of them (same codes)
    articles = flow(link, "products", reverse=True, settings={"update_existing": False})
    known = {a["Number"]: dict(a) for a in eaccounting.books.articles.values()}
    # when
    first = run(articles)
    writes = api_writes(eaccounting)
    second = run(articles)
    # then the five new ones were created, the twenty known ones left as they were
    numbers = {a["Number"] for a in eaccounting.books.articles.values()}
    assert numbers == set(accountview.company.articles) and first.failed == 0, first
    assert [w.method for w in eaccounting.writes] == ["POST"] * 5
    assert all(eaccounting.books.articles[a["Id"]]["Name"] == a["Name"] for a in known.values())
    assert second.pushed == 0 and api_writes(eaccounting) == writes


def test_articles_flow_update_box_and_protected_fields(link, eaccounting, accountview):
    # given an article linked once, enriched in eAccounting afterwards
    articles = flow(link, "products", reverse=True, settings={"update_existing": False})
    run(articles)
    shirt = next(a for a in eaccounting.books.articles.values() if a["Number"] == "SKU-1001")
    eaccounting.books.save_article({**shirt, "Note": "Verrijkt in eAccounting"}, shirt)
    # when it changes in AccountView and the update box is off
    source = accountview.company.articles["SKU-1001"]
    source.update(
        ART_DESC1="Katoenen T-shirt bio",
        ART_DESC2="Nieuwe tekst",
        PX_SELL=Decimal("17.95"),
        CNG_DATE=dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
    )
    writes = api_writes(eaccounting)
    run(articles)
    # then nothing is written
    assert api_writes(eaccounting) == writes
    # when the box is ticked, with the long description protected
    Flow.objects.filter(pk=articles.pk).update(
        settings={"update_existing": True, "protected_fields": ["description_long"]}
    )
    report = run(articles)
    # then name and price follow AccountView; the enriched long description stays
    stored = eaccounting.books.articles[shirt["Id"]]
    assert report.pushed == 1, report
    assert (stored["Name"], stored["NetPrice"], stored["Note"]) == (
        "Katoenen T-shirt bio",
        Decimal("17.95"),
        "Verrijkt in eAccounting",
    )
    assert run(articles).pushed == 0


# ------------------------------------------------------------ stock AccountView -> eAccounting


def test_stock_flow_sends_available_minus_reserved_and_follows_changes(link, eaccounting, accountview):
    # given every article in eAccounting, 10 of SKU-1002 on hand of which 3 are on an open sales order
    run(flow(link, "products", reverse=True))
    accountview.set_stock("SKU-1002", 10, on_order=5)
    connector(accountview).push_invoice(
        sample_invoice("AV-1", lines=[_line("SKU-1002", 3)]), order_settings()
    )
    stock = flow(link, "stock", reverse=True)
    service = next(a for a in eaccounting.books.articles.values() if a["Number"] == "SKU-1018")
    service_before = service["StockBalance"]
    # when
    first = run(stock)
    writes = api_writes(eaccounting)
    second = run(stock)
    # then eAccounting holds the default figure; a second run writes nothing
    article = next(a for a in eaccounting.books.articles.values() if a["Number"] == "SKU-1002")
    assert article["StockBalance"] == Decimal(7) and first.failed == 0, first
    assert second.pushed == 0 and api_writes(eaccounting) == writes
    # and services (not managed in AccountView) were left alone
    assert eaccounting.books.articles[service["Id"]]["StockBalance"] == service_before
    # when the stock changes in AccountView
    accountview.set_stock("SKU-1002", 12)
    assert run(stock).pushed == 1
    assert eaccounting.books.articles[article["Id"]]["StockBalance"] == Decimal(9)


def test_stock_flow_calculation_plus_incoming(link, eaccounting, accountview):
    run(flow(link, "products", reverse=True))
    accountview.set_stock("SKU-1003", 4, on_order=6)
    run(flow(link, "stock", reverse=True, settings={"calculation": "available_plus_incoming"}))
    article = next(a for a in eaccounting.books.articles.values() if a["Number"] == "SKU-1003")
    assert article["StockBalance"] == Decimal(10)


# ------------------------------------------------------------ customers eAccounting -> AccountView


def test_customers_flow_one_debtor_per_customer_and_updates(link, eaccounting, accountview):
    # given eight eAccounting customers
    customers = flow(link, "customers", settings={"update_existing": True})
    # when the flow runs twice
    first = run(customers)
    writes = api_writes(accountview)
    second = run(customers)
    # then each customer is one debtor (companies with their contact), and nothing was repeated
    assert first.pushed == 8 and first.failed == 0, first
    assert second.pushed == 0 and api_writes(accountview) == writes
    for record in eaccounting.books.customers.values():
        (debtor,) = [
            d
            for d in accountview.company.debtors.values()
            if d.get("MAIL_BUS") == record["EmailAddress"].lower()
        ]
        if record["IsPrivatePerson"]:
            assert debtor["ACCT_NAME"] == record["Name"] and not debtor["MAIN_CONT"]
        else:
            assert (
                debtor["ACCT_NAME"] == record["Name"][:40]
                and debtor["MAIN_CONT"] == record["ContactPersonName"]
            )
    # when a customer moves in eAccounting
    moved = next(iter(eaccounting.books.customers.values()))
    eaccounting.books.save_customer({**moved, "InvoiceCity": "Zwolle"}, moved)
    assert run(customers).pushed == 1
    (debtor,) = [
        d for d in accountview.company.debtors.values() if d.get("MAIL_BUS") == moved["EmailAddress"].lower()
    ]
    assert debtor["CITY"] == "Zwolle"


def test_customers_flow_without_update_box_leaves_known_debtors(link, eaccounting, accountview):
    # given a debtor AccountView already has for one of the customers
    record = next(iter(eaccounting.books.customers.values()))
    known = next(iter(accountview.company.debtors.values()))
    known["MAIL_BUS"] = record["EmailAddress"].lower()
    city = known["CITY"]
    customers = flow(link, "customers", settings={"update_existing": False})
    # when
    run(customers)
    # then it was linked, not written
    assert known["CITY"] == city
    assert SyncRecord.objects.get(flow=customers, source_id=record["Id"]).target_id == known["SUB_NR"]


def _line(sku: str, quantity: int):
    from koppeling.core.models import InvoiceLine, LineKind

    total = Decimal("10.00") * quantity
    return InvoiceLine(
        LineKind.PRODUCT,
        sku,
        Decimal(quantity),
        Decimal("10.00"),
        Decimal(21),
        total,
        (total * Decimal("0.21")).quantize(Decimal("0.01")),
        sku=sku,
    )
