"""A mapping as data: JSON round trip, the chain as text, validation with located reasons, apply."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from koppeling.core.messages import english
from koppeling.mapping import (
    TARGETS,
    MappingCode,
    MappingSpec,
    Schema,
    apply,
    default_mapping,
    format_chain,
    parse_chain,
    validate,
)
from koppeling.mapping.defaults import DEFAULTS, rule

SCHEMA = Schema(
    "products",
    {
        "ART_CODE": "text",
        "ART_DESC1": "text",
        "ART_DESC2": "text",
        "EAN_CODE": "text",
        "PX_SELL": "decimal",
        "ART_UNIT": "text",
        "REC_BLK": "bool",
    },
    TARGETS["products"],
)
ROW = {
    "ART_CODE": "SKU-1",
    "ART_DESC1": " T-shirt ",
    "EAN_CODE": "8712345678906",
    "PX_SELL": Decimal("12.10"),
}


def spec_with(*rules, version=1):
    return {"format": 1, "version": version, "kind": "products", "rules": list(rules)}


def codes(problems):
    return [(p.code, p.params.get("location")) for p in problems]


def test_default_round_trips_through_json():
    spec = default_mapping("products", "accountview")
    again, problems = MappingSpec.from_json(json.dumps(spec.as_json()))
    assert problems == [] and again == spec and again.version == 0


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_every_default_is_valid_for_its_kind(key):
    kind, _system = key
    spec = default_mapping(*key)
    sources = {s: "any" for r in spec.rules for s in r.sources}
    for r in spec.rules:
        for step in r.transforms:
            for name in ("field", "then_field"):
                if name in step.params:
                    sources[step.params[name]] = "any"
    assert validate(spec, Schema(kind, sources, TARGETS[kind])) == (spec, [])


def test_apply_maps_the_record():
    mapped, problems = apply(default_mapping("products", "accountview"), ROW, SCHEMA)
    assert problems == []
    assert mapped["sku"] == "SKU-1" and mapped["name"] == "T-shirt"
    assert mapped["price_ex"] == Decimal("12.10") and mapped["currency"] == "EUR"
    assert mapped["description_long"] is None


def test_concat_of_two_sources():
    spec = default_mapping("products", "accountview").with_rule(
        MappingSpec.from_json(
            spec_with(rule("name", "ART_DESC1", "EAN_CODE", steps=(("concat", {"separator": " "}),)))
        )[0].rules[0]
    )
    mapped, _ = apply(spec, ROW, SCHEMA)
    assert mapped["name"] == "T-shirt 8712345678906"


def test_rows_map_into_lines():
    """The default order mapping keeps the order's street line whole (``Party.street`` holds the
    house number), takes the customer's fields by the customers flow's own rules, and maps every
    row into one line each."""
    spec = default_mapping("orders_to_invoices", "eaccounting")
    record = {
        "InvoiceAddress1": "Kerkstraat 12-A",
        "InvoiceCountryCode": "nl",
        "customer": {"Name": "Anna", "EmailAddress": " A@X.NL ", "InvoiceCity": "Utrecht"},
        "Rows": [
            {"ArticleNumber": "sku-1", "Quantity": 2, "UnitPrice": "9,95"},
            {"ArticleNumber": "SKU-2", "UnitPrice": 5, "Text": "Mok"},
        ],
    }
    mapped, problems = apply(spec, record, Schema("orders_to_invoices", {}, TARGETS["orders_to_invoices"]))
    assert problems == []
    assert (mapped["billing.street"], mapped["billing.city"], mapped["billing.country"]) == (
        "Kerkstraat 12-A",
        "Utrecht",
        "NL",
    )
    assert mapped["customer.name"] == "Anna" and mapped["customer.email"] == "A@X.NL"
    assert mapped["lines"] == [
        {"sku": "sku-1", "description": None, "quantity": Decimal(2), "price": Decimal("9.95")},
        {"sku": "SKU-2", "description": "Mok", "quantity": Decimal(1), "price": Decimal(5)},
    ]


def test_a_company_customer_of_an_order_maps_like_the_customers_flow():
    spec = default_mapping("orders_to_invoices", "eaccounting")
    record = {
        "customer": {"Name": "Bakkerij BV", "IsPrivatePerson": False, "ContactPersonName": "Piet"},
        "Rows": [],
    }
    mapped, problems = apply(spec, record, Schema("orders_to_invoices", {}, TARGETS["orders_to_invoices"]))
    assert problems == []
    assert (mapped["customer.name"], mapped["customer.company"]) == ("Piet", "Bakkerij BV")


def test_validation_refuses_with_every_reason_located():
    data = spec_with(
        rule("sku", "ART_CODE"),
        rule("titel", "ART_DESC1"),  # unknown target
        rule("ean", "EAN_NUMMER"),  # unknown source
        rule("description_short", "ART_DESC2", steps=("shout",)),  # unknown transform
        rule("price_inc", "PX_SELL", steps=(("vat_inclusive", {}),)),  # rate missing
        rule("price_ex", "PX_SELL", steps=(("round", {"places": "twee", "digits": 2}),)),
        rule("unit", "PX_SELL", steps=("number",)),  # decimal into text
    )
    spec, problems = validate(data, SCHEMA)
    assert spec is None
    assert codes(problems) == [
        (MappingCode.UNKNOWN_TARGET, "rules[1].target"),
        (MappingCode.UNKNOWN_SOURCE, "rules[2].sources[0]"),
        (MappingCode.UNKNOWN_TRANSFORM, "rules[3].transforms[0]"),
        (MappingCode.PARAM_MISSING, "rules[4].transforms[0].params.rate"),
        (MappingCode.PARAM_UNKNOWN, "rules[5].transforms[0].params.digits"),
        (MappingCode.PARAM_INVALID, "rules[5].transforms[0].params.places"),
        (MappingCode.TARGET_TYPE_MISMATCH, "rules[6]"),
        (MappingCode.REQUIRED_UNMAPPED, "rules"),
    ]
    assert problems[-1].params["field"] == "name"
    assert english(problems[1]) == "rules[2].sources[0]: the source field EAN_NUMMER is unknown."


def test_type_mismatch_inside_the_chain():
    data = spec_with(
        rule("sku", "ART_CODE"),
        rule("name", "PX_SELL", steps=("number", ("split_street", {}), "upper")),
        rule("price_ex", "ART_DESC1", steps=("upper",)),
    )
    _, problems = validate(data, SCHEMA)
    assert codes(problems) == [(MappingCode.TARGET_TYPE_MISMATCH, "rules[2]")]
    data = spec_with(
        rule("sku", "ART_CODE"),
        rule("name", "ART_DESC1"),
        rule("price_ex", "ART_DESC1", steps=("upper", "round")),
    )
    _, problems = validate(data, SCHEMA)
    assert codes(problems) == [(MappingCode.TYPE_MISMATCH, "rules[2].transforms[1]")]
    assert problems[0].params == {
        "location": "rules[2].transforms[1]",
        "transform": "round",
        "expected": "decimal",
        "got": "text",
    }


def test_transform_error_on_the_preview_record_refuses():
    data = spec_with(
        rule("sku", "ART_CODE"), rule("name", "ART_DESC1"), rule("price_ex", "ART_DESC1", steps=("number",))
    )
    assert validate(data, SCHEMA)[1] == []  # fine without a record
    spec, problems = validate(data, SCHEMA, preview=ROW)
    assert spec is None and codes(problems) == [(MappingCode.NOT_A_NUMBER, "rules[2].transforms[0]")]
    assert problems[0].params["value"] == " T-shirt "


def test_a_field_only_the_preview_record_has_is_accepted():
    data = spec_with(rule("sku", "ART_CODE"), rule("name", "ART_DESC1"), rule("unit", "ART_GRP_X"))
    assert codes(validate(data, SCHEMA)[1]) == [(MappingCode.UNKNOWN_SOURCE, "rules[2].sources[0]")]
    assert validate(data, SCHEMA, preview={**ROW, "ART_GRP_X": "KLEDING"})[1] == []


def test_duplicate_target_and_malformed_documents():
    _, problems = validate(
        spec_with(rule("sku", "ART_CODE"), rule("name", "ART_DESC1"), rule("sku", "EAN_CODE")), SCHEMA
    )
    assert codes(problems) == [(MappingCode.DUPLICATE_TARGET, "rules[2].target")]
    assert codes(validate("{not json", SCHEMA)[1]) == [(MappingCode.MALFORMED, "mapping")]
    assert codes(validate({"rules": "x"}, SCHEMA)[1]) == [(MappingCode.MALFORMED, "mapping.rules")]
    assert codes(validate({"format": 9, "rules": []}, SCHEMA)[1]) == [
        (MappingCode.VERSION_NEWER, "mapping.format")
    ]
    bad = {"rules": [{"target": "sku", "sources": [1]}, {"sources": []}]}
    assert codes(validate(bad, SCHEMA)[1]) == [
        (MappingCode.MALFORMED, "rules[0].sources"),
        (MappingCode.MALFORMED, "rules[1]"),
    ]


def test_chain_text_round_trip():
    text = 'trim | concat {"separator": " | "} | lookup {"table": {"a": "b", "*": "c"}}'
    steps, problems = parse_chain(text)
    assert problems == []
    assert [s.name for s in steps] == ["trim", "concat", "lookup"]
    assert steps[1].params == {"separator": " | "}
    assert parse_chain(format_chain(steps)) == (steps, [])
    assert parse_chain("") == ((), [])


@pytest.mark.parametrize("text", ['trim | concat {"separator": }', "trim upper", "| {}"])
def test_chain_text_errors_say_where(text):
    steps, problems = parse_chain(text, "rules[1].transforms")
    assert steps == () and problems[0].code == MappingCode.CHAIN_SYNTAX
    assert problems[0].params["location"] == "rules[1].transforms"
