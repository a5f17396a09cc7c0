"""AccountView's side of the Datamapper: the ARTICLE fields a mapping may read, the default
article mapping (as ``translate.product_of`` always read them, honouring the connection's
``article_fields`` and ``prices_include_vat`` options), and what a debtor write would send.

Articles and stock go AccountView -> eAccounting through the flow's mapping (both read ARTICLE
rows); debtors and orders (eAccounting -> AccountView) are written by ``translate`` from the mapped
``Party`` and ``Order`` — ``debtor_payload`` and ``order_payload`` show the preview what they send.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from koppeling.core.messages import Outcome
from koppeling.core.models import Order, Party
from koppeling.mapping import TARGETS, MappingSpec, Rule, Schema, Step, default_mapping

from ._tables import TABLES
from .settings import settings_or_default

__all__ = [
    "article_mapping",
    "article_schema",
    "debtor_payload",
    "order_payload",
    "stock_mapping",
    "stock_schema",
]

#: AccountView column types -> mapping types (C char, M memo, N/Y/I numbers, D/T dates, L logical)
_TYPES = {"C": "text", "M": "text", "N": "decimal", "Y": "decimal", "I": "decimal", "D": "date", "T": "date"}
_TYPES["L"] = "bool"


def article_schema(options: Mapping[str, Any]) -> Schema:
    """ARTICLE's columns, plus every field the connection's options name (custom fields)."""
    source = {name: _TYPES.get(column.type, "any") for name, column in TABLES["ARTICLE"].items()}
    for group in ("article_fields", "attribute_fields"):
        for field in dict(options.get(group) or {}).values():
            if field:
                source.setdefault(str(field), "any")
    source.setdefault("IMG_MEDIUM", "text")
    return Schema("products", source, TARGETS["products"])


def stock_schema(options: Mapping[str, Any]) -> Schema:
    """ARTICLE's columns, the stock fields' defaults (the reservation field is a guess [S]) and
    every field the connection's ``stock_fields`` names."""
    from .translate import STOCK_FIELDS

    source = {name: _TYPES.get(column.type, "any") for name, column in TABLES["ARTICLE"].items()}
    for field in (*STOCK_FIELDS.values(), *dict(options.get("stock_fields") or {}).values()):
        if field:
            source.setdefault(str(field), "decimal")
    return Schema("stock", source, TARGETS["stock"])


def stock_mapping(options: Mapping[str, Any]) -> MappingSpec:
    """The default (version 0) with the columns the connection's ``stock_fields`` name for
    ``on_hand``, ``reserved`` and ``incoming`` (an empty name: that figure counts 0)."""
    spec = default_mapping("stock", "accountview")
    assert spec is not None
    for name, field in dict(options.get("stock_fields") or {}).items():
        current = spec.rule(name)
        if current is not None:
            spec = spec.with_rule(Rule(name, (str(field),) if field else (), current.transforms))
    return spec


def article_mapping(options: Mapping[str, Any]) -> MappingSpec:
    """The default (version 0) with the fields the options name: ``article_fields`` may move
    ``ean``, ``description_short``, ``description_long``, ``unit`` and ``price`` to other columns
    (an empty name: nothing); ``prices_include_vat`` makes the price the one incl. VAT."""
    spec = default_mapping("products", "accountview")
    assert spec is not None
    fields = dict(options.get("article_fields") or {})
    for name in ("ean", "description_short", "description_long", "unit"):
        if name in fields:
            current = spec.rule(name)
            steps = current.transforms if current and current.transforms else (Step("trim"),)
            spec = spec.with_rule(Rule(name, (str(fields[name]),) if fields[name] else (), steps))
    price = spec.rule("price_ex")
    assert price is not None
    source = (str(fields["price"]),) if fields.get("price") else () if "price" in fields else price.sources
    target = "price_inc" if options.get("prices_include_vat") else "price_ex"
    rules = [r for r in spec.rules if r.target != "price_ex"]
    index = next(i for i, r in enumerate(spec.rules) if r.target == "price_ex")
    rules.insert(index, Rule(target, source, price.transforms))
    return MappingSpec("products", tuple(rules), 0)


def debtor_payload(party: Party, settings: Any, *, new: bool = True) -> dict[str, Any]:
    """The CONTACT fields a debtor write for ``party`` sends (the preview's last column)."""
    from .translate import debtor_values

    warnings: list[Outcome] = []
    return debtor_values(party, settings_or_default(settings), new=new, payment_key="", warnings=warnings)


def order_payload(order: Order, settings: Any) -> dict[str, Any]:
    """What booking ``order`` writes that the mapping decides: the debtor, the delivery address and
    per line the article code, text, quantity and unit price. VAT codes, revenue accounts and the
    booked amounts follow from the VAT rules and the flow's settings when the run books it."""
    lines = [
        {
            "ART_CODE": line.sku.strip().upper(),
            "ART_DESC": line.description,
            "ORD_QTY": line.quantity,
            "ART_PX": line.unit_price_ex if line.unit_price_ex is not None else line.unit_price_inc,
        }
        for line in order.lines
    ]
    delivery = order.delivery
    return {
        "debtor": debtor_payload(order.customer, settings),
        "delivery": None
        if delivery is None
        else {
            "name": delivery.display_name,
            "street": delivery.street,
            "postal_code": delivery.postal_code,
            "city": delivery.city,
            "country": delivery.country_code,
        },
        "currency": order.currency,
        "lines": lines,
    }
