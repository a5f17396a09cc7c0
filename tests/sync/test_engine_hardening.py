"""Edge cases found in review: stale claims, faults after sending, test mode, faults while preparing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.utils import translation
from tests.sync.test_engine import assert_exactly_once, invoices_for

from koppeling.connectors.base import FetchedOrder
from koppeling.sync import flowkinds
from koppeling.sync.engine import Engine
from koppeling.sync.fetching import Ingest
from koppeling.sync.models import RecordState, SyncRecord
from koppeling.sync.outcomes import render
from koppeling.sync.pushing import Pusher
from koppeling.sync.review import retry_record

pytestmark = pytest.mark.django_db


def test_expired_claim_is_never_sent_by_its_old_owner(link, books_sim, expired_claims):
    # given worker A claimed a batch and then stalled (e.g. a slow target) past the claim timeout
    run = Engine(link).runners[0].prepare_run()
    Ingest(run).incremental()
    a = Pusher(run)
    token, claimed = a.claim(a.due_ids())
    assert claimed
    # when worker B recovers the expired claims and books them
    b = Engine(link)
    b.run()
    booked = len(books_sim.invoices)
    assert booked == len(claimed)
    # and A wakes up and carries on with its stale batch
    with ThreadPoolExecutor(max_workers=4) as pool:
        a._push_batch(pool, token, claimed, 4)
    assert a.run.report.pushed == 0
    # then A sent nothing: no order is booked twice
    assert len(books_sim.invoices) == booked
    assert_exactly_once(link, books_sim)


def test_unexpected_fault_after_sending_goes_to_review_not_failed(link, books_sim):
    engine = Engine(link)
    original = engine.target.push_invoice
    calls = []

    def book_then_break(invoice, *args):
        result = original(invoice, *args)
        if not calls:
            calls.append(invoice.reference)
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "garbled answer")
        return result

    engine.target.push_invoice = book_then_break
    engine.run()
    record = SyncRecord.objects.get(link=link, reference=calls[0])
    assert record.state == RecordState.NEEDS_REVIEW
    assert not SyncRecord.objects.filter(link=link, state=RecordState.FAILED).exists()
    # Verwerk without a person's confirmation does not push it again
    assert retry_record(record) is False
    Engine(link).run(kind="order", order_number=record.source_id)
    assert len(invoices_for(books_sim, record.reference)) == 1


def test_target_in_test_mode_books_nothing_and_says_so(link, books_sim):
    target = link.target
    target.options = {"testmode": True}
    target.save()
    report = Engine(link).run()
    assert report.pushed == 0
    assert not books_sim.invoices
    failed = SyncRecord.objects.filter(link=link, state=RecordState.FAILED, error_code="not_booked")
    assert failed.exists()
    with translation.override("en"):
        assert "test mode" in render(failed.first().error_code, failed.first().params).suggestion
    assert any(w["code"] == "acumulus_testmode" for w in failed.first().warnings)  # why, as a code
    # once test mode is off, Verwerk books them
    target.options = {}
    target.save()
    waiting = list(failed)
    for record in waiting:
        assert retry_record(record)
    report = Engine(link).run()
    assert report.pushed == len(waiting)
    assert not SyncRecord.objects.filter(link=link, state=RecordState.FAILED).exists()
    assert_exactly_once(link, books_sim)


def test_fault_while_preparing_fails_that_order_only(link, books_sim, monkeypatch):
    real = flowkinds.order_to_invoice
    broken = []

    def flaky(order, settings, **facts):
        if not broken:
            broken.append(order.number)
            raise ValueError("boom")
        return real(order, settings, **facts)

    monkeypatch.setattr(flowkinds, "order_to_invoice", flaky)
    report = Engine(link).run()
    bad = SyncRecord.objects.get(link=link, source_number=broken[0])
    assert bad.state == RecordState.FAILED and bad.error_code == "internal_error"
    assert bad.params["error"] == "ValueError"
    assert report.pushed > 0
    assert not SyncRecord.objects.filter(link=link, state=RecordState.PUSHING).exists()


def test_fingerprint_of_a_row_in_flight_is_not_overwritten(link):
    Engine(link).run()
    record = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).first()
    SyncRecord.objects.filter(pk=record.pk).update(state=RecordState.PUSHING)
    before = record.fingerprint
    run = Engine(link).runners[0].prepare_run()
    order = run.source.fetch_one(record.source_id).order
    Ingest(run).consume(
        [FetchedOrder(source_id=record.source_id, item=order, fingerprint="edited-meanwhile")]
    )
    record.refresh_from_db()
    assert record.state == RecordState.PUSHING
    assert record.fingerprint == before
