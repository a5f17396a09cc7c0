"""Seed 002 end to end: the Lightspeed simulator -> the runtime's ``orders_to_batch`` flow -> the
Asperion simulator's drop and import, through stored connections (encrypted credentials, options).

A day of a Dutch shop with Belgian and German customers, 21 % and 9 % goods, companies with VAT
numbers (intra-EU ones at 0 %), pick-up orders, coupons and every status the selection must tell
apart; orders paid later in the day are picked up by the next fetch. The flow is not
OSS-registered (the seed-era shop charges Dutch VAT on distance sales): an OSS sale at a foreign
rate has no sales type in Asperion's order import and would stop the batch (``asp_vat_rate_unmapped``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from lxml import etree

from koppeling.connectors import http as kh
from koppeling.connectors.asperion.batch_format import read_orders_xml, xsd_text
from koppeling.connectors.asperion.simulator import AsperionSimulator
from koppeling.connectors.lightspeed.simulator import LightspeedSimulator
from koppeling.sync.engine import Engine
from koppeling.sync.models import (
    Connection,
    Flow,
    Link,
    Organisation,
    RecordState,
    RunKind,
    SyncRecord,
    VatCheck,
)

pytestmark = pytest.mark.django_db

LS_URL = "http://lightspeed-e2e.sim"
ASP_URL = "http://asperion-e2e.sim"
DAY = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
DELIVERY = dt.datetime(2026, 12, 3, 6, 30, tzinfo=dt.UTC)  # 07:30 in Amsterdam, after deliver_at 06:00
SELECTED = ("paid/processing_awaiting_shipment", "paid/processing_awaiting_pickup")
#: the sample shop's own limits (accountRatelimit.json): a day of ~960 orders is read in one run
PLAN = {"calls_5min": 1000, "calls_hour": 12000, "calls_day": 288000}


class Clock:
    """One simulated time for the runtime and both simulators."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()


@pytest.fixture
def clock() -> Clock:
    return Clock(DELIVERY - dt.timedelta(hours=2))


@pytest.fixture
def shop(clock):
    sim = LightspeedSimulator(clock=clock.epoch, rate_limits=tuple(PLAN.values()))
    kh.mount_wsgi(LS_URL, sim.wsgi)
    yield sim
    kh.unmount(LS_URL)


@pytest.fixture
def books(clock):
    sim = AsperionSimulator(clock=clock.epoch)
    kh.mount_wsgi(ASP_URL, sim.wsgi)
    yield sim
    kh.unmount(ASP_URL)


def _selected(shop: LightspeedSimulator, *, icp: bool) -> list[int]:
    """The orders the flow selects; ``icp``: only / none of the intra-EU business sales at 0 %."""
    return [
        oid
        for oid, state in shop.store.orders.items()
        if f"{state.fields['paymentStatus']}/{state.fields['status']}" in SELECTED
        and bool(state.fields["_vat_shifted"]) == icp
    ]


def _a_day_of_orders(shop: LightspeedSimulator, wanted: int) -> tuple[list[int], list[int]]:
    """A day of orders; the merchant then marks unpaid ones paid (awaiting shipment) until
    ``wanted`` are selectable besides the intra-EU business sales: paid later, picked up later.

    Returns (the other orders, the intra-EU business sales at 0 %: booked with VIES's answer).
    """
    shop.seed(960, seed=2026, start=DAY, days=1)
    paid_later = DELIVERY - dt.timedelta(minutes=45)
    unpaid = ("processing_awaiting_payment", "processing_awaiting_shipment", "on_hold")
    for oid, state in sorted(shop.store.orders.items()):
        if len(_selected(shop, icp=False)) >= wanted:
            break
        f = state.fields
        if f["paymentStatus"] == "not_paid" and f["status"] in unpaid and not f["_vat_shifted"]:
            shop.set_status(oid, "processing_awaiting_shipment", payment_status="paid", at=paid_later)
    batch, held = _selected(shop, icp=False), _selected(shop, icp=True)
    assert len(batch) == wanted and held, f"the seed gives {len(batch)} selectable orders, {len(held)} ICP"
    return batch, held


def _flow(shop: LightspeedSimulator, books: AsperionSimulator, **settings) -> Flow:
    org = Organisation.objects.create(slug="seed-002", name="Seed 002")
    source = Connection(organisation=org, name="Lightspeed", system="lightspeed", base_url=LS_URL)
    source.credentials = {"api_key": shop.api_key, "api_secret": shop.api_secret}
    source.options = {"language": "nl", "cluster": "eu1", "account_limits": PLAN}
    source.save()
    target = Connection(organisation=org, name="Asperion", system="asperion", base_url=ASP_URL)
    target.credentials = {"licence_code": books.licence_code}
    target.save()
    link = Link.objects.create(organisation=org, name="SEOshop → Asperion", source=source, target=target)
    values = {"statuses": list(SELECTED), "oss_registered": False, "deliver_at": "06:00", **settings}
    return Flow.objects.create(
        link=link, kind="orders_to_batch", source=source, target=target, settings=values, target_settings={}
    )


def _run(flow: Flow, clock: Clock, **options):
    flow = Flow.objects.select_related("link", "source", "target").get(pk=flow.pk)
    with Engine(flow.link, flow=flow, now=clock) as engine:
        return engine.run(**options)


def test_engine_day_of_500_orders_imports_into_asperion_without_loss(shop, books, clock):
    # given a day of orders of which 500 are paid and await shipment (some paid later in the day)
    eligible, icp = _a_day_of_orders(shop, 500)
    flow = _flow(shop, books)
    # when the runtime runs once after the delivery hour
    clock.now = DELIVERY
    report = _run(flow, clock)
    # then one file holds exactly those 500 orders and the intra-EU business sales (VIES confirmed
    # their numbers), valid against the reading's schema
    eligible = [*eligible, *icp]
    assert report.pushed == len(eligible), (report.error_code, report.error_params)
    ((_, received),) = books.files.items()
    schema = etree.XMLSchema(etree.fromstring(xsd_text().encode()))
    assert schema.validate(etree.fromstring(received.body)), schema.error_log
    batch = read_orders_xml(received.body)
    wanted = {shop.store.orders[oid].fields["number"]: shop.order(oid) for oid in eligible}
    assert sorted(o.order_number for o in batch.orders) == sorted(wanted)
    # and it holds what the seed cares about: mixed VAT, foreign customers, companies with VAT numbers
    assert {Decimal(21), Decimal(9)} <= {line.vat_rate for order in batch.orders for line in order.lines}
    assert {"NL", "BE", "DE"} <= {o.debtor.invoice_address.country_code for o in batch.orders}
    assert any(o.debtor.company_name and o.debtor.vat_number for o in batch.orders)
    # and nothing failed: each intra-EU sale carries VIES's consultation in the ledger's cache
    assert not SyncRecord.objects.filter(flow=flow, state=RecordState.FAILED).exists()
    assert VatCheck.objects.filter(status="valid").count() >= 1
    # when the merchant imports the file in Asperion
    (imported,) = books.synchronise()
    # then every order is a Concept invoice with the shop's totals to the cent, nothing skipped
    assert sorted(imported.imported) == sorted(wanted) and not imported.errors and not imported.skipped
    admin = books.administration()
    for invoice in admin.invoices.values():
        order = wanted[invoice.order_number]
        assert invoice.status == 0 and invoice.invoice_number is None
        assert invoice.amount_incl == Decimal(str(order["priceIncl"])), invoice.order_number
        assert invoice.amount_excl == Decimal(str(order["priceExcl"])), invoice.order_number
        numbers = [i["number"] for i in order["invoices"]["resource"]["embedded"]]
        assert invoice.description == f"Bestelling {invoice.order_number} factuur {numbers[-1]}"
    # and customers are matched on e-mail (a returning customer, in whatever case, is one debtor)
    assert len(admin.debtors) == len({order["email"].casefold() for order in wanted.values()})
    shop.assert_read_only()


def _personal(order: dict) -> set[str]:
    """What names a person or tells the order's contents: e-mail, names, street, company."""
    values = {order.get("email"), order.get("firstname"), order.get("lastname"), order.get("companyName")}
    values |= {order.get("addressBillingStreet"), order.get("addressShippingStreet")}
    return {str(v) for v in values if v and len(str(v)) > 3}


def test_minimal_privacy_keeps_only_number_date_and_batch_after_delivery(shop, books, clock):
    """Seed 002: "data in flight only". After the day's file, the ledger, its attempts and the
    activity log hold no customer data and no order contents; the number, the date and the batch
    stay for the audit."""
    from django.core import serializers

    from koppeling.sync.models import ActivityEvent, SyncAttempt

    eligible, icp = _a_day_of_orders(shop, 300)
    flow = _flow(shop, books)  # Asperion's default: minimal
    clock.now = DELIVERY
    report = _run(flow, clock)
    assert report.pushed == len(eligible) + len(icp)
    members = SyncRecord.objects.filter(flow=flow, object_type="order", state=RecordState.PUSHED)
    assert members.count() == report.pushed
    for record in members:
        assert (record.params, record.warnings, record.sent, record.reconcile) == ({}, [], {}, {})
        assert record.amount_inc is None
        assert record.source_number and record.order_date and record.batch_id
    # no trace of a customer anywhere in what the database keeps of these orders
    kept = serializers.serialize(
        "json",
        [
            *SyncRecord.objects.filter(flow=flow),
            *SyncAttempt.objects.filter(record__flow=flow),
            *ActivityEvent.objects.filter(flow=flow),
        ],
    )
    delivered = [shop.order(oid) for oid in [*eligible, *icp]]
    leaks = sorted({value for order in delivered for value in _personal(order) if value in kept})
    assert leaks == []
    assert sum(len(_personal(order)) for order in delivered) > 100  # the check looked for something
    # and the activity log still says what happened, in codes with the parameters that name no one
    (delivered_event,) = ActivityEvent.objects.filter(flow=flow, code="batch_delivered")
    assert delivered_event.params["count"] == report.pushed and delivered_event.params["reference"]


def test_engine_second_run_and_next_day_sweep_add_nothing(shop, books, clock):
    # given the day's batch delivered and imported
    _eligible, _icp = _a_day_of_orders(shop, 500)
    flow = _flow(shop, books)
    clock.now = DELIVERY
    assert _run(flow, clock).pushed == 500 + len(_icp)
    books.synchronise()
    # when the runtime runs again an hour later, and sweeps the next day
    clock.now = DELIVERY + dt.timedelta(hours=1)
    again = _run(flow, clock)
    clock.now = DELIVERY + dt.timedelta(days=1)
    sweep = _run(flow, clock, kind=RunKind.SWEEP)
    # then nothing new is delivered or imported
    assert again.pushed == 0 and sweep.pushed == 0
    assert len(books.files) == 1 and books.synchronise() == []
    assert len(books.administration().invoices) == 500 + len(_icp)
    assert SyncRecord.objects.filter(flow=flow, object_type="batch").count() == 1
    shop.assert_read_only()


def test_migration_previews_then_goes_in_one_dated_batch_per_day(shop, books, clock):
    """Seed 002's migration: a date range, a dry run first (count, totals excl. and incl., per
    day), then one file per order day, each delivered once, beside the link's own day."""
    from koppeling.sync import backfill as backfills
    from koppeling.sync.runner import FlowRunner

    first = DAY - dt.timedelta(days=3)
    shop.seed(120, seed=31, start=first, days=2.5)
    for oid, state in shop.store.orders.items():  # every past order paid and awaiting shipment
        if not state.fields["_vat_shifted"]:
            shop.set_status(oid, "processing_awaiting_shipment", payment_status="paid", at=DAY)
    past = _selected(shop, icp=False) + _selected(shop, icp=True)  # (ICP ones: VIES confirms)
    flow = _flow(shop, books, from_date=DAY.date().isoformat())
    clock.now = DELIVERY
    assert _run(flow, clock).pushed == 0  # before the link's start: the daily flow leaves them
    span = (first.date(), (DAY - dt.timedelta(days=1)).date())
    with FlowRunner(flow, now=clock) as runner:
        preview = backfills.preview(runner, *span)
    wanted = [shop.order(oid) for oid in past]
    assert preview.eligible == len(wanted) > 50
    assert preview.totals == {"EUR": sum(Decimal(str(o["priceIncl"])) for o in wanted)}
    assert preview.totals_ex == {"EUR": sum(Decimal(str(o["priceExcl"])) for o in wanted)}
    assert len(preview.per_day) == 3 and sum(preview.per_day.values()) == len(wanted)
    assert not SyncRecord.objects.filter(flow=flow, backfill__isnull=False).exists()  # a dry run
    backfills.start(flow, *span, expected=preview)
    report = _run(flow, clock)
    again = _run(flow, clock)
    # one dated batch (file) per order day, each holding that day's orders, nothing twice
    batches = SyncRecord.objects.filter(flow=flow, object_type="batch", state=RecordState.PUSHED)
    assert report.pushed == len(wanted) and again.pushed == 0
    assert sorted(b.reference.split("/")[1][:10] for b in batches) == sorted(
        d.isoformat() for d in preview.per_day
    )
    for batch in batches:
        members = SyncRecord.objects.filter(batch=batch)
        assert {m.order_date.isoformat() for m in members} == {batch.reference.split("/")[1][:10]}
    assert len(books.files) == 3


def test_a_file_never_imported_or_imported_with_problems_is_told_once(
    shop, books, clock, mailoutbox, django_capture_on_commit_callbacks
):
    """Seed 002: a delivery that Asperion rejects, or that is never imported, surfaces clearly."""
    from koppeling.sync.models import Alert, ReconcileStatus

    _a_day_of_orders(shop, 300)
    flow = _flow(shop, books)
    flow.link.organisation.notify_email = "owner@seed-002.test"
    flow.link.organisation.save()
    clock.now = DELIVERY
    assert _run(flow, clock).pushed > 0
    row = SyncRecord.objects.get(flow=flow, object_type="batch")
    # the next morning's run: not imported yet, within the grace period -> nothing said
    clock.now = DELIVERY + dt.timedelta(hours=20)
    _run(flow, clock)
    assert not Alert.objects.filter(link=flow.link).exists()
    # two days later, still not imported: one alert, one e-mail, the row still asked about
    clock.now = DELIVERY + dt.timedelta(hours=30)
    with django_capture_on_commit_callbacks(execute=True):
        _run(flow, clock)
        _run(flow, clock)
    (alert,) = Alert.objects.filter(link=flow.link, closed_at__isnull=True)
    assert alert.code == "batch_not_imported" and alert.params["hours"] == 30
    assert len(mailoutbox) == 1 and row.reference in mailoutbox[0].body
    row.refresh_from_db()
    assert row.reconcile_status == ReconcileStatus.NONE
    # imported at last, cleanly: the row is confirmed
    books.synchronise()
    _run(flow, clock)
    row.refresh_from_db()
    assert row.reconcile_status == ReconcileStatus.OK


def test_an_import_that_leaves_orders_out_is_shown_on_the_batch(shop, books, clock):
    from koppeling.connectors.asperion.importer import ImportReport
    from koppeling.sync.models import Alert, ReconcileStatus

    _a_day_of_orders(shop, 300)
    flow = _flow(shop, books)
    clock.now = DELIVERY
    _run(flow, clock)
    ((_key, received),) = books.files.items()
    # Asperion's import refused one order (as its import report says)
    received.status, received.imported_at = "imported", books.now_iso()
    received.report = ImportReport(
        received.name, imported=["ORD1"], errors=[("ORD00007", "Debiteur geblokkeerd")]
    )
    clock.now = DELIVERY + dt.timedelta(hours=2)
    _run(flow, clock)
    row = SyncRecord.objects.get(flow=flow, object_type="batch")
    assert row.reconcile_status == ReconcileStatus.MISMATCH
    (problem,) = row.reconcile["problems"]
    assert problem["code"] == "batch_import_problems" and problem["params"]["number"] == "ORD00007"
    assert Alert.objects.get(link=flow.link).code == "batch_import_problems"


def test_engine_fetch_over_the_published_limit_progresses_run_by_run(shop, books, clock):
    # given 400 changed orders and the published 300 calls per 5 minutes (no account limits)
    shop.seed(400, seed=9, start=DAY - dt.timedelta(days=5), days=1)
    flow = _flow(shop, books, deliver_at="23:59")
    Connection.objects.filter(pk=flow.source_id).update(options={"language": "nl"})
    shop.rate_limits = (300, 3000, 12000)
    clock.now = DELIVERY
    # when the runtime runs every 5 minutes
    reports = []
    for _ in range(4):
        reports.append(_run(flow, clock))
        clock.now += dt.timedelta(minutes=5, seconds=1)
        if SyncRecord.objects.filter(flow=flow, object_type="order").count() == 400:
            break
    # then each run takes up where the last one stopped (the source yields in updatedAt order),
    # and every order is in the ledger after the third run, none read more than twice
    assert len(reports) >= 2 and all(r.waiting_until for r in reports[:-1]), "no run was rate-limited"
    assert SyncRecord.objects.filter(flow=flow, object_type="order").count() == 400
    assert len(reports) <= 3
    assert sum(r.fetched for r in reports) < 2 * 400
    assert not SyncRecord.objects.filter(flow=flow, state=RecordState.FAILED).exists()


# -- past the source's limits: a bulk change and a batch larger than one run may read ------------------


def _pay_all(shop: LightspeedSimulator, at: dt.datetime, step: dt.timedelta) -> None:
    for i, (oid, state) in enumerate(sorted(shop.store.orders.items())):
        if not state.fields["_vat_shifted"] and state.fields["status"] != "processing_awaiting_shipment":
            shop.set_status(oid, "processing_awaiting_shipment", payment_status="paid", at=at + step * i)


def test_engine_bulk_change_over_the_limit_is_read_completely(shop, books, clock):
    # given 700 orders, most marked paid by one bulk action (one updatedAt), published limits
    shop.seed(700, seed=9, start=DAY - dt.timedelta(days=5), days=1)
    _pay_all(shop, DAY - dt.timedelta(days=3), dt.timedelta(0))
    flow = _flow(shop, books, deliver_at="23:59")
    Connection.objects.filter(pk=flow.source_id).update(options={"language": "nl"})
    shop.rate_limits = (300, 3000, 12000)
    clock.now = DELIVERY
    # when the runtime runs every 5 minutes for half an hour
    for _ in range(6):
        _run(flow, clock)
        clock.now += dt.timedelta(minutes=5, seconds=1)
    # then every order is in the ledger
    assert SyncRecord.objects.filter(flow=flow, object_type="order").count() == 700


def test_engine_batch_larger_than_the_read_limit_delivers_every_member(shop, books, clock):
    # given 640 pending members collected by earlier runs, published limits, then the delivery hour
    shop.seed(700, seed=9, start=DAY - dt.timedelta(days=5), days=1)
    _pay_all(shop, DAY - dt.timedelta(days=3), dt.timedelta(minutes=3))
    flow = _flow(shop, books, deliver_at="23:59")
    Connection.objects.filter(pk=flow.source_id).update(options={"language": "nl"})
    shop.rate_limits = (300, 3000, 12000)
    clock.now = DELIVERY
    for _ in range(4):
        _run(flow, clock)
        clock.now += dt.timedelta(minutes=5, seconds=1)
    Flow.objects.filter(pk=flow.pk).update(settings={**flow.settings, "deliver_at": "06:00"})
    # when the runtime runs every 5 minutes after the delivery hour
    for _ in range(4):
        _run(flow, clock)
        clock.now += dt.timedelta(minutes=5, seconds=1)
    # then no member is left pending
    assert not SyncRecord.objects.filter(flow=flow, object_type="order", state=RecordState.PENDING).exists()
