"""Mijnwebwinkel -> the runtime -> Factuursturen, through the Django models, on a simulated clock.

Seed 003: paid orders become paid invoices, once; debtors are matched on e-mail, created when new
and never changed; 60 invoices an hour, the rest waits; bookings are read back and compared.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from tests.connectors.factuursturen.fs_helpers import BOOKS_URL

from koppeling.sync.engine import Engine
from koppeling.sync.models import (
    ActivityEvent,
    Connection,
    Flow,
    Link,
    Organisation,
    ReasonCode,
    ReconcileStatus,
    RecordState,
    SyncRecord,
)
from koppeling.sync.reconcile import reconcile_records
from koppeling.sync.runner import FlowRunner

pytestmark = pytest.mark.django_db

SHOP_URL = "http://mijnwebwinkel.sim"  # where the root conftest mounts ``shop_sim``
HOUR = 3600
FLOW_SETTINGS = {
    "version": 2,
    "statuses": ["3"],
    "order_prefix": "WA",
    "from_date": "2026-11-01",
    "countries": ["NL"],
    "payment_status": "paid",  # seed 003: "facturen met de status betaald"
    "reconcile_tolerance": "0.05",  # seed 003: "mismatches of more than a few cents"
}
TARGET_SETTINGS = {
    "vat_rates": {"21": {"category": 1}, "9": {"category": 1}, "0": {"category": 1}},
    "mixed_categories": "largest",
}


@pytest.fixture
def shop(shop_sim):
    """100 orders placed the day before, all paid (status 3); about 70 are Dutch."""
    shop_sim.seed(100, seed=7, start=dt.date(2026, 12, 1), days=1)
    for number in shop_sim.order_numbers():
        shop_sim.set_status(number, 3, at=dt.datetime(2026, 12, 1, 12, 0))
    return shop_sim


def _dutch(shop) -> list[int]:
    return [
        n
        for n in shop.order_numbers()
        if shop.order(n)["debtor"]["address"]["invoice"]["country_code"] == "NL"
    ]


def _link(shop, books) -> Link:
    org = Organisation.objects.create(slug="acme", name="Acme", notify_email="owner@acme.test")
    source = Connection(organisation=org, name="Shop", system="mijnwebwinkel", base_url=SHOP_URL)
    source.credentials = shop.valid_credentials()
    source.save()
    target = Connection(
        organisation=org, name="Books", system="factuursturen", base_url=f"{BOOKS_URL}/api/v1"
    )
    target.credentials = books.valid_credentials()
    target.save()
    link = Link.objects.create(organisation=org, name="Shop → Factuursturen", source=source, target=target)
    Flow.objects.create(
        link=link,
        kind="orders_to_invoices",
        source=source,
        target=target,
        settings=dict(FLOW_SETTINGS),
        target_settings=dict(TARGET_SETTINGS),
    )
    return link


def _pushed(link) -> list[SyncRecord]:
    return list(SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).order_by("pk"))


def _reconcile(link, clock, ids):
    with FlowRunner(link.flows.get(), now=clock.now) as runner:
        return reconcile_records(runner.prepare_run(), ids)


def _run_until_done(link, clock) -> int:
    runs = 0
    while SyncRecord.objects.filter(link=link, state=RecordState.PENDING).exists():
        clock.advance(HOUR + 60)
        report = Engine(link, now=clock.now).run()
        assert report.failed == 0 and report.status == "ok"
        runs += 1
        assert runs < 5
    return runs


def test_engine_run_books_every_paid_order_once_within_the_hourly_limit(shop, books, clock):
    # given 100 paid orders, about 70 of them Dutch, and an account that takes 60 invoices an hour
    dutch = _dutch(shop)
    assert len(dutch) > 60
    link = _link(shop, books)
    # when the link runs
    first = Engine(link, now=clock.now).run()
    # then 60 are booked, the rest waits its turn (no failure, no 403 provoked)
    flow = Flow.objects.get(link=link)
    assert (first.pushed, first.deferred, first.failed, first.status) == (60, len(dutch) - 60, 0, "ok")
    assert flow.waiting_until is not None
    assert abs(flow.waiting_until - (clock.now() + dt.timedelta(hours=1))) < dt.timedelta(seconds=2)
    waiting = SyncRecord.objects.filter(link=link, state=RecordState.PENDING)
    assert set(waiting.values_list("reason_code", flat=True)) == {ReasonCode.RATE_LIMITED}
    assert len(books.invoices) == 60 and books.rate_limited_count == 0
    # when the dispatcher runs it again in the next hour, and once more after that
    assert _run_until_done(link, clock) == 1
    again = Engine(link, now=clock.now).run()
    # then every Dutch order is booked exactly once, paid, findable by its reference
    records = _pushed(link)
    assert len(records) == len(dutch) == len(books.invoices) and again.pushed == 0
    for record in records:
        booked = books.invoice_by_reference(f"Bestelling {record.reference}")  # ValueError on a duplicate
        assert booked is not None and str(booked.id) == record.target_id
        assert booked.open == 0 and booked.reference[0] == f"Bestelling {record.reference}"
    assert books.rate_limited_count == 0


def test_engine_run_matches_debtors_on_email_and_never_changes_one(shop, books, clock):
    # given one customer already a debtor in Factuursturen, incl. VAT with a 10 % standard discount
    dutch = _dutch(shop)
    first_order = shop.order(dutch[0])
    email = first_order["debtor"]["email"]
    known = books.add_client(contact="Oude Naam", email=email.upper(), tax_type="intax", stddiscount="10")
    # and a later order of that e-mail address under another name
    shop.edit_order(dutch[5], **{"debtor.email": email, "debtor.address.invoice.name": "Nieuwe Naam"})
    link = _link(shop, books)
    # when every order is booked
    Engine(link, now=clock.now).run()
    _run_until_done(link, clock)
    # then no existing debtor was written to, one debtor per e-mail address exists
    assert books.client_writes() == []
    emails = [c["email"].casefold() for c in books.clients.values()]
    assert len(emails) == len(set(emails))
    records = {r.source_id: r for r in _pushed(link)}
    assert {books.invoices[int(r.target_id)].clientnr for r in records.values()} <= set(books.clients)
    # the known debtor's orders are booked on it, at what the customer paid (its settings ignored)
    mine = [r for r in records.values() if books.invoices[int(r.target_id)].clientnr == known]
    assert {r.source_id for r in mine} >= {str(dutch[0]), str(dutch[5])}
    for record in mine:
        booked = books.invoices[int(record.target_id)]
        assert booked.discount == 0 and abs(booked.totals.total_inc - record.amount_inc) <= Decimal("0.05")
    # and the differing name is said on the booking and in the activity log
    reused = records[str(dutch[5])]
    codes = [w["code"] for w in reused.warnings]
    assert "factuursturen_debtor_reused" in codes
    assert ActivityEvent.objects.filter(record=reused, code="factuursturen_debtor_reused").exists()


def test_reconcile_records_flags_ten_cents_and_a_changed_customer_name(shop, books, clock):
    # given every order booked and read back
    link = _link(shop, books)
    Engine(link, now=clock.now).run()
    _run_until_done(link, clock)
    records = _pushed(link)
    counts = _reconcile(link, clock, [r.pk for r in records])
    assert counts == {"ok": len(records), "mismatch": 0, "unavailable": 0}
    # (a booking Factuursturen totals a cent apart — VAT once per rate — says so in a warning)
    exact = []
    for record in records:
        booked = books.invoices[int(record.target_id)].totals.total_inc
        warned = "factuursturen_totals_differ" in [w["code"] for w in record.warnings]
        assert warned is (booked != Decimal(record.sent["total_inc"])), record.reference
        if not warned:
            exact.append(record)
    # when someone adds 10 cents of VAT to one invoice and renames the debtor on another
    first, second = exact[0], exact[1]
    totals = books.invoices[int(first.target_id)].totals
    totals.tax += Decimal("0.10")
    totals.total_inc += Decimal("0.10")
    printed = books.invoices[int(second.target_id)].client
    printed["company"], printed["contact"] = "", "Iemand Anders"
    counts = _reconcile(link, clock, [first.pk, second.pk])
    # then both are reported, with the amounts and the names
    assert counts["mismatch"] == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.reconcile_status == second.reconcile_status == ReconcileStatus.MISMATCH
    (difference,) = first.reconcile["problems"]
    assert difference["code"] == "reconcile_total_differs" and difference["params"]["difference"] == "0.10"
    (renamed,) = second.reconcile["problems"]
    assert renamed["code"] == "reconcile_customer_differs" and renamed["params"]["booked"] == "Iemand Anders"
