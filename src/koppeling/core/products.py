"""Products and stock as both ends understand them (article flows, stock flows).

A product is identified by its SKU (the shop's article number) and, where known, its EAN/GTIN;
targets match on those. Amounts are ``Decimal``; a price is given excluding or including VAT (or
both) as the source knows it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

__all__ = ["PRODUCT_FIELDS", "Product", "StockLevel"]


@dataclass(frozen=True, slots=True)
class Product:
    """An article. ``source_id`` is stable within the source connection."""

    source_id: str
    sku: str
    name: str
    ean: str = ""
    description_short: str = ""
    description_long: str = ""
    price_ex: Decimal | None = None
    price_inc: Decimal | None = None
    vat_rate: Decimal | None = None
    currency: str = "EUR"
    unit: str = ""
    active: bool = True

    def values(self) -> dict[str, object]:
        """The fields a target may write, by name (protected fields are chosen from these)."""
        return {name: getattr(self, name) for name in PRODUCT_FIELDS}


#: the product fields a flow can send, and protect from being overwritten on update
PRODUCT_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(Product) if f.name not in ("source_id", "sku", "currency")
)


@dataclass(frozen=True, slots=True)
class StockLevel:
    """How many of one article can be sold: ``on_hand`` minus ``reserved`` (open sales orders).

    ``managed`` False means the source does not track stock for it (the target should not either).
    """

    sku: str
    on_hand: Decimal
    reserved: Decimal = Decimal(0)
    managed: bool = True

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved
