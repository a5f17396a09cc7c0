"""Each connector's read path with one odd record among good ones (API JSON bodies).

The odd record is a mutant of a record the connector's own simulator served (see ``strategies``).
Whatever it holds: the fetch raises nothing, every good record is read as before, and the odd one
is a record or a located, readable error — never both, never neither.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import httpx
from hypothesis import event, given
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from tests.fuzz.strategies import FUZZ, Swapping, mutants, readable, swap_in_list

from koppeling.connectors.base import ConnectionConfig, Fetched


def _client(app: Callable[..., Any], swap: Callable[[str, str, Any], Any]) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=Swapping(app, swap)), timeout=5)


def check(fetched: Iterable[Fetched], before: list[Fetched], odd_ids: set[str]) -> None:
    """The good records of ``before`` come again, unchanged; every record is an item xor an error."""
    fetched = list(fetched)
    for record in fetched:
        assert (record.item is None) != (record.error is None), record
        if record.error is not None:
            readable(record.error)
    by_id: dict[str, list[Fetched]] = {}
    for record in fetched:
        by_id.setdefault(record.source_id, []).append(record)
    for good in before:
        if good.source_id in odd_ids:
            continue
        again = by_id.get(good.source_id, [])
        assert len(again) == 1, (good.source_id, again)
        assert again[0].error is None and again[0].item == good.item
        assert again[0].fingerprint == good.fingerprint
    odd = [r for r in fetched if r.source_id in odd_ids or r.source_id.startswith("?")]
    if currently_in_test_context():  # (also used by a plain test, outside hypothesis)
        event("odd record: " + ("absent" if not odd else "error" if odd[0].error is not None else "read"))


def _id_of(mutant: Any, key: str) -> set[str]:
    return {str(mutant.get(key)).strip()} if isinstance(mutant, dict) else set()


class Odd:
    """The record to swap (by its original id) and its mutant, filled in once the good read is done."""

    def __init__(self) -> None:
        self.rows: Any = None
        self.target = ""
        self.mutant: Any = None


# -- Mijnwebwinkel: GET /v1/orders (a list of orders) ------------------------------------------------


@FUZZ
@given(data=st.data())
def test_mijnwebwinkel_orders(data):
    from koppeling.connectors.mijnwebwinkel.client import MijnwebwinkelSource
    from koppeling.connectors.mijnwebwinkel.simulator import MijnwebwinkelSimulator

    sim = MijnwebwinkelSimulator()
    sim.seed(3, seed=4, start=dt.date(2026, 11, 20), days=2)
    odd = Odd()

    def swap(path: str, query: str, body: Any) -> Any:
        if path.endswith("/orders") and isinstance(body, list):
            odd.rows = odd.rows or body
            if odd.mutant is not None:
                return swap_in_list(body, "number", odd.target, odd.mutant)
        return body

    config = ConnectionConfig("mijnwebwinkel", "http://shop.fuzz", sim.valid_credentials(), {})
    source = MijnwebwinkelSource(config, _client(sim.wsgi, swap))
    before = list(source.fetch_changed(None))
    odd.target = str(odd.rows[1]["number"])
    odd.mutant = data.draw(mutants(odd.rows[1]), label="mutant")
    check(source.fetch_changed(None), before, {odd.target} | _id_of(odd.mutant, "number"))


# -- Lightspeed: GET orders.json (ids), then GET orders/{id}.json per order ---------------------------


@FUZZ
@given(data=st.data())
def test_lightspeed_orders(data):
    from koppeling.connectors.lightspeed.client import LightspeedSource
    from koppeling.connectors.lightspeed.simulator import LightspeedSimulator

    sim = LightspeedSimulator()
    sim.seed(3, seed=3)
    odd = Odd()

    def swap(path: str, query: str, body: Any) -> Any:
        if path.endswith("/orders.json") and isinstance(body, dict):
            odd.rows = odd.rows or body.get("orders")
        if odd.mutant is not None and path.endswith(f"/orders/{odd.target}.json"):
            return odd.mutant
        return body

    creds = {"api_key": sim.api_key, "api_secret": sim.api_secret}
    config = ConnectionConfig("lightspeed", "http://lightspeed.fuzz", creds, {"language": "nl"})
    source = LightspeedSource(config, _client(sim.wsgi, swap))
    before = list(source.fetch_changed(None))
    odd.target = str(odd.rows[1]["id"])
    whole = source.http.get(f"http://lightspeed.fuzz/nl/orders/{odd.target}.json", auth=source._auth()).json()
    odd.mutant = {**whole, "order": data.draw(mutants(whole["order"]), label="mutant")}
    check(source.fetch_changed(None), before, {odd.target})


def test_lightspeed_one_unreadable_order_answer_does_not_end_the_fetch():
    from koppeling.connectors.lightspeed.client import LightspeedSource
    from koppeling.connectors.lightspeed.simulator import LightspeedSimulator

    sim = LightspeedSimulator()
    sim.seed(3, seed=3)
    odd = Odd()

    def swap(path: str, query: str, body: Any) -> Any:
        if path.endswith("/orders.json") and isinstance(body, dict):
            odd.rows = odd.rows or body.get("orders")
        if odd.target and path.endswith(f"/orders/{odd.target}.json"):
            return []
        return body

    creds = {"api_key": sim.api_key, "api_secret": sim.api_secret}
    config = ConnectionConfig("lightspeed", "http://lightspeed.fuzz", creds, {"language": "nl"})
    source = LightspeedSource(config, _client(sim.wsgi, swap))
    before = list(source.fetch_changed(None))
    odd.target = str(odd.rows[0]["id"])
    check(source.fetch_changed(None), before, {odd.target})


# -- eAccounting: GET /v2/orders and /v2/customers (pages of {"Meta", "Data"}) -------------------------


def _eaccounting(swap: Callable[[str, str, Any], Any]):
    from tests.connectors.eaccounting.helpers import credentials

    from koppeling.connectors.eaccounting.client import EAccountingConnector
    from koppeling.connectors.eaccounting.simulator import EAccountingSimulator

    sim = EAccountingSimulator()
    sim.seed(customers=3, articles=3, orders=3, invoices=0)
    config = ConnectionConfig("eaccounting", "http://eaccounting.fuzz", credentials(sim), {})
    return EAccountingConnector(config, _client(sim.wsgi, swap), clock=sim.clock)


def _data_swap(odd: Odd, wanted_path: str) -> Callable[[str, str, Any], Any]:
    def swap(path: str, query: str, body: Any) -> Any:
        if path == wanted_path and isinstance(body, dict) and isinstance(body.get("Data"), list):
            odd.rows = odd.rows or body["Data"]
            if odd.mutant is not None:
                return {**body, "Data": swap_in_list(body["Data"], "Id", odd.target, odd.mutant)}
        return body

    return swap


@FUZZ
@given(data=st.data())
def test_eaccounting_orders(data):
    odd = Odd()
    source = _eaccounting(_data_swap(odd, "/v2/orders"))
    before = list(source.fetch_changed(None))
    odd.target = str(odd.rows[1]["Id"])
    odd.mutant = data.draw(mutants(odd.rows[1]), label="mutant")
    number = {str(odd.mutant.get("Number") or "")} if isinstance(odd.mutant, dict) else set()
    check(source.fetch_changed(None), before, {odd.target} | _id_of(odd.mutant, "Id") | number)


@FUZZ
@given(data=st.data())
def test_eaccounting_customers(data):
    odd = Odd()
    source = _eaccounting(_data_swap(odd, "/v2/customers"))
    before = list(source.fetch_customers_changed(None))
    odd.target = str(odd.rows[1]["Id"])
    odd.mutant = data.draw(mutants(odd.rows[1]), label="mutant")
    check(source.fetch_customers_changed(None), before, {odd.target} | _id_of(odd.mutant, "Id"))


# -- AccountView: GET AccountViewData?BusinessObject=AK1 (articles: products and stock) ---------------


def _accountview(odd: Odd):
    from tests.connectors.accountview.helpers import OPTIONS, credentials

    from koppeling.connectors.accountview.client import AccountViewConnector
    from koppeling.connectors.accountview.simulator import AccountViewSimulator

    sim = AccountViewSimulator()
    sim.seed(debtors=1, articles=3, sales_orders=0, invoices=0)

    def swap(path: str, query: str, body: Any) -> Any:
        if "BusinessObject=AK1" in query and isinstance(body, dict) and isinstance(body.get("ARTICLE"), list):
            odd.rows = odd.rows or body["ARTICLE"]
            if odd.mutant is not None:
                return {**body, "ARTICLE": swap_in_list(body["ARTICLE"], "ART_CODE", odd.target, odd.mutant)}
        return body

    config = ConnectionConfig(
        "accountview", "http://accountview.fuzz/api/v3", credentials(sim), dict(OPTIONS)
    )
    return AccountViewConnector(config, _client(sim.wsgi, swap), clock=sim.clock)


@FUZZ
@given(data=st.data(), read=st.sampled_from(["fetch_products_changed", "fetch_stock"]))
def test_accountview_articles(data, read):
    odd = Odd()
    source = _accountview(odd)
    before = list(getattr(source, read)(None))
    odd.target = str(odd.rows[1]["ART_CODE"])
    odd.mutant = data.draw(mutants(odd.rows[1]), label="mutant")
    odd_ids = (
        {odd.target} | _id_of(odd.mutant, "ART_CODE") | {i.upper() for i in _id_of(odd.mutant, "ART_CODE")}
    )
    check(getattr(source, read)(None), before, odd_ids)
