"""“Where is my order?”: every case a shop owner asks about is told apart, in both languages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation
from tests.conftest import make_link

from koppeling.cli import main
from koppeling.sync import backfill as backfills
from koppeling.sync.engine import Engine
from koppeling.sync.explain import explain
from koppeling.sync.models import ReasonCode
from koppeling.sync.outcomes import SyncCode, render

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()
SETTINGS = {
    "version": 2,
    "statuses": ["3"],
    "order_prefix": "WA",
    "from_date": (TODAY - dt.timedelta(days=5)).isoformat(),
}


@pytest.fixture
def shop(shop_sim):
    """Three recent paid orders, one recent unpaid order, and one paid order of long ago."""
    recent = shop_sim.seed(4, seed=3, start=TODAY - dt.timedelta(days=2), days=1)
    for number in recent[:3]:
        shop_sim.set_status(number, 3, at=dt.datetime.combine(TODAY - dt.timedelta(days=1), dt.time(9)))
    shop_sim.set_status(recent[3], 1, at=dt.datetime.combine(TODAY - dt.timedelta(days=1), dt.time(9)))
    (old,) = shop_sim.seed(1, seed=4, start=TODAY - dt.timedelta(days=40), days=1)
    shop_sim.set_status(old, 3, at=dt.datetime.combine(TODAY - dt.timedelta(days=39), dt.time(9)))
    shop_sim.numbers = {"booked": str(recent[0]), "unpaid": str(recent[3]), "old": str(old)}
    return shop_sim


def _story(link, number):
    (story,) = explain(link, number).stories
    return story


def test_a_booked_order_shows_when_it_was_fetched_pushed_booked_and_read_back(db, shop, books_sim):
    link = make_link(shop, books_sim, settings=SETTINGS)
    report = Engine(link).run()
    from koppeling.sync.tasks import reconcile_task

    reconcile_task.call_local(link.flows.get().pk, report.pushed_ids)  # the task a commit queues
    story = _story(link, shop.numbers["booked"])
    codes = [step.code for step in story.steps]
    assert codes[0] == SyncCode.EXPLAIN_FIRST_SEEN
    assert (
        SyncCode.EXPLAIN_ATTEMPT in codes and SyncCode.PUSHED in codes and SyncCode.EXPLAIN_READ_BACK in codes
    )
    assert all(c.met for c in story.conditions) and story.conditions
    assert story.verdict.code == SyncCode.EXPLAIN_BOOKED
    assert story.verdict.params["booked_as"] == story.record.target_number


def test_an_unpaid_order_says_which_condition_it_fails(db, shop, books_sim):
    link = make_link(shop, books_sim, settings=SETTINGS)
    Engine(link).run()
    story = _story(link, shop.numbers["unpaid"])
    assert story.verdict.code == SyncCode.EXPLAIN_SKIPPED
    assert story.verdict.params["reason"] == ReasonCode.STATUS_NOT_SELECTED
    failed = [c for c in story.conditions if not c.met]
    assert [c.reason for c in failed] == [ReasonCode.STATUS_NOT_SELECTED]
    assert failed[0].value == "1" and failed[0].wanted == ("3",)
    with translation.override("nl"):
        shown = render(story.verdict.code, story.verdict.params)
    assert "Niet geboekt" in shown.text and "status" in shown.text.lower()


def test_an_order_before_the_start_date_is_told_apart_and_a_backfill_books_it(db, shop, books_sim):
    link = make_link(shop, books_sim, settings=SETTINGS)
    Engine(link).run()
    story = _story(link, shop.numbers["old"])
    assert story.record is None  # the daily fetch never even saw it
    assert story.verdict.code == SyncCode.EXPLAIN_WOULD_SKIP
    assert story.verdict.params["reason"] == ReasonCode.BEFORE_START_DATE
    with translation.override("en"):
        assert "backfill" in render(story.verdict.code, story.verdict.params).suggestion
    old_day = TODAY - dt.timedelta(days=40)
    backfills.start(link.flows.get(), old_day, old_day + dt.timedelta(days=1))
    Engine(link).run()
    story = _story(link, shop.numbers["old"])
    assert story.verdict.code == SyncCode.EXPLAIN_BOOKED
    assert SyncCode.EXPLAIN_IN_BACKFILL in [step.code for step in story.steps]
    assert all(c.met for c in story.conditions)  # the start date does not hold a backfill's order


def test_an_order_not_fetched_yet_and_an_unknown_number(db, shop, books_sim):
    link = make_link(shop, books_sim, settings=SETTINGS)
    story = _story(link, shop.numbers["booked"])
    assert story.verdict.code == SyncCode.EXPLAIN_NOT_SEEN_YET
    story = _story(link, "999999")
    assert story.verdict.code == SyncCode.EXPLAIN_NOT_IN_SHOP


def test_a_refused_order_shows_the_targets_reason_and_what_to_do(db, shop, books_sim):
    link = make_link(shop, books_sim, settings=SETTINGS)
    target = link.target
    target.options = {"testmode": True}  # the package answers: tested, not booked
    target.save()
    Engine(link).run()
    story = _story(link, shop.numbers["booked"])
    assert story.verdict.code == "not_booked" and story.verdict.level == "error"
    with translation.override("en"):
        assert "test mode" in render(story.verdict.code, story.verdict.params).suggestion
    attempts = [step for step in story.steps if step.code == SyncCode.EXPLAIN_ATTEMPT]
    assert attempts and attempts[-1].params["outcome"] == "rejected"


def test_the_cli_tells_the_story(db, shop, books_sim, capsys, monkeypatch):
    monkeypatch.setenv("KOPPELING_LANGUAGE", "en")
    link = make_link(shop, books_sim, settings=SETTINGS)
    Engine(link).run()
    assert main(["explain", str(link.pk), shop.numbers["unpaid"]]) == 0
    out = capsys.readouterr().out
    assert "Order status not selected" in out and "✗" in out
    assert main(["explain", str(link.pk), shop.numbers["booked"], "--offline"]) == 0
    assert "Booked as" in capsys.readouterr().out
    monkeypatch.setenv("KOPPELING_LANGUAGE", "nl")
    assert main(["explain", str(link.pk), shop.numbers["unpaid"], "--offline"]) == 0
    assert "Niet geboekt: Orderstatus niet gekozen" in capsys.readouterr().out
