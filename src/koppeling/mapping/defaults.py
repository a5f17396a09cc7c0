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

__all__ = ["DEFAULTS", "TARGETS", "default_mapping", "rule", "under"]


def rule(target: str, *sources: str, steps: tuple[Any, ...] = ("trim",)) -> dict[str, Any]:
    """A rule as stored: ``steps`` are names or ``(name, params)``."""
    transforms = [
        {"name": s, "params": {}} if isinstance(s, str) else {"name": s[0], "params": s[1]} for s in steps
    ]
    return {"target": target, "sources": list(sources), "transforms": transforms}


_TEXT = Field("text")
#: an address as ``Party`` keeps it: the street line holds the house number; ``number`` is for a
#: source that keeps the number apart (it is written after the street)
_ADDRESS = {
    f"{side}.{name}": _TEXT
    for side in ("billing", "shipping")
    for name in ("street", "number", "street2", "postal_code", "city", "country")
}
#: the order's customer: who is invoiced (``Party`` without the address, which is ``billing``)
_ORDER_CUSTOMER = ("name", "company", "email", "phone", "vat_number", "customer_id")

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
        **{f"customer.{name}": _TEXT for name in _ORDER_CUSTOMER},
        "customer.name": Field("text", required=True),
        **_ADDRESS,
        "shipping.name": _TEXT,
        "lines[].sku": Field("text", required=True),
        "lines[].description": _TEXT,
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
_FIELD_PARAMS = ("field", "then_field", "else_field")


def under(prefix: str, rules: list[dict[str, Any]], targets: tuple[str, ...]) -> list[dict[str, Any]]:
    """``rules`` (those for ``targets``) read from the object at ``prefix`` and written to
    ``prefix.target``: an order's customer is mapped as the customers flow maps a customer, by
    the same rules rather than a copy of them."""

    def moved(step: dict[str, Any]) -> dict[str, Any]:
        params = {k: f"{prefix}.{v}" if k in _FIELD_PARAMS and v else v for k, v in step["params"].items()}
        return {"name": step["name"], "params": params}

    return [
        {
            "target": f"{prefix}.{r['target']}",
            "sources": [f"{prefix}.{s}" for s in r["sources"]],
            "transforms": [moved(t) for t in r["transforms"]],
        }
        for r in rules
        if r["target"] in targets
    ]


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
    ("stock", "accountview"): [
        rule("sku", "ART_CODE"),
        rule("on_hand", "QTY_AVAIL", steps=("number", ("default", {"value": "0"}), "number")),
        rule("reserved", "QTY_RES", steps=("number",)),
        rule("incoming", "QTY_BESTEL", steps=("number",)),
    ],
}


# an eAccounting order: its own invoice address where it has one, else its customer's (the order
# mapping reads ``{**OrderApi, "customer": CustomerApi}``); rows one by one into lines
DEFAULTS[("orders_to_invoices", "eaccounting")] = [
    *under("customer", DEFAULTS[("customers", "eaccounting")], _ORDER_CUSTOMER),
    rule("billing.street", "InvoiceAddress1", "customer.InvoiceAddress1", steps=("coalesce", "trim")),
    rule("billing.street2", "InvoiceAddress2", "customer.InvoiceAddress2", steps=("coalesce", "trim")),
    rule(
        "billing.postal_code",
        "InvoicePostalCode",
        "customer.InvoicePostalCode",
        steps=("coalesce", "trim", "upper"),
    ),
    rule("billing.city", "InvoiceCity", "customer.InvoiceCity", steps=("coalesce", "trim")),
    rule(
        "billing.country", "InvoiceCountryCode", "customer.InvoiceCountryCode", steps=("coalesce", *_COUNTRY)
    ),
    rule("shipping.name", "DeliveryCustomerName"),
    rule("shipping.street", "DeliveryAddress1"),
    rule("shipping.street2", "DeliveryAddress2"),
    rule("shipping.postal_code", "DeliveryPostalCode", steps=("trim", "upper")),
    rule("shipping.city", "DeliveryCity"),
    rule("shipping.country", "DeliveryCountryCode", steps=("trim", "country_code")),
    rule("lines[].sku", "Rows[].ArticleNumber"),
    rule("lines[].description", "Rows[].Text"),
    rule("lines[].quantity", "Rows[].Quantity", steps=("number", ("default", {"value": "1"}), "number")),
    rule("lines[].price", "Rows[].UnitPrice", steps=("number", ("default", {"value": "0"}), "number")),
    rule("currency", "CurrencyCode", steps=("trim", "upper", ("default", {"value": "EUR"}))),
]


def default_mapping(kind: str, system: str) -> MappingSpec | None:
    """The built-in mapping (version 0) of ``kind`` read from ``system``; None when there is none."""
    rules = DEFAULTS.get((kind, system))
    if rules is None:
        return None
    spec, problems = MappingSpec.from_json({"version": 0, "kind": kind, "rules": rules})
    assert spec is not None and not problems, problems
    return spec
