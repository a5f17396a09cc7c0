"""The connector conformance suite (in the spirit of Singer SDK's standard tests).

Every connector passes it for each capability it declares. A connector supplies a small
*harness* that knows how to build it against its simulator; the suite supplies the checks::

    TestMijnwebwinkel = get_connector_test_class(MijnwebwinkelHarness)

Checks are small functions in suites (as data) per capability — ``ORDER_SOURCE_CHECKS``,
``INVOICE_TARGET_CHECKS``, ``BATCH_TARGET_CHECKS`` — plus ``CONTRACT_CHECKS`` every connector
passes. A harness may opt out of one by naming it in ``skip_checks`` with a reason, which the suite
turns into a visible skip message rather than a silent pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar

from koppeling.core.models import Invoice, InvoiceLine, LineKind, Party, VatRegime
from koppeling.core.totals import TotalsMethod

from .base import BatchDocument, Capability, Connector, Fetched, Findability
from .errors import AuthError, ConnectorError, DataError, NotFound, RateLimited, TransientError


class Harness:
    """What every connector's tests provide."""

    capability: ClassVar[Capability]
    skip_checks: ClassVar[dict[str, str]] = {}

    def connector(self, *, bad_credentials: bool = False) -> Connector:
        raise NotImplementedError

    def inject_fault(self, status: int, retry_after: float | None = None) -> None:
        """The next request is answered ``status`` (not processed)."""
        raise NotImplementedError

    def close(self) -> None:
        return None


class SourceHarness(Harness):
    """An order source."""

    capability = Capability.READS_ORDERS

    def seed(self, count: int) -> None:
        raise NotImplementedError

    def inject_malformed(self) -> None:
        raise NotImplementedError

    def page_size(self) -> int:
        return 100


class TargetHarness(Harness):
    """An invoice target."""

    capability = Capability.WRITES_INVOICES

    def timing_out_connector(self) -> Connector:
        """A connector whose next push reaches the system but whose answer never arrives in time."""
        raise NotImplementedError

    def target_settings(self) -> Any:
        """The target-side settings (accounts, cost centers …) with ids that exist in the simulator."""
        return None

    def refused(self) -> tuple[Invoice, Any]:
        """An invoice and settings the *system* (not the client) refuses, e.g. an unknown account."""
        return sample_invoice("KC-1004", issue_date=dt.date(1990, 1, 1)), self.target_settings()


class BatchTargetHarness(Harness):
    """A target that takes one document per period."""

    capability = Capability.WRITES_BATCHES

    def documents(self, reference: str) -> int:
        """How many documents with this reference the system holds."""
        raise NotImplementedError

    def target_settings(self) -> Any:
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


# -- every connector ------------------------------------------------------------------------------


def check_declares_its_contract(h: Harness) -> None:
    connector = h.connector()
    cls = type(connector)
    assert cls.system and cls.label, "a connector names its system"
    assert h.capability in cls.capabilities(), f"{cls.label} does not declare {h.capability}"
    assert isinstance(cls.findable, Findability)
    assert isinstance(cls.totals_method, TotalsMethod)
    for limit in connector.limits():
        assert limit.limit > 0 and limit.period_seconds > 0, limit
    assert connector.account_key() and connector.account_key() == h.connector().account_key()
    assert cls.call_deadline_seconds > 0 and cls.max_response_bytes > 0


def check_credentials(h: Harness) -> None:
    h.connector().check()
    try:
        h.connector(bad_credentials=True).check()
    except AuthError as exc:
        assert exc.code and exc.message, "an AuthError must say what is wrong"
        assert exc.suggestion, "an AuthError must suggest what to do"
    else:
        raise AssertionError("bad credentials were accepted")


CONTRACT_CHECKS: dict[str, Callable[[Any], None]] = {
    "declares_contract": check_declares_its_contract,
    "credentials": check_credentials,
}


# -- order sources --------------------------------------------------------------------------------


def _all(h: SourceHarness) -> list[Fetched[Any]]:
    return list(h.connector().fetch_changed(None))  # type: ignore[attr-defined]


def check_source_statuses(h: SourceHarness) -> None:
    statuses = h.connector().statuses()  # type: ignore[attr-defined]
    assert statuses, "a shop has at least one order status"
    assert all(isinstance(s.id, str) and s.label for s in statuses)


def check_source_orders_are_domain_orders(h: SourceHarness) -> None:
    h.seed(5)
    fetched = _all(h)
    assert len(fetched) >= 5
    for fo in fetched:
        assert isinstance(fo.source_id, str) and fo.source_id
        assert fo.fingerprint and len(fo.fingerprint) <= 64
        assert fo.item is not None, fo.error
        order = fo.item
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


def check_source_interrupted_and_resumed_sees_everything(h: SourceHarness) -> None:
    """Fetch cut off after page 1, then resumed the way the runtime resumes: every record seen.

    A source that claims ``cursor_ordered`` is resumed from the latest change it yielded (it
    promised everything before that came first); any other from the original start.
    """
    h.seed(h.page_size() * 2 + 7)
    everything = {fo.source_id for fo in _all(h)}
    source = h.connector()
    seen: list[Fetched[Any]] = []
    iterator = source.fetch_changed(None)  # type: ignore[attr-defined]
    try:
        for fetched in iterator:
            seen.append(fetched)
            if len(seen) == h.page_size():
                h.inject_fault(503)  # the next page's request fails
    except TransientError:
        pass
    else:
        raise AssertionError("the fault on page 2 did not stop the fetch")
    assert len(seen) == h.page_size(), "the first page should have arrived whole"
    if getattr(source, "cursor_ordered", False):
        changes = [f.changed_at for f in seen if f.changed_at]
        assert changes == sorted(changes), "a source that claims cursor order must yield in it"
        resume_from = max(changes) if changes else None
    else:
        resume_from = None
    resumed = {fo.source_id for fo in h.connector().fetch_changed(resume_from)}  # type: ignore[attr-defined]
    missed = everything - resumed - {f.source_id for f in seen}
    assert not missed, f"{len(missed)} records never seen after resuming"


def check_source_changed_since_future_is_empty(h: SourceHarness) -> None:
    h.seed(3)
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    assert list(h.connector().fetch_changed(future)) == []  # type: ignore[attr-defined]


def check_source_fetch_one_matches_list(h: SourceHarness) -> None:
    h.seed(3)
    first = _all(h)[0]
    one = h.connector().fetch_one(first.source_id)  # type: ignore[attr-defined]
    assert one.source_id == first.source_id
    assert one.fingerprint == first.fingerprint, "fingerprint must not depend on how the order was read"


def check_source_fingerprint_is_stable(h: SourceHarness) -> None:
    h.seed(3)
    a = {fo.source_id: fo.fingerprint for fo in _all(h)}
    b = {fo.source_id: fo.fingerprint for fo in _all(h)}
    assert a == b


def check_source_unknown_order_is_not_found(h: SourceHarness) -> None:
    try:
        h.connector().fetch_one("999999999")  # type: ignore[attr-defined]
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
    except RateLimited as exc:
        assert exc.retry_after == 7
    else:
        raise AssertionError("a 429 must raise RateLimited")


def check_source_malformed_answer_is_a_clear_error(h: SourceHarness) -> None:
    h.seed(2)
    h.inject_malformed()
    try:
        _all(h)
    except ConnectorError as exc:
        assert exc.code and exc.message
    else:
        raise AssertionError("an unreadable answer must raise a ConnectorError, not pass or crash")


ORDER_SOURCE_CHECKS: dict[str, Callable[[Any], None]] = {
    "statuses": check_source_statuses,
    "orders_are_domain_orders": check_source_orders_are_domain_orders,
    "paging": check_source_paging_yields_every_order_once,
    "interrupted_and_resumed": check_source_interrupted_and_resumed_sees_everything,
    "changed_since_future_is_empty": check_source_changed_since_future_is_empty,
    "fetch_one_matches_list": check_source_fetch_one_matches_list,
    "fingerprint_is_stable": check_source_fingerprint_is_stable,
    "unknown_order_not_found": check_source_unknown_order_is_not_found,
    "transient_errors": check_source_transient_errors_are_retryable,
    "malformed_answer": check_source_malformed_answer_is_a_clear_error,
}


# -- invoice targets --------------------------------------------------------------------------------


def check_target_push_and_read_back(h: TargetHarness) -> None:
    invoice = sample_invoice("KC-1001")
    result = h.connector().push_invoice(invoice, h.target_settings())  # type: ignore[attr-defined]
    assert result.target_id
    booked = h.connector().read_back_invoice(result.target_id)  # type: ignore[attr-defined]
    assert Decimal(booked.total_inc) == invoice.total_inc, (booked.total_inc, invoice.total_inc)
    assert Decimal(booked.total_ex) == invoice.total_ex


def check_target_reference_is_findable(h: TargetHarness) -> None:
    """The reference lands where the target shows it, and ``find_invoice`` finds the booking as the
    connector's ``findable`` promises."""
    connector = h.connector()
    result = connector.push_invoice(sample_invoice("KC-1002"), h.target_settings())  # type: ignore[attr-defined]
    booked = connector.read_back_invoice(result.target_id)  # type: ignore[attr-defined]
    assert "KC-1002" in booked.reference_text, "the order reference must be visible on the booking"
    found = connector.find_invoice("KC-1002", result)  # type: ignore[attr-defined]
    assert found is not None and found.target_id == result.target_id
    if type(connector).findable == Findability.BY_REFERENCE:
        found = connector.find_invoice("KC-1002")  # type: ignore[attr-defined]
        assert found is not None and found.target_id == result.target_id
        assert connector.find_invoice("KC-NEVER-BOOKED") is None  # type: ignore[attr-defined]


def check_target_push_timeout_is_maybe_processed(h: TargetHarness) -> None:
    connector = h.timing_out_connector()
    try:
        connector.push_invoice(sample_invoice("KC-1006"), h.target_settings())  # type: ignore[attr-defined]
    except TransientError as exc:
        assert exc.maybe_processed, "a push whose answer never came may have been booked"
    else:
        raise AssertionError("a push that timed out must raise TransientError")


def check_target_auth_on_push(h: TargetHarness) -> None:
    try:
        h.connector(bad_credentials=True).push_invoice(  # type: ignore[attr-defined]
            sample_invoice("KC-1007"), h.target_settings()
        )
    except AuthError as exc:
        assert exc.suggestion
    else:
        raise AssertionError("refused credentials on a push must raise AuthError")


def check_target_limit_is_paced_not_failed(h: TargetHarness) -> None:
    h.inject_fault(429, retry_after=7)
    try:
        h.connector().push_invoice(sample_invoice("KC-1008"), h.target_settings())  # type: ignore[attr-defined]
    except RateLimited as exc:
        assert exc.retry_after == 7 and not exc.maybe_processed
    else:
        raise AssertionError("a 429 must raise RateLimited (paced), not fail the record")


def check_target_transient_errors(h: TargetHarness) -> None:
    h.inject_fault(503, retry_after=5)
    try:
        h.connector().push_invoice(sample_invoice("KC-1003"), h.target_settings())  # type: ignore[attr-defined]
    except TransientError as exc:
        assert exc.retry_after == 5
        assert not exc.maybe_processed, "a 503 was not processed: safe to retry"
    else:
        raise AssertionError("a 503 must raise TransientError")


def check_target_rejects_bad_data_per_record(h: TargetHarness) -> None:
    bad, settings = h.refused()
    try:
        h.connector().push_invoice(bad, settings)  # type: ignore[attr-defined]
    except DataError as exc:
        assert exc.code and exc.message
    else:
        raise AssertionError("an invoice the target refuses must raise DataError")
    # and the connector still works for the next record
    assert h.connector().push_invoice(sample_invoice("KC-1005"), h.target_settings()).target_id  # type: ignore[attr-defined]


INVOICE_TARGET_CHECKS: dict[str, Callable[[Any], None]] = {
    "push_and_read_back": check_target_push_and_read_back,
    "reference_is_findable": check_target_reference_is_findable,
    "push_timeout_is_maybe_processed": check_target_push_timeout_is_maybe_processed,
    "auth_on_push": check_target_auth_on_push,
    "limit_is_paced": check_target_limit_is_paced_not_failed,
    "transient_errors": check_target_transient_errors,
    "bad_data_per_record": check_target_rejects_bad_data_per_record,
}


# -- batch targets ----------------------------------------------------------------------------------


def _batch(reference: str) -> BatchDocument:
    today = dt.date.today()
    return BatchDocument(reference, today, today, (sample_invoice("KC-2001"), sample_invoice("KC-2002")))


def check_batch_delivery_is_idempotent(h: BatchTargetHarness) -> None:
    connector = h.connector()
    first = connector.push_batch(_batch("7/2026-12-01-1"), h.target_settings())  # type: ignore[attr-defined]
    again = connector.push_batch(_batch("7/2026-12-01-1"), h.target_settings())  # type: ignore[attr-defined]
    assert first.target_id and again.target_id == first.target_id, "the same batch must not be stored twice"
    assert h.documents("7/2026-12-01-1") == 1
    found = connector.find_batch("7/2026-12-01-1")  # type: ignore[attr-defined]
    assert found is not None and found.target_id == first.target_id
    assert connector.find_batch("7/2026-12-02-1") is None  # type: ignore[attr-defined]


BATCH_TARGET_CHECKS: dict[str, Callable[[Any], None]] = {
    "batch_idempotent": check_batch_delivery_is_idempotent,
}

SUITES: dict[Capability, dict[str, Callable[[Any], None]]] = {
    Capability.READS_ORDERS: ORDER_SOURCE_CHECKS,
    Capability.WRITES_INVOICES: INVOICE_TARGET_CHECKS,
    Capability.WRITES_BATCHES: BATCH_TARGET_CHECKS,
}


def get_connector_test_class(harness_cls: type[Harness]) -> type:
    """Build a pytest class with one test per check of the harness's capability, each on a fresh
    harness."""
    import pytest

    checks = {**CONTRACT_CHECKS, **SUITES[harness_cls.capability]}

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
