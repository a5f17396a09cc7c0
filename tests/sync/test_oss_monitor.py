"""The OSS monitor adds up the ledger's distance sales the way the runtime decides: this and last
calendar year, per country, with the owner's starting figure; the sale that crosses EUR 10,000."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from koppeling.sync.lookups import DISTANCE_KEY
from koppeling.sync.models import Connection, Flow, Link, Organisation, RecordState, SyncRecord
from koppeling.sync.oss_monitor import oss_monitor

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 9, 15)
D = Decimal


def organisation(slug: str = "acme", **settings) -> tuple[Organisation, Flow]:
    """An organisation with one link and its orders → invoices flow with ``settings``."""
    org = Organisation.objects.create(name=slug.capitalize(), slug=slug)
    return org, add_flow(org, **settings)


def add_flow(org: Organisation, name: str = "Shop", **settings) -> Flow:
    source = Connection.objects.create(organisation=org, name=f"{name} shop", system="mijnwebwinkel")
    target = Connection.objects.create(organisation=org, name=f"{name} books", system="acumulus")
    link = Link.objects.create(organisation=org, name=name, source=source, target=target)
    return Flow.objects.create(
        link=link,
        kind="orders_to_invoices",
        source=source,
        target=target,
        settings={"version": 2, **settings},
    )


_seq = iter(range(1, 10_000))


def sale(
    flow: Flow,
    day: dt.date,
    amount: str | None,
    country: str = "DE",
    *,
    state: str = RecordState.PUSHED,
    pushed: dt.datetime | None = None,
    number: str = "",
) -> SyncRecord:
    """A ledger row; ``amount`` None: not a distance sale (no ``DISTANCE_KEY``)."""
    n = next(_seq)
    sent = {"country": country, "regime": "eu_b2c_oss" if amount else "domestic", "total_ex": amount or "50"}
    if amount is not None:
        sent[DISTANCE_KEY] = amount
    return SyncRecord.objects.create(
        link=flow.link,
        flow=flow,
        source_id=str(n),
        source_number=number or str(1000 + n),
        state=state,
        order_date=day,
        sent=sent,
        pushed_at=pushed or dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC),
    )


def test_below_the_threshold_dutch_vat_and_the_headroom():
    org, flow = organisation(oss_sales_before="0")
    sale(flow, dt.date(2026, 2, 1), "1200.50", "DE")
    sale(flow, dt.date(2026, 3, 1), "799.50", "BE")
    sale(flow, dt.date(2025, 5, 1), "300", "DE")

    m = oss_monitor(org.pk, today=TODAY)

    assert m.watched and not m.past_threshold and m.crossing is None
    assert (m.booked_this_year, m.booked_last_year) == (D("2000.00"), D("300"))
    assert m.headroom == D("8000.00")
    assert m.percent == 20
    assert [(c.country, c.this_year, c.last_year) for c in m.countries] == [
        ("DE", D("1200.50"), D("300")),
        ("BE", D("799.50"), D(0)),
    ]


def test_the_sale_that_crosses_is_found_by_order_date_then_pushed_time():
    org, flow = organisation(oss_sales_before="1000")
    sale(flow, dt.date(2026, 1, 10), "4000")
    sale(flow, dt.date(2026, 4, 1), "3000", "FR")
    noon = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
    # same order date: the one pushed first counts first, whatever was inserted first
    later = sale(flow, dt.date(2026, 6, 1), "1500", pushed=noon + dt.timedelta(hours=1), number="WA1002")
    crossing = sale(flow, dt.date(2026, 6, 1), "2500", "AT", pushed=noon, number="WA1001")
    sale(flow, dt.date(2026, 8, 1), "700")

    m = oss_monitor(org.pk, today=TODAY)

    assert m.past_threshold and not m.last_year_above
    assert m.crossing is not None
    assert (m.crossing.record_id, m.crossing.number) == (crossing.pk, "WA1001")
    assert m.crossing.order_date == dt.date(2026, 6, 1)
    assert m.crossing.running_total == D("10500")  # 1000 + 4000 + 3000 + 2500
    assert m.crossing.link_id == flow.link_id
    assert later.pk != m.crossing.record_id
    assert m.this_year_total == D("12700") and m.headroom == D(0)


def test_exactly_the_threshold_is_not_past_it():
    org, flow = organisation(oss_sales_before="0")
    sale(flow, dt.date(2026, 3, 1), "10000")
    m = oss_monitor(org.pk, today=TODAY)
    assert not m.past_threshold and m.crossing is None and m.headroom == D(0)


def test_last_year_above_makes_all_of_this_year_past_it():
    org, flow = organisation(oss_sales_before="0")
    sale(flow, dt.date(2025, 3, 1), "6000")
    sale(flow, dt.date(2025, 11, 1), "4500.01")
    sale(flow, dt.date(2026, 1, 5), "100")
    sale(flow, dt.date(2024, 6, 1), "99999")  # two years back: the law looks no further than one

    m = oss_monitor(org.pk, today=TODAY)

    assert m.last_year_above and m.past_threshold
    assert m.crossing is None  # no sale of this year crossed it: it was crossed before the year
    assert m.booked_last_year == D("10500.01") and m.booked_this_year == D("100")


def test_the_starting_figure_counts_towards_the_threshold():
    org, flow = organisation(oss_sales_before="9500")
    sale(flow, dt.date(2026, 2, 1), "400", number="A1")
    crossing = sale(flow, dt.date(2026, 2, 2), "200", number="A2")

    m = oss_monitor(org.pk, today=TODAY)

    assert m.starting_figure == D("9500") and m.this_year_total == D("10100")
    assert m.crossing is not None and m.crossing.record_id == crossing.pk


def test_a_starting_figure_above_the_threshold_has_no_crossing_sale():
    org, flow = organisation(oss_sales_before="12000")
    sale(flow, dt.date(2026, 2, 1), "50")
    m = oss_monitor(org.pk, today=TODAY)
    assert m.past_threshold and m.crossed_before_ledger and m.crossing is None


def test_sales_that_are_not_distance_sales_or_not_pushed_are_ignored():
    org, flow = organisation(oss_sales_before="0")
    sale(flow, dt.date(2026, 2, 1), None, "NL")  # domestic: no distance key
    sale(flow, dt.date(2026, 2, 2), "20000", state=RecordState.FAILED)
    sale(flow, dt.date(2026, 2, 3), "20000", state=RecordState.NEEDS_REVIEW)
    sale(flow, dt.date(2026, 2, 4), "25")

    m = oss_monitor(org.pk, today=TODAY)

    assert m.booked_this_year == D("25") and not m.past_threshold
    assert [c.country for c in m.countries] == ["DE"]


def test_another_organisations_rows_are_ignored():
    org, flow = organisation(oss_sales_before="0")
    other, other_flow = organisation("other", oss_sales_before="0")
    sale(flow, dt.date(2026, 2, 1), "100")
    sale(other_flow, dt.date(2026, 2, 1), "50000")

    m = oss_monitor(org.pk, today=TODAY)

    assert m.booked_this_year == D("100") and not m.past_threshold
    assert oss_monitor(other.pk, today=TODAY).past_threshold


def test_every_link_of_the_organisation_counts_and_the_largest_starting_figure():
    org, flow = organisation(oss_sales_before="500")
    second = add_flow(org, "Second shop", oss_sales_before="2000", oss_registered=False)
    sale(flow, dt.date(2026, 2, 1), "4000")
    sale(second, dt.date(2026, 3, 1), "4500")

    m = oss_monitor(org.pk, today=TODAY)

    assert m.figures_differ and m.starting_figure == D("2000")  # not the sum: the same outside sales
    assert m.this_year_total == D("10500") and m.past_threshold
    assert [f.flow_id for f in m.unregistered_flows] == [second.pk]


def test_not_watched_without_a_starting_figure():
    org, flow = organisation(oss_registered=True)
    sale(flow, dt.date(2026, 2, 1), "300")
    m = oss_monitor(org.pk, today=TODAY)
    assert not m.watched and m.starting_figure == D(0)
    assert m.booked_this_year == D("300")  # the ledger still shows what went
    assert m.flows[0].oss_registered is True


def test_the_figures_are_one_query_for_the_ledger(django_assert_max_num_queries):
    org, flow = organisation(oss_sales_before="0")
    for day in range(1, 20):
        sale(flow, dt.date(2026, 1, day), "10")
    with django_assert_max_num_queries(2):  # the flows, the ledger rows
        m = oss_monitor(org.pk, today=TODAY)
    assert m.booked_this_year == D("190")


def test_a_figure_for_last_year_counts_there_not_this_year():
    """Entered for 2025, the outside sales are last year's in 2026: with them last year was above
    the threshold, so all of 2026 is past it — and they do not fill 2026's headroom."""
    org, flow = organisation(oss_sales_before="10500", oss_sales_year=2025)
    sale(flow, dt.date(2026, 2, 1), "300")
    m = oss_monitor(org.pk, today=TODAY)
    assert m.starting_figure == 0 and m.starting_figure_last_year == D("10500")
    assert m.this_year_total == D("300") and m.last_year_total == D("10500")
    assert m.last_year_above and m.past_threshold and m.crossing is None


def test_a_figure_for_an_older_year_no_longer_counts():
    org, flow = organisation(oss_sales_before="9900", oss_sales_year=2024)
    sale(flow, dt.date(2026, 2, 1), "300")
    m = oss_monitor(org.pk, today=TODAY)
    assert m.watched and m.this_year_total == D("300") and not m.past_threshold
