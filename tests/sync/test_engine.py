"""Engine behaviour against the in-process simulators: once, skip, retry, explain."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone, translation

from koppeling.sync.engine import Engine
from koppeling.sync.models import (
    ActivityEvent,
    Alert,
    Link,
    LinkStatus,
    ReasonCode,
    RecordState,
    SyncRecord,
)
from koppeling.sync.outcomes import render

pytestmark = pytest.mark.django_db


def invoices_for(books_sim, reference: str) -> list:
    return [
        inv
        for inv in books_sim.invoices.values()
        if reference in inv.description and not getattr(inv, "deleted", False)
    ]


def assert_exactly_once(link, books_sim) -> None:
    """Every pushed record has exactly one booking; nothing was booked twice."""
    for record in SyncRecord.objects.filter(link=link).exclude(reference=""):
        found = invoices_for(books_sim, record.reference)
        if record.state == RecordState.PUSHED:
            assert len(found) == 1, f"{record.reference}: {len(found)} invoices"
        else:
            assert len(found) <= 1, f"{record.reference}: {len(found)} invoices"


def test_run_pushes_eligible_orders_once(link, books_sim):
    # given a shop with 30 orders in several statuses
    # when the link runs twice
    first = Engine(link).run()
    second = Engine(link).run()
    # then the paid ones are booked once, and the second run pushes nothing
    pushed = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED)
    assert first.pushed == pushed.count() > 0
    assert second.pushed == 0
    assert len(books_sim.invoices) == first.pushed
    assert_exactly_once(link, books_sim)
    for record in pushed:
        assert record.reference.startswith("WA")
        assert record.target_id and record.target_number
        assert record.booked_fingerprint == record.fingerprint


def test_run_skips_orders_outside_the_import_conditions(link):
    Engine(link).run()
    skipped = SyncRecord.objects.filter(link=link, state=RecordState.SKIPPED)
    assert skipped.exists()
    assert set(skipped.values_list("reason_code", flat=True)) <= {
        ReasonCode.STATUS_NOT_SELECTED,
        ReasonCode.PAYMENT_METHOD_NOT_SELECTED,
        ReasonCode.COUNTRY_NOT_SELECTED,
    }
    assert not skipped.filter(source_status__in=["3", "6", "7"]).exists()


def test_incremental_run_with_nothing_changed_makes_one_api_call(link):
    Engine(link).run()
    report = Engine(link).run()
    assert report.api_calls == 1
    assert report.pushed == 0


def test_skipped_order_is_pushed_once_its_status_becomes_paid(link, seeded_shop, books_sim):
    Engine(link).run()
    record = SyncRecord.objects.filter(
        link=link, state=RecordState.SKIPPED, reason_code=ReasonCode.STATUS_NOT_SELECTED
    ).first()
    assert record is not None
    seeded_shop.set_status(int(record.source_id), 3)
    report = Engine(link).run()
    record.refresh_from_db()
    assert record.state == RecordState.PUSHED
    assert report.pushed == 1
    assert_exactly_once(link, books_sim)


def test_payment_method_and_country_conditions(db, seeded_shop, books_sim):
    from tests.conftest import LINK_SETTINGS, make_link

    link = make_link(
        seeded_shop,
        books_sim,
        settings={**LINK_SETTINGS, "countries": ["BE"], "payment_methods": ["bancontact", "ideal"]},
    )
    Engine(link).run()
    for record in SyncRecord.objects.filter(link=link, state=RecordState.PUSHED):
        order = seeded_shop.order(int(record.source_id))
        assert order["debtor"]["address"]["invoice"]["country_code"] == "BE"
        assert order["payment"]["method_name"] in {"bancontact", "ideal"}


def test_bad_shop_token_pauses_link_and_sends_one_email(
    link, seeded_shop, django_capture_on_commit_callbacks
):
    # given the merchant revoked the token
    seeded_shop.revoke_token()
    # when the link runs (twice)
    with django_capture_on_commit_callbacks(execute=True):
        first = Engine(link).run()
    link.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        second = Engine(link).run()
    # then it is paused with one alert and one e-mail, and no order is marked failed
    assert first.paused and second.paused
    assert link.status == LinkStatus.PAUSED
    assert Alert.objects.filter(link=link, closed_at__isnull=True).count() == 1
    assert len(mail.outbox) == 1
    assert "owner@acme.test" in mail.outbox[0].to
    assert not SyncRecord.objects.filter(link=link, state=RecordState.FAILED).exists()


def test_bad_target_password_pauses_link_keeps_orders_pending(
    db, seeded_shop, books_sim, django_capture_on_commit_callbacks
):
    from tests.conftest import make_link

    link = make_link(seeded_shop, books_sim)
    conn = link.target
    conn.credentials = {**conn.credentials, "password": "wrong"}
    conn.save()
    with django_capture_on_commit_callbacks(execute=True):
        report = Engine(link).run()
    link.refresh_from_db()
    assert report.paused
    assert link.status == LinkStatus.PAUSED
    assert len(mail.outbox) == 1
    assert not SyncRecord.objects.filter(
        link=link, state__in=[RecordState.FAILED, RecordState.PUSHING]
    ).exists()
    assert SyncRecord.objects.filter(link=link, state=RecordState.PENDING).exists()
    # when the owner fixes the password and resumes
    from koppeling.sync import alerts

    conn.credentials = books_sim.valid_credentials()
    conn.save()
    alerts.resume(link)
    report = Engine(Link.objects.get(pk=link.pk)).run()
    assert report.pushed > 0
    assert not SyncRecord.objects.filter(link=link, state=RecordState.PENDING).exists()
    assert len(mail.outbox) == 1


def test_trial_cap_pauses_link_with_clear_reason(
    db, seeded_shop, books_sim, django_capture_on_commit_callbacks
):
    from tests.conftest import make_link

    books_sim.trial, books_sim.trial_cap = True, 3
    link = make_link(seeded_shop, books_sim)
    with django_capture_on_commit_callbacks(execute=True):
        report = Engine(link).run()
    link.refresh_from_db()
    assert report.pushed == 3
    assert link.status == LinkStatus.PAUSED
    assert Alert.objects.get(link=link).kind == "quota"
    assert len(mail.outbox) == 1
    assert len(books_sim.invoices) == 3


def test_malformed_record_fails_alone_others_pushed(link, seeded_shop, books_sim):
    seeded_shop.malform_next("bad_record")
    report = Engine(link).run()
    bad = SyncRecord.objects.filter(link=link, state=RecordState.FAILED, reason_code=ReasonCode.SOURCE_DATA)
    assert bad.count() == 1
    failed = bad.get()
    assert failed.error_code and failed.params["path"].startswith("orders[")  # located, as a parameter
    assert render(failed.error_code, failed.params).text
    assert report.pushed > 0
    assert_exactly_once(link, books_sim)


def test_malformed_page_stops_run_without_losing_anything(link, seeded_shop, books_sim):
    seeded_shop.malform_next("not_json")
    report = Engine(link).run()
    assert report.status == "failed"
    assert report.pushed == 0
    report = Engine(link).run()
    assert report.pushed > 0
    assert_exactly_once(link, books_sim)


def test_transient_error_retries_later_with_backoff(link, books_sim):
    books_sim.fail_next(503, times=1, retry_after=120)
    report = Engine(link).run()
    waiting = SyncRecord.objects.filter(
        link=link, state=RecordState.PENDING, reason_code=ReasonCode.TRANSIENT
    )
    assert waiting.count() == 1
    record = waiting.get()
    assert record.next_attempt_at >= timezone.now() + dt.timedelta(seconds=100)
    later = timezone.now() + dt.timedelta(hours=2)
    report = Engine(link, now=lambda: later).run()
    assert report.pushed == 1
    record.refresh_from_db()
    assert record.state == RecordState.PUSHED
    assert_exactly_once(link, books_sim)


def test_ambiguous_gateway_error_goes_to_review_not_repush(link, books_sim):
    # given Acumulus books the invoice but the answer is lost (502 from a gateway)
    books_sim.accept_then_fail_next(502)
    Engine(link).run()
    review = SyncRecord.objects.filter(link=link, state=RecordState.NEEDS_REVIEW)
    assert review.count() == 1
    record = review.get()
    with translation.override("en"):
        assert "Mark as booked" in render(record.error_code, record.params).suggestion
    Engine(link, now=lambda: timezone.now() + dt.timedelta(hours=2)).run()
    assert len(invoices_for(books_sim, record.reference)) == 1


def test_order_changed_after_booking_is_reported_not_rebooked(link, seeded_shop, books_sim):
    Engine(link).run()
    record = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).first()
    order = seeded_shop.order(int(record.source_id))
    lines = order["orderlines"]
    lines[0]["quantity"] = int(lines[0]["quantity"]) + 1
    seeded_shop.edit_order(int(record.source_id), orderlines=lines)
    Engine(link).run(kind="sweep")
    record.refresh_from_db()
    assert record.changed_after_booking
    assert record.state == RecordState.PUSHED
    assert len(invoices_for(books_sim, record.reference)) == 1
    assert ActivityEvent.objects.filter(record=record, code=ReasonCode.CHANGED_AFTER_BOOKING).count() == 1
    Engine(link).run(kind="sweep")
    assert ActivityEvent.objects.filter(record=record, code=ReasonCode.CHANGED_AFTER_BOOKING).count() == 1


def test_dry_run_writes_nothing(link, books_sim):
    report = Engine(link).run(dry_run=True)
    assert report.would_push
    assert not SyncRecord.objects.filter(link=link).exists()
    assert not books_sim.invoices


def test_single_order_push_with_priority(link, seeded_shop, books_sim):
    Engine(link).run()
    record = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).first()
    # given a failed record (simulated)
    SyncRecord.objects.filter(pk=record.pk).update(state=RecordState.FAILED, reason_code=ReasonCode.RULE)
    # the booking was deleted in Acumulus, so pushing again is right
    for inv in invoices_for(books_sim, record.reference):
        inv.deleted = True
    report = Engine(link).run(kind="order", order_number=record.source_id)
    record.refresh_from_db()
    assert report.pushed == 1
    assert record.state == RecordState.PUSHED


def test_unexpected_fault_marks_the_run_failed_and_surfaces(link, monkeypatch):
    from koppeling.sync.models import Run

    engine = Engine(link)
    monkeypatch.setattr(engine.source, "fetch_changed", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        engine.run()
    run = Run.objects.get(link=link)
    assert run.status == "failed"
    assert run.error_params == {"detail": "ZeroDivisionError"}


def test_mail_failure_does_not_hide_the_pause_and_is_retried(
    link, seeded_shop, monkeypatch, django_capture_on_commit_callbacks
):
    from koppeling.sync import alerts
    from koppeling.sync.models import Run

    seeded_shop.revoke_token()

    def smtp_down(*args, **kwargs):
        raise OSError("mail server unreachable")

    monkeypatch.setattr(alerts, "send_mail", smtp_down)
    with django_capture_on_commit_callbacks(execute=True):
        report = Engine(link).run()
    alert = Alert.objects.get(link=link)
    assert report.paused and Run.objects.get(pk=report.run_id).status == "failed"
    assert alert.notified_at is None
    monkeypatch.undo()
    assert alerts.resend_unnotified() == 1
    alert.refresh_from_db()
    assert alert.notified_at is not None and len(mail.outbox) == 1


def test_unreachable_source_alerts_once_after_three_runs_and_closes_itself(
    link, seeded_shop, django_capture_on_commit_callbacks
):
    # given the shop answers 503 for three scheduled runs in a row
    seeded_shop.fail_next(503, times=3)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            Engine(link).run()
    link.refresh_from_db()
    # then one alert and one mail, but the link keeps running (retrying is right)
    alert = Alert.objects.get(link=link, kind="unreachable")
    assert alert.closed_at is None
    assert link.status == LinkStatus.ACTIVE
    assert len(mail.outbox) == 1
    # when the shop answers again, the alert closes by itself and the orders go
    report = Engine(link).run()
    alert.refresh_from_db()
    assert alert.closed_at is not None
    assert report.pushed > 0
