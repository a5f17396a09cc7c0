"""AcumulusTarget against the in-process simulator: push, read back, lookup, error taxonomy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest
from acumulus_helpers import BASE, invoice, line, make_target
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from koppeling.connectors.acumulus.client import AcumulusTarget, acumulus_totals
from koppeling.connectors.base import ConnectionConfig, PushResult
from koppeling.connectors.errors import (
    AuthError,
    ConnectorError,
    DataError,
    NotFound,
    QuotaError,
    ResponseError,
    TransientError,
)
from koppeling.connectors.registry import connector_class
from koppeling.core.models import LineKind, Party, PaymentStatus, VatRegime

# -- the request on the wire -------------------------------------------------------------------


def test_push_invoice_sends_multipart_xmlstring_with_contract_and_basic_submit():
    # given a transport that records the request and answers like Acumulus
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "invoice": {
                    "invoicenumber": "20260001",
                    "token": "a" * 32,
                    "entryid": "1",
                    "contactid": "9",
                    "conceptid": [],
                },
                "errors": {"count_errors": "0"},
                "warnings": {"count_warnings": "0"},
                "status": "0",
            },
        )

    creds = {"contractcode": "123456", "username": "api", "password": "p<&>w", "emailonerror": "e@x.nl"}
    target = AcumulusTarget(
        ConnectionConfig("acumulus", "https://api.sielsystems.nl/acumulus/", creds),
        httpx.Client(transport=httpx.MockTransport(handler)),
    )
    # when
    target.push_invoice(invoice())
    # then: POST {base}/stable/invoices/invoice_add.php, multipart/form-data, one field xmlstring
    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == "https://api.sielsystems.nl/acumulus/stable/invoices/invoice_add.php"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    body = request.read()
    assert b'Content-Disposition: form-data; name="xmlstring"\r\n\r\n<?xml' in body
    xml = body.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n--", 1)[0]
    root = etree.fromstring(xml)
    assert root.tag == "myxml"
    assert root.findtext("contract/contractcode") == "123456"
    assert root.findtext("contract/password") == "p<&>w"  # escaped on the wire, intact after parsing
    assert root.findtext("contract/emailonerror") == "e@x.nl"
    assert (root.findtext("format"), root.findtext("testmode"), root.findtext("lang")) == ("json", "0", "nl")
    assert root.findtext("connector/application").startswith("koppeling ")
    customer = root.find("customer")
    assert customer.findtext("type") == "1" and customer.findtext("vattypeid") == "1"
    assert customer.findtext("overwriteifexists") == "1" and customer.findtext("disableduplicates") == "1"
    inv = customer.find("invoice")
    assert inv.findtext("concept") == "0" and inv.findtext("vattype") == "1"
    assert inv.findtext("description") == "Bestelling WA0001"
    assert (inv.findtext("paymentstatus"), inv.findtext("paymentdate")) == ("2", "2026-01-15")
    first, second = inv.findall("line")
    assert first.findtext("unitprice") == "10.0000" and first.findtext("vatrate") == "21"
    assert first.findtext("itemnumber") == "TS-1" and first.findtext("nature") == "Product"
    assert second.findtext("nature") == "Service"


def test_registry_knows_acumulus_target():
    assert connector_class("acumulus") is AcumulusTarget
    assert AcumulusTarget.searchable_by_reference is False
    assert AcumulusTarget.max_in_flight == 4


# -- pushes of every regime, read back to the cent ---------------------------------------------


REGIMES = {
    "domestic": (VatRegime.DOMESTIC, Party(name="Jan", email="jan@example.nl", country_code="NL"), "21", 1),
    "icp": (
        VatRegime.EU_B2B,
        Party(
            company="Müller GmbH",
            name="Hans Müller",
            email="h@mueller.de",
            country_code="DE",
            vat_number="DE123456789",
        ),
        "0",
        3,
    ),
    "oss": (
        VatRegime.EU_B2C_OSS,
        Party(name="Marie Dupont", email="m@example.fr", country_code="FR"),
        "20",
        6,
    ),
    "export": (VatRegime.EXPORT, Party(name="John Smith", email="j@example.com", country_code="US"), "0", 4),
}


@pytest.mark.parametrize("kind", sorted(REGIMES))
def test_push_invoice_regime_reads_back_same_totals(sim, target, kind):
    # given an invoice of this VAT regime
    regime, party, rate, vattype = REGIMES[kind]
    inv = invoice(
        f"WA-{kind}",
        regime,
        customer=party,
        lines=[
            line(quantity="3", unit="12.3967", rate=rate, sku="A1"),
            line(LineKind.SHIPPING, "Verzending", unit="4.1322", rate=rate),
        ],
    )
    # when pushed and read back
    result = target.push_invoice(inv)
    booked = target.read_back(result.target_id)
    # then Acumulus numbered it, and its totals equal the invoice's to the cent
    assert result.number == "20260001" and len(result.token) == 32 and not result.concept
    assert result.warnings == ()
    assert (booked.total_ex, booked.total_inc) == (inv.total_ex, inv.total_inc)
    assert f"WA-{kind}" in booked.reference_text
    stored = sim.invoices[result.target_id]
    assert stored.vattype == vattype
    assert stored.customer["countrycode"] == party.country_code
    if kind == "icp":
        assert stored.customer["vatnumber"] == "DE123456789" and stored.customer["vattypeid"] == "2"


def test_push_invoice_numbers_are_assigned_by_acumulus_per_year(target):
    numbers = [target.push_invoice(invoice(f"WA{i}")).number for i in range(3)]
    assert numbers == ["20260001", "20260002", "20260003"]


def test_push_invoice_quantity_that_does_not_fit_four_decimals_is_sent_as_one(sim, target):
    # given 7 units whose line total has no exact 4-decimal unit price
    from koppeling.core.models import InvoiceLine

    odd = InvoiceLine(
        LineKind.PRODUCT,
        "Stickers",
        Decimal(7),
        Decimal("1.428571"),
        Decimal(21),
        Decimal("10.00"),
        Decimal("2.10"),
    )
    inv = invoice(
        "WA-odd",
        lines=[
            odd,
            InvoiceLine(
                LineKind.PRODUCT,
                "Big",
                Decimal(1000),
                Decimal("0.01234"),
                Decimal(21),
                Decimal("12.34"),
                Decimal("2.59"),
            ),
        ],
    )
    result = target.push_invoice(inv)
    booked = target.read_back(result.target_id)
    assert (booked.total_ex, booked.total_inc) == (inv.total_ex, inv.total_inc)
    products = [entry["product"] for entry in sim.invoices[result.target_id].lines]
    assert products[1] == "1000 x Big"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 120), st.integers(1, 500_000), st.sampled_from(["21", "9", "0"])),
        min_size=1,
        max_size=6,
    )
)
def test_push_invoice_totals_preserved_property(rows):
    # given any lines whose VAT is rounded per line (the core rule), the booked totals equal the invoice's
    from acumulus_helpers import make_target as mk

    from koppeling.connectors.acumulus.simulator import AcumulusSimulator

    sim = AcumulusSimulator()
    target = mk(sim)
    lines = [line(quantity=str(q), unit=str(Decimal(cents) / 10000), rate=rate) for q, cents, rate in rows]
    inv = invoice("WA-prop", lines=lines)
    result = target.push_invoice(inv)
    booked = target.read_back(result.target_id)
    assert (booked.total_ex, booked.total_inc) == (inv.total_ex, inv.total_inc)
    assert result.warnings == ()


def test_acumulus_totals_rounds_per_line_and_ignores_vat_free():
    assert acumulus_totals(
        [(Decimal(1), Decimal("10"), Decimal(-1)), (Decimal(1), Decimal("10"), Decimal(9))]
    ) == (Decimal("20.00"), Decimal("20.90"))


def test_push_invoice_warns_when_invoice_vat_is_not_rounded_per_line(target):
    # given an invoice whose line VAT came from an inc-price (one cent off the per-line rule)
    from koppeling.core.models import InvoiceLine

    odd = InvoiceLine(
        LineKind.PRODUCT, "Mok", Decimal(1), Decimal("8.26"), Decimal(21), Decimal("8.26"), Decimal("1.74")
    )
    result = target.push_invoice(invoice("WA-vat", lines=[odd]))
    assert any("reconciliation" in warning for warning in result.warnings)


def test_push_invoice_gift_card_is_vat_free_domestic(sim, target):
    inv = invoice("WA-gift", lines=[line(), line(LineKind.GIFT_CARD, "Cadeaubon", unit="-5.00", rate="0")])
    result = target.push_invoice(inv)
    assert sim.invoices[result.target_id].lines[1]["vatrate"] == "-1"
    assert target.read_back(result.target_id).total_inc == inv.total_inc


def test_push_invoice_due_invoice_has_no_payment_date(sim, target):
    result = target.push_invoice(invoice("WA-due", payment_status=PaymentStatus.DUE))
    stored = sim.invoices[result.target_id]
    assert (stored.paymentstatus, stored.paymentdate) == ("1", "")


def test_push_invoice_non_euro_is_data_error_before_any_call(sim, target):
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice("WA-usd", currency="USD"))
    assert info.value.code == "acumulus_currency"
    assert sim.request_count == 0


def test_push_invoice_icp_without_vat_number_is_data_error(target):
    party = Party(company="Müller GmbH", email="h@mueller.de", country_code="DE")
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice("WA-icp", VatRegime.EU_B2B, customer=party, lines=[line(rate="0")]))
    assert info.value.code == "icp_vat_number_missing"


def test_push_invoice_concept_then_lookup_after_finalising(sim):
    target = make_target(sim, concept=True)
    result = target.push_invoice(invoice("WA-concept"))
    assert result.concept and result.target_id.startswith("concept:") and result.token == ""
    assert target.lookup("WA-concept", result) == result  # still a concept
    with pytest.raises(NotFound):
        target.read_back(result.target_id)
    sim.finalise_concept(result.target_id.removeprefix("concept:"))
    found = target.lookup("WA-concept", result)
    assert found is not None and not found.concept and found.target_id in sim.invoices


def test_push_invoice_testmode_validates_without_storing(sim):
    target = make_target(sim, testmode=True)
    result = target.push_invoice(invoice("WA-test"))
    assert result.target_id == "" and any("testmode" in w for w in result.warnings)
    assert sim.invoices == {}


# -- lookup and read_back ----------------------------------------------------------------------


def test_lookup_by_entryid_and_by_token(sim, target):
    pushed = target.push_invoice(invoice("WA0042"))
    by_id = target.lookup("WA0042", PushResult(target_id=pushed.target_id))
    by_token = target.lookup("WA0042", PushResult(target_id="", token=pushed.token))
    assert by_id == by_token == PushResult(pushed.target_id, pushed.number, pushed.token)


def test_lookup_unknown_or_deleted_entry_is_none(sim, target):
    pushed = target.push_invoice(invoice("WA0043"))
    assert target.lookup("X", PushResult(target_id="999")) is None
    assert target.lookup("X", PushResult(target_id="", token="z" * 32)) is None
    assert target.delete_entry(pushed.target_id) == "removed"
    assert target.lookup("WA0043", pushed) is None
    assert sim.entries_with_description_containing("WA0043") == []


def test_lookup_without_stored_ids_says_it_cannot_search(target):
    with pytest.raises(ConnectorError) as info:
        target.lookup("WA0044")
    assert info.value.code == "not_searchable"
    assert "WA0044" in info.value.message


def test_read_back_unknown_entry_is_not_found(target):
    with pytest.raises(NotFound):
        target.read_back("123")


def test_payment_status_set_and_get(sim, target):
    pushed = target.push_invoice(invoice("WA0045", payment_status=PaymentStatus.DUE))
    assert target.payment_status(pushed.token)["paymentstatus"] == "1"
    target.set_payment_status(pushed.token, True, dt.date(2026, 2, 1))
    assert target.payment_status(pushed.token) == {
        "entryid": pushed.target_id,
        "token": pushed.token,
        "paymentstatus": "2",
        "paymentdate": "2026-02-01",
    }


def test_picklists_vat_info_and_entries_left(sim, target):
    assert [a["accountdescription"] for a in target.accounts()][:3] == ["Bank", "PayPal", "Mollie"]
    assert target.accounts()[1]["accountnumber"] == ""  # {} in the JSON, normalised
    assert [c["costcentername"] for c in target.cost_centers()] == ["Webwinkel A", "Webwinkel B"]
    assert target.vat_info("NL", dt.date(2026, 1, 1)) == [
        ("normal", Decimal("21")),
        ("reduced", Decimal("9")),
    ]
    assert target.vat_info("XX", dt.date(2026, 1, 1)) == []
    assert target.entries_left() is None
    sim.trial = True
    assert target.entries_left() == 40


# -- errors ------------------------------------------------------------------------------------


def test_check_bad_credentials_is_auth_error(sim):
    target = make_target(sim, credentials={**sim.valid_credentials(), "password": "wrong"})
    with pytest.raises(AuthError) as info:
        target.check()
    assert info.value.status_code == 403 and "403 Forbidden" in info.value.message
    assert "API" in info.value.suggestion


def test_push_invoice_bad_credentials_is_auth_error(sim):
    target = make_target(sim, credentials={**sim.valid_credentials(), "contractcode": "999"})
    with pytest.raises(AuthError):
        target.push_invoice(invoice())
    assert sim.invoices == {}


def test_call_without_contract_is_auth_error_af1001mcs(target):
    with pytest.raises(AuthError) as info:
        target.call("picklists/picklist_costcenters", contract=False)
    assert info.value.api_errors == [("403 Forbidden", "AF1001MCS", "Verplichte contract sectie ontbreekt")]


def test_check_succeeds_with_valid_credentials(target):
    target.check()
    assert target.about()["roleid"] == "5"


def test_push_invoice_trial_cap_41st_is_quota_error(sim, target):
    # given a trial account with 40 invoices booked
    sim.trial = True
    for number in range(40):
        target.push_invoice(invoice(f"WA{number:04d}"))
    # when the 41st comes
    with pytest.raises(QuotaError) as info:
        target.push_invoice(invoice("WA0040"))
    # then it is refused with a clear message and suggestion, and nothing was booked
    assert "subscription" in info.value.suggestion
    assert "SIMTRIAL1" in info.value.message
    assert len(sim.invoices) == 40


@pytest.mark.parametrize("status", [503, 429])
def test_push_invoice_busy_is_transient_with_retry_after(sim, target, status):
    sim.fail_next(status=status, retry_after=30)
    with pytest.raises(TransientError) as info:
        target.push_invoice(invoice())
    assert info.value.retry_after == 30 and info.value.status_code == status
    assert info.value.maybe_processed is False
    assert sim.invoices == {}
    assert target.push_invoice(invoice()).number == "20260001"  # the retry goes through


def test_push_invoice_accepted_then_502_is_outcome_unknown(sim, target):
    # given Acumulus books the invoice but a gateway answers 502
    sim.accept_then_fail_next(502)
    with pytest.raises(TransientError) as info:
        target.push_invoice(invoice("WA0099"))
    # then the engine is told it may have been booked (lookup impossible: review)
    assert info.value.code == "outcome_unknown" and info.value.maybe_processed is True
    assert len(sim.entries_with_description_containing("WA0099")) == 1


def test_read_calls_502_are_plain_transient(sim, target):
    sim.fail_next(status=502)
    with pytest.raises(TransientError) as info:
        target.accounts()
    assert info.value.code == "acumulus_unavailable" and info.value.maybe_processed is False


def test_push_invoice_validation_error_is_data_error_with_codetag(sim, target):
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice(account="77"))
    error = info.value
    assert not isinstance(error, ResponseError)
    assert error.code == "acumulus_SIMACCT01"
    assert error.status_code == 400
    assert error.api_errors[0][:2] == ("400 Bad Request", "SIMACCT01")
    assert "picklist_accounts" in error.message and error.suggestion


def test_push_invoice_vat_rate_invalid_for_regime_is_data_error(target):
    party = Party(name="John", email="j@example.com", country_code="US")
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice("WA-x", VatRegime.EXPORT, customer=party, lines=[line(rate="21")]))
    assert info.value.code == "acumulus_SIMVATR01"


@pytest.mark.parametrize("kind", ["html", "truncated", "empty"])
def test_push_invoice_malformed_answer_is_outcome_unknown(sim, target, kind):
    sim.malform_next(kind)
    with pytest.raises(TransientError) as info:
        target.push_invoice(invoice("WA-m"))
    assert info.value.code == "outcome_unknown" and info.value.maybe_processed
    assert info.value.response_excerpt is not None


def test_read_malformed_answer_is_response_error(sim, target):
    sim.malform_next("html")
    with pytest.raises(ResponseError) as info:
        target.cost_centers()
    assert info.value.code == "bad_response"


def test_wrong_api_path_html_404_is_response_error(sim):
    target = make_target(sim, api_version="v0")  # a path the API does not serve: the daemon's HTML 404
    with pytest.raises(ResponseError) as info:
        target.check()
    assert info.value.status_code == 404


def _mock_target(handler) -> AcumulusTarget:
    config = ConnectionConfig("acumulus", BASE, {"contractcode": "1", "username": "u", "password": "p"})
    return AcumulusTarget(config, httpx.Client(transport=httpx.MockTransport(handler)))


def test_connect_error_is_transient_not_processed():
    def handler(request):
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(TransientError) as info:
        _mock_target(handler).push_invoice(invoice())
    assert info.value.code == "acumulus_unreachable" and info.value.maybe_processed is False


def test_read_timeout_on_push_is_outcome_unknown_but_plain_on_read():
    def handler(request):
        raise httpx.ReadTimeout("slow", request=request)

    target = _mock_target(handler)
    with pytest.raises(TransientError) as info:
        target.push_invoice(invoice())
    assert info.value.maybe_processed is True
    with pytest.raises(TransientError) as info:
        target.read_back("1")
    assert info.value.code == "acumulus_timeout" and info.value.maybe_processed is False


def test_status_3_exception_is_transient():
    def handler(request):
        return httpx.Response(
            200, json={"errors": {"count_errors": "0"}, "warnings": {"count_warnings": "0"}, "status": "3"}
        )

    target = _mock_target(handler)
    with pytest.raises(TransientError) as info:
        target.accounts()
    assert info.value.code == "acumulus_exception"
    with pytest.raises(TransientError) as info:
        target.push_invoice(invoice())
    assert info.value.code == "outcome_unknown"


def test_status_2_warnings_are_returned_with_the_result():
    def handler(request):
        return httpx.Response(
            200,
            json={
                "invoice": {
                    "invoicenumber": "20260007",
                    "token": "t" * 32,
                    "entryid": "7",
                    "contactid": "1",
                    "conceptid": [],
                },
                "errors": {"count_errors": "0"},
                "warnings": {
                    "warning": {"code": "553", "codetag": "XUPR7NEC8", "message": "deprecated role"},
                    "count_warnings": "1",
                },
                "status": "2",
            },
        )

    result = _mock_target(handler).push_invoice(invoice())
    assert result.target_id == "7"
    assert result.warnings == ("[553 / XUPR7NEC8] deprecated role",)


def test_trial_cap_text_of_the_real_api_is_recognised_whatever_its_codetag():
    def handler(request):
        return httpx.Response(
            400,
            json={
                "errors": {
                    "error": {
                        "code": "400 Bad Request",
                        "codetag": "ZZ9ZZ",
                        "message": "Maximum aantal boekingen bereikt voor uw proefaccount",
                    },
                    "count_errors": "1",
                },
                "warnings": {"count_warnings": "0"},
                "status": "1",
            },
        )

    with pytest.raises(QuotaError):
        _mock_target(handler).push_invoice(invoice())
