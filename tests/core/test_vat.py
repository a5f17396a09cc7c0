"""vat.py: EU rates as dated data."""

import datetime as dt
import json
from decimal import Decimal
from importlib import resources

import pytest

from koppeling.core import vat

EU27 = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
}  # fmt: skip
TODAY = dt.date(2026, 1, 15)
D = Decimal


def test_rates_data_every_eu_member_has_a_standard_and_reduced_rate_today():
    # given the 27 member states / when asked for today's standard and 'reduced' rates / then both exist
    for country in sorted(EU27):
        assert vat.is_eu(country, TODAY), country
        standard = vat.standard_rate(country, TODAY)
        assert D(15) <= standard <= D(27), country
        assert vat.rate_for(country, "reduced", TODAY) <= standard, country


def test_rates_data_no_category_is_ambiguous_on_any_first_of_month():
    # given every country and every month since the horizon / when asking each category / then at most
    # one rate answers (rate_for raises on ambiguity, so this walks the whole file)
    for country in sorted(EU27 | {"GB"}):
        day = dt.date(2019, 1, 1)
        while day <= dt.date(2027, 1, 1):
            for category in vat.CATEGORIES:
                try:
                    vat.rate_for(country, category, day)
                except vat.VatDataError as exc:
                    assert "ambiguous" not in str(exc), (country, category, day)
            assert vat.standard_rate(country, day)
            day = (day + dt.timedelta(days=32)).replace(day=1)


def test_rates_data_stores_rates_as_strings():
    # given the data file / when read raw / then no rate is a JSON number (no float anywhere near VAT)
    raw = json.loads(resources.files("koppeling.core").joinpath("vat_rates.json").read_text())
    for code, country in raw["countries"].items():
        for entry in country["rates"]:
            assert isinstance(entry["rate"], str), code


def test_rate_for_nl_accommodation_moves_to_21_in_2026():
    # given NL accommodation / when asked around 2026-01-01 / then 9% before and 21% from that day
    assert vat.rate_for("NL", "accommodation", dt.date(2025, 12, 31)) == D(9)
    assert vat.rate_for("NL", "accommodation", dt.date(2026, 1, 1)) == D(21)
    assert vat.rate_for("NL", "food", dt.date(2026, 1, 1)) == D(9)
    assert vat.rate_for("NL", "books", dt.date(2026, 1, 1)) == D(9)


def test_rate_for_nl_low_rate_6_to_9_in_2019():
    # given the NL low rate / when asked across 2019-01-01 / then 6% then 9%
    assert vat.rate_for("NL", "reduced", dt.date(2018, 12, 31)) == D(6)
    assert vat.rate_for("NL", "reduced", dt.date(2019, 1, 1)) == D(9)
    assert vat.standard_rate("NL", dt.date(2012, 9, 30)) == D(19)
    assert vat.standard_rate("NL", dt.date(2012, 10, 1)) == D(21)


def test_rates_on_de_temporary_2020_rates():
    # given Germany's COVID-19 cut / when asked before, during and after / then 19/7, 16/5, 19/7
    assert vat.known_rates("DE", dt.date(2020, 6, 30)) == {D(19), D(7), D(0)}
    assert vat.known_rates("DE", dt.date(2020, 7, 1)) == {D(16), D(5), D(0)}
    assert vat.known_rates("DE", dt.date(2020, 12, 31)) == {D(16), D(5), D(0)}
    assert vat.known_rates("DE", dt.date(2021, 1, 1)) == {D(19), D(7), D(0)}
    temporary = [r for r in vat.rates_on("DE", dt.date(2020, 9, 1)) if r.category == "standard"]
    assert temporary[0].valid_to == dt.date(2020, 12, 31)
    assert "temporary" in temporary[0].note


@pytest.mark.parametrize(
    ("country", "before", "after", "change_day"),
    [
        ("EE", D(20), D(22), dt.date(2024, 1, 1)),
        ("EE", D(22), D(24), dt.date(2025, 7, 1)),
        ("FI", D(24), D("25.5"), dt.date(2024, 9, 1)),
        ("SK", D(20), D(23), dt.date(2025, 1, 1)),
        ("RO", D(19), D(21), dt.date(2025, 8, 1)),
        ("LU", D(17), D(16), dt.date(2023, 1, 1)),
        ("LU", D(16), D(17), dt.date(2024, 1, 1)),
        ("IE", D(23), D(21), dt.date(2020, 9, 1)),
        ("IE", D(21), D(23), dt.date(2021, 3, 1)),
    ],
)
def test_standard_rate_changes_on_the_day(country, before, after, change_day):
    # given a known standard-rate change / when asked the day before and the day itself / then it flips
    assert vat.standard_rate(country, change_day - dt.timedelta(days=1)) == before
    assert vat.standard_rate(country, change_day) == after


def test_known_rates_cz_2024_restructure_and_ro_2025_reduced():
    # given CZ and RO reforms / when asked before and after / then the merged reduced rates
    assert {D(15), D(10)} <= vat.known_rates("CZ", dt.date(2023, 12, 31))
    assert vat.known_rates("CZ", dt.date(2024, 1, 1)) == {D(21), D(12), D(0)}
    assert vat.known_rates("RO", dt.date(2025, 7, 31)) == {D(19), D(9), D(5), D(0)}
    assert vat.known_rates("RO", dt.date(2025, 8, 1)) == {D(21), D(11), D(0)}


def test_is_eu_gb_left_on_2021_01_01():
    # given the UK / when asked around the end of the Brexit transition / then EU until 2020-12-31 only
    assert vat.is_eu("GB", dt.date(2020, 12, 31))
    assert not vat.is_eu("GB", dt.date(2021, 1, 1))
    assert not vat.is_eu("UK", dt.date(2024, 1, 1))


def test_is_eu_accepts_el_and_rejects_unknown_countries():
    # given Greece's VAT prefix and non-EU countries / when asked / then EL is GR, others are not EU
    assert vat.is_eu("el", TODAY)
    assert vat.is_eu("HR", TODAY)
    assert not vat.is_eu("US", TODAY)
    assert not vat.is_eu("CH", TODAY)
    assert not vat.is_eu("HR", dt.date(2013, 6, 30))


def test_known_rates_always_contains_zero():
    # given a country without a zero rate in its data / when asked / then 0 is still known (ICP, export)
    assert D(0) in vat.known_rates("AT", TODAY)


def test_rates_on_returns_frozen_dated_records():
    # given NL today / when listing / then VatRate records with Decimal rates and dates
    rates = vat.rates_on("NL", TODAY)
    assert all(isinstance(r.rate, Decimal) and r.country == "NL" for r in rates)
    assert {r.kind for r in rates} >= {"standard", "reduced", "zero"}
    with pytest.raises(AttributeError):
        rates[0].rate = D(1)  # type: ignore[misc]


def test_rates_on_before_data_horizon_raises():
    # given a date before the recorded data / when asked / then an error instead of a guess
    with pytest.raises(vat.VatDataError, match="recorded from 2019-01-01"):
        vat.rates_on("BE", dt.date(2018, 12, 31))


def test_rate_for_unknown_country_or_category_raises():
    # given nonsense / when asked / then VatDataError with the reason
    with pytest.raises(vat.VatDataError, match="no VAT rates known"):
        vat.standard_rate("XX", TODAY)
    with pytest.raises(vat.VatDataError, match="unknown VAT category"):
        vat.rate_for("NL", "wine", TODAY)
    with pytest.raises(vat.VatDataError, match="no 'culture' rate"):
        vat.rate_for("HU", "culture", TODAY)


def test_oss_start_is_2021_07_01():
    assert dt.date(2021, 7, 1) == vat.OSS_START
