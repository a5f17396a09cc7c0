"""eAccounting's side of the Datamapper: the CustomerApi fields a customer mapping may read
(from the v2 models in ``_models``), and what an article write would send (the preview's last
column for articles AccountView -> eAccounting).

``translate.translate_customer`` maps through the flow's mapping; the default (version 0) is
``koppeling.mapping.defaults``' ``("customers", "eaccounting")``: a company (``IsPrivatePerson``
false) with its contact person as the person, else a private person.
"""

from __future__ import annotations

from typing import Any

from koppeling.core.products import PRODUCT_FIELDS, Product
from koppeling.mapping import TARGETS, MappingSpec, Schema, default_mapping

from ._models import FIELDS

__all__ = ["article_payload", "customer_mapping", "customer_schema"]

_TYPES = {"str": "text", "uuid": "text", "num": "decimal", "int": "decimal", "bool": "bool", "date": "date"}


def customer_schema() -> Schema:
    source = {f.name: _TYPES.get(f.kind, "any") for f in FIELDS["CustomerApi"]}
    source.update({"TermsOfPayment.Name": "text", "TermsOfPayment.TermsOfPaymentTypeId": "decimal"})
    return Schema("customers", source, TARGETS["customers"])


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
