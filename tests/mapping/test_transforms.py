"""Each named transform on the values people really have (Dutch addresses, comma decimals …)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from koppeling.mapping.addresses import split_street
from koppeling.mapping.codes import MappingCode, MappingError
from koppeling.mapping.countries import alpha2, alpha3
from koppeling.mapping.transforms import TRANSFORMS, get_path, to_number


def run(name: str, subject, record=None, /, **params):
    transform = TRANSFORMS[name]
    full = {k: p.default for k, p in transform.params.items() if p.default is not None}
    full.update(params)
    return transform.func(subject, full, record or {})


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Hoofdstraat 12", ("Hoofdstraat", "12", "")),
        ("Hoofdstraat 12-A", ("Hoofdstraat", "12", "A")),
        ("Hoofdstraat 12 bis", ("Hoofdstraat", "12", "bis")),
        ("Hoofdstraat 12a", ("Hoofdstraat", "12", "a")),
        ("Hoofdstraat12a", ("Hoofdstraat", "12", "a")),
        ("1e Helmersstraat 5", ("1e Helmersstraat", "5", "")),
        ("Plein 1940 12 A", ("Plein 1940", "12", "A")),
        ("Laan van Meerdervoort 1250 hs", ("Laan van Meerdervoort", "1250", "hs")),
        ("Kerkstraat 3 II", ("Kerkstraat", "3", "II")),
        ("Straat 12/3", ("Straat", "12", "3")),
        ("  Weg   4 - b ", ("Weg", "4", "b")),
        ("Damrak", ("Damrak", "", "")),
        ("", ("", "", "")),
    ],
)
def test_split_street_dutch_additions(line, expected):
    assert split_street(line) == expected


def test_split_street_parts_and_house_number():
    assert run("split_street", "Hoofdstraat 12-A", part="number") == "12"
    assert run("split_street", "Hoofdstraat 12-A", part="addition") == "A"
    assert run("split_street", "Hoofdstraat 12 bis", part="house_number") == "12-bis"
    assert run("split_street", "Damrak", part="house_number") == ""


def test_text_transforms():
    assert run("trim", "  Jan   de Vries ") == "Jan de Vries"
    assert run("upper", "1234ab") == "1234AB"
    assert run("lower", "Info@Shop.NL") == "info@shop.nl"
    assert run("title", "jan van der berg") == "Jan van der Berg"
    assert run("replace", "NL 0012 B01", old=" ", new="") == "NL0012B01"
    assert run("trim", None) is None


def test_concat_joins_sources_and_skips_empty_ones():
    assert run("concat", ["T-shirt", "8712345678906"], separator=" ") == "T-shirt 8712345678906"
    assert run("concat", ["T-shirt", None, ""], separator=" / ") == "T-shirt"
    assert run("concat", ["a", ""], separator="-", skip_empty=False) == "a-"


def test_coalesce_takes_the_first_non_empty():
    assert run("coalesce", ["", None, "b@x.nl", "c"]) == "b@x.nl"
    assert run("coalesce", [None, ""]) is None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("Nederland", "NL"),
        ("NLD", "NL"),
        ("nl", "NL"),
        ("Belgie", "BE"),
        ("DEU", "DE"),
        ("United Kingdom", "GB"),
    ],
)
def test_country_names_and_alpha3_to_alpha2(value, code):
    assert alpha2(value) == code
    assert run("country_code", value) == code


def test_country_to_alpha3_and_unknown_refused():
    assert alpha3("Duitsland") == "DEU"
    assert run("country_code", "Nederland", to="alpha3") == "NLD"
    with pytest.raises(MappingError) as exc:
        run("country_code", "Atlantis")
    assert exc.value.code == MappingCode.UNKNOWN_COUNTRY and exc.value.params["value"] == "Atlantis"
    assert run("country_code", "") == ""
    assert run("country_code", "xk") == "XK"  # an alpha-2 code the table lacks passes


def test_date_formats():
    assert run("date_format", "2026-01-05T08:30:00Z", output="%d-%m-%Y") == "05-01-2026"
    assert run("date_format", "05-01-2026", input="%d-%m-%Y") == "2026-01-05"
    with pytest.raises(MappingError) as exc:
        run("date_format", "5 januari", input="%d-%m-%Y")
    assert exc.value.code == MappingCode.NOT_A_DATE


def test_lookup_with_wildcard_default():
    table = {"Betaald via webwinkel": "IDEAL", "*": "BANK"}
    assert run("lookup", "Betaald via webwinkel", table=table) == "IDEAL"
    assert run("lookup", "Op rekening", table=table) == "BANK"
    assert run("lookup", "x", table={"a": "b"}) == "x"  # no row and no "*": unchanged
    assert run("lookup", "x", table={"a": "b"}, default="") == ""


def test_default_only_fills_empty_values():
    assert run("default", "", value="NL") == "NL"
    assert run("default", None, value="NL") == "NL"
    assert run("default", "BE", value="NL") == "BE"


def test_numbers_rounding_and_vat():
    assert to_number("12,50") == Decimal("12.50")
    assert to_number("1.234,56") == Decimal("1234.56")
    assert to_number(7) == Decimal(7)
    assert run("round", Decimal("2.345")) == Decimal("2.35")  # half up, not banker's
    assert run("round", Decimal("2.5"), places=0) == Decimal(3)
    assert run("vat_exclusive", Decimal("12.10"), rate="21") == Decimal("10.00")
    assert run("vat_inclusive", Decimal("10.00"), rate="9") == Decimal("10.90")
    assert run("vat_inclusive", "19,95", rate="21", places=4) == Decimal("24.1395")
    with pytest.raises(MappingError) as exc:
        run("number", "twaalf")
    assert exc.value.code == MappingCode.NOT_A_NUMBER


def test_vat_round_trip_is_exact_at_two_decimals():
    for cents in range(1, 2000, 7):
        ex = Decimal(cents) / 100
        inc = run("vat_inclusive", ex, rate="21")
        assert abs(run("vat_exclusive", inc, rate="21") - ex) <= Decimal("0.01")


def test_when_conditionals():
    record = {"IsPrivatePerson": False, "ContactPersonName": "Anna", "Name": "Bakkerij BV"}
    assert (
        run(
            "when",
            "Bakkerij BV",
            record,
            field="IsPrivatePerson",
            value=False,
            then_field="ContactPersonName",
        )
        == "Anna"
    )
    assert run("when", "x", {"IsPrivatePerson": True}, field="IsPrivatePerson", value=False, then="y") == "x"
    assert run("when", "", op="empty", then="onbekend") == "onbekend"
    assert run("when", "NL", op="not_equals", value="NL", then="EU", **{"else": "thuis"}) == "thuis"
    assert run("when", 21, op="equals", value="21", then="hoog") == "hoog"  # compared as text


def test_get_path_dotted_and_indexed():
    record = {"TermsOfPayment": {"Name": "14 dagen"}, "Barcodes": [{"Barcode": "871"}]}
    assert get_path(record, "TermsOfPayment.Name") == "14 dagen"
    assert get_path(record, "Barcodes.0.Barcode") == "871"
    assert get_path(record, "Barcodes.3.Barcode") is None
    assert get_path(record, "Missing.Name") is None


def test_every_transform_has_help_and_known_types():
    for transform in TRANSFORMS.values():
        assert transform.help
        assert transform.gives in ("text", "decimal", "date", "bool", "list", "any", "same")
