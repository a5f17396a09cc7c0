"""What the runtime looks up for core: VIES (cached, asked once, unavailable → wait), exchange
rates (stored from the ECB, stated on the invoice), the OSS threshold (from the ledger), the
invoice a credit note credits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from tests.conftest import LINK_SETTINGS, make_link
from tests.sync.test_engine import assert_exactly_once, invoices_for
from tests.sync.test_rate_limits import Clock

from koppeling.connectors import http as kh
from koppeling.core.models import Order, Party
from koppeling.sync.engine import Engine
from koppeling.sync.lookups import Lookups, refresh_exchange_rates
from koppeling.sync.models import ExchangeRateDay, Organisation, RecordState, SyncRecord, VatCheck
from koppeling.sync.pushing import VIES_RETRY_SECONDS

pytestmark = pytest.mark.django_db

SELLER_VAT = "NL000099998B57"
SETTINGS = {**LINK_SETTINGS, "seller_vat_number": SELLER_VAT}


@pytest.fixture
def seeded_shop(shop_sim):
    """80 recent orders: among them businesses in Belgium and Germany at 0 %, consumers abroad."""
    shop_sim.seed(80, seed=4, start=dt.date.today() - dt.timedelta(days=4), days=3)
    return shop_sim


def _icp(shop) -> dict[str, str]:
    """Order number → VAT number of the seeded orders to businesses in other member states at 0 %."""
    found = {}
    for number in shop.order_numbers():
        record = shop.order(number)
        address = record["debtor"]["address"]["invoice"]
        taxed = any(Decimal(t["amount"]) for t in record["price"]["tax"])
        if address.get("taxnumber") and address["country_code"] != "NL" and not taxed:
            found[str(number)] = address["taxnumber"]
    assert found, "the seed has intra-EU business orders"
    return found


def test_icp_orders_are_booked_with_the_vies_proof_and_each_number_is_asked_once(
    db, seeded_shop, books_sim, vies_sim
):
    icp = _icp(seeded_shop)
    link = make_link(seeded_shop, books_sim, settings=SETTINGS)
    Engine(link).run()
    for number, vat_number in icp.items():
        record = SyncRecord.objects.get(link=link, source_id=number)
        if record.state == RecordState.SKIPPED:
            continue  # a status the link does not book
        assert record.state == RecordState.PUSHED, (record.error_code, record.params)
        assert record.sent["regime"] == "eu_b2b"
        check = VatCheck.objects.get(vat_number=vat_number.replace(" ", "").upper())
        assert check.status == "valid" and check.consultation_number.startswith("WAPI")
    asked = [r["countryCode"] + r["vatNumber"] for r in vies_sim.requests]
    assert len(asked) == len(set(asked))  # once per number, with the shop's own number as requester
    assert {r["requesterCountryCode"] + r["requesterVatNumber"] for r in vies_sim.requests} == {SELLER_VAT}
    # the next run asks nobody: the answers are cached
    before = len(vies_sim.requests)
    Engine(link).run(kind="sweep")
    assert len(vies_sim.requests) == before


def test_vies_unavailable_makes_the_order_wait_and_it_is_booked_when_vies_answers(
    db, seeded_shop, books_sim, vies_sim
):
    icp = _icp(seeded_shop)
    vies_sim.unavailable_countries = {vat[:2] for vat in icp.values()}
    clock = Clock()
    clock.moment = dt.datetime.now(dt.UTC)
    link = make_link(seeded_shop, books_sim, settings=SETTINGS)
    Engine(link, now=clock.now).run()
    waiting = SyncRecord.objects.filter(link=link, error_code="icp_vies_unavailable")
    assert waiting.exists() and set(waiting.values_list("state", flat=True)) == {RecordState.PENDING}
    for record in waiting:
        due = record.next_attempt_at - clock.now()
        assert abs(due.total_seconds() - VIES_RETRY_SECONDS) < 5
    # VIES is back; a quarter of an hour later the orders go
    vies_sim.unavailable_countries = set()
    clock.advance(VIES_RETRY_SECONDS + 60)
    Engine(link, now=clock.now).run()
    for record in waiting:
        record.refresh_from_db()
        assert record.state == RecordState.PUSHED, (record.error_code, record.params)
    assert_exactly_once(link, books_sim)


def test_a_number_vies_says_is_invalid_stops_the_order_with_the_reason(db, seeded_shop, books_sim, vies_sim):
    icp = _icp(seeded_shop)
    vies_sim.invalid = {vat.replace(" ", "").upper() for vat in icp.values()}
    link = make_link(seeded_shop, books_sim, settings=SETTINGS)
    Engine(link).run()
    failed = SyncRecord.objects.filter(link=link, source_id__in=list(icp), state=RecordState.FAILED)
    assert failed.exists()
    assert set(failed.values_list("error_code", flat=True)) == {"icp_vies_invalid"}


def test_an_order_in_dollars_is_converted_at_the_stored_ecb_rate_and_says_so(db, seeded_shop, books_sim):
    number = seeded_shop.order_numbers()[0]
    seeded_shop.edit_order(number, currency="USD")
    seeded_shop.set_status(number, 3)
    order_day = dt.date.fromisoformat(seeded_shop.order(number)["date"])
    ExchangeRateDay.objects.create(currency="USD", date=order_day, rate=Decimal("1.250000"))
    link = make_link(seeded_shop, books_sim)
    Engine(link).run()
    record = SyncRecord.objects.get(link=link, source_id=str(number))
    assert record.state == RecordState.PUSHED, (record.error_code, record.params)
    (converted,) = [w for w in record.warnings if w["code"] == "currency_converted"]
    assert converted["params"]["currency"] == "USD" and Decimal(converted["params"]["rate"]) == Decimal(
        "1.25"
    )
    (booked,) = invoices_for(books_sim, record.reference)
    total = Decimal(seeded_shop.order(number)["price"]["total"])
    assert booked.total_inc == (total / Decimal("1.25")).quantize(Decimal("0.01"))


def test_the_ecb_rates_are_fetched_and_stored_once(db, settings):
    from koppeling.connectors.ecb.simulator import EcbSimulator

    sim = EcbSimulator()
    kh.mount_wsgi("http://ecb.sim", sim.wsgi)
    settings.KOPPELING = {**settings.KOPPELING, "ECB_URL": "http://ecb.sim"}
    try:
        added = refresh_exchange_rates("90d")
        assert added > 0 and ExchangeRateDay.objects.count() == added
        assert refresh_exchange_rates("90d") == 0
    finally:
        kh.unmount("http://ecb.sim")


def test_the_oss_threshold_is_watched_from_the_ledger_once_the_owner_gives_the_starting_figure(
    db, seeded_shop, books_sim
):
    below = make_link(seeded_shop, books_sim, settings={**SETTINGS, "oss_sales_before": "0"}, name="below")
    Engine(below).run()
    regimes = {r.sent.get("regime") for r in SyncRecord.objects.filter(link=below, state=RecordState.PUSHED)}
    assert "eu_b2c_oss" not in regimes  # far below EUR 10,000: the seller's own VAT
    distance = SyncRecord.objects.filter(link=below, sent__has_key="distance_sale_ex")
    assert distance.exists()


def test_past_the_threshold_destination_vat_applies(db, seeded_shop, books_sim):
    link = make_link(seeded_shop, books_sim, settings={**SETTINGS, "oss_sales_before": "20000"})
    Engine(link).run()
    distance = SyncRecord.objects.filter(
        link=link, sent__has_key="distance_sale_ex", state=RecordState.PUSHED
    )
    assert distance.exists()
    assert {r.sent["regime"] for r in distance} == {"eu_b2c_oss"}


def test_a_credit_note_finds_the_invoice_it_credits(db, seeded_shop, books_sim):
    link = make_link(seeded_shop, books_sim)
    Engine(link).run()
    booked = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).first()
    lookups = Lookups(link.flows.get(), link.flows.get().settings, lambda: dt.datetime.now(dt.UTC))
    credit = Order(
        "C1",
        "C1",
        booked.order_date,
        Party(name="x"),
        (),
        total_inc=Decimal("-1"),
        is_credit=True,
        credited_number=booked.source_number,
    )
    original = lookups.original(credit)
    assert original is not None and original.number == booked.target_number
    assert original.date == booked.order_date


def test_booked_distance_sales_are_summed_per_year_to_the_cent(db, seeded_shop, books_sim):
    import datetime as dt
    from decimal import Decimal

    from koppeling.sync.lookups import booked_distance_sales
    from koppeling.sync.models import Flow

    link = make_link(seeded_shop, books_sim, name="oss")
    elsewhere = Organisation.objects.create(slug="elsewhere", name="Elsewhere")
    other = make_link(seeded_shop, books_sim, name="other shop", org=elsewhere)
    flow = Flow.objects.get(link=link)
    year = dt.date.today().year
    rows = [
        (link, dt.date(year, 1, 5), "12.34", RecordState.PUSHED),
        (link, dt.date(year, 2, 5), "0.66", RecordState.PUSHED),
        (link, dt.date(year - 1, 6, 1), "100.10", RecordState.PUSHED),
        (link, dt.date(year - 2, 6, 1), "999", RecordState.PUSHED),  # the year before last year's sales
        (link, dt.date(year - 3, 6, 1), "555", RecordState.PUSHED),  # too long ago
        (link, dt.date(year, 3, 1), "50", RecordState.FAILED),  # not booked
        (other, dt.date(year, 3, 1), "70", RecordState.PUSHED),  # another organisation
    ]
    for n, (owner, day, amount, state) in enumerate(rows):
        SyncRecord.objects.create(
            link=owner,
            flow=Flow.objects.get(link=owner),
            object_type="order",
            source_id=f"d{n}",
            state=state,
            order_date=day,
            sent={"distance_sale_ex": amount},
        )
    sales = booked_distance_sales(flow)
    assert sales.per_year() == {year: Decimal("13.00"), year - 1: Decimal("100.10"), year - 2: Decimal("999")}
    # a sale in January counts January's sales only; last year's counts all of the year before
    assert sales.totals_for(dt.date(year, 1, 31)) == {year - 1: Decimal("100.10"), year: Decimal("12.34")}
    assert sales.totals_for(dt.date(year - 1, 12, 1)) == {
        year - 2: Decimal("999"),
        year - 1: Decimal("100.10"),
    }


def test_a_backfilled_older_sale_is_decided_by_the_sales_before_its_date(db, seeded_shop, books_sim):
    """October's sales crossed EUR 10,000; a March order booked afterwards (a backfill) was made
    when the seller was below it: Dutch VAT, not destination VAT (by push order it would be OSS)."""
    import datetime as dt
    from decimal import Decimal
    from types import SimpleNamespace

    from koppeling.sync.models import Flow

    link = make_link(seeded_shop, books_sim, name="bf")
    flow = Flow.objects.get(link=link)
    year = dt.date.today().year - 1  # last year: whole, whatever today's date
    SyncRecord.objects.create(
        link=link,
        flow=flow,
        object_type="order",
        source_id="oct",
        state=RecordState.PUSHED,
        order_date=dt.date(year, 10, 1),
        sent={"distance_sale_ex": "11000.00"},
    )
    settings = SimpleNamespace(oss_sales_before=Decimal("0"), oss_sales_year=None, seller_country="NL")
    lookups = Lookups(flow, settings, lambda: dt.datetime.now(dt.UTC))

    def sale(day):
        return Order(
            "x",
            "x",
            day,
            Party(name="Kunde", country_code="DE"),
            (),
            total_inc=Decimal("121.00"),
            total_vat=Decimal("21.00"),
        )

    assert lookups.oss(sale(dt.date(year, 3, 15))).past_threshold is False
    assert lookups.oss(sale(dt.date(year, 11, 1))).past_threshold is True


def test_the_threshold_counts_a_sale_excl_vat():
    """EUR 9,900 booked, then a sale of 121.00 incl. 21 % VAT: 100.00 excl., so 10,000.00 — not
    above the threshold (incl. VAT it would have been 10,021 and taxed abroad one sale early)."""
    import datetime as dt
    from decimal import Decimal

    from koppeling.core.models import LineKind, Order, OrderLine, Party
    from koppeling.core.oss import oss_status
    from koppeling.sync.lookups import sale_ex

    line = OrderLine(
        LineKind.PRODUCT, "Thee", Decimal(1), unit_price_inc=Decimal("121.00"), vat_rate=Decimal(21)
    )
    order = Order(
        "1", "1", dt.date(2026, 5, 1), Party(name="A", country_code="DE"), (line,), Decimal("121.00")
    )
    assert sale_ex(order) == Decimal(100)
    stated = Order(
        "2", "2", order.date, order.customer, (line,), Decimal("121.00"), total_vat=Decimal("21.00")
    )
    assert sale_ex(stated) == Decimal("100.00")
    position = oss_status({2026: Decimal("9900")}, Decimal(0), year=2026, sale_amount=sale_ex(order))
    assert not position.past_threshold


def test_a_starting_figure_counts_for_its_own_year_only(db, seeded_shop, books_sim):
    """20,000 outside sales entered for last year: this year's distance sales are taxed at
    destination (the last-year rule); the same figure for three years ago no longer counts."""
    import datetime as dt

    year = dt.date.today().year
    last = make_link(
        seeded_shop, books_sim, settings={**SETTINGS, "oss_sales_before": "20000", "oss_sales_year": year - 1}
    )
    Engine(last).run()
    distance = SyncRecord.objects.filter(
        link=last, sent__has_key="distance_sale_ex", state=RecordState.PUSHED
    )
    assert distance.exists() and {r.sent["regime"] for r in distance} == {"eu_b2c_oss"}
    old = make_link(
        seeded_shop,
        books_sim,
        settings={**SETTINGS, "oss_sales_before": "20000", "oss_sales_year": year - 3},
        name="old figure",
        org=Organisation.objects.create(slug="old", name="Old"),
    )
    Engine(old).run()
    regimes = {r.sent.get("regime") for r in SyncRecord.objects.filter(link=old, state=RecordState.PUSHED)}
    assert "eu_b2c_oss" not in regimes
