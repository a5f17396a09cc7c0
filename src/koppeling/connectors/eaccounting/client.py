"""Visma eAccounting as a koppeling connector: sales orders and customers out, articles and stock in.

Seed 004 (APIcenter's AccountView ↔ eAccounting) uses it both ways: its sales orders and customers
go to AccountView; AccountView's articles and stock come here. The wire protocol (tokens, errors)
is ``api.py``, the connection and list reading ``transport.py`` (orders and customers are read in
change order by seeking, which is what lets ``cursor_ordered`` be True), the records ⇄ core objects
``translate.py``; facts and their sources are in ``docs/connectors/eaccounting.md``.

Articles are found by ``Number`` (the SKU) and else by barcode (the EAN); an update reads the
article, overlays only the fields the flow may write, and PUTs the whole (PUT replaces).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from koppeling.core.messages import Outcome
from koppeling.core.models import Order, Party
from koppeling.core.money import AmountError, to_decimal
from koppeling.core.products import PRODUCT_FIELDS, Product, StockCalculation, StockLevel
from koppeling.mapping import MappingSpec, Schema
from koppeling.mapping.sources import MappedSource

from ..base import (
    Capability,
    Fetched,
    Findability,
    PushResult,
    RateLimit,
    ReadsCustomers,
    ReadsOrders,
    Status,
    WritesProducts,
    WritesStock,
)
from ..errors import AuthError, DataError, NotFound, ResponseError
from ..registry import register
from .api import SYSTEM, EAccountingCode
from .mapping import (
    article_payload,
    customer_mapping,
    customer_schema,
    order_mapping,
    order_schema,
    stock_payload,
)
from .translate import (
    ORDER_STATUSES,
    article_changes,
    article_fields,
    customer_fingerprint,
    order_fingerprint,
    parse_utc,
    record_error,
    translate_customer,
    translate_order,
    vat_percent,
)
from .transport import PAGE_MAX, EAccountingTransport

__all__ = ["EAccountingConnector", "EAccountingSettings"]

#: what each capability needs: (any of these scopes, what for, an endpoint that proves it)
_NEEDS: dict[Capability, tuple[tuple[str, ...], str, str]] = {
    Capability.READS_ORDERS: (("ea:sales", "ea:sales_readonly"), "read sales orders", "/v2/orders"),
    Capability.READS_CUSTOMERS: (("ea:sales", "ea:sales_readonly"), "read customers", "/v2/customers"),
    Capability.WRITES_PRODUCTS: (("ea:sales",), "create and update articles", "/v2/articles"),
    Capability.WRITES_STOCK: (("ea:sales",), "set the stock of articles", "/v2/articles"),
}


class EAccountingSettings(BaseModel):
    """What a flow into eAccounting (articles, stock) chooses.

    Keys are a VAT rate ("21", "9", "0") or a source unit ("st", "kg"), ``*`` the default; values
    name an eAccounting article account coding or unit by its Id, Name or Code. Without a match the
    coding whose VAT rate equals the article's (Goods before Services) and the unit whose code or
    abbreviation equals the article's unit are used.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    codings: dict[str, str] = Field(default_factory=dict)
    units: dict[str, str] = Field(default_factory=dict)

    @field_validator("codings")
    @classmethod
    def _rates(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key != "*":
                try:
                    Decimal(key)
                except ArithmeticError:
                    raise ValueError(f"{key!r} is not a VAT rate (use e.g. 21, 9, 0 or *)") from None
        return value


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@register
class EAccountingConnector(
    EAccountingTransport, MappedSource, ReadsOrders, ReadsCustomers, WritesProducts, WritesStock
):
    """One eAccounting company through one OAuth2 authorisation.

    ``config.options``: ``page_size`` (1-1000, default 100), ``identity_url`` (the token server;
    default Visma's for the real hosts, else the base URL — a simulator serves both),
    ``shipping_articles`` (article numbers whose order rows are shipping costs),
    ``prices_include_vat`` (order row prices include VAT; default False), ``shop`` (label for
    ``Order.shop``), ``rate_limits`` (an account's own).
    """

    system: ClassVar[str] = "eaccounting"
    label: ClassVar[str] = "Visma eAccounting"
    credential_fields: ClassVar[tuple[str, ...]] = (
        "client_id",
        "client_secret",
        "access_token",
        "access_token_expires_at",
        "refresh_token",
    )
    default_base_url: ClassVar[str] = "https://eaccountingapi.vismaonline.com"
    #: articles (what koppeling writes here) are found again by their Number
    findable: ClassVar[Findability] = Findability.BY_REFERENCE
    #: 600 per minute per client and endpoint [V rate-limits]; one bucket for all endpoints is
    #: stricter than that, never looser
    rate_limits: ClassVar[tuple[RateLimit, ...]] = (RateLimit("api", 600, 60, frozenset({"*"})),)
    cursor_ordered: ClassVar[bool] = True
    settings_model: ClassVar[type[BaseModel]] = EAccountingSettings
    max_in_flight: ClassVar[int] = 4
    #: customers and orders are read through the flow's mapping (``mapping.py``)
    mapping_kinds: ClassVar[tuple[str, ...]] = ("customers", "orders_to_invoices")

    def check_rights(self, capabilities: frozenset[Capability]) -> None:
        """The scopes (and, for orders, the module) each capability needs; ``AuthError`` names the
        first that is missing. Scopes come from the token answer when it gave them; reads are also
        proven with one small request each (that also finds a missing module)."""
        scope = str(self.config.credentials.get("scope") or "")
        granted = set(scope.split())
        for required, purpose in (("ea:api", "use the API"), ("offline_access", "stay connected")):
            if granted and required not in granted:
                raise AuthError(
                    EAccountingCode.SCOPE_MISSING, {"system": SYSTEM, "scope": required, "purpose": purpose}
                )
        probes: list[str] = []
        for capability in sorted(capabilities):
            if capability not in _NEEDS:
                continue
            alternatives, purpose, probe = _NEEDS[capability]
            if granted and not granted & set(alternatives):
                raise AuthError(
                    EAccountingCode.SCOPE_MISSING,
                    {"system": SYSTEM, "scope": " or ".join(alternatives), "purpose": purpose},
                )
            if probe not in probes:
                probes.append(probe)
        for probe in probes:
            self._page(probe, {"$page": 1, "$pagesize": 1})

    # ------------------------------------------------------------ look-ups (cached for one run)

    def _customer(self, ident: str) -> dict[str, Any]:
        with self._lock:
            known = self._customers.get(ident)
        if known is None:
            known = self.call("GET", f"/v2/customers/{ident}")
            if not isinstance(known, dict):
                raise ResponseError(
                    params={"system": SYSTEM, "detail": f"GET /v2/customers/{ident}: not an object"}
                )
            with self._lock:
                self._customers[ident] = known
        return known

    def _article(self, ident: str) -> dict[str, Any] | None:
        with self._lock:
            if ident in self._articles:
                return self._articles[ident]
        try:
            record = self.call("GET", f"/v2/articles/{ident}")
        except NotFound:
            record = None
        with self._lock:
            self._articles[ident] = record if isinstance(record, dict) else None
        return self._articles[ident]

    def _rate_of(self, article: Mapping[str, Any]) -> Decimal | None:
        coding = next(
            (c for c in self._list("/v2/articleaccountcodings") if c.get("Id") == article.get("CodingId")),
            None,
        )
        return vat_percent(coding)

    # ------------------------------------------------------------ orders

    def statuses(self) -> list[Status]:
        """The four order statuses of the API [V spec] (not per company)."""
        return [Status(id=key, label=label) for key, label in ORDER_STATUSES.items()]

    def _fetched_order(self, record: Any, path: str) -> Fetched[Order]:
        fingerprint = order_fingerprint(record)
        if not isinstance(record, dict):
            return Fetched(
                f"?{path}", None, fingerprint, error=record_error("Order", "?", path, "not an object")
            )
        source_id = str(record.get("Id") or record.get("Number") or f"?{path}")
        number = str(record.get("Number") or "")
        moment = parse_utc(record.get("ModifiedUtc"))
        try:
            customer = (
                self._customer(str(record.get("CustomerId") or "")) if record.get("CustomerId") else None
            )
            if customer is None:
                raise record_error("Order", number, f"{path}.CustomerId", "missing")
            order = translate_order(
                record,
                customer=customer,
                article=self._article,
                rate_of=self._rate_of,
                options=self.config.options or {},
                path=path,
                mapping=self.mapping_for("orders_to_invoices"),
            )
        except NotFound:
            error = record_error("Order", number, f"{path}.CustomerId", "no such customer in eAccounting")
            return Fetched(source_id, None, fingerprint, moment, error, number)
        except DataError as exc:
            return Fetched(source_id, None, fingerprint, moment, exc, number)
        return Fetched(source_id, order, fingerprint, moment, None, number)

    def fetch_changed(
        self, since: dt.datetime | None, *, until: dt.datetime | None = None
    ) -> Iterator[Fetched[Order]]:
        """Orders changed in ``[since, until)`` by ``ModifiedUtc``, in change order (see ``transport``)."""
        for i, record in enumerate(self._changed("/v2/orders", "ModifiedUtc", since, until)):
            yield self._fetched_order(record, f"orders[{i}]")

    def fetch_created(self, start: dt.date, end: dt.date | None = None) -> Iterator[Fetched[Order]]:
        """Orders dated ``start``..``end`` (``OrderDate``), by number: backfills."""
        clauses = [f"OrderDate ge {start.isoformat()}"]
        if end is not None:
            clauses.append(f"OrderDate lt {(end + dt.timedelta(days=1)).isoformat()}")
        params = {"$filter": " and ".join(clauses), "$orderby": "Number"}
        for i, record in enumerate(self._all("/v2/orders", params)):
            yield self._fetched_order(record, f"orders[{i}]")

    def fetch_one(self, source_id: str) -> Fetched[Order]:
        """One order by its Id, or by its number (what a person types for Verwerk)."""
        wanted = str(source_id).strip()
        if _is_uuid(wanted):
            return self._fetched_order(self.call("GET", f"/v2/orders/{wanted}"), f"order[{wanted}]")
        if wanted.isdigit():
            rows = self._page("/v2/orders", {"$filter": f"Number eq {int(wanted)}", "$pagesize": 2})
            if rows:
                return self._fetched_order(rows[0], f"order[{wanted}]")
        raise NotFound(params={"system": SYSTEM, "what": f"order {wanted}"})

    # ------------------------------------------------------------ customers

    def _fetched_customer(self, record: Any, path: str) -> Fetched[Party]:
        mapping = self.mapping_for("customers")
        fingerprint = customer_fingerprint(record, mapping.version)
        source_id = str(record.get("Id")) if isinstance(record, dict) else f"?{path}"
        number = str(record.get("CustomerNumber") or "") if isinstance(record, dict) else ""
        moment = parse_utc(record.get("ChangedUtc")) if isinstance(record, dict) else None
        try:
            party = translate_customer(record, path, mapping)
        except DataError as exc:
            return Fetched(source_id, None, fingerprint, moment, exc, number)
        return Fetched(source_id, party, fingerprint, moment, None, number)

    def fetch_customers_changed(
        self, since: dt.datetime | None, *, until: dt.datetime | None = None
    ) -> Iterator[Fetched[Party]]:
        """Customers changed in ``[since, until)`` by ``ChangedUtc``, in change order."""
        for i, record in enumerate(self._changed("/v2/customers", "ChangedUtc", since, until)):
            yield self._fetched_customer(record, f"customers[{i}]")

    def fetch_customer(self, source_id: str) -> Fetched[Party]:
        """One customer by its Id; ``NotFound`` if eAccounting does not know it."""
        return self._fetched_customer(
            self.call("GET", f"/v2/customers/{source_id}"), f"customer[{source_id}]"
        )

    # ------------------------------------------------------------ the Datamapper

    def mapping_schema(self, kind: str) -> Schema:
        return order_schema() if kind == "orders_to_invoices" else customer_schema()

    def default_mapping(self, kind: str) -> MappingSpec:
        return order_mapping() if kind == "orders_to_invoices" else customer_mapping()

    def mapping_records(self, kind: str, source_id: str = "", limit: int = 1) -> list[dict[str, Any]]:
        """Records for the preview: ``source_id``'s (an Id, or an order's number), else the first
        ``limit``. An order comes with its customer under ``customer``, as the mapping reads it."""
        if kind != "orders_to_invoices":
            if source_id:
                record = self.call("GET", f"/v2/customers/{source_id}")
                return [record] if isinstance(record, dict) else []
            rows = self._page("/v2/customers", {"$pagesize": max(1, limit)})
            return [r for r in rows[:limit] if isinstance(r, dict)]
        if _is_uuid(source_id):
            orders = [self.call("GET", f"/v2/orders/{source_id}")]
        elif source_id.strip().isdigit():
            orders = self._page("/v2/orders", {"$filter": f"Number eq {int(source_id)}", "$pagesize": 2})
        else:
            orders = self._page("/v2/orders", {"$pagesize": max(1, limit), "$orderby": "ModifiedUtc desc"})
        records = []
        for order in orders[:limit]:
            if isinstance(order, dict) and order.get("CustomerId"):
                records.append({**order, "customer": self._customer(str(order["CustomerId"]))})
        return records

    def mapped_item(self, kind: str, record: Any, spec: MappingSpec) -> Party | Order:
        if kind != "orders_to_invoices":
            return translate_customer(record, "customer", spec)
        order = {k: v for k, v in record.items() if k != "customer"}
        return translate_order(
            order,
            customer=record.get("customer") or {},
            article=self._article,
            rate_of=self._rate_of,
            options=self.config.options or {},
            mapping=spec,
        )

    def mapping_payload(
        self, kind: str, item: Any, settings: Any = None, flow_settings: Any = None
    ) -> dict[str, Any]:
        """What the write of ``item`` would send: an article's create body (coding and unit as a
        run resolves them; left out when they cannot be resolved — the run would then stop with
        that reason), or a stock level's new balance by the flow's calculation."""
        if isinstance(item, StockLevel):
            calculation = getattr(flow_settings, "calculation", StockCalculation.AVAILABLE)
            return stock_payload(item, item.quantity(calculation))
        try:
            coding = self.coding_for(item, settings)
        except DataError:
            coding = None
        try:
            unit = self.unit_for(item, settings)
        except DataError:
            unit = None
        return article_payload(item, coding, unit)

    # ------------------------------------------------------------ articles

    def article_by_number(self, number: str) -> dict[str, Any] | None:
        """The article whose ``Number`` is ``number`` (compared case-insensitively, as the API does [I])."""
        rows = self._page("/v2/articles", {"$filter": f"Number eq {_quoted(number)}", "$pagesize": 10})
        wanted = number.strip().casefold()
        return next(
            (r for r in rows if isinstance(r, dict) and str(r.get("Number", "")).casefold() == wanted), None
        )

    def article_by_barcode(self, ean: str) -> dict[str, Any] | None:
        """The article with this barcode. The API cannot filter on ``Barcodes`` (a collection), so the
        articles are read once per run, in the largest pages the API gives (1,000: a 50,000-article
        company is 50 calls, not 500 — a first sync runs this once per run), and indexed."""
        with self._lock:
            index = self._by_barcode
        if index is None:
            index = {}
            for record in self._all("/v2/articles", page_size=PAGE_MAX):
                for barcode in record.get("Barcodes") or [] if isinstance(record, dict) else []:
                    if isinstance(barcode, dict) and barcode.get("Barcode"):
                        index[str(barcode["Barcode"])] = record
            with self._lock:
                self._by_barcode = index
        return index.get(ean.strip())

    def find_product(self, product: Product) -> PushResult | None:
        """The article with this SKU as ``Number``, else with this EAN as barcode."""
        record = self.article_by_number(product.sku) if product.sku else None
        if record is None and product.ean:
            record = self.article_by_barcode(product.ean)
        return None if record is None else PushResult(str(record["Id"]), number=str(record.get("Number", "")))

    def _pick(self, path: str, wanted: str, keys: tuple[str, ...]) -> dict[str, Any] | None:
        low = wanted.strip().casefold()
        return next(
            (r for r in self._list(path) if any(str(r.get(k) or "").casefold() == low for k in keys)), None
        )

    def coding_for(self, product: Product, settings: EAccountingSettings | None) -> str:
        """The article account coding: the flow's choice for the VAT rate, else the one whose rate it is."""
        settings = settings or EAccountingSettings()
        rate = product.vat_rate
        key = "" if rate is None else format(rate.normalize(), "f")
        chosen = settings.codings.get(key) or settings.codings.get("*")
        params = {"system": SYSTEM, "sku": product.sku, "rate": key or "?"}
        if chosen:
            found = self._pick("/v2/articleaccountcodings", chosen, ("Id", "Name", "NameEnglish"))
            if found is None:
                raise DataError(EAccountingCode.NO_CODING, {**params, "detail": f"no coding {chosen!r}"})
            return str(found["Id"])
        if rate is not None:
            codings = [
                c
                for c in self._list("/v2/articleaccountcodings")
                if c.get("IsActive", True) and vat_percent(c) == rate.normalize()
            ]
            codings.sort(key=lambda c: c.get("Type") != "Goods")
            if codings:
                return str(codings[0]["Id"])
        raise DataError(EAccountingCode.NO_CODING, {**params, "detail": "none has this VAT rate"})

    def unit_for(self, product: Product, settings: EAccountingSettings | None) -> str:
        """The unit: the flow's choice for the article's unit, else the unit with that code (default "st")."""
        settings = settings or EAccountingSettings()
        chosen = settings.units.get(product.unit) or settings.units.get("*") or product.unit or "st"
        found = self._pick("/v2/units", chosen, ("Id", "Code", "Abbreviation", "Name"))
        if found is None:
            raise DataError(
                EAccountingCode.NO_UNIT,
                {
                    "system": SYSTEM,
                    "sku": product.sku,
                    "unit": chosen,
                    "detail": "no such unit in eAccounting",
                },
            )
        return str(found["Id"])

    def _warnings(self, product: Product, cut: list[tuple[str, int]]) -> tuple[Outcome, ...]:
        return tuple(
            Outcome(
                EAccountingCode.VALUE_TRUNCATED,
                {"system": SYSTEM, "sku": product.sku, "field": f, "length": n},
            )
            for f, n in cut
        )

    def create_product(self, product: Product, settings: Any = None) -> PushResult:
        """A new article with every field; ``Number`` is the SKU (the EAN when there is none)."""
        number = product.sku or product.ean
        if not number:
            raise DataError(EAccountingCode.SKU_MISSING, {"system": SYSTEM, "name": product.name})
        fields = set(PRODUCT_FIELDS)
        values, cut = article_fields(
            product,
            fields,
            coding_id=self.coding_for(product, settings),
            unit_id=self.unit_for(product, settings),
        )
        body = {"Number": number, **{k: v for k, v in values.items() if v is not None}}
        record = self.call("POST", "/v2/articles", body=body, mutating=True)
        if not isinstance(record, dict) or not record.get("Id"):
            raise ResponseError(params={"system": SYSTEM, "detail": "POST /v2/articles: no Id in the answer"})
        with self._lock:
            if self._by_barcode is not None and product.ean:
                self._by_barcode[product.ean] = record
        return PushResult(
            str(record["Id"]), number=str(record.get("Number", "")), warnings=self._warnings(product, cut)
        )

    def update_product(
        self, target_id: str, product: Product, fields: frozenset[str], settings: Any = None
    ) -> PushResult:
        """Only ``fields`` change (the flow leaves protected fields out); nothing is sent when none
        differs, so running a flow again writes nothing."""
        existing = self.call("GET", f"/v2/articles/{target_id}")
        if not isinstance(existing, dict):
            raise ResponseError(
                params={"system": SYSTEM, "detail": f"GET /v2/articles/{target_id}: not an object"}
            )
        coding = (
            self.coding_for(product, settings)
            if "vat_rate" in fields and product.vat_rate is not None
            else None
        )
        unit = self.unit_for(product, settings) if "unit" in fields and product.unit else None
        values, cut = article_fields(product, fields, coding_id=coding, unit_id=unit)
        changes = article_changes(existing, values)
        result = PushResult(
            str(existing["Id"]), number=str(existing.get("Number", "")), warnings=self._warnings(product, cut)
        )
        if not changes:
            return result
        self.call("PUT", f"/v2/articles/{target_id}", body={**existing, **changes}, mutating=True)
        return result

    # ------------------------------------------------------------ stock

    def set_stock(self, level: StockLevel, quantity: Decimal, settings: Any = None) -> PushResult:
        """``StockBalance`` := ``quantity`` where eAccounting lets us (no stock module).

        Not managed: the balance is left alone (and a stock article is made a plain one). With the
        stock module eAccounting keeps its own stock and the balance is read-only [V spec]: a
        ``DataError`` says so instead of pretending.
        """
        record = self.article_by_number(level.sku)
        params = {"system": SYSTEM, "sku": level.sku}
        if record is None:
            raise DataError(EAccountingCode.ARTICLE_UNKNOWN, params)
        result = PushResult(str(record["Id"]), number=str(record.get("Number", "")))
        if not level.managed:
            if record.get("IsStock"):
                self.call(
                    "PUT", f"/v2/articles/{record['Id']}", body={**record, "IsStock": False}, mutating=True
                )
            return result
        if record.get("IsStock"):
            raise DataError(EAccountingCode.STOCK_MODULE, params)
        if _decimal(record.get("StockBalance")) == quantity:
            return result
        answer = self.call(
            "PUT", f"/v2/articles/{record['Id']}", body={**record, "StockBalance": quantity}, mutating=True
        )
        booked = _decimal(answer.get("StockBalance")) if isinstance(answer, dict) else None
        if booked != quantity:
            raise DataError(EAccountingCode.STOCK_NOT_SET, {**params, "sent": quantity, "booked": booked})
        return result


def _decimal(value: Any) -> Decimal | None:
    try:
        return to_decimal(value if value is not None else 0, field="StockBalance")
    except AmountError:
        return None
