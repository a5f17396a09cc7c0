"""In-memory connectors for the runtime's own tests of flow kinds no real connector has yet.

They speak the capability interfaces exactly (``koppeling.connectors.base``) and record every
write, so a test can say what was created, updated or left alone. The real systems of these flows
(AccountView, eAccounting, Asperion) have their own simulators and conformance tests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from dataclasses import replace
from decimal import Decimal
from typing import Any, ClassVar

import httpx

from koppeling.connectors.base import (
    BatchDocument,
    ConnectionConfig,
    Connector,
    Fetched,
    Findability,
    PushResult,
    ReadsCustomers,
    ReadsProducts,
    ReadsStock,
    WritesBatches,
    WritesCustomers,
    WritesProducts,
    WritesStock,
)
from koppeling.connectors.errors import NotFound
from koppeling.core.models import Party
from koppeling.core.products import Product, StockLevel


def _fingerprint(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, default=str, sort_keys=True).encode()).hexdigest()


class Warehouse(Connector, ReadsProducts, ReadsStock, ReadsCustomers):
    """A source of articles, stock and customers (AccountView's role in seed 004)."""

    system: ClassVar[str] = "fake_warehouse"
    label: ClassVar[str] = "Warehouse"

    def __init__(self) -> None:
        super().__init__(ConnectionConfig("fake_warehouse", "memory://warehouse", {}), httpx.Client())
        self.products: dict[str, tuple[Product, dt.datetime]] = {}
        self.stock: dict[str, tuple[StockLevel, dt.datetime]] = {}
        self.customers: dict[str, tuple[Party, dt.datetime]] = {}

    def check(self) -> None:
        return None

    def put_product(self, product: Product, at: dt.datetime) -> None:
        self.products[product.source_id] = (product, at)

    def _window(self, rows: dict[str, tuple[Any, dt.datetime]], since, until, key) -> list[Fetched[Any]]:
        out = []
        for source_id, (item, at) in sorted(rows.items(), key=lambda kv: kv[1][1]):
            if (since is None or at >= since) and (until is None or at < until):
                out.append(Fetched(source_id, item, _fingerprint(key(item)), at, None, source_id))
        return out

    def fetch_products_changed(self, since, *, until=None):
        return iter(self._window(self.products, since, until, lambda p: p.values()))

    def fetch_product(self, source_id: str) -> Fetched[Product]:
        if source_id not in self.products:
            raise NotFound(params={"system": self.label, "what": source_id})
        product, at = self.products[source_id]
        return Fetched(source_id, product, _fingerprint(product.values()), at, None, source_id)

    def fetch_stock(self, since=None, *, until=None):
        return iter(self._window(self.stock, since, until, lambda s: (s.available, s.managed)))

    def fetch_stock_level(self, sku: str) -> Fetched[StockLevel]:
        level, at = self.stock[sku]
        return Fetched(sku, level, _fingerprint((level.available, level.managed)), at, None, sku)

    def fetch_customers_changed(self, since, *, until=None):
        return iter(self._window(self.customers, since, until, lambda c: c))

    def fetch_customer(self, source_id: str) -> Fetched[Party]:
        party, at = self.customers[source_id]
        return Fetched(source_id, party, _fingerprint(party), at, None, source_id)


class Shopfront(Connector, WritesProducts, WritesStock, WritesCustomers, WritesBatches):
    """A target of articles, stock, customers and daily batches; records every write."""

    system: ClassVar[str] = "fake_shopfront"
    label: ClassVar[str] = "Shopfront"
    findable: ClassVar[Findability] = Findability.BY_REFERENCE

    def __init__(self) -> None:
        super().__init__(ConnectionConfig("fake_shopfront", "memory://shopfront", {}), httpx.Client())
        self.products: dict[str, dict[str, Any]] = {}
        self.stock: dict[str, tuple[Decimal, bool]] = {}
        self.customers: dict[str, Party] = {}
        self.batches: dict[str, BatchDocument] = {}
        self.writes: list[tuple[str, str, tuple[str, ...]]] = []
        self._ids = itertools.count(1)

    def check(self) -> None:
        return None

    # articles
    def find_product(self, product: Product) -> PushResult | None:
        for target_id, fields in self.products.items():
            if fields["sku"] == product.sku:
                return PushResult(target_id)
        return None

    def create_product(self, product: Product, settings: Any = None) -> PushResult:
        target_id = f"A{next(self._ids)}"
        self.products[target_id] = {"sku": product.sku, **product.values()}
        self.writes.append(("create_product", target_id, tuple(sorted(product.values()))))
        return PushResult(target_id)

    def update_product(self, target_id, product, fields, settings=None) -> PushResult:
        values = product.values()
        self.products[target_id].update({name: values[name] for name in fields})
        self.writes.append(("update_product", target_id, tuple(sorted(fields))))
        return PushResult(target_id)

    # stock
    def set_stock(self, level: StockLevel, quantity: Decimal, settings: Any = None) -> PushResult:
        self.stock[level.sku] = (quantity, level.managed)
        self.writes.append(("set_stock", level.sku, ()))
        return PushResult(level.sku)

    # customers
    def find_customer(self, customer: Party) -> PushResult | None:
        for target_id, known in self.customers.items():
            if known.email == customer.email:
                return PushResult(target_id)
        return None

    def create_customer(self, customer: Party, settings: Any = None) -> PushResult:
        target_id = f"C{next(self._ids)}"
        self.customers[target_id] = customer
        self.writes.append(("create_customer", target_id, ()))
        return PushResult(target_id)

    def update_customer(self, target_id: str, customer: Party, settings: Any = None) -> PushResult:
        self.customers[target_id] = replace(customer)
        self.writes.append(("update_customer", target_id, ()))
        return PushResult(target_id)

    # batches: one document per reference, delivering it again replaces nothing
    def push_batch(self, batch: BatchDocument, settings: Any = None) -> PushResult:
        if batch.reference not in self.batches:
            self.batches[batch.reference] = batch
            self.writes.append(("push_batch", batch.reference, tuple(i.reference for i in batch.invoices)))
        return PushResult(f"file:{batch.reference}", number=batch.reference)

    def find_batch(self, reference: str, known: PushResult | None = None) -> PushResult | None:
        if reference in self.batches:
            return PushResult(f"file:{reference}", number=reference)
        return None
