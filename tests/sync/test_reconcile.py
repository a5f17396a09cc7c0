"""Guarantee 5, reconciled: what the target booked is read back and compared, to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from tests.conftest import flow_of

from koppeling.sync.engine import Engine
from koppeling.sync.models import Alert, Link, LinkStatus, ReconcileStatus, SyncRecord
from koppeling.sync.reconcile import reconcile_records
from koppeling.sync.runner import FlowRunner

pytestmark = pytest.mark.django_db


@pytest.fixture
def immediate():
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = False


def _reconcile(link, ids=None):
    with FlowRunner(flow_of(link)) as runner:
        run = runner.prepare_run()
        ids = ids or list(SyncRecord.objects.filter(link=link, state="pushed").values_list("pk", flat=True))
        return reconcile_records(run, ids)


def test_every_pushed_invoice_is_read_back_after_the_run(
    link, books_sim, immediate, django_capture_on_commit_callbacks
):
    # when a run pushes, the read-back is queued and runs once the run's writes are committed
    with django_capture_on_commit_callbacks(execute=True):
        report = Engine(link).run()
    pushed = SyncRecord.objects.filter(link=link, state="pushed")
    assert report.pushed == pushed.count() > 0
    # then every pushed row has its result: matching, or differing with the amounts named
    assert not pushed.filter(reconcile_status=ReconcileStatus.NONE).exists()
    assert pushed.filter(reconcile_status=ReconcileStatus.OK).exists()
    for record in pushed.filter(reconcile_status=ReconcileStatus.MISMATCH):
        problem = record.reconcile["problems"][0]
        assert problem["code"] == "reconcile_total_differs"
        assert Decimal(problem["params"]["booked"]) != Decimal(problem["params"]["expected"])


def test_a_ten_cent_difference_and_a_deleted_booking_are_reported_once(
    link, books_sim, django_capture_on_commit_callbacks
):
    Engine(link).run()
    with django_capture_on_commit_callbacks(execute=True):
        ok = _reconcile(link)  # (Acumulus's own per-line VAT may already differ by a cent on some)
    first, second = SyncRecord.objects.filter(link=link, state="pushed", reconcile_status="ok")[:2]
    # given someone changed one booking by 10 cents and deleted another in Acumulus
    books_sim.invoices[first.target_id].total_inc += Decimal("0.10")
    books_sim.invoices[second.target_id].deleted = "2026-12-02 10:00:00"
    with django_capture_on_commit_callbacks(execute=True):
        counts = _reconcile(link, [first.pk, second.pk])
        again = _reconcile(link, [first.pk, second.pk])
    first.refresh_from_db()
    second.refresh_from_db()
    assert counts["mismatch"] == 2 and again["mismatch"] == 2 and ok["ok"] > 0
    difference = first.reconcile["problems"][0]
    assert difference["code"] == "reconcile_total_differs" and difference["params"]["difference"] == "0.10"
    assert second.reconcile_status == ReconcileStatus.MISMATCH
    # one alert for the link and this problem, one mail; the link keeps running
    alert = Alert.objects.get(link=link, kind="reconciliation", closed_at__isnull=True)
    assert alert.paused is False and Link.objects.get(pk=link.pk).status == LinkStatus.ACTIVE
    assert Alert.objects.filter(link=link).count() == 1
    assert len(mail.outbox) == 1
    assert "verschillen" in mail.outbox[0].body or "differ" in mail.outbox[0].body


def test_a_tolerance_lets_small_differences_pass(db, seeded_shop, books_sim):
    from tests.conftest import LINK_SETTINGS, make_link

    link = make_link(seeded_shop, books_sim, settings={**LINK_SETTINGS, "reconcile_tolerance": "0.05"})
    Engine(link).run()
    _reconcile(link)
    assert not SyncRecord.objects.filter(link=link, reconcile_status=ReconcileStatus.MISMATCH).exists()


def test_minimal_privacy_forgets_the_contents_once_read_back(
    link, books_sim, shop_sim, immediate, django_capture_on_commit_callbacks
):
    """A flow in minimal privacy mode (seed 002's promise, any target): read back first, then
    only number, date and the target's ids stay — and a mismatch is still visible."""
    flow = flow_of(link)
    flow.settings = {**flow.settings, "privacy": "minimal"}
    flow.save()
    with django_capture_on_commit_callbacks(execute=True):
        report = Engine(link).run()
    pushed = SyncRecord.objects.filter(link=link, state="pushed")
    assert report.pushed == pushed.count() > 0
    assert not pushed.filter(reconcile_status=ReconcileStatus.NONE).exists()  # read back before
    emails = {shop_sim.order(int(r.source_id))["debtor"]["email"] for r in pushed}
    for record in pushed:
        assert (record.sent, record.warnings, record.params, record.amount_inc) == ({}, [], {}, None)
        assert record.target_id and record.source_number and record.order_date
        assert not any(email in str(record.reconcile) for email in emails)
