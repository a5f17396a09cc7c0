"""The flow kinds: what can move over a link, as data in a registry.

Each kind names the capability it reads and the one it writes, its ledger object type, its
settings model and its core rule, and knows how to fetch, select, prepare, push, find again and
read back one record of its kind. The runtime (``sync.runner``) is the same for all of them.

==========================  ================  =================  ==============
kind                        reads             writes             object type
==========================  ================  =================  ==============
orders_to_invoices          reads_orders      writes_invoices    order
credit_orders_to_notes      reads_orders      writes_credit_notes credit_order
orders_to_batch             reads_orders      writes_batches     order (+ batch)
products                    reads_products    writes_products    product
stock                       reads_stock       writes_stock       stock
customers                   reads_customers   writes_customers   customer
==========================  ================  =================  ==============

Documents (invoices, credit notes, batches) are booked once and never again; a change in the
source after the push is flagged (``changed_after_booking``). Upserts (products, stock,
customers) are written again when the source changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel

from koppeling.connectors.base import (
    BookedDocument,
    Capability,
    Connector,
    Fetched,
    PushResult,
)
from koppeling.core.invoicing import check_invoice, order_to_invoice
from koppeling.core.messages import Outcome
from koppeling.core.models import Invoice, Order, Party
from koppeling.core.products import Product, StockLevel
from koppeling.core.totals import TotalsMethod

from .flow_settings import (
    BatchFlowSettings,
    Condition,
    CustomerFlowSettings,
    FlowSettings,
    OrderFlowSettings,
    ProductFlowSettings,
    StockFlowSettings,
)
from .lookups import DISTANCE_KEY, distance_sale_ex
from .models import ReasonCode

__all__ = ["KINDS", "FlowContext", "FlowKind", "Prepared", "kind_of"]


@dataclass
class FlowContext:
    """What a kind needs to decide about one record of a flow."""

    settings: Any  # the kind's settings model
    target_settings: Any  # the target connector's settings model (or None)
    #: the link also has an active credit-note flow from the same source: credits go there
    credits_elsewhere: bool = False
    #: booked invoice numbers by order number (for credit notes that name what they credit)
    booked_numbers: dict[str, str] = field(default_factory=dict)
    #: the target's own facts: how it totals an invoice, which currencies it books in
    totals_method: TotalsMethod | None = None
    booking_currencies: tuple[str, ...] = ("EUR",)
    #: what the runtime looks up for core per order (``sync.lookups.Lookups``; None: nothing)
    lookups: Any = None
    #: the version of the flow's Datamapper mapping the source reads with (0: the default);
    #: every ledger row keeps it in ``sent["mapping_version"]``
    mapping_version: int = 0


@dataclass
class Prepared:
    """A record made ready for its target: the document, its warnings, and what will be sent."""

    document: Any
    warnings: list[Outcome] = field(default_factory=list)
    sent: dict[str, Any] = field(default_factory=dict)


class FlowKind:
    """One kind of flow. Subclasses fill in the class attributes and the methods they need."""

    name: ClassVar[str]
    label: ClassVar[Any]
    reads: ClassVar[Capability]
    writes: ClassVar[Capability]
    object_type: ClassVar[str]
    settings_model: ClassVar[type[FlowSettings]]
    #: one document per period holds many records (``sync.batches``)
    batch: ClassVar[bool] = False
    #: pushed records are written again when the source changes (False: flagged, never re-booked)
    upsert: ClassVar[bool] = False
    #: label of one record for messages ("Order", "Article" …)
    record_label: ClassVar[Any] = _("Record")
    #: pushed documents are read back and compared with what was sent (``sync.reconcile``)
    reconciles: ClassVar[bool] = False

    def cursor_ordered(self, source: Connector) -> bool:
        return bool(getattr(source, "cursor_ordered", False))

    def fetch_changed(
        self, source: Connector, since: dt.datetime | None, until: dt.datetime | None
    ) -> Iterator[Fetched[Any]]:
        raise NotImplementedError

    def fetch_resumed(
        self, source: Connector, since: dt.datetime, after_id: str, until: dt.datetime | None
    ) -> Iterator[Fetched[Any]]:
        """Resume a cut-off fetch of an ordered source exactly after ``(since, after_id)``: a source
        that can (``resumes_after_id``) is asked so — a bulk change larger than one run's budget is
        then read to its end over several runs; others are read from ``since`` and what was read
        before is passed over here."""
        if getattr(source, "resumes_after_id", False):
            return source.fetch_changed(since, until=until, after_id=after_id)  # type: ignore[attr-defined]
        return (
            f
            for f in self.fetch_changed(source, since, until)
            if not (f.changed_at == since and _id_key(f.source_id) <= _id_key(after_id))
        )

    def fetch_sweep(self, source: Connector, start: dt.datetime) -> Iterator[Fetched[Any]]:
        """The daily re-read: by change date over the sweep window (not only by creation date)."""
        return self.fetch_changed(source, start, None)

    def fetch_one(self, source: Connector, source_id: str) -> Fetched[Any]:
        raise NotImplementedError

    def skip_reason(self, item: Any, context: FlowContext) -> str:
        return ""

    def conditions(self, item: Any, context: FlowContext) -> list[Condition]:
        """Every condition checked for ``item``, met or not (for explaining a record)."""
        return []

    def facts(self, fetched: Fetched[Any], context: FlowContext) -> dict[str, Any]:
        """The ledger row's facts of this record (number, reference, status, date, amount)."""
        return {"source_number": (fetched.number or fetched.source_id)[:100]}

    def prepare(self, item: Any, context: FlowContext) -> Prepared:
        return Prepared(item)

    def push(self, target: Connector, prepared: Prepared, context: FlowContext, record: Any) -> PushResult:
        raise NotImplementedError

    def find(self, target: Connector, record: Any) -> PushResult | None:
        """The pushed document of ``record`` in the target, where the target can find it."""
        return None

    def read_back(self, target: Connector, record: Any) -> BookedDocument | None:
        return None


def _id_key(source_id: str) -> tuple[int, str]:
    """Ids compared as the sources order them: numbers as numbers, else as text."""
    return (int(source_id), "") if source_id.isdigit() else (-1, source_id)


def _known(record: Any) -> PushResult | None:
    if not (record.target_id or record.target_token):
        return None
    return PushResult(record.target_id, number=record.target_number, token=record.target_token)


def _invoice_sent(invoice: Invoice, seller_country: str = "NL") -> dict[str, Any]:
    """What was sent, as the ledger keeps it: compared with the read-back, and the distance sale
    it was (the OSS threshold is added up from these)."""
    sent = {
        "reference": invoice.reference,
        "total_ex": format(invoice.total_ex, "f"),
        "total_inc": format(invoice.total_inc, "f"),
        "currency": invoice.currency,
        "customer_name": invoice.customer.display_name,
        "customer_email": invoice.customer.email,
        "regime": str(invoice.regime),
        # the country the VAT decision was made for (Rapportage filters on it)
        "country": invoice.delivery_country or invoice.customer.country_code,
    }
    if invoice.regime_reason is not None:  # why this regime: shown beside the booking
        sent["regime_reason"] = invoice.regime_reason.as_dict()
    distance = distance_sale_ex(invoice, seller_country)
    if distance is not None:
        sent[DISTANCE_KEY] = format(distance, "f")
    return sent


class OrdersToInvoices(FlowKind):
    name = "orders_to_invoices"
    label = _("Orders → invoices")
    reads = Capability.READS_ORDERS
    writes = Capability.WRITES_INVOICES
    object_type = "order"
    settings_model = OrderFlowSettings
    record_label = _("Order")
    reconciles = True

    def fetch_changed(self, source: Any, since: dt.datetime | None, until: dt.datetime | None):
        return source.fetch_changed(since, until=until)

    def fetch_one(self, source: Any, source_id: str) -> Fetched[Order]:
        return source.fetch_one(source_id)

    def skip_reason(self, item: Order, context: FlowContext) -> str:
        if item.is_credit and context.credits_elsewhere:
            return ReasonCode.CREDIT_ORDER
        return context.settings.skip_reason(item)

    def conditions(self, item: Order, context: FlowContext) -> list[Condition]:
        own = []
        if item.is_credit:
            own.append(Condition(ReasonCode.CREDIT_ORDER, not context.credits_elsewhere, True, False))
        return [*own, *context.settings.conditions(item)]

    def facts(self, fetched: Fetched[Order], context: FlowContext) -> dict[str, Any]:
        order = fetched.item
        facts = super().facts(fetched, context)
        if order is not None:
            facts.update(
                reference=context.settings.reference(order.number)[:120],
                source_status=order.status[:50],
                order_date=order.date,
                amount_inc=order.total_inc.quantize(Decimal("0.01")),
            )
        return facts

    def prepare(self, item: Order, context: FlowContext) -> Prepared:
        settings = context.settings.invoice_settings(
            item, totals_method=context.totals_method, booking_currencies=context.booking_currencies
        )
        lookups = context.lookups
        invoice = order_to_invoice(item, settings, facts=lookups.facts(item) if lookups else None)
        if lookups is not None:
            lookups.prepared(invoice, item)
        warnings = list(invoice.warnings) + list(check_invoice(invoice))
        sent = {
            **_invoice_sent(invoice, context.settings.seller_country),
            "mapping_version": context.mapping_version,
        }
        return Prepared(invoice, warnings, sent)

    def push(self, target: Any, prepared: Prepared, context: FlowContext, record: Any) -> PushResult:
        return target.push_invoice(prepared.document, context.target_settings)

    def find(self, target: Any, record: Any) -> PushResult | None:
        return target.find_invoice(record.reference or record.source_id, _known(record))

    def read_back(self, target: Any, record: Any) -> BookedDocument | None:
        return target.read_back_invoice(record.target_id)


class CreditOrdersToCreditNotes(OrdersToInvoices):
    name = "credit_orders_to_notes"
    label = _("Credit orders → credit notes")
    writes = Capability.WRITES_CREDIT_NOTES
    object_type = "credit_order"
    record_label = _("Credit order")

    def skip_reason(self, item: Order, context: FlowContext) -> str:
        if not item.is_credit:
            return ReasonCode.NOT_A_CREDIT
        return context.settings.skip_reason(item)

    def conditions(self, item: Order, context: FlowContext) -> list[Condition]:
        credit = Condition(ReasonCode.NOT_A_CREDIT, item.is_credit, item.is_credit, True)
        return [credit, *context.settings.conditions(item)]

    def prepare(self, item: Order, context: FlowContext) -> Prepared:
        prepared = super().prepare(item, context)
        credits = context.booked_numbers.get(item.credited_number, item.credited_number)
        note = prepared.document
        if any(f.name == "credits" for f in dataclasses.fields(note)):
            note = dataclasses.replace(note, credits=credits)
        prepared.document = note
        prepared.sent["credits"] = credits
        return prepared

    def push(self, target: Any, prepared: Prepared, context: FlowContext, record: Any) -> PushResult:
        return target.push_credit_note(prepared.document, context.target_settings)

    def find(self, target: Any, record: Any) -> PushResult | None:
        return target.find_credit_note(record.reference or record.source_id, _known(record))

    def read_back(self, target: Any, record: Any) -> BookedDocument | None:
        return target.read_back_credit_note(record.target_id)


class OrdersToBatch(OrdersToInvoices):
    name = "orders_to_batch"
    label = _("Orders → daily batch")
    writes = Capability.WRITES_BATCHES
    settings_model = BatchFlowSettings
    batch = True
    reconciles = False

    def push(self, target: Any, prepared: Prepared, context: FlowContext, record: Any) -> PushResult:
        return target.push_batch(prepared.document, context.target_settings)

    def find(self, target: Any, record: Any) -> PushResult | None:
        return target.find_batch(record.reference or record.source_id, _known(record))

    def read_back(self, target: Any, record: Any) -> BookedDocument | None:
        return None


def content_fingerprint(values: dict[str, Any]) -> str:
    text = json.dumps(values, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class Products(FlowKind):
    name = "products"
    label = _("Articles")
    reads = Capability.READS_PRODUCTS
    writes = Capability.WRITES_PRODUCTS
    object_type = "product"
    settings_model = ProductFlowSettings
    upsert = True
    record_label = _("Article")

    def cursor_ordered(self, source: Connector) -> bool:
        return bool(getattr(source, "product_cursor_ordered", False))

    def fetch_changed(self, source: Any, since: dt.datetime | None, until: dt.datetime | None):
        return source.fetch_products_changed(since, until=until)

    def fetch_one(self, source: Any, source_id: str) -> Fetched[Product]:
        return source.fetch_product(source_id)

    def skip_reason(self, item: Product, context: FlowContext) -> str:
        settings: ProductFlowSettings = context.settings
        if settings.only_active and not item.active:
            return ReasonCode.STATUS_NOT_SELECTED
        values = item.values()
        for name, wanted in settings.filters.items():
            if str(values.get(name, "")) != wanted:
                return ReasonCode.STATUS_NOT_SELECTED
        return ""

    def facts(self, fetched: Fetched[Product], context: FlowContext) -> dict[str, Any]:
        facts = super().facts(fetched, context)
        if fetched.item is not None:
            facts.update(source_number=fetched.item.sku[:100], reference=fetched.item.sku[:120])
        return facts

    def prepare(self, item: Product, context: FlowContext) -> Prepared:
        return Prepared(item, sent={"mapping_version": context.mapping_version})

    def push(self, target: Any, prepared: Prepared, context: FlowContext, record: Any) -> PushResult:
        product: Product = prepared.document
        settings: ProductFlowSettings = context.settings
        updatable = frozenset(name for name in product.values() if name not in settings.protected_fields)
        target_id = record.target_id
        if not target_id:
            existing = target.find_product(product)
            if existing is None:
                return target.create_product(product, context.target_settings)
            if not settings.update_existing:
                return existing  # linked, not written: the owner did not tick "update"
            target_id = existing.target_id
        return target.update_product(target_id, product, updatable, context.target_settings)


class Stock(FlowKind):
    name = "stock"
    label = _("Stock")
    reads = Capability.READS_STOCK
    writes = Capability.WRITES_STOCK
    object_type = "stock"
    settings_model = StockFlowSettings
    upsert = True
    record_label = _("Stock of article")

    def fetch_changed(self, source: Any, since: dt.datetime | None, until: dt.datetime | None):
        return source.fetch_stock(since, until=until)

    def fetch_one(self, source: Any, source_id: str) -> Fetched[StockLevel]:
        return source.fetch_stock_level(source_id)

    def prepare(self, item: StockLevel, context: FlowContext) -> Prepared:
        settings: StockFlowSettings = context.settings
        managed = {"always": True, "never": False}.get(settings.managed, item.managed)
        level = dataclasses.replace(item, managed=managed)
        quantity = level.quantity(settings.calculation)
        sent = {
            "quantity": format(quantity, "f"),
            "calculation": settings.calculation.value,
            "managed": managed,
            "mapping_version": context.mapping_version,
        }
        return Prepared(level, sent=sent)

    def push(self, target: Any, prepared: Prepared, context: FlowContext, record: Any) -> PushResult:
        quantity = Decimal(prepared.sent["quantity"])
        return target.set_stock(prepared.document, quantity, context.target_settings)


class Customers(FlowKind):
    name = "customers"
    label = _("Customers")
    reads = Capability.READS_CUSTOMERS
    writes = Capability.WRITES_CUSTOMERS
    object_type = "customer"
    settings_model = CustomerFlowSettings
    upsert = True
    record_label = _("Customer")

    def fetch_changed(self, source: Any, since: dt.datetime | None, until: dt.datetime | None):
        return source.fetch_customers_changed(since, until=until)

    def fetch_one(self, source: Any, source_id: str) -> Fetched[Party]:
        return source.fetch_customer(source_id)

    def facts(self, fetched: Fetched[Party], context: FlowContext) -> dict[str, Any]:
        facts = super().facts(fetched, context)
        if fetched.item is not None:
            facts.update(reference=fetched.item.email[:120])
        return facts

    def prepare(self, item: Party, context: FlowContext) -> Prepared:
        return Prepared(item, sent={"mapping_version": context.mapping_version})

    def push(self, target: Any, prepared: Prepared, context: FlowContext, record: Any) -> PushResult:
        customer: Party = prepared.document
        target_id = record.target_id
        if not target_id:
            existing = target.find_customer(customer)
            if existing is None:
                return target.create_customer(customer, context.target_settings)
            if not context.settings.update_existing:
                return existing
            target_id = existing.target_id
        return target.update_customer(target_id, customer, context.target_settings)


KINDS: dict[str, FlowKind] = {
    kind.name: kind
    for kind in (
        OrdersToInvoices(),
        CreditOrdersToCreditNotes(),
        OrdersToBatch(),
        Products(),
        Stock(),
        Customers(),
    )
}


def kind_of(name: str) -> FlowKind:
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown flow kind {name!r}; known: {', '.join(KINDS)}") from None


def settings_for(
    kind: FlowKind, target_cls: type[Connector], data: dict, target_data: dict
) -> tuple[Any, Any]:
    """Both settings documents of a flow, validated (``SettingsError`` with every problem)."""
    from .flow_settings import SettingsError, migrate, validate

    problems: dict[str, str] = {}
    settings = target_settings = None
    data = dict(data or {})
    mapping = data.pop("mapping", None)  # the Datamapper's own document (``koppeling.mapping``)
    if mapping is not None:
        from koppeling.core.messages import english
        from koppeling.mapping import MappingSpec

        spec, mapping_problems = MappingSpec.from_json(mapping)
        if spec is None:
            problems["settings.mapping"] = "; ".join(english(p) for p in mapping_problems)
    try:
        settings = validate(kind.settings_model, migrate(data), where="settings")
    except SettingsError as exc:
        problems.update(exc.problems)
    model: type[BaseModel] | None = target_cls.settings_model if target_cls is not None else None
    if target_cls is None:
        pass
    elif model is not None:
        clean = {k: v for k, v in (target_data or {}).items() if k != "version"}
        try:
            target_settings = validate(model, clean, where="target_settings")
        except SettingsError as exc:
            problems.update(exc.problems)
    elif target_data and set(target_data) - {"version"}:
        problems["target_settings"] = f"{target_cls.label} takes no target settings"
    if problems:
        raise SettingsError(problems)
    return settings, target_settings
