"""The connector conformance suite (in the spirit of Singer SDK's standard tests).

Every source and every target connector must pass it. A connector supplies a small *harness*
that knows how to build it against its simulator; the suite supplies the checks::

    TestMijnwebwinkel = get_connector_test_class(MijnwebwinkelHarness)

Checks are small functions registered in ``SOURCE_CHECKS`` / ``TARGET_CHECKS`` (suites as data);
a harness may opt out of one by naming it in ``skip_checks`` with a reason, which the suite
turns into a visible ``xfail``-free skip message rather than a silent pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar

from koppeling.core.models import Invoice, InvoiceLine, LineKind, Party, VatRegime

from .base import FetchedOrder, SourceConnector, TargetConnector
from .errors import AuthError, ConnectorError, DataError, NotFound, TransientError


class SourceHarness:
    """What a source connector's tests provide."""

    kind: ClassVar[str] = "source"
    skip_checks: ClassVar[dict[str, str]] = {}

    def connector(self, *, bad_credentials: bool = False) -> SourceConnector:
        raise NotImplementedError

    def seed(self, count: int) -> None:
        raise NotImplementedError

    def inject_fault(self, status: int, retry_after: float | None = None) -> None:
        raise NotImplementedError

    def inject_malformed(self) -> None:
        raise NotImplementedError

    def page_size(self) -> int:
        return 100

    def close(self) -> None:
        return None


class TargetHarness:
    kind: ClassVar[str] = "target"
    skip_checks: ClassVar[dict[str, str]] = {}

    def connector(self, *, bad_credentials: bool = False) -> TargetConnector:
        raise NotImplementedError

    def inject_fault(self, status: int, retry_after: float | None = None) -> None:
        raise NotImplementedError

    def invoice_settings(self) -> dict[str, str]:
        """Account / cost center ids that exist in the simulator."""
        return {}

    def close(self) -> None:
        return None


def sample_invoice(reference: str = "KC-0001", **overrides: Any) -> Invoice:
    """A plain domestic invoice every target must be able to book."""
    lines = [
        InvoiceLine(
            LineKind.PRODUCT,
            "Koffiebonen 1 kg",
            Decimal(2),
            Decimal("12.3967"),
            Decimal(21),
            Decimal("24.79"),
            Decimal("5.21"),
        ),
        InvoiceLine(
            LineKind.PRODUCT,
            "Boek",
            Decimal(1),
            Decimal("18.3486"),
            Decimal(9),
            Decimal("18.35"),
            Decimal("1.65"),
        ),
        InvoiceLine(
            LineKind.SHIPPING,
            "Verzendkosten",
            Decimal(1),
            Decimal("4.9587"),
            Decimal(21),
            Decimal("4.96"),
            Decimal("1.04"),
        ),
    ]
    values: dict[str, Any] = {
        "reference": reference,
        "description": f"Bestelling {reference}",
        "issue_date": dt.date.today(),
        "regime": VatRegime.DOMESTIC,
        "customer": Party(
            name="Jan Jansen",
            email="jan@example.nl",
            street="Dorpsstraat 1",
            postal_code="1234 AB",
            city="Utrecht",
            country_code="NL",
        ),
        "lines": lines,
    }
    values.update(overrides)
    return Invoice(**values)


# -- source checks ------------------------------------------------------------------------------


def check_source_credentials(h: SourceHarness) -> None:
    h.connector().check()
    try:
        h.connector(bad_credentials=True).check()
    except AuthError as exc:
        assert exc.message, "an AuthError must say what is wrong"
        assert exc.suggestion, "an AuthError must suggest what to do"
    else:
        raise AssertionError("bad credentials were accepted")


def check_source_statuses(h: SourceHarness) -> None:
    statuses = h.connector().statuses()
    assert statuses, "a shop has at least one order status"
    assert all(isinstance(s.id, str) and s.label for s in statuses)


def _all(h: SourceHarness) -> list[FetchedOrder]:
    return list(h.connector().fetch_changed(None))


def check_source_orders_are_domain_orders(h: SourceHarness) -> None:
    h.seed(5)
    fetched = _all(h)
    assert len(fetched) >= 5
    for fo in fetched:
        assert isinstance(fo.source_id, str) and fo.source_id
        assert fo.fingerprint and len(fo.fingerprint) <= 64
        assert fo.order is not None, fo.error
        order = fo.order
        assert isinstance(order.total_inc, Decimal)
        assert order.lines, f"order {order.number} has no lines"
        for line in order.lines:
            for amount in (line.unit_price_ex, line.unit_price_inc, line.vat_rate, line.quantity):
                assert amount is None or isinstance(amount, Decimal), f"{order.number}: non-Decimal amount"


def check_source_paging_yields_every_order_once(h: SourceHarness) -> None:
    h.seed(h.page_size() * 2 + 7)
    ids = [fo.source_id for fo in _all(h)]
    assert len(ids) == len(set(ids)), "an order was yielded twice"
    assert len(ids) >= h.page_size() * 2 + 7


def check_source_changed_since_future_is_empty(h: SourceHarness) -> None:
    h.seed(3)
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    assert list(h.connector().fetch_changed(future)) == []


def check_source_fetch_one_matches_list(h: SourceHarness) -> None:
    h.seed(3)
    first = _all(h)[0]
    one = h.connector().fetch_one(first.source_id)
    assert one.source_id == first.source_id
    assert one.fingerprint == first.fingerprint, "fingerprint must not depend on how the order was read"


def check_source_fingerprint_is_stable(h: SourceHarness) -> None:
    h.seed(3)
    a = {fo.source_id: fo.fingerprint for fo in _all(h)}
    b = {fo.source_id: fo.fingerprint for fo in _all(h)}
    assert a == b


def check_source_unknown_order_is_not_found(h: SourceHarness) -> None:
    try:
        h.connector().fetch_one("999999999")
    except NotFound:
        return
    raise AssertionError("an unknown order must raise NotFound")


def check_source_transient_errors_are_retryable(h: SourceHarness) -> None:
    h.seed(1)
    h.inject_fault(503)
    try:
        _all(h)
    except TransientError as exc:
        assert exc.retryable
    else:
        raise AssertionError("a 503 must raise TransientError")
    h.inject_fault(429, retry_after=7)
    try:
        _all(h)
    except TransientError as exc:
        assert exc.retry_after == 7
    else:
        raise AssertionError("a 429 must raise TransientError")


def check_source_malformed_answer_is_a_clear_error(h: SourceHarness) -> None:
    h.seed(2)
    h.inject_malformed()
    try:
        _all(h)
    except ConnectorError as exc:
        assert exc.message
    else:
        raise AssertionError("an unreadable answer must raise a ConnectorError, not pass or crash")


SOURCE_CHECKS: dict[str, Callable[[Any], None]] = {
    "credentials": check_source_credentials,
    "statuses": check_source_statuses,
    "orders_are_domain_orders": check_source_orders_are_domain_orders,
    "paging": check_source_paging_yields_every_order_once,
    "changed_since_future_is_empty": check_source_changed_since_future_is_empty,
    "fetch_one_matches_list": check_source_fetch_one_matches_list,
    "fingerprint_is_stable": check_source_fingerprint_is_stable,
    "unknown_order_not_found": check_source_unknown_order_is_not_found,
    "transient_errors": check_source_transient_errors_are_retryable,
    "malformed_answer": check_source_malformed_answer_is_a_clear_error,
}


# -- target checks ------------------------------------------------------------------------------


def _invoice(h: TargetHarness, reference: str, **overrides: Any) -> Invoice:
    values = {"account": "", "cost_center": "", **h.invoice_settings(), **overrides}
    return sample_invoice(reference, **values)


def check_target_credentials(h: TargetHarness) -> None:
    h.connector().check()
    try:
        h.connector(bad_credentials=True).check()
    except AuthError as exc:
        assert exc.message and exc.suggestion
    else:
        raise AssertionError("bad credentials were accepted")


def check_target_push_and_read_back(h: TargetHarness) -> None:
    invoice = _invoice(h, "KC-1001")
    result = h.connector().push_invoice(invoice)
    assert result.target_id
    booked = h.connector().read_back(result.target_id)
    assert Decimal(booked.total_inc) == invoice.total_inc, (booked.total_inc, invoice.total_inc)
    assert Decimal(booked.total_ex) == invoice.total_ex


def check_target_lookup_finds_booking(h: TargetHarness) -> None:
    connector = h.connector()
    result = connector.push_invoice(_invoice(h, "KC-1002"))
    found = connector.lookup("KC-1002", result)
    assert found is not None and found.target_id == result.target_id
    if connector.searchable_by_reference:
        found = connector.lookup("KC-1002")
        assert found is not None and found.target_id == result.target_id


def check_target_transient_errors(h: TargetHarness) -> None:
    h.inject_fault(503, retry_after=5)
    try:
        h.connector().push_invoice(_invoice(h, "KC-1003"))
    except TransientError as exc:
        assert exc.retry_after == 5
        assert not exc.maybe_processed, "a 503 was not processed: safe to retry"
    else:
        raise AssertionError("a 503 must raise TransientError")


def check_target_rejects_bad_data_per_record(h: TargetHarness) -> None:
    bad = _invoice(h, "KC-1004", issue_date=dt.date(1990, 1, 1), account="999999")
    try:
        h.connector().push_invoice(bad)
    except DataError as exc:
        assert exc.code and exc.message
    else:
        raise AssertionError("an invoice the target refuses must raise DataError")
    # and the connector still works for the next record
    assert h.connector().push_invoice(_invoice(h, "KC-1005")).target_id


TARGET_CHECKS: dict[str, Callable[[Any], None]] = {
    "credentials": check_target_credentials,
    "push_and_read_back": check_target_push_and_read_back,
    "lookup": check_target_lookup_finds_booking,
    "transient_errors": check_target_transient_errors,
    "bad_data_per_record": check_target_rejects_bad_data_per_record,
}


def get_connector_test_class(harness_cls: type[SourceHarness] | type[TargetHarness]) -> type:
    """Build a pytest class with one test per check, each on a fresh harness."""
    import pytest

    checks = SOURCE_CHECKS if harness_cls.kind == "source" else TARGET_CHECKS

    class ConformanceTests:
        @pytest.fixture
        def harness(self):
            h = harness_cls()
            yield h
            h.close()

        @pytest.mark.parametrize("check", sorted(checks))
        def test_conformance(self, harness, check: str) -> None:
            if check in harness_cls.skip_checks:
                pytest.skip(f"{harness_cls.__name__} opts out of {check}: {harness_cls.skip_checks[check]}")
            checks[check](harness)

    ConformanceTests.__name__ = f"Test{harness_cls.__name__}Conformance"
    return ConformanceTests
