"""The Lightspeed source against its simulator and the verbatim sample: status encoding, amounts,
the shop's invoice number, paging and order, errors, limits — and that it never writes."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from koppeling.connectors import http as kh
from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.errors import AuthError, DataError, NotFound, RateLimited, TransientError
from koppeling.connectors.lightspeed import records
from koppeling.connectors.lightspeed.api import rate_limit_wait
from koppeling.connectors.lightspeed.client import LightspeedSource
from koppeling.connectors.lightspeed.simulator import LightspeedSimulator
from koppeling.connectors.lightspeed.translate import (
    ORDER_STATUSES,
    PAYMENT_STATUSES,
    SEED_STATUS,
    SHIPMENT_STATUSES,
    translate_order,
)
from koppeling.connectors.simserver import serve_wsgi
from koppeling.core.invoicing import InvoiceSettings, order_to_invoice
from koppeling.core.models import LineKind

SAMPLES = Path(__file__).with_name("samples")
T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
_ids = itertools.count()


class Clock:
    def __init__(self, start: dt.datetime = T0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now.timestamp()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock: Clock):
    sim = LightspeedSimulator(clock=clock)
    url = f"http://lightspeed-client-{next(_ids)}.sim"
    sim.url = url  # type: ignore[attr-defined]
    kh.mount_wsgi(url, sim.wsgi)
    yield sim
    kh.unmount(url)


def source(sim: LightspeedSimulator, **options) -> LightspeedSource:
    creds = {"api_key": sim.api_key, "api_secret": sim.api_secret}
    config = ConnectionConfig("lightspeed", sim.url, creds, {"language": "nl", **options})
    return LightspeedSource(config, kh.make_client(sim.url))


def seed(sim: LightspeedSimulator, count: int = 40) -> None:
    sim.seed(count, seed=3, start=T0 - dt.timedelta(days=10), days=2)


# -- translation: the verbatim sample ----------------------------------------------------------------


def test_translate_order_sample_amounts_rates_and_shop_invoice_number() -> None:
    # given the official sample order (GST 5 %, 6 units at 7.00, shipping 5.95, invoice INV00033)
    record = json.loads((SAMPLES / "order.json").read_text())["order"]
    # when it is translated
    order = translate_order(record)
    # then the status is one selectable key, amounts are the API's numbers as Decimal, rates percent
    assert order.status == SEED_STATUS and order.paid
    assert order.source_id == "1623550" and order.number == "ORD00018" and order.payment_method == "invoice"
    assert order.total_inc == Decimal("50.35") and order.total_vat == Decimal("2.40")
    product, shipping, invoice = order.lines
    assert (product.kind, product.quantity, product.unit_price_ex, product.vat_rate) == (
        LineKind.PRODUCT,
        Decimal(6),
        Decimal(7),
        Decimal(5),
    )
    assert (product.total_ex, product.total_inc) == (Decimal(42), Decimal("44.1"))
    assert (shipping.kind, shipping.total_ex, shipping.total_inc) == (
        LineKind.SHIPPING,
        Decimal("5.95"),
        Decimal("6.25"),
    )
    # and the shop's invoice number rides on a zero-amount line the target can read
    assert (invoice.kind, invoice.description, invoice.unit_price_inc) == (
        LineKind.OTHER,
        "Webwinkelfactuur INV00033",
        Decimal(0),
    )
    assert order.customer.country_code == "CA" and order.customer.email == "info@lightspeedhq.com"


def test_translate_order_without_shop_invoice_has_no_invoice_line() -> None:
    # given the sample with its invoice removed (a shop that makes invoices by hand)
    record = json.loads((SAMPLES / "order.json").read_text())["order"]
    record["invoices"]["resource"]["embedded"] = []
    # when / then
    assert all(line.kind != LineKind.OTHER for line in translate_order(record).lines)


def test_translate_order_unreadable_amount_is_located() -> None:
    # given an order whose product line has a garbage price
    record = json.loads((SAMPLES / "order.json").read_text())["order"]
    record["products"]["resource"]["embedded"][0]["priceIncl"] = "12,50 EUR"
    # when / then the error names the field and the order
    with pytest.raises(DataError) as caught:
        translate_order(record)
    assert caught.value.code == "field_not_a_number"
    assert caught.value.params["path"] == "order.products[0].priceIncl"
    assert caught.value.params["number"] == "ORD00018"


def test_status_enums_match_the_simulators() -> None:
    # the translator's enums are the API's, as the simulator (and the SDKs) have them
    assert tuple(ORDER_STATUSES) == records.ORDER_STATUSES
    assert tuple(PAYMENT_STATUSES) == records.PAYMENT_STATUSES
    assert tuple(SHIPMENT_STATUSES) == records.SHIPMENT_STATUSES


# -- statuses ---------------------------------------------------------------------------------------


def test_statuses_every_pair_once_with_the_seed_status(sim) -> None:
    # when
    statuses = source(sim).statuses()
    # then every paymentStatus/status pair is there once, the seed's with a Dutch label
    ids = [s.id for s in statuses]
    assert len(ids) == len(set(ids)) == len(PAYMENT_STATUSES) * len(ORDER_STATUSES)
    seed_status = next(s for s in statuses if s.id == SEED_STATUS)
    assert seed_status.label == "Betaald — Wacht op verzending"
    assert sim.request_count == 0  # fixed enums: no call needed


def test_fetch_changed_order_paid_later_is_fetched_again_as_selectable(sim, clock) -> None:
    # given an order awaiting payment, read by a first fetch
    seed(sim)
    first_until = clock.now = T0
    everything = {f.source_id: f for f in source(sim).fetch_changed(None, until=first_until)}
    waiting = next(f for f in everything.values() if f.item.status == "not_paid/processing_awaiting_payment")
    assert not any(line.kind == LineKind.OTHER for line in waiting.item.lines)
    # when the merchant marks it paid an hour later and the next fetch reads from the first's end
    clock.now = T0 + dt.timedelta(hours=1)
    sim.set_status(int(waiting.source_id), "processing_awaiting_shipment", payment_status="paid")
    again = list(source(sim).fetch_changed(first_until, until=clock.now + dt.timedelta(seconds=1)))
    # then exactly that order comes again, now with the seed's status and the shop's new invoice
    assert [f.source_id for f in again] == [waiting.source_id]
    order = again[0].item
    assert order.status == SEED_STATUS and order.paid
    assert order.lines[-1].description.startswith("Webwinkelfactuur INV")
    assert again[0].fingerprint != waiting.fingerprint  # the invoice number is booked content


def test_fetch_changed_yields_in_updated_at_order_within_an_open_window(sim) -> None:
    # given 60 orders changed over a few days (listing pages of 7, so several pages)
    seed(sim, 60)
    all_orders = list(source(sim, page_size=7).fetch_changed(None))
    moments = sorted(f.changed_at for f in all_orders)
    since, until = moments[10], moments[40]
    # when a window in the middle is read
    window = list(source(sim, page_size=7).fetch_changed(since, until=until))
    # then it holds [since, until) exactly, oldest change first
    changes = [f.changed_at for f in window]
    assert changes == sorted(changes)
    assert set(changes) == {m for m in moments if since <= m < until}
    assert len(window) == sum(1 for m in moments if since <= m < until)


def test_fetch_created_date_range_inclusive(sim) -> None:
    # given orders placed over two days
    seed(sim, 30)
    every = list(source(sim).fetch_created(dt.date(2025, 1, 1)))
    first_day = min(f.item.date for f in every)
    # when the first day is asked for
    day = list(source(sim).fetch_created(first_day, first_day))
    # then exactly that day's orders come, by shop date
    assert day and {f.item.date for f in day} == {first_day}
    assert len(day) == sum(1 for f in every if f.item.date == first_day)


def test_fetch_one_by_number_finds_the_same_order(sim) -> None:
    # given a seeded shop
    seed(sim, 5)
    by_id = source(sim).fetch_one(str(sim.order_ids()[2]))
    # when a person asks for it by its number
    by_number = source(sim).fetch_one(by_id.item.number)
    # then it is the same order, the same fingerprint
    assert (by_number.source_id, by_number.fingerprint) == (by_id.source_id, by_id.fingerprint)
    with pytest.raises(NotFound):
        source(sim).fetch_one("ORD99999")


def test_fetch_changed_bad_record_is_located_and_the_rest_still_come(sim) -> None:
    # given a shop whose second order answer carries a garbage total
    seed(sim, 5)
    connector = source(sim)
    fetched = iter(connector.fetch_changed(None))
    first = next(fetched)
    sim.malform_next("bad_record")
    # when the fetch goes on
    rest = list(fetched)
    # then that one order is an error naming the field, the others are orders
    bad = [f for f in rest if f.error is not None]
    assert first.item is not None and len(bad) == 1 and len(rest) == 4
    assert bad[0].error.params["path"].endswith(".priceIncl") and bad[0].number.startswith("ORD")


def test_translate_seeded_orders_become_invoices_to_the_cent(sim) -> None:
    # given a seeded shop (NL/BE/DE, 21 % and 9 %, coupons, fees, pick-up)
    seed(sim, 80)
    orders = [f.item for f in source(sim).fetch_changed(None)]
    settings = InvoiceSettings(oss_registered=False)
    # when each order goes through core's rules (intra-EU business sales need a VIES proof: left out)
    invoices = [
        order_to_invoice(o, settings)
        for o in orders
        if not (o.customer.vat_number and o.country_code != "NL")
    ]
    # then every invoice adds up to what the shop says, excl. and incl., to the cent
    raw = {str(oid): sim.order(oid) for oid in sim.order_ids()}
    assert len(invoices) > 60
    for invoice in invoices:
        shop_order = next(r for r in raw.values() if r["number"] == invoice.reference)
        assert invoice.total_inc == Decimal(str(shop_order["priceIncl"]))
        assert invoice.total_ex == Decimal(str(shop_order["priceExcl"]))
    discounted = [o for o in orders if any("(korting WELKOM10)" in line.description for line in o.lines)]
    assert discounted, "the seed has coupon orders"


# -- errors and limits --------------------------------------------------------------------------------


def test_check_wrong_secret_is_an_auth_error_with_a_suggestion(sim) -> None:
    # given a connection with a wrong secret
    creds = {"api_key": sim.api_key, "api_secret": "0" * 32}
    connector = LightspeedSource(ConnectionConfig("lightspeed", sim.url, creds), kh.make_client(sim.url))
    # when / then
    with pytest.raises(AuthError) as caught:
        connector.check()
    assert caught.value.code == "ls_credentials_refused" and "Ontwikkelaars" in caught.value.suggestion


def test_check_unknown_language_is_an_auth_error_naming_it(sim) -> None:
    with pytest.raises(AuthError) as caught:
        source(sim, language="fr").check()
    assert caught.value.code == "ls_language_unknown" and caught.value.params["language"] == "fr"


def test_check_unknown_cluster_is_an_auth_error_before_any_call(sim) -> None:
    with pytest.raises(AuthError) as caught:
        source(sim, cluster="eu9").check()
    assert caught.value.code == "ls_cluster_unknown" and sim.request_count == 0


def test_init_cluster_us1_picks_its_address_unless_one_is_given() -> None:
    creds = {"api_key": "k" * 32, "api_secret": "s" * 32}
    real = LightspeedSource(
        ConnectionConfig("lightspeed", "https://api.webshopapp.com", creds, {"cluster": "us1"})
    )
    given = LightspeedSource(ConnectionConfig("lightspeed", "http://stand-in.sim", creds, {"cluster": "us1"}))
    assert real.base_url == "https://api.shoplightspeed.com" and given.base_url == "http://stand-in.sim"


def test_fetch_changed_simulators_own_429_waits_for_the_exhausted_window(sim, clock) -> None:
    # given a shop with 5 calls per 5 minutes, and a fetch that needs more
    seed(sim, 10)
    sim.rate_limits = (5, 3000, 12000)
    # when / then the 429 names the window and how long to wait (Retry-After or X-RateLimit-Reset)
    with pytest.raises(RateLimited) as caught:
        list(source(sim).fetch_changed(None))
    assert caught.value.status_code == 429 and caught.value.limit == "calls_5min"
    assert 0 < caught.value.retry_after <= 300


def test_rate_limit_wait_falls_back_to_x_ratelimit_reset() -> None:
    # given a 429 without Retry-After whose hour window is exhausted
    headers = {"X-RateLimit-Remaining": "120/0/9000", "X-RateLimit-Reset": "40/1800/50000"}
    response = httpx.Response(429, headers=headers)
    # when / then
    assert rate_limit_wait(response) == (1800.0, "calls_hour")
    assert rate_limit_wait(httpx.Response(429, headers={"Retry-After": "7", **headers})) == (7, "calls_hour")


def test_limits_account_limits_replace_the_published_defaults(sim) -> None:
    # given the shop's own limits read from /account/ratelimit.json
    sim.rate_limits = (1000, 12000, 288000)
    own = source(sim).read_account_limits()
    # when a connection stores them
    limits = {limit.name: limit.limit for limit in source(sim, account_limits=own).limits()}
    # then they replace the defaults; without them the published defaults apply
    assert limits == {"calls_5min": 1000, "calls_hour": 12000, "calls_day": 288000}
    assert [limit.limit for limit in source(sim).limits()] == [300, 3000, 12000]
    assert all(limit.applies_to == frozenset({"*"}) for limit in source(sim).limits())


def test_errors_echoed_secret_stays_in_remote_and_secrets_are_key_and_secret(sim) -> None:
    # given a server that echoes the credentials in its error text
    sim.echo_secret_in_errors = True
    connector = source(sim)
    # when an unknown order is asked for
    with pytest.raises(NotFound) as caught:
        connector.fetch_one("999999999")
    # then only "remote" holds them (the runtime redacts secrets() from it), no other parameter
    others = {k: v for k, v in caught.value.params.items() if k != "remote"}
    assert sim.api_secret in caught.value.params["remote"] and sim.api_secret not in json.dumps(others)
    assert sorted(connector.secrets()) == sorted([sim.api_key, sim.api_secret])


def test_fetch_changed_timeout_is_transient_and_not_a_write(sim) -> None:
    # given the simulator on a socket, slower than the client waits
    server = serve_wsgi(sim.wsgi)
    try:
        seed(sim, 2)
        sim.latency = 0.5
        creds = {"api_key": sim.api_key, "api_secret": sim.api_secret}
        connector = LightspeedSource(
            ConnectionConfig("lightspeed", server.url, creds, {"language": "nl"}),
            kh.make_client(server.url, timeout=0.1),
        )
        # when / then
        with pytest.raises(TransientError) as caught:
            connector.check()
        assert caught.value.code == "timeout" and not caught.value.maybe_processed
    finally:
        sim.latency = 0
        server.shutdown()


# -- read-only ----------------------------------------------------------------------------------------


def test_connector_every_call_is_a_read_the_write_log_stays_empty(sim, clock) -> None:
    # given a key the merchant granted read permission only (writes would answer 403)
    sim.read_only = True
    seed(sim, 12)
    connector = source(sim, page_size=5)
    # when the connector does everything it can do
    connector.check()
    connector.check_rights(frozenset())
    connector.statuses()
    connector.read_account_limits()
    fetched = list(connector.fetch_changed(None))
    list(connector.fetch_created(dt.date(2024, 1, 1)))
    connector.fetch_one(fetched[0].source_id)
    connector.fetch_one(fetched[0].number)
    # then it worked, and not one write reached the shop
    assert len(fetched) == 12 and sim.request_count > 12
    assert sim.writes == []
    sim.assert_read_only()
