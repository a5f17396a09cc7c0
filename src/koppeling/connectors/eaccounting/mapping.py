"""eAccounting's side of the Datamapper: the CustomerApi fields a customer mapping may read and
the OrderApi fields (with the order's customer and rows) an order mapping may read, from the v2
models in ``_models``; and what an article or stock write would send (the preview's last column
for articles and stock AccountView -> eAccounting).

``translate.translate_customer`` maps through the flow's mapping; the default (version 0) is
``koppeling.mapping.defaults``' ``("customers", "eaccounting")``: a company (``IsPrivatePerson``
false) with its contact person as the person, else a private person.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from koppeling.core.products import PRODUCT_FIELDS, Product, StockLevel
from koppeling.mapping import TARGETS, MappingSpec, Schema, default_mapping

from ._models import FIELDS

__all__ = [
    "article_payload",
    "customer_mapping",
    "customer_schema",
    "order_mapping",
    "order_schema",
    "stock_payload",
]

_TYPES = {"str": "text", "uuid": "text", "num": "decimal", "int": "decimal", "bool": "bool", "date": "date"}


def _customer_fields() -> dict[str, str]:
    source = {f.name: _TYPES.get(f.kind, "any") for f in FIELDS["CustomerApi"]}
    source.update({"TermsOfPayment.Name": "text", "TermsOfPayment.TermsOfPaymentTypeId": "decimal"})
    return source


def customer_schema() -> Schema:
    return Schema("customers", _customer_fields(), TARGETS["customers"])


def order_schema() -> Schema:
    """An order as the mapping reads it: the OrderApi fields, ``Rows[].*`` of each OrderRowApi and
    ``customer.*`` of the order's CustomerApi (fetched with the order)."""
    source = {f.name: _TYPES.get(f.kind, "any") for f in FIELDS["OrderApi"] if f.name != "Rows"}
    source.update({f"Rows[].{f.name}": _TYPES.get(f.kind, "any") for f in FIELDS["OrderRowApi"]})
    source.update({f"customer.{name}": kind for name, kind in _customer_fields().items()})
    return Schema("orders_to_invoices", source, TARGETS["orders_to_invoices"])


def order_mapping() -> MappingSpec:
    spec = default_mapping("orders_to_invoices", "eaccounting")
    assert spec is not None
    return spec


def customer_mapping() -> MappingSpec:
    spec = default_mapping("customers", "eaccounting")
    assert spec is not None
    return spec


def article_payload(
    product: Product, coding_id: str | None = None, unit_id: str | None = None
) -> dict[str, Any]:
    """The ArticleApi body a create of ``product`` sends (coding and unit as the run finds them)."""
    from .translate import article_fields

    values, _cut = article_fields(product, set(PRODUCT_FIELDS), coding_id=coding_id, unit_id=unit_id)
    return {"Number": product.sku or product.ean, **{k: v for k, v in values.items() if v is not None}}


def stock_payload(level: StockLevel, quantity: Decimal) -> dict[str, Any]:
    """What a stock write for ``level`` changes on the article: its balance (the flow's calculation
    gives ``quantity``), or nothing but ``IsStock`` when the article's stock is not managed."""
    if not level.managed:
        return {"Number": level.sku, "IsStock": False}
    return {"Number": level.sku, "StockBalance": quantity}
