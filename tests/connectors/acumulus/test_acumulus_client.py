"""AcumulusTarget against the in-process simulator: push, read back, find again, error taxonomy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest
from acumulus_helpers import BASE, SETTINGS, invoice, line, make_target, missing_params
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from pydantic import ValidationError

from koppeling.connectors.acumulus.client import AcumulusSettings, AcumulusTarget, acumulus_totals
from koppeling.connectors.base import Capability, ConnectionConfig, Findability, PushResult
from koppeling.connectors.errors import (
    AuthError,
    ConnectorError,
    DataError,
    NotFound,
    QuotaError,
    RateLimited,
    ResponseError,
    TransientError,
)
from koppeling.connectors.registry import connector_class
from koppeling.core.messages import Outcome
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
    target.push_invoice(invoice(), SETTINGS)
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
    assert (inv.findtext("accountnumber"), inv.findtext("costcenter")) == ("1", "1")  # from the settings
    first, second = inv.findall("line")
    assert first.findtext("unitprice") == "10.0000" and first.findtext("vatrate") == "21"
    assert first.findtext("itemnumber") == "TS-1" and first.findtext("nature") == "Product"
    assert second.findtext("nature") == "Service"


def test_registry_knows_acumulus_target():
    assert connector_class("acumulus") is AcumulusTarget
    # Acumulus cannot be searched by our reference: a booking is found again by the stored ids only
    assert AcumulusTarget.findable is Findability.BY_STORED_IDS
    assert AcumulusTarget.capabilities() == {Capability.WRITES_INVOICES, Capability.WRITES_CREDIT_NOTES}
    assert AcumulusTarget.settings_model is AcumulusSettings
    assert AcumulusTarget.max_in_flight == 4


# -- the flow's settings: account and cost center ---------------------------------------------


def test_push_invoice_takes_account_and_cost_center_from_settings(sim, target):
    # given a flow that books iDEAL on account 3 (else 1) and shop B on cost center 2 (else 1)
    chosen = AcumulusSettings(accounts={"iDEAL": "3", "*": "1"}, cost_centers={"shop-b": "2", "*": "1"})
    # when invoices of both shops and payment methods are pushed with it
    ideal_b = sim.invoices[target.push_invoice(invoice("WA-b", shop="shop-b"), chosen).target_id]
    paypal_a = sim.invoices[
        target.push_invoice(invoice("WA-a", shop="shop-a", payment_method="PayPal"), chosen).target_id
    ]
    # then each is booked where the settings say: exact key first, then the "*" default
    assert (ideal_b.accountnumber, ideal_b.costcenter) == ("3", "2")
    assert (paypal_a.accountnumber, paypal_a.costcenter) == ("1", "1")
    # and without settings neither is sent (Acumulus books on the contract's defaults)
    plain = sim.invoices[target.push_invoice(invoice("WA-plain")).target_id]
    assert (plain.accountnumber, plain.costcenter) == ("", "")


def test_settings_refuse_unknown_fields():
    with pytest.raises(ValidationError):
        AcumulusSettings(account="1")
    assert AcumulusSettings().concept is False


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
    result = target.push_invoice(inv, SETTINGS)
    booked = target.read_back_invoice(result.target_id)
    # then Acumulus numbered it, and its totals equal the invoice's to the cent
    assert result.number == "20260001" and len(result.token) == 32 and not result.concept
    assert result.warnings == ()
    assert (booked.total_ex, booked.total_inc) == (inv.total_ex, inv.total_inc)
    assert f"WA-{kind}" in booked.reference_text
    stored = sim.invoices[result.target_id]
    assert stored.vattype == vattype
    assert stored.customer["countrycode"] == party.country_code
    assert (stored.accountnumber, stored.costcenter) == ("1", "1")
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
    booked = target.read_back_invoice(result.target_id)
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
    booked = target.read_back_invoice(result.target_id)
    assert (booked.total_ex, booked.total_inc) == (inv.total_ex, inv.total_inc)
    assert result.warnings == ()


def test_acumulus_totals_rounds_per_line_and_ignores_vat_free():
    assert acumulus_totals(
        [(Decimal(1), Decimal("10"), Decimal(-1)), (Decimal(1), Decimal("10"), Decimal(9))]
    ) == (Decimal("20.00"), Decimal("20.90"))


def test_push_invoice_warns_when_invoice_vat_is_not_rounded_per_line(target):
    # given an invoice not fitted to Acumulus (no totals_method): VAT from an inc-price
    from koppeling.core.models import InvoiceLine

    odd = InvoiceLine(
        LineKind.PRODUCT, "Mok", Decimal(1), Decimal("8.26"), Decimal(21), Decimal("8.26"), Decimal("1.74")
    )
    result = target.push_invoice(invoice("WA-vat", lines=[odd]))
    # then it is booked, with a warning that says what Acumulus books instead (10.00 -> 9.99)
    assert result.target_id
    assert result.warnings == (
        Outcome(
            "acumulus_totals_differ",
            {
                "booked_ex": Decimal("8.26"),
                "booked_inc": Decimal("9.99"),
                "total_ex": Decimal("8.26"),
                "total_inc": Decimal("10.00"),
            },
        ),
    )
    assert not missing_params(result.warnings[0])


def test_push_invoice_fitted_by_core_books_exactly_what_was_paid(sim, target):
    # given a 10.00 mug at 21%: no amount excl. VAT e has e + round(e × 21%) = 10.00
    from koppeling.core.invoicing import InvoiceSettings, order_to_invoice
    from koppeling.core.models import Order, OrderLine, Party

    mug = OrderLine(LineKind.PRODUCT, "Mok", unit_price_inc=Decimal("10.00"), vat_rate=Decimal(21))
    order = Order("1", "WA-fit", dt.date(2026, 1, 15), Party(name="An"), (mug,), Decimal("10.00"), paid=True)
    # when core makes the invoice for Acumulus's totals method and it is pushed
    settings = InvoiceSettings(totals_method=AcumulusTarget.totals_method)
    result = target.push_invoice(order_to_invoice(order, settings))
    # then Acumulus books exactly 10.00: the missing cent on a correction line at 21% (libAcumulus
    # does the same), no warning, each line's VAT Acumulus's own round(amount × 21%)
    booked = target.read_back_invoice(result.target_id)
    assert booked.total_inc == Decimal("10.00") and result.warnings == ()
    sent = sim.invoices[result.target_id].lines
    assert [(ln["product"], ln["unitprice"], ln["vatrate"]) for ln in sent] == [
        ("Mok", "8.2645", "21"),
        ("Afrondingscorrectie", "0.0100", "21"),
    ]


def test_push_invoice_gift_card_is_vat_free_domestic(sim, target):
    inv = invoice("WA-gift", lines=[line(), line(LineKind.GIFT_CARD, "Cadeaubon", unit="-5.00", rate="0")])
    result = target.push_invoice(inv)
    assert sim.invoices[result.target_id].lines[1]["vatrate"] == "-1"
    assert target.read_back_invoice(result.target_id).total_inc == inv.total_inc


def test_push_invoice_due_invoice_has_no_payment_date(sim, target):
    result = target.push_invoice(invoice("WA-due", payment_status=PaymentStatus.DUE))
    stored = sim.invoices[result.target_id]
    assert (stored.paymentstatus, stored.paymentdate) == ("1", "")


def test_push_invoice_non_euro_is_data_error_before_any_call(sim, target):
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice("WA-usd", currency="USD"))
    assert info.value.code == "acumulus_currency"
    assert info.value.params["currency"] == "USD" and info.value.params["reference"] == "WA-usd"
    assert sim.request_count == 0


def test_push_invoice_icp_without_vat_number_is_data_error(sim, target):
    party = Party(company="Müller GmbH", email="h@mueller.de", country_code="DE")
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice("WA-icp", VatRegime.EU_B2B, customer=party, lines=[line(rate="0")]))
    assert info.value.code == "acumulus_icp_vat_number_missing"
    assert info.value.params["reference"] == "WA-icp" and not missing_params(info.value.outcome)
    assert sim.request_count == 0


def test_push_invoice_concept_then_find_after_finalising(sim, target):
    # given a flow that books concepts (a person finalises them in Acumulus)
    result = target.push_invoice(invoice("WA-concept"), SETTINGS.model_copy(update={"concept": True}))
    assert result.concept and result.target_id.startswith("concept:") and result.token == ""
    assert sim.concepts[result.target_id.removeprefix("concept:")].description == "Bestelling WA-concept"
    assert target.find_invoice("WA-concept", result) == result  # still a concept
    with pytest.raises(NotFound) as info:
        target.read_back_invoice(result.target_id)
    assert info.value.code == "acumulus_concept_not_booked"
    assert info.value.params["concept"] == result.target_id.removeprefix("concept:")
    assert not missing_params(info.value.outcome)
    sim.finalise_concept(result.target_id.removeprefix("concept:"))
    found = target.find_invoice("WA-concept", result)
    assert found is not None and not found.concept and found.target_id in sim.invoices


def test_push_invoice_testmode_validates_without_storing(sim):
    target = make_target(sim, testmode=True)
    result = target.push_invoice(invoice("WA-test"), SETTINGS)
    assert result.target_id == "" and [w.code for w in result.warnings] == ["acumulus_testmode"]
    assert not missing_params(result.warnings[0])
    assert sim.invoices == {}


# -- find_invoice and read_back_invoice -------------------------------------------------------------------


def test_find_invoice_by_entryid_and_by_token(sim, target):
    pushed = target.push_invoice(invoice("WA0042"))
    by_id = target.find_invoice("WA0042", PushResult(target_id=pushed.target_id))
    by_token = target.find_invoice("WA0042", PushResult(target_id="", token=pushed.token))
    assert by_id == by_token == PushResult(pushed.target_id, pushed.number, pushed.token)


def test_find_invoice_unknown_or_deleted_entry_is_none(sim, target):
    pushed = target.push_invoice(invoice("WA0043"))
    assert target.find_invoice("X", PushResult(target_id="999")) is None
    assert target.find_invoice("X", PushResult(target_id="", token="z" * 32)) is None
    assert target.delete_entry(pushed.target_id) == "removed"
    assert target.find_invoice("WA0043", pushed) is None
    assert sim.entries_with_description_containing("WA0043") == []


def test_find_invoice_without_stored_ids_says_it_cannot_search(sim, target):
    with pytest.raises(ConnectorError) as info:
        target.find_invoice("WA0044")
    assert info.value.code == "not_searchable"
    assert info.value.params["reference"] == "WA0044" and info.value.params["system"] == "Acumulus"
    assert not missing_params(info.value.outcome)
    assert sim.request_count == 0
    with pytest.raises(ConnectorError) as info:
        target.find_invoice("WA0044", PushResult(target_id=""))
    assert info.value.code == "not_searchable"


def test_read_back_unknown_entry_is_not_found(target):
    with pytest.raises(NotFound) as info:
        target.read_back_invoice("123")
    assert info.value.code == "acumulus_not_found" and info.value.params["codetag"] == "XGYBSN000"


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
    assert info.value.code == "acumulus_auth" and info.value.status_code == 403
    assert info.value.params["codetag"] == "SIMAUTH01"
    assert info.value.params["remote"].startswith("[403 Forbidden / SIMAUTH01]")
    assert sim.password not in info.value.params["remote"]
    assert not missing_params(info.value.outcome)
    assert "API" in info.value.suggestion


def test_push_invoice_bad_credentials_is_auth_error(sim):
    target = make_target(sim, credentials={**sim.valid_credentials(), "contractcode": "999"})
    with pytest.raises(AuthError) as info:
        target.push_invoice(invoice(), SETTINGS)
    assert info.value.code == "acumulus_auth"
    assert sim.invoices == {}


def test_call_without_contract_is_auth_error_af1001mcs(target):
    with pytest.raises(AuthError) as info:
        target.call("picklists/picklist_costcenters", contract=False)
    assert info.value.code == "acumulus_auth" and info.value.params["codetag"] == "AF1001MCS"
    assert info.value.api_errors == [("403 Forbidden", "AF1001MCS", "Verplichte contract sectie ontbreekt")]


def test_check_succeeds_with_valid_credentials(target):
    target.check()
    assert target.about()["roleid"] == "5"


def test_push_invoice_trial_cap_41st_is_quota_error(sim, target):
    # given a trial account with 40 invoices booked
    sim.trial = True
    for number in range(40):
        target.push_invoice(invoice(f"WA{number:04d}"), SETTINGS)
    # when the 41st comes
    with pytest.raises(QuotaError) as info:
        target.push_invoice(invoice("WA0040"), SETTINGS)
    # then it is refused with its own code, Acumulus's text and a suggestion, and nothing was booked
    assert info.value.code == "acumulus_quota" and info.value.params["codetag"] == "SIMTRIAL1"
    assert "proefaccount" in info.value.params["remote"] and not missing_params(info.value.outcome)
    assert "subscription" in info.value.suggestion
    assert len(sim.invoices) == 40


@pytest.mark.parametrize(
    ("status", "error_class", "code"),
    [(503, TransientError, "acumulus_busy"), (429, RateLimited, "rate_limited")],
)
def test_push_invoice_busy_is_transient_with_retry_after(sim, target, status, error_class, code):
    sim.fail_next(status=status, retry_after=30)
    with pytest.raises(TransientError) as info:
        target.push_invoice(invoice())
    assert type(info.value) is error_class and info.value.code == code
    assert not missing_params(info.value.outcome)
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
    assert info.value.code == "acumulus_outcome_unknown" and info.value.maybe_processed is True
    assert info.value.status_code == 502 and "HTTP 502" in info.value.params["detail"]
    assert not missing_params(info.value.outcome)
    assert len(sim.entries_with_description_containing("WA0099")) == 1


def test_read_calls_502_are_plain_transient(sim, target):
    sim.fail_next(status=502)
    with pytest.raises(TransientError) as info:
        target.accounts()
    assert info.value.code == "acumulus_unavailable" and info.value.maybe_processed is False
    assert info.value.params["status"] == 502


def test_push_invoice_validation_error_is_data_error_with_codetag(sim, target):
    # given settings that name an account the contract does not have
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice(), AcumulusSettings(accounts={"*": "77"}, cost_centers={"*": "1"}))
    error = info.value
    assert not isinstance(error, ResponseError)
    assert error.code == "acumulus_rejected" and error.params["codetag"] == "SIMACCT01"
    assert error.status_code == 400
    assert error.api_errors[0][:2] == ("400 Bad Request", "SIMACCT01")
    assert "picklist_accounts" in error.params["remote"] and error.suggestion
    assert not missing_params(error.outcome)
    assert sim.invoices == {}


def test_push_invoice_vat_rate_invalid_for_regime_is_data_error(target):
    party = Party(name="John", email="j@example.com", country_code="US")
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice("WA-x", VatRegime.EXPORT, customer=party, lines=[line(rate="21")]))
    assert info.value.code == "acumulus_rejected" and info.value.params["codetag"] == "SIMVATR01"


@pytest.mark.parametrize("kind", ["html", "truncated", "empty"])
def test_push_invoice_malformed_answer_is_outcome_unknown(sim, target, kind):
    sim.malform_next(kind)
    with pytest.raises(TransientError) as info:
        target.push_invoice(invoice("WA-m"))
    assert info.value.code == "acumulus_outcome_unknown" and info.value.maybe_processed
    assert info.value.status_code == 200 and "unreadable body" in info.value.params["detail"]
    # and rightly so: the simulator did book it before answering garbage
    assert len(sim.entries_with_description_containing("WA-m")) == 1


def test_read_malformed_answer_is_response_error(sim, target):
    sim.malform_next("html")
    with pytest.raises(ResponseError) as info:
        target.cost_centers()
    assert info.value.code == "acumulus_bad_response" and info.value.params["status"] == 200


def test_wrong_api_path_html_404_is_response_error(sim):
    target = make_target(sim, api_version="v0")  # a path the API does not serve: the daemon's HTML 404
    with pytest.raises(ResponseError) as info:
        target.check()
    assert info.value.code == "acumulus_bad_response" and info.value.status_code == 404


def _mock_target(handler) -> AcumulusTarget:
    config = ConnectionConfig("acumulus", BASE, {"contractcode": "1", "username": "u", "password": "p"})
    return AcumulusTarget(config, httpx.Client(transport=httpx.MockTransport(handler)))


def test_connect_error_is_transient_not_processed():
    def handler(request):
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(TransientError) as info:
        _mock_target(handler).push_invoice(invoice())
    assert info.value.code == "acumulus_unreachable" and info.value.maybe_processed is False
    assert info.value.params["detail"] == "ConnectError"


def test_read_timeout_on_push_is_outcome_unknown_but_plain_on_read():
    def handler(request):
        raise httpx.ReadTimeout("slow", request=request)

    target = _mock_target(handler)
    with pytest.raises(TransientError) as info:
        target.push_invoice(invoice())
    assert info.value.code == "acumulus_outcome_unknown" and info.value.maybe_processed is True
    assert "ReadTimeout" in info.value.params["detail"]
    with pytest.raises(TransientError) as info:
        target.read_back_invoice("1")
    assert info.value.code == "acumulus_timeout" and info.value.maybe_processed is False
    assert info.value.params["detail"] == "ReadTimeout"


def test_status_3_exception_is_transient():
    def handler(request):
        return httpx.Response(
            200, json={"errors": {"count_errors": "0"}, "warnings": {"count_warnings": "0"}, "status": "3"}
        )

    target = _mock_target(handler)
    with pytest.raises(TransientError) as info:
        target.accounts()
    assert info.value.code == "acumulus_exception" and info.value.maybe_processed is False
    assert info.value.params["remote"] == "no details"
    with pytest.raises(TransientError) as info:
        target.push_invoice(invoice())
    assert info.value.code == "acumulus_outcome_unknown" and info.value.maybe_processed is True


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
    assert result.warnings == (Outcome("acumulus_warning", {"remote": "[553 / XUPR7NEC8] deprecated role"}),)


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

    with pytest.raises(QuotaError) as info:
        _mock_target(handler).push_invoice(invoice())
    assert info.value.code == "acumulus_quota" and info.value.params["codetag"] == "ZZ9ZZ"


def test_locked_period_is_a_data_error_of_its_own():
    def handler(request):
        return httpx.Response(
            400,
            json={
                "errors": {
                    "error": {
                        "code": "400 Bad Request",
                        "codetag": "ZZLOCK1",
                        "message": "De boekingsperiode van deze datum is vergrendeld",
                    },
                    "count_errors": "1",
                },
                "warnings": {"count_warnings": "0"},
                "status": "1",
            },
        )

    with pytest.raises(DataError) as info:
        _mock_target(handler).push_invoice(invoice())
    assert info.value.code == "acumulus_period_locked" and info.value.params["codetag"] == "ZZLOCK1"
    assert "vergrendeld" in info.value.params["remote"]
