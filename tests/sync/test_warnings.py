"""Warnings are outcomes: stored with the record, shown in the dry run, logged, and — where the
flow says so — holding the order for a person, who books it with Verwerk."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.conftest import LINK_SETTINGS, make_link
from tests.sync.test_engine import invoices_for

from koppeling.connectors.acumulus.client import AcumulusTarget
from koppeling.core.messages import Outcome
from koppeling.sync.engine import Engine
from koppeling.sync.models import ActivityEvent, ReasonCode, RecordState, SyncRecord
from koppeling.sync.outcomes import render
from koppeling.sync.review import retry_record

pytestmark = pytest.mark.django_db

CARRIED_OVER = "oss_reduced_rate_carried_over"  # a Dutch 9% line sold to a Belgian consumer


def test_warnings_are_stored_with_the_record_and_logged(link, books_sim):
    Engine(link).run()
    warned = [r for r in SyncRecord.objects.filter(link=link, state=RecordState.PUSHED) if r.warnings]
    assert warned, "the seeded shop has BE consumers with 9% lines"
    codes = {w["code"] for r in warned for w in r.warnings}
    assert CARRIED_OVER in codes
    for record in warned:
        for warning in record.warnings:
            assert render(warning["code"], warning["params"]).text  # rendered when shown, not stored
    # core fitted the lines to Acumulus's own per-line computation: it books every total to the cent
    assert not [r for r in warned if any(w["code"] == "acumulus_totals_differ" for w in r.warnings)]
    for record in SyncRecord.objects.filter(link=link, state=RecordState.PUSHED):
        (booked,) = invoices_for(books_sim, record.reference)
        assert booked.total_inc == record.amount_inc, record.reference


def test_the_targets_own_warnings_are_stored_and_logged(link, monkeypatch):
    real = AcumulusTarget.push_invoice

    def warns(self, invoice, settings=None):
        result = real(self, invoice, settings)
        return replace(
            result, warnings=(Outcome("acumulus_totals_differ", {"reference": invoice.reference}),)
        )

    monkeypatch.setattr(AcumulusTarget, "push_invoice", warns)
    Engine(link).run()
    pushed = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED)
    assert pushed.exists()
    for record in pushed:
        assert "acumulus_totals_differ" in {w["code"] for w in record.warnings}
        assert ActivityEvent.objects.filter(
            record=record, code="acumulus_totals_differ", level="warning"
        ).exists()


def test_dry_run_shows_the_warnings(link):
    report = Engine(link).run(dry_run=True)
    assert any(prepared.warnings for _number, prepared in report.would_push)


def test_a_warning_the_flow_holds_on_waits_for_a_person_who_books_it_with_verwerk(db, seeded_shop, books_sim):
    link = make_link(seeded_shop, books_sim, settings={**LINK_SETTINGS, "hold_on": [CARRIED_OVER]})
    Engine(link).run()
    held = SyncRecord.objects.filter(link=link, state=RecordState.FAILED, reason_code=ReasonCode.HELD)
    assert held.exists() and set(held.values_list("error_code", flat=True)) == {CARRIED_OVER}
    assert not any(
        w["code"] == CARRIED_OVER
        for r in SyncRecord.objects.filter(link=link, state="pushed")
        for w in r.warnings
    )
    record = held.first()
    assert retry_record(record, user="boekhouder")
    report = Engine(link).run(kind="order", order_number=record.source_id)
    record.refresh_from_db()
    assert report.pushed == 1 and record.state == RecordState.PUSHED
    assert any(w["code"] == CARRIED_OVER for w in record.warnings)  # booked with the warning noted
