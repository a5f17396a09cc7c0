"""The simulator's answers validated against the official OpenAPI response schemas.

The spec is OpenAPI 3.0; jsonschema wants plain JSON Schema. ``to_json_schema`` inlines every
``$ref``, merges ``allOf`` into one object schema, turns ``nullable`` into a ``null`` type, adds
``type: object`` where a schema has ``properties`` but no type (the spec leaves it out, e.g. on
TaxPrice, which would otherwise make ``oneOf[array, TaxPrice]`` ambiguous for arrays), and — in
strict mode — forbids properties the spec does not list, so the simulator cannot invent fields.
Spec issues we work around are listed in SPEC_ISSUES and in docs/connectors/mijnwebwinkel.md.
"""

from __future__ import annotations

import copy
import datetime as dt
import json

import httpx
import jsonschema
import pytest
import yaml

from koppeling.connectors.mijnwebwinkel import SPEC_PATH
from koppeling.connectors.mijnwebwinkel.simulator import MijnwebwinkelSimulator

from .conftest import spec_example_order

SPEC = yaml.safe_load(SPEC_PATH.read_text())
_DROP = {"example", "examples", "deprecated", "readOnly", "writeOnly", "description", "xml", "externalDocs"}

#: Where the spec contradicts its own example (and the example is what real answers look like).
SPEC_ISSUES = {
    # OrderArticle requires top-level ``rate`` and ``amount``, but its own properties (and the
    # Order example) put them inside ``price``.
    "OrderArticle.required": ("components", "schemas", "OrderArticle", "allOf", 1),
}


def _patched_spec() -> dict:
    spec = copy.deepcopy(SPEC)
    node = spec
    *parents, last = SPEC_ISSUES["OrderArticle.required"]
    for key in parents:
        node = node[key]
    node[last] = {}
    return spec


def to_json_schema(node, spec, *, strict: bool, stack: tuple[str, ...] = ()) -> dict:
    if isinstance(node, list):
        return [to_json_schema(n, spec, strict=strict, stack=stack) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in stack:
            return {}
        return to_json_schema(spec["components"]["schemas"][name], spec, strict=strict, stack=(*stack, name))
    out: dict = {}
    if "allOf" in node:
        merged_props: dict = {}
        required: list = []
        for part in node["allOf"]:
            sub = to_json_schema(part, spec, strict=False, stack=stack)
            merged_props.update(sub.get("properties", {}))
            required.extend(sub.get("required", []))
        out["properties"] = merged_props
        if required:
            out["required"] = sorted(set(required))
    for key, value in node.items():
        if key in _DROP or key.startswith("x-") or key in ("allOf", "nullable"):
            continue
        if key == "properties":
            props = out.setdefault("properties", {})
            props.update({k: to_json_schema(v, spec, strict=strict, stack=stack) for k, v in value.items()})
        elif key == "required":
            out["required"] = sorted(set(out.get("required", [])) | set(value))
        elif key in ("items", "not", "additionalProperties") or key in ("oneOf", "anyOf"):
            out[key] = to_json_schema(value, spec, strict=strict, stack=stack)
        else:
            out[key] = value
    if "properties" in out and "type" not in out:
        out["type"] = "object"
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if strict and out.get("type") == "object" and "properties" in out:
        out.setdefault("additionalProperties", False)
    if strict and out.get("type") == "object":  # recurse strictness into the merged allOf parts
        for name, prop in list(out.get("properties", {}).items()):
            out["properties"][name] = _strict(prop)
    return out


def _strict(schema):
    if isinstance(schema, dict):
        schema = {
            k: (_strict(v) if k in ("items", "properties", "oneOf", "anyOf") else v)
            for k, v in schema.items()
        }
        if "properties" in schema and isinstance(schema["properties"], dict):
            schema["properties"] = {k: _strict(v) for k, v in schema["properties"].items()}
            schema.setdefault("additionalProperties", False)
        return schema
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    return schema


PATCHED = _patched_spec()


def response_schema(path: str, method: str, status: str = "200", *, strict: bool = True) -> dict:
    raw = PATCHED["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    return to_json_schema(raw, PATCHED, strict=strict)


ERROR_SCHEMA = to_json_schema({"$ref": "#/components/schemas/Error"}, PATCHED, strict=True)


def assert_valid(instance, schema) -> None:
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:10])


@pytest.fixture(scope="module")
def spec_sim():
    sim = MijnwebwinkelSimulator(clock=lambda: dt.datetime(2025, 3, 1, 12, 0, 0))
    sim.seed(300, start=dt.date(2025, 1, 1), days=30, test_orders=2)
    return sim


@pytest.fixture
def http(spec_sim):
    with httpx.Client(transport=httpx.WSGITransport(app=spec_sim.wsgi), base_url="http://sim") as client:
        yield client


@pytest.fixture
def auth(spec_sim):
    return {**spec_sim.valid_credentials(), "language": "nl_NL", "format": "json"}


def test_every_implemented_path_is_in_the_spec():
    for path in (
        "/v{version}/orders",
        "/v{version}/orders/count",
        "/v{version}/orders/{order_number}",
        "/v{version}/orderstatuses",
        "/v{version}/store",
    ):
        assert path in SPEC["paths"]
    assert "patch" in SPEC["paths"]["/v{version}/orders/{order_number}"]
    assert SPEC["components"]["parameters"]["limit"]["schema"]["maximum"] == 100


def test_orders_list_conforms(http, auth):
    schema = response_schema("/v{version}/orders", "get")
    for offset in (0, 100, 200):
        body = http.get("/v1/orders", params={**auth, "limit": 100, "offset": offset}).json()
        assert len(body) == 100
        assert_valid(body, schema)
    # every line kind the simulator emits
    kinds = {line["type"] for order in body for line in order["orderlines"]}
    assert {"article", "shipping", "payment"} <= kinds


def test_orders_with_test_orders_and_reverse_charge_conform(http, auth, spec_sim):
    body = http.get("/v1/orders", params={**auth, "limit": 100, "offset": 250, "test": "true"}).json()
    assert [o["number"] for o in body if isinstance(o["number"], str)] == ["T-1301", "T-1302"]
    # test orders' "T-" numbers are strings: the spec types Order.number as integer (documented)
    assert_valid(
        [o for o in body if isinstance(o["number"], int)], response_schema("/v{version}/orders", "get")
    )
    strategies = {o["tax_strategy"] for n in spec_sim.order_numbers() for o in [spec_sim.order(n)]}
    assert "reverse_charged_vat" in strategies


def test_count_single_patch_statuses_store_conform(http, auth, spec_sim):
    count = http.get("/v1/orders/count", params=auth)
    assert count.status_code == 200 and count.json() == {"count": 300}
    assert_valid(count.json(), response_schema("/v{version}/orders/count", "get"))

    single = http.get("/v1/orders/1001", params=auth)
    assert_valid(single.json(), response_schema("/v{version}/orders/{order_number}", "get"))

    body = {"status": 2, "archived": True, "comments": {"internal": "Geboekt in Acumulus"}}
    patched = http.patch("/v1/orders/1001", params=auth, json=body)
    assert patched.status_code == 200
    assert_valid(patched.json(), response_schema("/v{version}/orders/{order_number}", "patch"))
    assert patched.json()["status"] == 2 and patched.json()["status_changed_date"] == "2025-03-01"
    assert patched.json()["comments"]["internal"] == "Geboekt in Acumulus"
    request_schema = to_json_schema(
        PATCHED["paths"]["/v{version}/orders/{order_number}"]["patch"]["requestBody"]["content"][
            "application/json"
        ]["schema"],
        PATCHED,
        strict=True,
    )
    assert_valid(body, request_schema)

    partner_only = {"partner_token": spec_sim.partner_token}
    statuses = http.get("/v1/orderstatuses", params=partner_only)
    assert statuses.status_code == 200
    assert_valid(statuses.json(), response_schema("/v{version}/orderstatuses", "get"))
    assert statuses.json()[0] == {"status": 1, "description": "In behandeling", "credit_order": False}
    english = http.get("/v1/orderstatuses", params={**partner_only, "language": "en_GB"}).json()
    assert english[0]["description"] == "Order Pending"  # the spec's OrderStatus example

    store = http.get("/v2-beta/store", params=auth)
    assert_valid(store.json(), response_schema("/v{version}/store", "get"))


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/v1/orders", {"partner_token": None}, 401),
        ("/v1/orders", {"token": None}, 401),
        ("/v1/orders", {"token": "nope"}, 401),
        ("/v1/orders", {"partner_token": "nope"}, 401),
        ("/v1/orderstatuses", {"partner_token": "nope"}, 401),
        ("/v1/orders", {"limit": 101}, 400),
        ("/v1/orders", {"limit": "ten"}, 400),
        ("/v1/orders", {"ordering": "sideways"}, 400),
        ("/v1/orders", {"status_changed_start_date": "gisteren"}, 400),
        ("/v1/orders", {"start_date": "2025-13-01"}, 400),
        ("/v1/orders", {"archived": "maybe"}, 400),
        ("/v1/orders", {"language": "xx_XX"}, 400),
        ("/v1/orders/424242", {}, 404),
        ("/v1/orders/abc", {}, 404),
        ("/v3/orders", {}, 404),
        ("/v1/nothing", {}, 404),
    ],
)
def test_error_answers_use_the_error_schema(http, auth, path, params, status):
    query = {**auth, **params}
    query = {k: v for k, v in query.items() if v is not None}
    response = http.get(path, params=query)
    assert response.status_code == status
    assert_valid(response.json(), ERROR_SCHEMA)
    assert set(response.json()) == {"code", "message", "description"}
    assert response.json()["code"] == status


def test_filters(http, auth, spec_sim):
    numbers = spec_sim.order_numbers()
    records = [spec_sim.order(n) for n in numbers]

    def numbers_for(**params):
        out, offset = [], 0
        while True:
            page = http.get("/v1/orders", params={**auth, **params, "limit": 100, "offset": offset}).json()
            out += [o["number"] for o in page]
            if len(page) < 100:
                return out
            offset += 100

    assert numbers_for(status_id=3) == [r["number"] for r in records if r["status"] == 3]
    assert numbers_for(ordering="desc") == list(reversed(numbers))
    assert numbers_for(start_date="2025-01-10", end_date="2025-01-12") == [
        r["number"] for r in records if "2025-01-10" <= r["date"] <= "2025-01-12"
    ]
    start, end = "2025-01-05 00:00:00", "2025-01-06 12:00:00"
    assert numbers_for(status_changed_start_date=start, status_changed_end_date=end) == [
        r["number"]
        for r in records
        if start <= f"{r['status_changed_date']} {r['status_changed_time']}" <= end
    ]
    email = records[7]["debtor"]["email"]
    some_id = next(
        r["debtor"]["id"] for r in records if "id" in r["debtor"] and r["debtor"]["email"] != email
    )
    assert numbers_for(debtor_email=email, debtor_id=some_id) == [
        r["number"] for r in records if r["debtor"]["email"] == email or r["debtor"].get("id") == some_id
    ]
    count = http.get("/v1/orders/count", params={**auth, "status_id": 3}).json()["count"]
    assert count == sum(r["status"] == 3 for r in records)
    assert numbers_for(archived="true") == [r["number"] for r in records if r["archived"]]
    assert http.get("/v1/orders", params=auth).json().__len__() == 10  # the default limit


def test_seeded_amounts_are_consistent(spec_sim):
    from decimal import Decimal

    from stdnum.eu import vat as eu_vat

    for number in spec_sim.order_numbers():
        record = spec_sim.order(number)
        parts = [
            p
            for line in record["orderlines"]
            for p in (line["price"] if isinstance(line["price"], list) else [line["price"]])
        ]
        total_inc = sum(Decimal(p["amount_including_tax"]) for p in parts)
        assert total_inc == Decimal(record["price"]["total"]), number
        vat_lines = sum(Decimal(p["amount_including_tax"]) - Decimal(p["amount"]) for p in parts)
        vat_stated = sum(Decimal(t["amount"]) for t in record["price"]["tax"])
        assert abs(vat_lines - vat_stated) <= Decimal("0.02"), number
        vat = record["debtor"]["address"]["invoice"].get("taxnumber")
        if vat:
            assert eu_vat.is_valid(vat), vat
        if record["tax_strategy"] == "reverse_charged_vat":
            assert all(Decimal(p["rate"]) == 0 for p in parts)


def test_spec_example_contradicts_the_schema():
    """Documented: the spec's own Order example has numbers where the schema says strings."""
    schema = to_json_schema({"$ref": "#/components/schemas/Order"}, PATCHED, strict=False)
    example = spec_example_order()
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(example))
    kinds = set()
    for error in errors:
        if "is not of type 'string'" in error.message:
            kinds.add("number where the schema says string")  # amounts, rates, total, weight
        elif "is not valid under any of the given schemas" in error.message:
            kinds.add("price oneOf fails (its amounts are numbers)")
        elif "'list_option_id' is a required property" in error.message:
            kinds.add("article options shaped unlike OrderArticleListOption")
        else:
            kinds.add(f"unexpected: {error.message[:80]}")
    assert kinds == {
        "number where the schema says string",
        "price oneOf fails (its amounts are numbers)",
        "article options shaped unlike OrderArticleListOption",
    }
    as_json = json.loads(json.dumps(example))
    assert as_json["price"]["total"] == 47.45
