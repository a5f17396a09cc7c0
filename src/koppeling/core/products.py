"""Products and stock as both ends understand them (article flows, stock flows).

A product is identified by its SKU (the shop's article number) and, where known, its EAN/GTIN;
targets match on those. Amounts are ``Decimal``; a price is given excluding or including VAT (or
both) as the source knows it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from enum import StrEnum

__all__ = ["PRODUCT_FIELDS", "Product", "StockCalculation", "StockLevel"]


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
    #: where the target can fetch the article's picture (empty: none)
    image_url: str = ""
    #: the source's item attributes and characteristics, by name (mapped by the user)
    attributes: tuple[tuple[str, str], ...] = ()

    def values(self) -> dict[str, object]:
        """The fields a target may write, by name (protected fields are chosen from these)."""
        return {name: getattr(self, name) for name in PRODUCT_FIELDS}


#: the product fields a flow can send, and protect from being overwritten on update
PRODUCT_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(Product) if f.name not in ("source_id", "sku", "currency")
)


class StockCalculation(StrEnum):
    """Which figure of the source's stock goes to the target (seed 004: available minus sales
    reservations by default)."""

    ON_HAND = "on_hand"
    AVAILABLE = "available"  # on hand minus sales reservations
    AVAILABLE_PLUS_INCOMING = "available_plus_incoming"  # … plus what is on order with suppliers


@dataclass(frozen=True, slots=True)
class StockLevel:
    """How many of one article can be sold: ``on_hand`` minus ``reserved`` (open sales orders),
    and ``incoming`` (on order with suppliers).

    ``managed`` False means the source does not track stock for it (the target should not either).
    """

    sku: str
    on_hand: Decimal
    reserved: Decimal = Decimal(0)
    managed: bool = True
    incoming: Decimal = Decimal(0)

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved

    def quantity(self, calculation: StockCalculation = StockCalculation.AVAILABLE) -> Decimal:
        """The figure ``calculation`` asks for."""
        if calculation == StockCalculation.ON_HAND:
            return self.on_hand
        if calculation == StockCalculation.AVAILABLE_PLUS_INCOMING:
            return self.available + self.incoming
        return self.available
