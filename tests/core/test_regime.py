"""regime.py: which VAT regime a sale falls under."""

import datetime as dt

import pytest

from koppeling.core.errors import RuleCode, RuleError
from koppeling.core.facts import VatCheckStatus, VatNumberCheck
from koppeling.core.messages import Outcome, english
from koppeling.core.models import Party, VatRegime
from koppeling.core.regime import CONSUMER_FALLBACKS, RegimeCode, check_vat_number, decide_regime

ON = dt.date(2025, 3, 1)
CHECKED = dt.datetime(2025, 3, 1, 9, 0)


def vies(number, status=VatCheckStatus.VALID):
    return VatNumberCheck(number, status, CHECKED, "WAPIAAAAZ7UJ5F2N")


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
    assert decision.reason.code == RegimeCode.DOMESTIC
    assert decision.reason.params == {"country": "NL"}


def test_decide_regime_domestic_business_with_reverse_charge_hint():
    # given a domestic business and the shop's reverse-charge mark / when decided / then reverse charge
    customer = Party(company="Bouw BV", country_code="NL", vat_number=NL_VAT)
    decision = decide_regime("NL", customer, ON, vat_hint="reverse_charged_vat")
    assert decision.regime == VatRegime.REVERSE_CHARGE
    assert decision.reason.code == RegimeCode.DOMESTIC_REVERSE_CHARGE


def test_decide_regime_reverse_charge_hint_ignored_for_consumer():
    # given the hint on a consumer sale / when decided / then domestic, and the reason says why
    decision = decide_regime("NL", Party(name="Jan"), ON, vat_hint="reverse_charged_vat")
    assert decision.regime == VatRegime.DOMESTIC
    assert decision.reason.code == RegimeCode.REVERSE_CHARGE_IGNORED


@pytest.mark.parametrize(("country", "number"), [("BE", BE_VAT), ("DE", DE_VAT), ("GR", EL_VAT)])
def test_decide_regime_icp_with_valid_vat_number(country, number):
    # given an EU business with a valid number of its own country / when decided / then ICP at 0%
    # (changed: the ICP needs VIES's confirmation, Art. 138(1)(b) VAT Directive since 2020)
    customer = Party(company="Firma", country_code=country, vat_number=number)
    decision = decide_regime("NL", customer, ON, vat_check=vies(number))
    assert decision.regime == VatRegime.EU_B2B
    assert decision.vat_country == "NL"
    assert decision.vat_number_valid is True
    assert decision.reason.code == RegimeCode.ICP
    assert decision.reason.params == {
        "country": country,
        "vat_number": number,
        "checked_at": CHECKED,
        "consultation": "WAPIAAAAZ7UJ5F2N",
    }


def test_decide_regime_icp_number_without_prefix_read_as_customer_country():
    # given a BE number typed without "BE" and with dots / when decided / then still valid ICP
    customer = Party(company="Firma", country_code="BE", vat_number="0403.170.701")
    assert decide_regime("NL", customer, ON, vat_check=vies("BE0403170701")).regime == VatRegime.EU_B2B


def test_decide_regime_invalid_vat_number_falls_back_to_oss():
    # given a BE business with a broken number / when decided (not strict) / then OSS, reason says so
    customer = Party(company="Firma", country_code="BE", vat_number="BE0123456789")
    decision = decide_regime("NL", customer, ON)
    assert decision.regime == VatRegime.EU_B2C_OSS
    assert decision.vat_country == "BE"
    assert decision.vat_number_valid is False
    assert decision.reason.code == RegimeCode.INVALID_VAT_NUMBER
    assert decision.reason.code in CONSUMER_FALLBACKS
    assert decision.reason.params == {
        "vat_number": "BE0123456789",
        "country": "BE",
        "prefix": "BE",
        "problem": RegimeCode.VAT_NUMBER_CHECK_FAILED,
        "seller": "NL",
        "vat_country": "BE",
        "consumer_reason": RegimeCode.OSS_CONSUMER,
    }


def test_decide_regime_vat_number_of_other_country_is_invalid():
    # given a BE customer with a (valid) DE number / when decided / then not ICP
    customer = Party(company="Firma", country_code="BE", vat_number=DE_VAT)
    decision = decide_regime("NL", customer, ON)
    assert decision.regime == VatRegime.EU_B2C_OSS
    assert decision.vat_number_valid is False
    assert decision.reason.code == RegimeCode.INVALID_VAT_NUMBER
    assert decision.reason.params["problem"] == RegimeCode.VAT_NUMBER_WRONG_PREFIX
    assert (decision.reason.params["vat_number"], decision.reason.params["prefix"]) == (DE_VAT, "BE")


def test_decide_regime_strict_icp_raises_for_invalid_number():
    # given strict ICP checks / when the number is invalid / then RuleError with code and field
    customer = Party(company="Firma", country_code="DE", vat_number="DE123456789")
    with pytest.raises(RuleError) as info:
        decide_regime("NL", customer, ON, strict_icp=True)
    assert info.value.code == RuleCode.ICP_VAT_NUMBER_INVALID
    assert info.value.field == "customer.vat_number"
    assert info.value.params == {
        "vat_number": "DE123456789",
        "country": "DE",
        "prefix": "DE",
        "problem": RegimeCode.VAT_NUMBER_CHECK_FAILED,
    }
    assert info.value.suggestion


def test_decide_regime_strict_icp_raises_for_missing_number():
    # given strict ICP checks / when an EU company has no number / then icp_vat_number_missing
    with pytest.raises(RuleError) as info:
        decide_regime("NL", Party(company="Firma", country_code="DE"), ON, strict_icp=True)
    assert info.value.code == RuleCode.ICP_VAT_NUMBER_MISSING
    assert (info.value.params, info.value.field) == ({"country": "DE"}, "customer.vat_number")


def test_decide_regime_business_without_number_treated_as_consumer():
    decision = decide_regime("NL", Party(company="Firma", country_code="DE"), ON)
    assert decision.regime == VatRegime.EU_B2C_OSS
    assert decision.reason.code == RegimeCode.BUSINESS_WITHOUT_VAT_NUMBER
    assert decision.reason.params == {
        "country": "DE",
        "seller": "NL",
        "vat_country": "DE",
        "consumer_reason": RegimeCode.OSS_CONSUMER,
    }
    # and when the seller is not on OSS / then the same fallback, at the seller's VAT
    decision = decide_regime("NL", Party(company="Firma", country_code="DE"), ON, oss_registered=False)
    assert (decision.regime, decision.vat_country) == (VatRegime.DOMESTIC, "NL")
    assert decision.reason.code == RegimeCode.BUSINESS_WITHOUT_VAT_NUMBER
    assert decision.reason.params["consumer_reason"] == RegimeCode.DOMESTIC_NOT_OSS


def test_decide_regime_eu_consumer_oss_or_domestic():
    # given an EU consumer / when the seller uses OSS / then OSS at the customer's country rates
    customer = Party(name="Hans", country_code="DE")
    decision = decide_regime("NL", customer, ON)
    assert (decision.vat_country, decision.reason.code) == ("DE", RegimeCode.OSS_CONSUMER)
    assert english(decision.reason) == "EU consumer in DE: OSS distance sale at DE rates"
    # when not OSS-registered / then domestic NL VAT
    decision = decide_regime("NL", customer, ON, oss_registered=False)
    assert (decision.regime, decision.vat_country) == (VatRegime.DOMESTIC, "NL")
    assert decision.reason == Outcome(RegimeCode.DOMESTIC_NOT_OSS, {"country": "DE", "seller": "NL"})
    # when before OSS existed / then domestic too
    decision = decide_regime("NL", customer, dt.date(2021, 6, 30))
    assert decision.regime == VatRegime.DOMESTIC
    assert decision.reason == Outcome(RegimeCode.DOMESTIC_BEFORE_OSS, {"country": "DE", "seller": "NL"})


def test_decide_regime_export_outside_eu_and_gb_after_brexit():
    # given customers outside the EU / when decided / then export at 0%
    decision = decide_regime("NL", Party(country_code="US"), ON)
    assert decision.regime == VatRegime.EXPORT
    assert decision.reason == Outcome(RegimeCode.EXPORT, {"country": "US", "seller": "NL"})
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
    assert info.value.code == RuleCode.SELLER_COUNTRY_NOT_EU
    assert info.value.params == {"country": "US", "date": ON}
    assert info.value.field == "settings.seller_country"


def test_check_vat_number_examples():
    assert check_vat_number(NL_VAT, "NL") == (True, None)
    assert check_vat_number("EL094259216", "GR") == (True, None)
    # given Greece's ISO code as prefix / then the wrong prefix is named, with the expected one
    assert check_vat_number("GR094259216", "GR") == (
        False,
        Outcome(
            RegimeCode.VAT_NUMBER_WRONG_PREFIX, {"vat_number": "GR094259216", "country": "GR", "prefix": "EL"}
        ),
    )
    assert check_vat_number("", "NL") == (False, Outcome(RegimeCode.VAT_NUMBER_MISSING, {"country": "NL"}))
    assert check_vat_number(NL_VAT, "US") == (
        False,
        Outcome(RegimeCode.VAT_NUMBER_COUNTRY_NOT_EU, {"country": "US"}),
    )
    valid, problem = check_vat_number("DE123456789", "de")
    assert not valid and problem is not None
    assert problem.code == RegimeCode.VAT_NUMBER_CHECK_FAILED
    assert english(problem) == "VAT number 'DE123456789' fails the DE format/check-digit test"
