"""The Datamapper in the seed-004 orders and stock flows: a user's mapping change takes effect on
the next run, exactly once for documents.

Orders eAccounting -> AccountView translate through the flow's ``settings["mapping"]`` (the order
with its customer and rows); stock AccountView -> eAccounting likewise (the ARTICLE row's stock
columns). Each ledger row records the mapping version it was pushed with.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.connectors.eaccounting.helpers import add_orders

from koppeling.connectors.accountview.mapping import stock_mapping
from koppeling.connectors.eaccounting.mapping import order_mapping
from koppeling.mapping import MappingSpec, Rule, Step
from koppeling.sync.models import RecordState, RunStatus, SyncRecord

from . import test_flows
from .test_flows import ORDER_TARGET, flow, run
from .test_mapping_flows import saved

accountview, eaccounting, link = test_flows.accountview, test_flows.eaccounting, test_flows.link

pytestmark = pytest.mark.django_db


def _renumbered_article(eaccounting, accountview) -> tuple[dict, str]:
    """An eAccounting article whose number AccountView knows under another code (the shops'
    usual drift): eAccounting says ``TS-1001``, AccountView ``SKU-1001``."""
    article = next(a for a in eaccounting.books.articles.values() if a["Number"] == "SKU-1001")
    eaccounting.books.articles[article["Id"]] = {**article, "Number": "TS-1001"}
    return article, "SKU-1001"


def _order_of(eaccounting, article: dict) -> dict:
    rows = [
        {
            "LineNumber": 1,
            "ArticleId": article["Id"],
            "ArticleNumber": "TS-1001",
            "Quantity": Decimal(2),
            "UnitPrice": Decimal("12.50"),
            "IsTextRow": False,
            "IsWorkCost": False,
            "EligibleForReverseChargeOnVat": False,
        }
    ]
    return add_orders(eaccounting, 1, status=2, Rows=rows)[0]


def test_an_sku_lookup_in_the_order_mapping_books_the_order_that_failed(link, eaccounting, accountview):
    # given an order whose row names an article number AccountView does not know
    article, code = _renumbered_article(eaccounting, accountview)
    order = _order_of(eaccounting, article)
    orders = flow(link, "orders_to_invoices", settings={"statuses": ["2"]}, target_settings=ORDER_TARGET)
    first = run(orders)
    row = SyncRecord.objects.get(flow=orders, source_id=order["Id"])
    assert first.failed == 1 and row.error_code == "av_product_missing" and row.params["sku"] == "TS-1001"
    # when the owner maps the article number through a table and saves (version 1)
    spec = order_mapping().with_rule(
        Rule("lines[].sku", ("Rows[].ArticleNumber",), (Step("lookup", {"table": {"TS-1001": code}}),))
    )
    saved(orders, spec, 1)
    second = run(orders)
    # then the order is booked once, with AccountView's code, and the ledger names the mapping
    row.refresh_from_db()
    assert second.pushed == 1 and row.state == RecordState.PUSHED, second
    assert row.sent["mapping_version"] == 1
    (booked,) = [o for o in accountview.company.orders.values() if o["COMMENT1"] == row.reference]
    lines = [line for line in booked["_lines"] if line["ART_CODE"] == code]
    assert lines and lines[0]["ORD_QTY"] == Decimal(2)
    # and a third run books nothing again
    assert run(orders).pushed == 0
    assert sum(o["COMMENT1"] == row.reference for o in accountview.company.orders.values()) == 1


def test_an_order_mapping_change_never_books_a_booked_order_again(link, eaccounting, accountview):
    # given two booked orders
    add_orders(eaccounting, 2, status=2)
    orders = flow(link, "orders_to_invoices", settings={"statuses": ["2"]}, target_settings=ORDER_TARGET)
    assert run(orders).pushed == 2
    booked = len(accountview.company.orders)
    # when the owner changes how the customer's name is read
    spec = order_mapping().with_rule(Rule("customer.name", ("customer.Name",), (Step("upper"),)))
    saved(orders, spec, 1)
    # then the next run (which reads everything again) books nothing a second time
    report = run(orders)
    assert report.pushed == 0 and report.failed == 0, report
    assert len(accountview.company.orders) == booked


def test_a_stock_mapping_sends_another_figure_on_the_next_run(link, eaccounting, accountview):
    # given stock sent with the default mapping (available minus reserved)
    run(flow(link, "products", reverse=True))
    accountview.set_stock("SKU-1002", 10, on_order=5)
    stock = flow(link, "stock", reverse=True)
    assert run(stock).failed == 0
    article = next(a for a in eaccounting.books.articles.values() if a["Number"] == "SKU-1002")
    assert eaccounting.books.articles[article["Id"]]["StockBalance"] == Decimal(10)
    # when the owner maps "on hand" to the technical stock column and leaves reservations out
    options = link.target.options
    spec = stock_mapping(options).with_rule(Rule("on_hand", ("QTY_TECH",), (Step("number"),)))
    spec = spec.with_rule(Rule("reserved", (), ()))
    saved(stock, spec, 1)
    accountview.set_stock("SKU-1002", 11)
    report = run(stock)
    # then eAccounting holds the mapped figure, and the ledger says which mapping sent it
    assert report.failed == 0, report
    assert eaccounting.books.articles[article["Id"]]["StockBalance"] == Decimal(11)
    assert SyncRecord.objects.get(flow=stock, source_id="SKU-1002").sent["mapping_version"] == 1


def test_a_stock_mapping_naming_a_column_accountview_lacks_stops_the_run(link, eaccounting, accountview):
    # given a stored stock mapping reading a column the ARTICLE table does not have
    stock = flow(link, "stock", reverse=True)
    spec = MappingSpec.from_json(
        {
            "version": 2,
            "kind": "stock",
            "rules": [
                {"target": "sku", "sources": ["ART_CODE"]},
                {"target": "on_hand", "sources": ["QTY_VRIJ"], "transforms": ["number"]},
            ],
        }
    )[0]
    saved(stock, spec, 2)
    # when it runs
    report = run(stock)
    # then nothing is written and the reason names the rule and the column
    assert report.status == RunStatus.FAILED and report.pushed == 0
    assert "QTY_VRIJ" in report.error_params["problems"]
    assert not SyncRecord.objects.filter(flow=stock).exists()


def test_defaults_are_valid_against_their_sources(link, eaccounting, accountview):
    from koppeling.connectors.accountview.mapping import stock_schema
    from koppeling.connectors.eaccounting.mapping import order_schema
    from koppeling.mapping import validate

    assert validate(order_mapping(), order_schema())[1] == []
    assert validate(stock_mapping(link.target.options), stock_schema(link.target.options))[1] == []
