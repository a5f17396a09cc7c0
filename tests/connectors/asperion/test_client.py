"""The Asperion batch target against its simulator: the file, its name, delivering once, lost
answers, refusals, and the settings that map payment methods and VAT rates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
from decimal import Decimal

import pytest
from lxml import etree
from pydantic import ValidationError

from koppeling.connectors import http as kh
from koppeling.connectors.asperion.batch_format import read_orders_xml, xsd_text
from koppeling.connectors.asperion.client import AsperionSettings, AsperionTarget
from koppeling.connectors.asperion.convert import file_name, shop_invoice_number
from koppeling.connectors.asperion.simulator import AsperionSimulator
from koppeling.connectors.base import BatchDocument, ConnectionConfig
from koppeling.connectors.errors import AuthError, DataError, TransientError
from koppeling.connectors.testing import sample_invoice
from koppeling.core.models import InvoiceLine, LineKind, VatRegime

DAY = dt.date(2026, 12, 2)
_ids = itertools.count()


@pytest.fixture
def sim():
    sim = AsperionSimulator()
    sim.url = f"http://asperion-client-{next(_ids)}.sim"  # type: ignore[attr-defined]
    kh.mount_wsgi(sim.url, sim.wsgi)
    yield sim
    kh.unmount(sim.url)


def target(sim: AsperionSimulator, licence: str | None = None, url: str | None = None) -> AsperionTarget:
    base = sim.url if url is None else url
    config = ConnectionConfig("asperion", base, {"licence_code": licence or sim.licence_code})
    return AsperionTarget(config, kh.make_client(base or "http://nowhere.sim"))


def marker(number: str) -> InvoiceLine:
    """The zero-amount line a source carries the shop's invoice number on."""
    return InvoiceLine(
        LineKind.OTHER,
        f"Webwinkelfactuur {number}",
        Decimal(1),
        Decimal(0),
        Decimal(21),
        Decimal(0),
        Decimal(0),
    )


def invoice(reference: str, *, shop_invoice: str = "", **changes):
    base = sample_invoice(reference, issue_date=DAY, payment_method="ideal")
    if shop_invoice:
        base.lines.append(marker(shop_invoice))
    return dataclasses.replace(base, **changes)


def on_upload(connector: AsperionTarget, action) -> AsperionTarget:
    """Run ``action`` just before the connector's upload (PUT) leaves, e.g. to arm a fault for it."""
    connector.http.event_hooks["request"].append(
        lambda request: action() if request.method == "PUT" else None
    )
    return connector


def batch(reference: str = "7/2026-12-03-1", *invoices) -> BatchDocument:
    chosen = invoices or (invoice("ORD00033", shop_invoice="INV00037"), invoice("ORD00038"))
    return BatchDocument(reference, DAY, DAY, tuple(chosen))


# -- the file ---------------------------------------------------------------------------------------


def test_build_file_descriptions_concept_and_invoice_line_left_out(sim) -> None:
    # when the day's file is built
    data = target(sim).build_file(batch(), AsperionSettings())
    # then it validates against the reading's schema and reads back as the seed's table shows it
    schema = etree.XMLSchema(etree.fromstring(xsd_text().encode()))
    assert schema.validate(etree.fromstring(data)), schema.error_log
    with_invoice, without = read_orders_xml(data).orders
    assert with_invoice.description == "Bestelling ORD00033 factuur INV00037"
    assert with_invoice.shop_invoice_number == "INV00037" and without.shop_invoice_number == ""
    assert without.description == "Bestelling ORD00038"
    assert {o.invoice_status for o in (with_invoice, without)} == {"Concept"}
    assert [line.kind for line in with_invoice.lines] == ["product", "product", "shipping"]
    assert with_invoice.payment_code == "IDEAL" and with_invoice.debtor.email == "jan@example.nl"
    assert (with_invoice.debtor.invoice_address.street, with_invoice.debtor.invoice_address.house_number) == (
        "Dorpsstraat",
        "1",
    )
    assert with_invoice.total_incl == invoice("X").total_inc


def test_build_file_same_batch_same_bytes(sim) -> None:
    assert target(sim).build_file(batch()) == target(sim).build_file(batch())


def test_file_name_deterministic_distinct_and_safe() -> None:
    assert file_name("7/2026-12-01-1") == file_name("7/2026-12-01-1")
    assert file_name("7/2026-12-01-1") != file_name("7-2026-12-01-1") != file_name("7/2026-12-01-2")
    assert file_name("7/2026-12-01-1").startswith("koppeling-7-2026-12-01-1-")


def test_shop_invoice_number_only_from_a_zero_other_line() -> None:
    paid_line = dataclasses.replace(marker("INV1"), total_ex=Decimal("1.00"), vat_amount=Decimal("0.21"))
    assert shop_invoice_number(invoice("A", shop_invoice="INV9")) == "INV9"
    assert shop_invoice_number(invoice("A", lines=[*invoice("A").lines, paid_line])) == ""


# -- delivering once ----------------------------------------------------------------------------------


def test_push_batch_twice_one_file_one_upload(sim) -> None:
    # when the same batch is delivered twice (a retry after a crash)
    first = target(sim).push_batch(batch(), AsperionSettings())
    again = target(sim).push_batch(batch(), AsperionSettings())
    # then the drop holds one file, uploaded once, and the answer is the same
    ((_, received),) = sim.files.items()
    assert received.uploads == 1 and received.name == first.target_id == again.target_id
    assert first.concept and first.token == again.token and not again.warnings
    # and importing it twice makes each invoice once
    sim.synchronise()
    target(sim).push_batch(batch())
    assert sim.synchronise() == [] and len(sim.administration().invoices) == 2


def test_push_batch_lost_answer_is_maybe_processed_and_found_by_reference(sim) -> None:
    # given a drop that stores the upload and then loses its answer
    connector = on_upload(target(sim), lambda: sim.accept_then_fail_next(502))
    # when / then the push may have arrived …
    with pytest.raises(TransientError) as caught:
        connector.push_batch(batch())
    assert caught.value.maybe_processed and len(sim.files) == 1
    # … and the runtime's look-up by reference finds it
    found = target(sim).find_batch("7/2026-12-03-1")
    assert found is not None and found.target_id == file_name("7/2026-12-03-1")
    assert target(sim).find_batch("7/2026-12-04-1") is None


def test_push_batch_503_before_the_upload_was_not_processed(sim) -> None:
    sim.fail_next(503, times=2, retry_after=30)  # the look-up and the upload are both refused
    with pytest.raises(TransientError) as caught:
        target(sim).push_batch(batch())
    assert not caught.value.maybe_processed and caught.value.retry_after == 30 and not sim.files


def test_push_batch_unreadable_answer_is_resolved_by_looking_the_file_up(sim) -> None:
    # given an upload whose answer is an HTML page (the file was stored)
    connector = on_upload(target(sim), lambda: sim.malform_next("html"))
    # when / then the connector confirms the delivery by reading the file's status
    result = connector.push_batch(batch())
    assert [result.target_id] == [name for _, name in sim.files] and result.token


def test_push_batch_other_content_under_a_delivered_name_is_kept_with_a_warning(sim) -> None:
    # given the day's file delivered and imported
    target(sim).push_batch(batch())
    sim.synchronise()
    # when the same reference comes again with other content
    changed = batch("7/2026-12-03-1", invoice("ORD00033", shop_invoice="INV00037"))
    result = target(sim).push_batch(changed)
    # then nothing new is uploaded; the answer says the delivered file was kept
    assert len(sim.files) == 1 and next(iter(sim.files.values())).uploads == 1
    assert [w.code for w in result.warnings] == ["asp_file_kept"]


# -- refusals -----------------------------------------------------------------------------------------


def test_push_batch_rate_without_vat_class_stops_before_delivery(sim) -> None:
    # given an OSS sale at the German 19 %
    line = InvoiceLine(
        LineKind.PRODUCT, "Boek", Decimal(1), Decimal("10.00"), Decimal(19), Decimal("10.00"), Decimal("1.90")
    )
    oss = invoice("ORD00040", lines=[line], regime=VatRegime.EU_B2C_OSS, vat_country="DE")
    # when / then the refusal names the order and the rate, and nothing is delivered
    with pytest.raises(DataError) as caught:
        target(sim).push_batch(batch("7/x", oss))
    assert caught.value.code == "asp_vat_rate_unmapped"
    assert caught.value.params == {"system": "Asperion", "reference": "ORD00040", "rate": "19", "remote": ""}
    assert "Add the rate" in caught.value.suggestion and not sim.files


def test_push_batch_unmapped_payment_method_and_missing_email_name_the_order(sim) -> None:
    only_ideal = AsperionSettings(payment_codes={"ideal": "IDEAL"})
    with pytest.raises(DataError) as caught:
        target(sim).push_batch(batch("7/x", invoice("ORD1", payment_method="PayPal")), only_ideal)
    assert caught.value.code == "asp_payment_unmapped" and caught.value.params["method"] == "PayPal"
    nameless = invoice("ORD2", customer=dataclasses.replace(invoice("ORD2").customer, email=""))
    with pytest.raises(DataError) as caught:
        target(sim).push_batch(batch("7/y", nameless))
    assert (caught.value.code, caught.value.params["reference"]) == ("asp_email_missing", "ORD2")


def test_push_batch_writer_fault_names_the_order_and_field(sim) -> None:
    # given an order whose line has a unit price the reading cannot carry (5 decimals)
    lines = [dataclasses.replace(invoice("ORD3").lines[0], quantity=Decimal("1.00001"))]
    with pytest.raises(DataError) as caught:
        target(sim).push_batch(batch("7/z", invoice("ORD1"), invoice("ORD3", lines=lines)))
    assert caught.value.code == "asp_batch_invalid" and caught.value.params["reference"] == "ORD3"
    assert caught.value.params["field"] == "orders[1].lines[0].quantity"


def test_push_batch_file_the_drop_refuses_is_a_data_error_with_its_place(sim, monkeypatch) -> None:
    # given a connector that would send a file the import cannot read
    connector = target(sim)
    monkeypatch.setattr(connector, "build_file", lambda batch, settings=None: b"<Asperion/>")
    # when / then
    with pytest.raises(DataError) as caught:
        connector.push_batch(batch())
    assert caught.value.code == "asp_file_rejected" and caught.value.status_code == 422
    assert caught.value.params["file"] == file_name("7/2026-12-03-1") and caught.value.params["line"] == 1


def test_check_licence_forms_and_the_missing_address(sim) -> None:
    target(sim).check()
    for bad, code in (("", "credentials_missing"), ("a/b c", "asp_licence_malformed")):
        with pytest.raises(AuthError) as caught:
            target(sim, licence=bad or " ").check()
        assert caught.value.code == code and caught.value.suggestion
    with pytest.raises(AuthError) as caught:
        target(sim, url="").check()
    assert caught.value.code == "asp_no_drop_address"


def test_push_batch_unknown_licence_cannot_be_detected_its_file_stays_unclaimed(sim) -> None:
    # given a well-formed licence code Asperion does not know (the seed: it cannot be checked)
    stranger = target(sim, licence="UNKNOWN-LICENCE-42")
    # when
    stranger.check()
    stranger.push_batch(batch())
    # then it was "delivered", and only the missing import shows it
    assert [f.licence_code for f in sim.unclaimed_files()] == ["UNKNOWN-LICENCE-42"]
    assert sim.synchronise() == []


def test_errors_never_carry_the_licence_code_outside_remote(sim) -> None:
    sim.fail_next(500, times=2)
    with pytest.raises(TransientError) as caught:
        target(sim).push_batch(batch())
    others = {k: v for k, v in caught.value.params.items() if k != "remote"}
    assert sim.licence_code not in json.dumps(others, default=str)
    assert caught.value.params["operation"].startswith("GET import/orders/***/")


# -- settings ----------------------------------------------------------------------------------------


def test_settings_normalise_keys_and_refuse_what_the_import_cannot_take() -> None:
    settings = AsperionSettings(
        payment_codes={" PayPal ": "paypal"}, vat_categories={"21.00": "hoog", "0": "nul"}
    )
    assert settings.payment_codes == {"paypal": "PAYPAL"} and settings.vat_categories == {
        "21": "hoog",
        "0": "nul",
    }
    for wrong in (
        {"payment_codes": {"ideal": "BITCOIN"}},
        {"vat_categories": {"21": "nul", "0": "nul"}},
        {"vat_categories": {"21": "hoog"}},
        {"vat_categories": {"abc": "hoog", "0": "nul"}},
    ):
        with pytest.raises(ValidationError):
            AsperionSettings(**wrong)


def test_check_invoice_one_member_alone(sim) -> None:
    target(sim).check_invoice(invoice("ORD1"))
    with pytest.raises(DataError):
        target(sim).check_invoice(invoice("ORD1", currency="USD"))
