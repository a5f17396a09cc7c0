"""Tolerant name matching and amount parsing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from koppeling.connectors.strato import names
from koppeling.connectors.strato.amounts import AmountProblem, parse_amount, parse_date, parse_rate


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Vorname", "first_name"),
        ("VOORNAAM", "first_name"),
        ("First name", "first_name"),
        ("Straße", "street"),
        ("STRASSE", "street"),
        ("straat", "street"),
        ("E-Mail", "email"),
        ("e_mail", "email"),
        ("Land [BillingAddress.Country]", "country"),
        ("[BillingAddress.FirstName]", "first_name"),
        ("BillingAddress.LastName", "last_name"),
        ("Ländercode", "country"),
        ("Btw-nummer", "vat_number"),
        ("Kundennummer [Alias]", "customer_number"),
        ("{urn:x}Zipcode", "postal_code"),
        ("Newsletter", None),
    ],
)
def test_header_matching(header, field):
    assert names.match(header, names.PARTY_TABLE, names.ADDRESS_PREFIXES) == field


def test_country_codes():
    assert names.country_code("nl") == "NL" and names.country_code("België") == "BE"
    assert names.country_code("Deutschland") == "DE" and names.country_code("EL") == "GR"
    assert names.country_code("Atlantis") is None


@pytest.mark.parametrize(
    ("text", "value", "warned"),
    [
        ("12.50", "12.50", False),
        (" -3 ", "-3", False),
        ("0.1250", "0.1250", False),
        ("12,50", "12.50", True),
        ("1.234,56", "1234.56", True),
        ("1 234,56", "1234.56", True),
        ("1,234.56", "1234.56", True),
        ("€ 12,50", "12.50", True),
        ("EUR 7.00", "7.00", True),
        ("0,1250", "0.1250", True),
    ],
)
def test_amounts(text, value, warned):
    parsed, warning = parse_amount(text)
    assert parsed == Decimal(value) and bool(warning) is warned


@pytest.mark.parametrize("text", ["1,234", "1.234.567", "12.5.1", "NaN", "1e3", "", "twaalf", "1_000"])
def test_bad_amounts(text):
    with pytest.raises(AmountProblem):
        parse_amount(text)


def test_rates_and_dates():
    assert parse_rate("21%")[0] == Decimal(21) and parse_rate("9,0")[0] == Decimal(9)
    with pytest.raises(AmountProblem, match="fraction"):
        parse_rate("0.21")
    assert parse_date("2024-03-05T14:12:09+01:00") == dt.date(2024, 3, 5)
    assert parse_date("05-03-2024") == parse_date("05.03.2024") == dt.date(2024, 3, 5)
    with pytest.raises(AmountProblem):
        parse_date("2024-02-30")
