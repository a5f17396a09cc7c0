"""Guarantee 3, rate limits obeyed and never fatal: paced by shared buckets, 429s held, ETAs shown."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.conftest import Clock, flow_of, make_link
from tests.sync.test_engine import assert_exactly_once

from koppeling.sync.engine import Engine
from koppeling.sync.models import Flow, ReasonCode, RecordState, SyncAttempt, SyncRecord
from koppeling.sync.ratelimit import Limiter
from koppeling.sync.review import retry_record

pytestmark = pytest.mark.django_db

HOUR = 3600
LIMIT = [{"name": "invoices", "limit": 2, "period_seconds": HOUR, "applies_to": ["writes_invoices"]}]


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def paid_shop(shop_sim, clock):
    """20 paid orders placed the day before the clock starts."""
    shop_sim.seed(20, seed=4, start=dt.date(2026, 12, 1), days=1)
    for number in shop_sim.order_numbers():
        shop_sim.set_status(number, 3, at=dt.datetime(2026, 12, 1, 12, 0))
    return shop_sim


def _settings():
    return {"version": 2, "statuses": ["3"], "order_prefix": "WA", "from_date": "2026-11-01"}


def test_declared_limit_paces_every_order_without_a_single_429(db, paid_shop, books_sim, clock):
    # given a target account that takes 2 invoices an hour, and says so
    books_sim.rate_limit, books_sim.clock = (2, HOUR), clock.epoch
    link = make_link(paid_shop, books_sim, settings=_settings(), books_options={"rate_limits": LIMIT})
    # when the link runs every hour
    first = Engine(link, now=clock.now).run()
    flow = Flow.objects.get(link=link)
    # then the first run books 2, and the rest waits for its slot with a correct ETA
    assert first.pushed == 2 and first.deferred == 18 and first.failed == 0 and first.status == "ok"
    second = dt.timedelta(seconds=1)
    assert abs(flow.waiting_until - (clock.now() + dt.timedelta(hours=1))) < second
    assert flow.backlog == 18
    assert abs(flow.backlog_eta - (clock.now() + dt.timedelta(hours=9))) < second  # 18 more at 2 an hour
    waiting = SyncRecord.objects.filter(link=link, state=RecordState.PENDING)
    assert set(waiting.values_list("reason_code", flat=True)) == {ReasonCode.RATE_LIMITED}
    runs = 1
    while SyncRecord.objects.filter(link=link, state=RecordState.PENDING).exists() and runs < 12:
        clock.advance(HOUR + 60)  # the dispatcher looks every minute
        Engine(link, now=clock.now).run()
        runs += 1
    # every order booked once, in 10 hourly runs, none failed, none provoked a 429
    assert runs == 10
    assert SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).count() == 20
    assert books_sim.rate_limited_count == 0
    assert set(SyncRecord.objects.filter(link=link).values_list("attempts", flat=True)) == {1}
    assert_exactly_once(link, books_sim)


def test_undeclared_limit_is_learned_from_the_429_and_never_fails_an_order(db, paid_shop, books_sim, clock):
    # given a target that answers 429 past 2 an hour, but publishes no limit
    books_sim.rate_limit, books_sim.clock = (2, HOUR), clock.epoch
    link = make_link(paid_shop, books_sim, settings=_settings())
    runs = 0
    while SyncRecord.objects.filter(link=link).exclude(state=RecordState.PUSHED).exists() or runs == 0:
        report = Engine(link, now=clock.now).run()
        assert report.failed == 0 and report.status == "ok"
        clock.advance(HOUR + 60)  # the dispatcher looks every minute
        runs += 1
        assert runs <= 12
    # then every order was booked once; no attempt was wasted; only the first window, with its calls
    # in flight, provoked more than one 429: after that one call at a time, one 429 per window at most
    assert SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).count() == 20
    in_flight = 4
    assert books_sim.rate_limited_count <= in_flight + runs - 1
    assert not SyncRecord.objects.filter(link=link, reason_code=ReasonCode.GAVE_UP).exists()
    assert SyncAttempt.objects.filter(outcome="rate_limited").count() == books_sim.rate_limited_count
    assert_exactly_once(link, books_sim)


def test_verwerk_jumps_the_queue_but_obeys_the_limit(db, paid_shop, books_sim, clock):
    books_sim.rate_limit, books_sim.clock = (2, HOUR), clock.epoch
    link = make_link(paid_shop, books_sim, settings=_settings(), books_options={"rate_limits": LIMIT})
    Engine(link, now=clock.now).run()
    last = SyncRecord.objects.filter(link=link, state=RecordState.PENDING).order_by("-id").first()
    # given the owner presses Verwerk for the last order in the queue while the bucket is empty
    assert retry_record(last)
    report = Engine(link, now=clock.now).run(kind="order", order_number=last.source_id)
    last.refresh_from_db()
    assert report.pushed == 0 and last.state == RecordState.PENDING and last.priority == 10
    assert books_sim.rate_limited_count == 0
    # when the next slot opens, it goes first
    clock.advance(HOUR + 60)
    Engine(link, now=clock.now).run()
    last.refresh_from_db()
    assert last.state == RecordState.PUSHED
    first_of_the_hour = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).order_by(
        "-pushed_at", "id"
    )
    assert last.pk in {r.pk for r in first_of_the_hour[:2]}


def test_two_workers_share_one_bucket(db, paid_shop, books_sim, clock, tmp_path):
    # given two worker processes (two limiters) on the same bucket store
    url = f"sqlite://{tmp_path}/shared.sqlite3"
    books_sim.rate_limit, books_sim.clock = (2, HOUR), clock.epoch
    link = make_link(paid_shop, books_sim, settings=_settings(), books_options={"rate_limits": LIMIT})
    first = Engine(link, now=clock.now, rate_limiter=Limiter(url)).run()
    second = Engine(link, now=clock.now, rate_limiter=Limiter(url)).run()
    # then together they booked no more than the limit, and the target never had to refuse
    assert first.pushed + second.pushed == 2
    assert books_sim.rate_limited_count == 0


def test_two_links_on_one_account_share_its_limit(db, paid_shop, books_sim, clock):
    books_sim.rate_limit, books_sim.clock = (2, HOUR), clock.epoch
    one = make_link(paid_shop, books_sim, settings=_settings(), books_options={"rate_limits": LIMIT})
    other_settings = {**_settings(), "order_prefix": "WB"}
    two = make_link(
        paid_shop, books_sim, settings=other_settings, name="Second", books_options={"rate_limits": LIMIT}
    )
    pushed = Engine(one, now=clock.now).run().pushed + Engine(two, now=clock.now).run().pushed
    assert pushed == 2 and books_sim.rate_limited_count == 0
    assert flow_of(two).waiting_until is not None


def test_a_source_limit_on_every_call_paces_the_fetch_instead_of_failing_it(db, paid_shop, books_sim, clock):
    from koppeling.sync.models import Connection

    link = make_link(paid_shop, books_sim, settings=_settings())
    # given the shop's account allows one call per five minutes
    Connection.objects.filter(pk=link.source_id).update(
        options={"rate_limits": [{"name": "calls", "limit": 1, "period_seconds": 300}]}
    )
    link.refresh_from_db()
    first = Engine(link, now=clock.now).run()
    assert first.fetched == 20 and first.status == "ok"
    # when the next run comes within those five minutes, it waits instead of calling
    second = Engine(link, now=clock.now).run()
    assert second.status == "ok" and second.error_code == "" and second.fetched == 0
    assert second.waiting_until is not None
    assert abs((second.waiting_until - clock.now()).total_seconds() - 300) < 2
    assert Flow.objects.get(link=link).waiting_until == second.waiting_until


def test_the_eta_counts_every_slot_a_write_costs_under_an_every_request_limit(db, tmp_path):
    """600 a minute on every request: 1,000 waiting writes that cost three slots each (a look-up,
    the create, the write's own) need 3,000 slots — the last four minutes after the first, not one.
    A limit on writes only counts one slot a write whatever else the write calls."""
    from types import SimpleNamespace

    from koppeling.connectors.base import RateLimit

    now = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)

    def account(system: str, limit: RateLimit) -> SimpleNamespace:
        return SimpleNamespace(system=system, account_key=lambda: system, limits=lambda: (limit,))

    every = account("every", RateLimit("api", 600, 60, frozenset({"*"})))
    writes = account("writes", RateLimit("invoices", 600, 60, frozenset({"writes_invoices"})))
    limiter = Limiter(f"sqlite:///{tmp_path / 'buckets.sqlite'}")
    assert limiter.eta(every, "writes_products", 1000, now) == now + dt.timedelta(minutes=1)
    assert limiter.eta(every, "writes_products", 1000, now, slots_each=3) == now + dt.timedelta(minutes=4)
    assert limiter.eta(writes, "writes_invoices", 1000, now, slots_each=3) == now + dt.timedelta(minutes=1)
