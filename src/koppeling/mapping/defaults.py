"""The default mapping of each flow kind, per source system, and the target fields of each kind.

The targets are the fields of the core object the flow carries (``Product``, ``Party``, an order's
customer, addresses and lines, a stock level); the target connector turns that object into what
its API takes. The defaults reproduce what the connectors did before mappings existed, so a flow
whose owner never opened the Datamapper behaves as it always did (mapping version 0).

Seed 004's basic fields: customer name, billing and shipping street, number, postcode, city,
country, SKU/EAN, quantity and price (orders); name, SKU/EAN, long and short description, price
excl./incl. VAT, quantity, EAN/GTIN and currency (articles).
"""

from __future__ import annotations

from typing import Any

from .spec import Field, MappingSpec

__all__ = ["DEFAULTS", "TARGETS", "default_mapping", "rule"]


def rule(target: str, *sources: str, steps: tuple[Any, ...] = ("trim",)) -> dict[str, Any]:
    """A rule as stored: ``steps`` are names or ``(name, params)``."""
    transforms = [
        {"name": s, "params": {}} if isinstance(s, str) else {"name": s[0], "params": s[1]} for s in steps
    ]
    return {"target": target, "sources": list(sources), "transforms": transforms}


_TEXT = Field("text")
_ADDRESS = {
    f"{side}.{name}": _TEXT
    for side in ("billing", "shipping")
    for name in ("name", "street", "number", "addition", "postal_code", "city", "country")
}

TARGETS: dict[str, dict[str, Field]] = {
    "products": {
        "sku": Field("text", required=True),
        "name": Field("text", required=True),
        "ean": _TEXT,
        "description_short": _TEXT,
        "description_long": _TEXT,
        "price_ex": Field("decimal"),
        "price_inc": Field("decimal"),
        "unit": _TEXT,
        "currency": _TEXT,
    },
    "customers": {
        "name": Field("text", required=True),
        "company": _TEXT,
        "email": Field("text", required=True),
        "phone": _TEXT,
        "street": _TEXT,
        "street2": _TEXT,
        "postal_code": _TEXT,
        "city": _TEXT,
        "country_code": _TEXT,
        "vat_number": _TEXT,
        "customer_id": _TEXT,
    },
    "orders_to_invoices": {
        "customer.name": Field("text", required=True),
        "customer.email": _TEXT,
        **_ADDRESS,
        "lines[].sku": Field("text", required=True),
        "lines[].ean": _TEXT,
        "lines[].quantity": Field("decimal", required=True),
        "lines[].price": Field("decimal", required=True),
        "currency": _TEXT,
    },
    "stock": {
        "sku": Field("text", required=True),
        "on_hand": Field("decimal", required=True),
        "reserved": Field("decimal"),
        "incoming": Field("decimal"),
    },
}

_COUNTRY = ("trim", "country_code", ("default", {"value": "NL"}))
_STREET = ("trim", ("split_street", {"part": "street"}))
_NUMBER = ("trim", ("split_street", {"part": "house_number"}))

DEFAULTS: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("products", "accountview"): [
        rule("sku", "ART_CODE"),
        rule("name", "ART_DESC1", "ART_CODE", steps=("coalesce", "trim")),
        rule("ean", "EAN_CODE"),
        rule("description_short", "ART_DESC2"),
        rule("description_long", steps=()),
        rule("price_ex", "PX_SELL", steps=("number",)),
        rule("unit", "ART_UNIT"),
        rule("currency", steps=(("default", {"value": "EUR"}),)),
    ],
    ("customers", "eaccounting"): [
        rule(
            "name",
            "Name",
            steps=(
                ("when", {"field": "IsPrivatePerson", "value": False, "then_field": "ContactPersonName"}),
                "trim",
            ),
        ),
        rule(
            "company",
            "Name",
            steps=(
                ("when", {"field": "IsPrivatePerson", "op": "not_equals", "value": False, "then": ""}),
                "trim",
            ),
        ),
        rule("email", "EmailAddress", "ContactPersonEmail", steps=("coalesce", "trim")),
        rule("phone", "Telephone", "MobilePhone", steps=("coalesce", "trim")),
        rule("street", "InvoiceAddress1"),
        rule("street2", "InvoiceAddress2"),
        rule("postal_code", "InvoicePostalCode", steps=("trim", "upper")),
        rule("city", "InvoiceCity"),
        rule("country_code", "InvoiceCountryCode", steps=_COUNTRY),
        rule("vat_number", "VatNumber", steps=(("replace", {"old": " ", "new": ""}), "upper")),
        rule("customer_id", "CustomerNumber", steps=("text", "trim")),
    ],
    ("orders_to_invoices", "eaccounting"): [
        rule("customer.name", "InvoiceCustomerName", "customer.Name", steps=("coalesce", "trim")),
        rule("customer.email", "customer.EmailAddress", steps=("trim", "lower")),
        rule("billing.name", "InvoiceCustomerName", "customer.Name", steps=("coalesce", "trim")),
        rule("billing.street", "InvoiceAddress1", steps=_STREET),
        rule("billing.number", "InvoiceAddress1", steps=_NUMBER),
        rule("billing.postal_code", "InvoicePostalCode", steps=("trim", "upper")),
        rule("billing.city", "InvoiceCity"),
        rule("billing.country", "InvoiceCountryCode", steps=_COUNTRY),
        rule("shipping.name", "DeliveryCustomerName"),
        rule("shipping.street", "DeliveryAddress1", steps=_STREET),
        rule("shipping.number", "DeliveryAddress1", steps=_NUMBER),
        rule("shipping.postal_code", "DeliveryPostalCode", steps=("trim", "upper")),
        rule("shipping.city", "DeliveryCity"),
        rule("shipping.country", "DeliveryCountryCode", steps=_COUNTRY),
        rule("lines[].sku", "Rows[].ArticleNumber", steps=("trim", "upper")),
        rule("lines[].quantity", "Rows[].Quantity", steps=("number",)),
        rule("lines[].price", "Rows[].UnitPrice", steps=("number",)),
        rule("currency", "CurrencyCode", steps=("trim", "upper", ("default", {"value": "EUR"}))),
    ],
    ("stock", "accountview"): [
        rule("sku", "ART_CODE"),
        rule("on_hand", "QTY_AVAIL", steps=("number", ("default", {"value": "0"}), "number")),
        rule("reserved", "QTY_RES", steps=("number",)),
        rule("incoming", "QTY_BESTEL", steps=("number",)),
    ],
}


def default_mapping(kind: str, system: str) -> MappingSpec | None:
    """The built-in mapping (version 0) of ``kind`` read from ``system``; None when there is none."""
    rules = DEFAULTS.get((kind, system))
    if rules is None:
        return None
    spec, problems = MappingSpec.from_json({"version": 0, "kind": kind, "rules": rules})
    assert spec is not None and not problems, problems
    return spec
