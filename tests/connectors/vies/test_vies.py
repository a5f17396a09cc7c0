"""The VIES client against its simulator: valid, invalid, unavailable, with consultation numbers."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.errors import DataError
from koppeling.connectors.registry import connector_class
from koppeling.connectors.vies.client import CACHE_VALID, UNAVAILABLE_RETRY, ViesChecker
from koppeling.connectors.vies.simulator import ViesSimulator
from koppeling.core.facts import InvoiceFacts, VatCheckStatus
from koppeling.core.invoicing import order_to_invoice
from koppeling.core.models import LineKind, Order, OrderLine, Party, VatRegime

BASE = "http://vies.sim/checkVatService"
NOW = dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC)
OWN = "NL004495445B01"


def checker(sim: ViesSimulator, requester: str = OWN) -> ViesChecker:
    http = httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi))
    return ViesChecker(ConnectionConfig("vies", BASE, {"requester_vat_number": requester}), http)


@pytest.fixture
def sim():
    return ViesSimulator(today=lambda: NOW.date())


def test_check_number_valid_carries_consultation_number(sim):
    # given a registered DE number / when checked / then valid, with VIES's proof
    result = checker(sim).check_number("DE 136 695 976", now=NOW)
    assert result.status is VatCheckStatus.VALID
    assert result.vat_number == "DE136695976"
    assert result.consultation_number.startswith("WAPI") and len(result.consultation_number) == 16
    assert result.checked_at.date() == NOW.date() and result.valid_until == NOW + CACHE_VALID
    assert sim.requests[-1]["requesterVatNumber"] == "004495445B01"


def test_check_number_checksum_valid_but_not_registered_is_invalid(sim):
    # given DE123456788: its check digit fits, but it is not registered (the old code gave it 0%)
    result = checker(sim).check_number("DE123456788", now=NOW)
    assert result.status is VatCheckStatus.INVALID


def test_check_number_bad_format_is_invalid_without_asking(sim):
    result = checker(sim).check_number("DE000000000", now=NOW)
    assert result.status is VatCheckStatus.INVALID and sim.requests == []


@pytest.mark.parametrize("fault", ["MS_UNAVAILABLE", "TIMEOUT", "SERVER_BUSY", "GLOBAL_MAX_CONCURRENT_REQ"])
def test_check_number_unavailable_is_an_answer(sim, fault):
    # given VIES faults / when checked / then "unavailable", retried soon, never an exception
    sim.fail_next(fault)
    result = checker(sim).check_number("DE136695976", now=NOW)
    assert (result.status, result.detail) == (VatCheckStatus.UNAVAILABLE, fault)
    assert result.valid_until == NOW + UNAVAILABLE_RETRY


def test_check_number_member_state_down(sim):
    sim.unavailable_countries.add("FR")
    assert checker(sim).check_number("FR40303265045", now=NOW).status is VatCheckStatus.UNAVAILABLE


def test_check_number_transport_failure_is_unavailable():
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    http = httpx.Client(transport=httpx.MockTransport(refuse))
    vies = ViesChecker(ConnectionConfig("vies", BASE, {"requester_vat_number": OWN}), http)
    result = vies.check_number("DE136695976", now=NOW)
    assert (result.status, result.detail) == (VatCheckStatus.UNAVAILABLE, "ConnectError")


def test_check_number_bad_requester_is_a_configuration_error(sim):
    with pytest.raises(DataError) as info:
        sim.fail_next("INVALID_REQUESTER_INFO")
        checker(sim).check_number("DE136695976", now=NOW)
    assert info.value.code == "vies_requester_invalid"


def test_check_checks_the_requester_number(sim):
    checker(sim).check()  # a valid own number: no error
    sim.invalid.add(OWN)
    with pytest.raises(DataError):
        checker(sim).check()


def test_vies_connector_is_registered():
    assert connector_class("vies") is ViesChecker


def test_vies_answer_decides_the_icp(sim):
    # given a DE business charged 0% / when the runtime hands in VIES's answer / then it decides
    customer = Party(company="GmbH", country_code="DE", vat_number="DE136695976")
    order = Order(
        "1",
        "1",
        NOW.date(),
        customer,
        (OrderLine(LineKind.PRODUCT, "P", unit_price_inc=100, vat_rate=0),),
        100,
    )
    valid = checker(sim).check_number(customer.vat_number, now=NOW)
    invoice = order_to_invoice(order, facts=InvoiceFacts(vat_check=valid))
    assert invoice.regime is VatRegime.EU_B2B and invoice.vat_number_check == valid
    assert invoice.regime_reason.params["consultation"] == valid.consultation_number
