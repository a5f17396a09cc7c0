"""Backfills (migrations of past orders): previewed, uncapped, paced, pausable, never starving the
daily orders and never booking anything twice."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from tests.conftest import flow_of, make_link
from tests.sync.test_engine import assert_exactly_once
from tests.sync.test_rate_limits import HOUR, Clock

from koppeling.connectors.errors import TransientError
from koppeling.connectors.mijnwebwinkel.client import MijnwebwinkelSource
from koppeling.sync import backfill as backfills
from koppeling.sync.engine import Engine
from koppeling.sync.models import BackfillStatus, ReasonCode, RecordState, SyncRecord
from koppeling.sync.runner import FlowRunner

pytestmark = pytest.mark.django_db

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
PER_HOUR = 60
LIMIT = [{"name": "invoices", "limit": PER_HOUR, "period_seconds": HOUR, "applies_to": ["writes_invoices"]}]
SETTINGS = {"version": 2, "statuses": ["3"], "order_prefix": "WA", "from_date": "2026-12-01"}
NOVEMBER = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


@pytest.fixture
def clock():
    return Clock()


def _paid(sim, numbers, at):
    for number in numbers:
        sim.set_status(number, 3, at=at)


def _shop_time(clock) -> dt.datetime:
    """The shop's own (local, naive) time a minute before the clock."""
    return (clock.now() - dt.timedelta(minutes=1)).astimezone(AMSTERDAM).replace(tzinfo=None)


@pytest.fixture
def past_orders(shop_sim):
    """Orders of November, all paid in November: before the link's start date."""

    def make(count: int) -> list[int]:
        numbers = shop_sim.seed(count, seed=5, start=NOVEMBER[0], days=29)
        _paid(shop_sim, numbers, dt.datetime(2026, 11, 30, 12, 0))
        return numbers

    return make


def _link(shop_sim, books_sim, clock, **extra):
    books_sim.rate_limit, books_sim.clock = (PER_HOUR, HOUR), clock.epoch
    return make_link(
        shop_sim, books_sim, settings={**SETTINGS, **extra}, books_options={"rate_limits": LIMIT}
    )


def _daily_order(shop_sim, clock, seed: int) -> str:
    (number,) = shop_sim.seed(1, seed=1000 + seed, start=clock.now().date(), days=1)
    shop_sim.set_status(number, 3, at=_shop_time(clock))
    return str(number)


def test_a_thousand_past_orders_go_in_ceil_1000_60_hours_and_daily_orders_are_not_starved(
    db, shop_sim, books_sim, clock, past_orders
):
    numbers = past_orders(1000)
    link = _link(shop_sim, books_sim, clock)
    flow = flow_of(link)
    # the daily run leaves November alone: it is before the start date
    Engine(link, now=clock.now).run()
    assert not SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).exists()
    # the preview counts them, totals them and says when the last is booked — writing nothing
    with FlowRunner(flow, now=clock.now) as runner:
        preview = backfills.preview(runner, *NOVEMBER)
    assert preview.eligible == 1000 and not preview.skipped
    expected_total = sum(Decimal(shop_sim.order(n)["price"]["total"]) for n in numbers)
    assert preview.totals == {"EUR": expected_total}
    assert sum(preview.per_day.values()) == 1000 and min(preview.per_day) >= NOVEMBER[0]
    assert preview.eta == clock.now() + dt.timedelta(hours=math.ceil(1000 / PER_HOUR) - 1)
    assert not SyncRecord.objects.filter(link=link, backfill__isnull=False).exists()
    # started, it runs hour by hour while one new order a day-hour keeps coming in
    started = backfills.start(flow, *NOVEMBER, expected=preview)
    hours, daily = 0, []
    while True:
        daily.append(_daily_order(shop_sim, clock, hours))
        report = Engine(link, now=clock.now).run()
        assert report.failed == 0, report
        # the new order of this hour is booked in this hour: never behind the migration
        assert SyncRecord.objects.get(link=link, source_id=daily[-1]).state == RecordState.PUSHED
        hours += 1
        if not SyncRecord.objects.filter(backfill=started).exclude(state=RecordState.PUSHED).exists():
            break
        assert hours < 30
        clock.advance(HOUR + 60)
    # 17 windows: the last booking 16 hours after the first, none refused by the rate limit
    assert hours == math.ceil(1000 / PER_HOUR)
    assert books_sim.rate_limited_count == 0
    started.refresh_from_db()
    assert started.status == BackfillStatus.DONE and started.finished_at is not None
    assert SyncRecord.objects.filter(backfill=started, state=RecordState.PUSHED).count() == 1000
    assert_exactly_once(link, books_sim)


def test_pause_holds_the_backfill_back_and_resume_lets_it_go(db, shop_sim, books_sim, clock, past_orders):
    past_orders(150)
    link = _link(shop_sim, books_sim, clock)
    flow = flow_of(link)
    started = backfills.start(flow, *NOVEMBER)
    Engine(link, now=clock.now).run()
    assert SyncRecord.objects.filter(backfill=started, state=RecordState.PUSHED).count() == PER_HOUR
    assert backfills.pause(started) and not backfills.pause(started)
    # paused: the next window books the day's order, not the backfill's
    clock.advance(HOUR + 60)
    fresh = _daily_order(shop_sim, clock, 1)
    report = Engine(link, now=clock.now).run()
    assert (
        report.pushed == 1 and SyncRecord.objects.get(link=link, source_id=fresh).state == RecordState.PUSHED
    )
    progress = backfills.progress(started)
    assert progress.booked == PER_HOUR and progress.remaining == 90
    flow.refresh_from_db()
    assert flow.backlog == 0  # what a paused backfill holds is not counted as waiting to go
    # resumed: it goes on where it stopped
    assert backfills.resume(started)
    report = Engine(link, now=clock.now).run()
    assert report.pushed == PER_HOUR - 1
    clock.advance(HOUR + 60)
    Engine(link, now=clock.now).run()
    started.refresh_from_db()
    assert started.status == BackfillStatus.DONE
    assert_exactly_once(link, books_sim)


def test_cancel_ignores_what_is_left(db, shop_sim, books_sim, clock, past_orders):
    past_orders(80)
    link = _link(shop_sim, books_sim, clock)
    started = backfills.start(flow_of(link), *NOVEMBER)
    Engine(link, now=clock.now).run()
    assert backfills.cancel(started) == 20
    clock.advance(HOUR + 60)
    assert Engine(link, now=clock.now).run().pushed == 0
    ignored = SyncRecord.objects.filter(backfill=started, state=RecordState.IGNORED)
    assert ignored.count() == 20
    assert set(ignored.values_list("reason_code", flat=True)) == {ReasonCode.IGNORED_BY_PERSON}


def test_a_number_range_and_orders_already_booked_are_respected(db, shop_sim, books_sim, clock, past_orders):
    numbers = past_orders(40)
    link = _link(shop_sim, books_sim, clock)
    flow = flow_of(link)
    wanted = (numbers[10], numbers[19])
    first = backfills.start(flow, *NOVEMBER, wanted)
    Engine(link, now=clock.now).run()
    booked = set(
        SyncRecord.objects.filter(backfill=first, state=RecordState.PUSHED).values_list(
            "source_id", flat=True
        )
    )
    assert booked == {str(n) for n in numbers[10:20]}
    # a second backfill over the whole month books the rest and leaves the booked ones alone
    with FlowRunner(flow, now=clock.now) as runner:
        preview = backfills.preview(runner, *NOVEMBER)
    assert preview.eligible == 30 and preview.already_known == {RecordState.PUSHED: 10}
    second = backfills.start(flow, *NOVEMBER)
    Engine(link, now=clock.now).run()
    assert SyncRecord.objects.filter(backfill=second, state=RecordState.PUSHED).count() == 30
    assert SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).count() == 40
    assert_exactly_once(link, books_sim)


def test_the_conditions_still_apply_to_past_orders(db, shop_sim, books_sim, clock, past_orders):
    numbers = past_orders(20)
    for number in numbers[:5]:
        shop_sim.set_status(number, 1, at=dt.datetime(2026, 11, 30, 13, 0))  # back to "new": not paid
    link = _link(shop_sim, books_sim, clock)
    flow = flow_of(link)
    with FlowRunner(flow, now=clock.now) as runner:
        preview = backfills.preview(runner, *NOVEMBER)
    assert preview.eligible == 15 and preview.skipped == {ReasonCode.STATUS_NOT_SELECTED: 5}
    started = backfills.start(flow, *NOVEMBER)
    Engine(link, now=clock.now).run()
    assert SyncRecord.objects.filter(backfill=started, state=RecordState.PUSHED).count() == 15
    assert (
        SyncRecord.objects.filter(backfill=started, reason_code=ReasonCode.STATUS_NOT_SELECTED).count() == 5
    )
    # one of them is paid later: the daily run books it, the start date notwithstanding (it was asked for)
    shop_sim.set_status(numbers[0], 3, at=_shop_time(clock))
    clock.advance(120)
    shop_sim.set_status(numbers[0], 3, at=_shop_time(clock))
    Engine(link, now=clock.now).run()
    assert SyncRecord.objects.get(link=link, source_id=str(numbers[0])).state == RecordState.PUSHED


def test_a_backfill_whose_reading_failed_is_read_again(
    db, shop_sim, books_sim, clock, past_orders, monkeypatch
):
    past_orders(30)
    link = _link(shop_sim, books_sim, clock)
    started = backfills.start(flow_of(link), *NOVEMBER)
    real = MijnwebwinkelSource.fetch_created

    def breaks_after_ten(self, start, end=None):
        for index, fetched in enumerate(real(self, start, end)):
            if index == 10:
                raise TransientError(params={"system": "shop"})
            yield fetched

    # the shop stops answering after ten orders of the range were read
    monkeypatch.setattr(MijnwebwinkelSource, "fetch_created", breaks_after_ten)
    report = Engine(link, now=clock.now).run()
    assert report.status == "failed"
    started.refresh_from_db()
    assert started.fetched_at is None and started.status == BackfillStatus.RUNNING
    assert SyncRecord.objects.filter(backfill=started).count() == 10  # what was read is kept
    # the next run reads the range again, completely, and books every order once
    monkeypatch.setattr(MijnwebwinkelSource, "fetch_created", real)
    Engine(link, now=clock.now).run()
    started.refresh_from_db()
    assert started.status == BackfillStatus.DONE and started.fetched_at is not None
    assert SyncRecord.objects.filter(backfill=started, state=RecordState.PUSHED).count() == 30
    assert_exactly_once(link, books_sim)


def test_bad_ranges_are_refused_with_a_code(db, shop_sim, books_sim, clock):
    link = _link(shop_sim, books_sim, clock)
    with pytest.raises(backfills.BackfillError) as caught:
        backfills.start(flow_of(link), NOVEMBER[1], NOVEMBER[0])
    assert caught.value.code == "backfill_range_reversed"
    with pytest.raises(backfills.BackfillError) as caught:
        backfills.start(flow_of(link), *NOVEMBER, (20, 10))
    assert caught.value.code == "backfill_numbers_reversed"


EVERY_REQUEST = [{"name": "calls", "limit": PER_HOUR, "period_seconds": HOUR, "applies_to": ["*"]}]


def test_the_preview_counts_the_slots_a_record_costs_as_the_flow_measured_them(
    db, shop_sim, books_sim, clock, past_orders
):
    """A target limited on every request: a record that costs two calls takes two slots, so the
    preview's ETA is twice as far as one slot a record would say; the run measures and keeps it."""
    past_orders(100)
    books_sim.rate_limit, books_sim.clock = (PER_HOUR, HOUR), clock.epoch
    link = make_link(shop_sim, books_sim, settings=SETTINGS, books_options={"rate_limits": EVERY_REQUEST})
    flow = flow_of(link)
    flow.slots_per_record = 2.0
    flow.save(update_fields=["slots_per_record"])
    with FlowRunner(flow, now=clock.now) as runner:
        preview = backfills.preview(runner, *NOVEMBER)
    assert preview.eligible == 100
    assert preview.eta == clock.now() + dt.timedelta(hours=math.ceil(200 / PER_HOUR) - 1)

    flow.slots_per_record = 3.0
    flow.save(update_fields=["slots_per_record"])
    backfills.start(flow, *NOVEMBER, expected=preview)
    report = Engine(link, now=clock.now).run()
    assert report.pushed > 0
    flow.refresh_from_db()
    assert flow.slots_per_record == 1.0  # one call an invoice, as this run measured it
