"""Guarantee 2, nothing missed: an interrupted fetch, late status changes, the sweep, the cursor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from tests.conftest import SHOP_URL, flow_of
from tests.sync.test_engine import assert_exactly_once

from koppeling.connectors import http as kh
from koppeling.sync.cursors import FlowCursor, UnknownCursorVersion, migrate_state
from koppeling.sync.engine import Engine
from koppeling.sync.models import Cursor, RecordState, SyncRecord

pytestmark = pytest.mark.django_db


class PageTwoTimesOut:
    """The shop answers the first page of each listing and then times out (504) on page 2, once."""

    def __init__(self, app) -> None:
        self.app = app
        self.listings = 0
        self.armed = True

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"].endswith("/orders"):
            self.listings += 1
            if self.armed and self.listings == 2:
                self.armed = False
                start_response("504 Gateway Timeout", [("Content-Type", "text/plain")])
                return [b"upstream timed out"]
        return self.app(environ, start_response)


def test_fetch_interrupted_on_page_two_misses_nothing(db, shop_sim, books_sim):
    from tests.conftest import make_link

    # given 250 paid orders, the first of which changed status last (paging goes by order number)
    shop_sim.seed(250, seed=3, start=dt.date.today() - dt.timedelta(days=5), days=4)
    for number in shop_sim.order_numbers():
        shop_sim.set_status(number, 3, at=timezone.localtime() - dt.timedelta(hours=3, minutes=number % 90))
    shop_sim.set_status(shop_sim.order_numbers()[0], 3, at=timezone.localtime() - dt.timedelta(minutes=1))
    link = make_link(shop_sim, books_sim)
    flaky = PageTwoTimesOut(shop_sim.wsgi)
    kh.mount_wsgi(SHOP_URL, flaky)
    # when the first run's fetch breaks on page 2
    first = Engine(link).run()
    assert first.status == "failed" and first.fetched == 100
    # then the cursor did not move (the source does not list in cursor order) …
    assert Cursor.objects.get(flow=flow_of(link)).state.get("last_value") is None
    # … and the next run sees, and books, every order
    second = Engine(link).run()
    assert second.status == "ok"
    assert SyncRecord.objects.filter(link=link).count() == 250
    assert SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).count() == 250
    assert_exactly_once(link, books_sim)
    cursor = Cursor.objects.get(flow=flow_of(link)).state
    assert cursor["version"] == 3 and cursor["last_value"] and cursor["completed_at"]
    assert cursor["last_id"] is None


def test_late_status_change_of_an_old_order_is_caught_by_the_sweep(db, shop_sim, books_sim):
    from tests.conftest import make_link

    # given an order placed 60 days ago, still unpaid, and a link that already ran
    shop_sim.seed(3, seed=8, start=dt.date.today() - dt.timedelta(days=60), days=1)
    old = shop_sim.order_numbers()[0]
    for number in shop_sim.order_numbers():
        shop_sim.set_status(number, 1, at=timezone.localtime() - dt.timedelta(days=59))
    link = make_link(shop_sim, books_sim)
    Engine(link).run()
    assert SyncRecord.objects.get(link=link, source_id=str(old)).state == RecordState.SKIPPED
    # when it becomes paid with a change time the incremental window no longer covers
    # (a late write: the shop's clock lags, beyond the overlap)
    shop_sim.set_status(old, 3, at=timezone.localtime() - dt.timedelta(hours=5))
    Engine(link).run()
    assert SyncRecord.objects.get(link=link, source_id=str(old)).state == RecordState.SKIPPED
    # then the daily sweep, which re-reads by change date, books it
    Engine(link).run(kind="sweep")
    assert SyncRecord.objects.get(link=link, source_id=str(old)).state == RecordState.PUSHED
    assert_exactly_once(link, books_sim)


def test_cursor_state_migrates_from_version_one_and_refuses_a_newer_one():
    assert migrate_state({"version": 1, "last_value": "2026-11-01T10:00:00+00:00"}) == {
        "version": 3,
        "last_value": "2026-11-01T10:00:00+00:00",
        "completed_at": None,
        "last_id": None,
    }
    assert migrate_state({})["version"] == 3
    with pytest.raises(UnknownCursorVersion):
        migrate_state({"version": 99})


def test_cursor_of_an_ordered_source_moves_with_each_batch(db, link):
    cursor = FlowCursor(flow_of(link), ordered=True, overlap=dt.timedelta(minutes=15))
    until = timezone.now()
    moment = until - dt.timedelta(hours=1)
    cursor.after_batch(moment, until)
    assert cursor.last_value == moment
    cursor.after_batch(moment - dt.timedelta(hours=1), until)  # never backwards
    assert cursor.last_value == moment
    assert cursor.start(None) == moment - dt.timedelta(minutes=15)
    unordered = FlowCursor(flow_of(link), ordered=False, overlap=dt.timedelta(0), stream="other")
    unordered.after_batch(moment, until)
    assert unordered.last_value is None  # only a completed fetch moves it
    unordered.after_complete(until)
    assert unordered.last_value == until


def test_a_cut_off_fetch_of_an_ordered_source_resumes_after_its_last_record(db, link):
    flow = flow_of(link)
    cursor = FlowCursor(flow, ordered=True, overlap=dt.timedelta(minutes=15))
    until = timezone.now()
    bulk = until - dt.timedelta(hours=1)  # 600 orders marked paid in one second
    # a run wrote the first batch of that second and was cut off
    cursor.after_batch(bulk, until, "1623650")
    again = FlowCursor(flow, ordered=True, overlap=dt.timedelta(minutes=15))
    assert again.resume_after == (bulk, "1623650")  # exactly there: no overlap, nothing read twice
    # a completed fetch clears it, and the overlap applies again
    again.after_complete(until)
    final = FlowCursor(flow, ordered=True, overlap=dt.timedelta(minutes=15))
    assert final.resume_after is None and final.start(None) == until - dt.timedelta(minutes=15)
    # an unordered source never resumes by id
    assert FlowCursor(flow, ordered=False, overlap=dt.timedelta(0)).resume_after is None
