"""regime.py: which VAT regime a sale falls under."""

import datetime as dt

import pytest

from koppeling.core.errors import RuleError
from koppeling.core.models import Party, VatRegime
from koppeling.core.regime import check_vat_number, decide_regime

ON = dt.date(2025, 3, 1)
NL_VAT = "NL004495445B01"
BE_VAT = "BE0403170701"
DE_VAT = "DE136695976"
EL_VAT = "EL094259216"


def test_decide_regime_domestic_consumer():
    # given an NL shop and an NL consumer / when decided / then domestic at NL rates
    decision = decide_regime("NL", Party(name="Jan", country_code="NL"), ON)
    assert (decision.regime, decision.vat_country, decision.vat_number_valid) == (
        VatRegime.DOMESTIC,
        "NL",
        None,
    )


def test_decide_regime_domestic_business_with_reverse_charge_hint():
    # given a domestic business and the shop's reverse-charge mark / when decided / then reverse charge
    customer = Party(company="Bouw BV", country_code="NL", vat_number=NL_VAT)
    decision = decide_regime("NL", customer, ON, vat_hint="reverse_charged_vat")
    assert decision.regime == VatRegime.REVERSE_CHARGE


def test_decide_regime_reverse_charge_hint_ignored_for_consumer():
    # given the hint on a consumer sale / when decided / then domestic, and the reason says why
    decision = decide_regime("NL", Party(name="Jan"), ON, vat_hint="reverse_charged_vat")
    assert decision.regime == VatRegime.DOMESTIC
    assert "ignored" in decision.reason


@pytest.mark.parametrize(("country", "number"), [("BE", BE_VAT), ("DE", DE_VAT), ("GR", EL_VAT)])
def test_decide_regime_icp_with_valid_vat_number(country, number):
    # given an EU business with a valid number of its own country / when decided / then ICP at 0%
    customer = Party(company="Firma", country_code=country, vat_number=number)
    decision = decide_regime("NL", customer, ON)
    assert decision.regime == VatRegime.EU_B2B
    assert decision.vat_country == "NL"
    assert decision.vat_number_valid is True


def test_decide_regime_icp_number_without_prefix_read_as_customer_country():
    # given a BE number typed without "BE" and with dots / when decided / then still valid ICP
    customer = Party(company="Firma", country_code="BE", vat_number="0403.170.701")
    assert decide_regime("NL", customer, ON).regime == VatRegime.EU_B2B


def test_decide_regime_invalid_vat_number_falls_back_to_oss():
    # given a BE business with a broken number / when decided (not strict) / then OSS, reason says so
    customer = Party(company="Firma", country_code="BE", vat_number="BE0123456789")
    decision = decide_regime("NL", customer, ON)
    assert decision.regime == VatRegime.EU_B2C_OSS
    assert decision.vat_country == "BE"
    assert decision.vat_number_valid is False
    assert "invalid VAT number" in decision.reason


def test_decide_regime_vat_number_of_other_country_is_invalid():
    # given a BE customer with a (valid) DE number / when decided / then not ICP
    customer = Party(company="Firma", country_code="BE", vat_number=DE_VAT)
    decision = decide_regime("NL", customer, ON)
    assert decision.regime == VatRegime.EU_B2C_OSS
    assert decision.vat_number_valid is False
    assert "expected prefix BE" in decision.reason


def test_decide_regime_strict_icp_raises_for_invalid_number():
    # given strict ICP checks / when the number is invalid / then RuleError with code and field
    customer = Party(company="Firma", country_code="DE", vat_number="DE123456789")
    with pytest.raises(RuleError) as info:
        decide_regime("NL", customer, ON, strict_icp=True)
    assert info.value.code == "icp_vat_number_invalid"
    assert info.value.field == "customer.vat_number"
    assert info.value.suggestion


def test_decide_regime_strict_icp_raises_for_missing_number():
    # given strict ICP checks / when an EU company has no number / then icp_vat_number_missing
    with pytest.raises(RuleError) as info:
        decide_regime("NL", Party(company="Firma", country_code="DE"), ON, strict_icp=True)
    assert info.value.code == "icp_vat_number_missing"


def test_decide_regime_business_without_number_treated_as_consumer():
    decision = decide_regime("NL", Party(company="Firma", country_code="DE"), ON)
    assert decision.regime == VatRegime.EU_B2C_OSS
    assert "treated as a consumer" in decision.reason


def test_decide_regime_eu_consumer_oss_or_domestic():
    # given an EU consumer / when the seller uses OSS / then OSS at the customer's country rates
    customer = Party(name="Hans", country_code="DE")
    assert decide_regime("NL", customer, ON).vat_country == "DE"
    # when not OSS-registered / then domestic NL VAT
    decision = decide_regime("NL", customer, ON, oss_registered=False)
    assert (decision.regime, decision.vat_country) == (VatRegime.DOMESTIC, "NL")
    # when before OSS existed / then domestic too
    decision = decide_regime("NL", customer, dt.date(2021, 6, 30))
    assert decision.regime == VatRegime.DOMESTIC
    assert "before OSS" in decision.reason


def test_decide_regime_export_outside_eu_and_gb_after_brexit():
    # given customers outside the EU / when decided / then export at 0%
    assert decide_regime("NL", Party(country_code="US"), ON).regime == VatRegime.EXPORT
    assert decide_regime("NL", Party(country_code="GB"), ON).regime == VatRegime.EXPORT
    # given GB in 2020 / then still an EU distance sale (domestic: before OSS)
    assert decide_regime("NL", Party(country_code="GB"), dt.date(2020, 6, 1)).regime == VatRegime.DOMESTIC


def test_decide_regime_destination_overrides_customer_address():
    # given billing in NL, delivery in BE / when decided on destination / then OSS BE
    decision = decide_regime("NL", Party(country_code="NL"), ON, destination="BE")
    assert (decision.regime, decision.vat_country) == (VatRegime.EU_B2C_OSS, "BE")


def test_decide_regime_seller_outside_eu_raises():
    with pytest.raises(RuleError) as info:
        decide_regime("US", Party(), ON)
    assert info.value.code == "seller_country_not_eu"


def test_check_vat_number_examples():
    assert check_vat_number(NL_VAT, "NL") == (True, "")
    assert check_vat_number("EL094259216", "GR")[0]
    assert not check_vat_number("GR094259216", "GR")[0]
    assert not check_vat_number("", "NL")[0]
    assert not check_vat_number(NL_VAT, "US")[0]
