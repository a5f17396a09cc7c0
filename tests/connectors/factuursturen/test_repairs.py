"""Seed 003's refusals, each produced by a real bad order, explained in the owner's language, and
cleared by doing what the suggestion says and pressing Verwerk (CLI: ``sync --order``)."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation
from tests.connectors.factuursturen.test_end_to_end import _link

from koppeling.sync.engine import Engine
from koppeling.sync.models import Flow, RecordState, SyncRecord
from koppeling.sync.outcomes import render
from koppeling.sync.review import retry_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(shop_sim):
    """80 orders of December 1st; only the ones a test makes paid are booked."""
    shop_sim.seed(80, seed=4, start=dt.date(2026, 12, 1), days=1)
    for number in shop_sim.order_numbers():
        shop_sim.set_status(number, 1, at=dt.datetime(2026, 12, 1, 11, 0))
    return shop_sim


def _pay(shop, number: int) -> None:
    shop.set_status(number, 3, at=dt.datetime(2026, 12, 1, 12, 0))


def _pick(shop, want) -> int:
    for number in shop.order_numbers():
        if want(shop.order(number)):
            return number
    raise AssertionError("the seed has no such order")


def _dutch(record) -> bool:
    return record["debtor"]["address"]["invoice"]["country_code"] == "NL"


def _rates(record) -> set[str]:
    return {line["price"]["rate"] for line in record["orderlines"]}


def _refused(link, number: int) -> SyncRecord:
    record = SyncRecord.objects.get(link=link, source_id=str(number))
    assert record.state == RecordState.FAILED, (record.state, record.error_code)
    return record


def _explained(record: SyncRecord, *words: str) -> None:
    """The reason and its suggestion, in Dutch and in English, without a placeholder left."""
    for language in ("nl", "en"):
        with translation.override(language):
            shown = render(record.error_code, record.params)
        assert shown.text and shown.suggestion and "%(" not in shown.text + shown.suggestion
        assert "?" not in shown.text, shown.text
    with translation.override("en"):
        shown = render(record.error_code, record.params)
    for word in words:
        assert word in shown.text + " " + shown.suggestion, shown


def _verwerk(link, record: SyncRecord, clock) -> SyncRecord:
    assert retry_record(record)
    Engine(link, now=clock.now).run(kind="order", order_number=record.source_id)
    record.refresh_from_db()
    return record


def test_a_vat_rate_without_a_ledger_account_is_mapped_then_booked(shop, books, clock):
    number = _pick(shop, lambda r: _dutch(r) and "9.00" in _rates(r))
    _pay(shop, number)
    link = _link(shop, books)
    flow = link.flows.get()
    flow.target_settings = {"vat_rates": {"21": {"category": 1}, "0": {"category": 1}}}
    flow.save()
    Engine(link, now=clock.now).run()
    record = _refused(link, number)
    assert record.error_code == "factuursturen_vat_rate_unmapped" and record.params["rate"] == "9"
    _explained(record, "9%", "Map VAT rate 9%", "Verwerk")
    # the fix the suggestion names: map 9 % in the configuration
    Flow.objects.filter(pk=flow.pk).update(
        target_settings={"vat_rates": {"21": {"category": 1}, "9": {"category": 2}, "0": {"category": 1}}}
    )
    assert _verwerk(link, record, clock).state == RecordState.PUSHED
    assert len(books.invoices_by_reference(record.reference)) == 1


def test_an_invalid_debtor_email_is_corrected_in_the_shop_then_booked(shop, books, clock):
    number = _pick(shop, _dutch)
    shop.edit_order(number, **{"debtor.email": "jan@@example"})
    _pay(shop, number)
    link = _link(shop, books)
    Engine(link, now=clock.now).run()
    record = _refused(link, number)
    assert record.error_code == "factuursturen_debtor_email_invalid"
    _explained(record, "jan@@example", "e-mail address", "Verwerk")
    assert not books.client_writes()  # nothing half-made
    shop.edit_order(number, **{"debtor.email": "jan@example.nl"})
    assert _verwerk(link, record, clock).state == RecordState.PUSHED


def test_an_icp_sale_without_the_customers_vat_number_gets_it_then_is_booked(shop, books, clock, vies_sim):
    def icp(record) -> bool:
        address = record["debtor"]["address"]["invoice"]
        zero = not any(Decimal(t["amount"]) for t in record["price"]["tax"])
        return bool(address.get("taxnumber")) and address["country_code"] != "NL" and zero

    number = _pick(shop, icp)
    address = copy.deepcopy(shop.order(number)["debtor"]["address"]["invoice"])
    vat_number, address["taxnumber"] = address["taxnumber"], ""
    shop.edit_order(number, **{"debtor.address.invoice": address})
    _pay(shop, number)
    link = _link(shop, books)
    flow = link.flows.get()
    Flow.objects.filter(pk=flow.pk).update(settings={**flow.settings, "countries": []})
    Engine(link, now=clock.now).run()
    record = _refused(link, number)
    assert record.error_code == "icp_vat_number_missing"
    _explained(record, "VAT number", address["country_code"])
    address["taxnumber"] = vat_number  # the fix: the number added in the shop
    shop.edit_order(number, **{"debtor.address.invoice": address})
    booked = _verwerk(link, record, clock)
    assert booked.state == RecordState.PUSHED and booked.sent["regime"] == "eu_b2b"
    assert vies_sim.requests  # checked with VIES before the 0 % invoice


def test_shipping_without_vat_beside_taxed_goods_gets_a_rate_then_is_booked(shop, books, clock):
    # given a Dutch order whose shipping line the shop charged without VAT (its shipping costs are
    # set up without a VAT rate), while the goods carry VAT
    number = _pick(shop, lambda r: _dutch(r) and any(line["type"] == "shipping" for line in r["orderlines"]))
    lines = copy.deepcopy(shop.order(number)["orderlines"])
    shipping = next(line for line in lines if line["type"] == "shipping")
    shipping["price"].update(rate="0.00", amount=shipping["price"]["amount_including_tax"])
    shop.edit_order(number, orderlines=lines)
    _pay(shop, number)
    link = _link(shop, books)
    Engine(link, now=clock.now).run()
    record = _refused(link, number)
    assert record.error_code == "shipping_without_vat"
    _explained(record, "no VAT on the shipping line", "settings", "Verwerk")
    assert not books.invoices_by_reference(record.reference)  # nothing booked at a wrong rate
    # the fix: shipping gets the goods' VAT in the shop (the customer paid the same amount)
    goods = max(Decimal(line["price"]["rate"]) for line in lines if line["type"] != "shipping")
    incl = Decimal(shipping["price"]["amount_including_tax"])
    shipping["price"].update(rate=f"{goods:.2f}", amount=format(incl * 100 / (100 + goods), ".6f"))
    shop.edit_order(number, orderlines=lines)
    booked = _verwerk(link, record, clock)
    assert booked.state == RecordState.PUSHED
    (invoice,) = books.invoices_by_reference(record.reference)
    assert invoice.totals.total_inc == Decimal(shop.order(number)["price"]["total"])
