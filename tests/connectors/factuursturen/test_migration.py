"""Seed 003's migration against the Factuursturen simulator: 1,000 past orders, uncapped (the
original stopped at 360), paced by the account's own 60 invoices an hour, previewed first, while
the daily orders keep going through; no 429 provoked, nothing booked twice."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from tests.connectors.factuursturen.test_end_to_end import FLOW_SETTINGS, _link

from koppeling.sync import backfill as backfills
from koppeling.sync.engine import Engine
from koppeling.sync.models import BackfillStatus, Flow, RecordState, SyncRecord
from koppeling.sync.runner import FlowRunner

pytestmark = pytest.mark.django_db

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
HOUR = 3600
PER_HOUR = 60  # Factuursturen's documented limit, enforced by its simulator
NOVEMBER = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
ORDERS = 1000


def _shop_time(clock) -> dt.datetime:
    return (clock.now() - dt.timedelta(minutes=1)).astimezone(AMSTERDAM).replace(tzinfo=None)


def _dutch(shop, number: int) -> bool:
    """Dutch, with a valid e-mail address (the sample makes a few invalid ones: the repair tests'
    subject, refused there with a reason; here every order must go through)."""
    debtor = shop.order(number)["debtor"]
    return debtor["address"]["invoice"]["country_code"] == "NL" and "," not in debtor["email"]


def _daily_order(shop, clock, hour: int) -> str:
    """A new Dutch order of today, paid a minute ago (foreign ones of the sample stay unpaid)."""
    for attempt in range(50):
        (number,) = shop.seed(1, seed=2000 + 50 * hour + attempt, start=clock.now().date(), days=1)
        if _dutch(shop, number):
            shop.set_status(number, 3, at=_shop_time(clock))
            return str(number)
        shop.set_status(number, 1, at=_shop_time(clock))
    raise AssertionError("no Dutch order in 50 tries")


def test_a_thousand_past_orders_in_ceil_1000_60_hours_while_daily_orders_go_through(shop_sim, books, clock):
    # given 1,000 orders of November, all paid then, before the link's start date (1 December)
    # (Dutch ones, as the link's settings ask; the foreign ones of the sample stay unpaid)
    seeded = shop_sim.seed(ORDERS * 3 // 2, seed=11, start=NOVEMBER[0], days=29)
    dutch = [n for n in seeded if _dutch(shop_sim, n)]
    numbers = dutch[:ORDERS]
    assert len(numbers) == ORDERS
    for number in seeded:
        paid = number in numbers
        shop_sim.set_status(number, 3 if paid else 1, at=dt.datetime(2026, 11, 30, 12, 0))
    link = _link(shop_sim, books)
    flow = Flow.objects.get(link=link)
    flow.settings = {**FLOW_SETTINGS, "from_date": "2026-12-01"}
    flow.save()
    # the daily run books none of them
    Engine(link, now=clock.now).run()
    assert not SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).exists()
    # the preview: count, totals, ETA from the account's limit — and nothing written
    with FlowRunner(flow, now=clock.now) as runner:
        preview = backfills.preview(runner, *NOVEMBER)
    assert preview.eligible == ORDERS
    assert preview.totals == {"EUR": sum(Decimal(shop_sim.order(n)["price"]["total"]) for n in numbers)}
    assert preview.eta == clock.now() + dt.timedelta(hours=math.ceil(ORDERS / PER_HOUR) - 1)
    # started: hour by hour, with a new paid order each hour
    started = backfills.start(flow, *NOVEMBER, expected=preview)
    hours = 0
    while True:
        daily = _daily_order(shop_sim, clock, hours)
        report = Engine(link, now=clock.now).run()
        assert report.failed == 0, report
        # the day's order is booked in its own hour: the migration never starves it
        assert SyncRecord.objects.get(link=link, source_id=daily).state == RecordState.PUSHED
        hours += 1
        if SyncRecord.objects.filter(backfill=started, state=RecordState.PUSHED).count() == ORDERS:
            break
        assert hours < 30
        clock.advance(HOUR + 60)
    # then it took ceil(1000/60) = 17 hourly windows, no 429 at all, each order booked once
    assert hours == math.ceil(ORDERS / PER_HOUR)
    assert books.rate_limited_count == 0
    started.refresh_from_db()
    assert started.status == BackfillStatus.DONE
    pushed = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED)
    assert pushed.count() == ORDERS + hours == len(books.invoices)
    # the unpaid ones of the range stay unbooked, for the reason the shop gave
    assert not SyncRecord.objects.filter(backfill=started, state=RecordState.FAILED).exists()
    for record in pushed.filter(backfill=started)[:50]:
        assert books.invoice_by_reference(f"Bestelling {record.reference}") is not None
