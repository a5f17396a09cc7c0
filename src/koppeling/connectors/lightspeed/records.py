"""The Lightspeed simulator's shop data: a store of orders, customers, invoices and shipments, seeded
deterministically, and rendered in the shapes of the real API's sample bodies.

Field names, their order, the ``{"resource": {"id", "url", "link", "embedded"}}`` blocks, the number
formats (``ORD00018``, ``INV00033``, ``SHIP00018``) and the money conventions (JSON numbers, VAT
rates as fractions, ``base*`` prices to 4 decimals, ``price*`` to 2) follow the verbatim samples in
``tests/connectors/lightspeed/samples/`` (jessegall/php-lightspeed-sdk, identical to the
official docs' examples). Values for a Dutch, VAT-inclusive shop (how it derives excl. prices from
incl. ones) are inferred; ``docs/connectors/lightspeed.md`` lists what is verified and what is not.
Money is kept as ``Decimal`` here and becomes a JSON number only when a body is encoded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .. import jsonbody

__all__ = [
    "COUNTRIES",
    "LANGUAGES",
    "ORDER_STATUSES",
    "PAYMENT_METHODS",
    "PAYMENT_STATUSES",
    "SHIPMENT_STATUSES",
    "TAXES",
    "WEBHOOK_ACTIONS",
    "WEBHOOK_GROUPS",
    "Links",
    "OrderState",
    "Store",
    "encode",
    "iso",
    "recompute_totals",
]

CENT = Decimal("0.01")
BASE = Decimal("0.0001")
ZERO = Decimal(0)

#: [V] NickTacke/lightspeed-client src/constants/enums.ts, jessegall/php-lightspeed-sdk src/Enums.
ORDER_STATUSES = (
    "on_hold",
    "processing_awaiting_payment",
    "processing_awaiting_shipment",
    "processing_awaiting_pickup",
    "processing_ready_for_pickup",
    "completed",
    "completed_shipped",
    "completed_picked_up",
    "cancelled",
)
PAYMENT_STATUSES = ("not_paid", "partially_paid", "paid", "cancelled")
SHIPMENT_STATUSES = ("not_shipped", "partially_shipped", "shipped", "cancelled")
#: [V] developers.seoshop.com/api/tutorials/webhooks (+ "returns" from both SDKs).
WEBHOOK_GROUPS = (
    "customers",
    "invoices",
    "orders",
    "products",
    "quotes",
    "reviews",
    "returns",
    "shipments",
    "subscriptions",
    "tickets",
    "variants",
)
WEBHOOK_ACTIONS = ("created", "updated", "deleted", "paid", "shipped", "answered", "*")

LANGUAGES: dict[str, dict[str, Any]] = {
    "nl": {"id": 1, "code": "nl", "locale": "nl_NL", "title": "Nederlands"},
    "en": {"id": 2, "code": "en", "locale": "en_GB", "title": "English"},
    "de": {"id": 3, "code": "de", "locale": "de_DE", "title": "Deutsch"},
    "fr": {"id": 4, "code": "fr", "locale": "fr_FR", "title": "Français"},
}
#: Country objects as in the samples (``{id, code, code3, title}``, lower-case codes). Belgium is
#: id 21 [V, a live client test]; the other ids are [S].
COUNTRIES: dict[str, dict[str, Any]] = {
    "NL": {"id": 150, "code": "nl", "code3": "nld", "title": "Nederland"},
    "BE": {"id": 21, "code": "be", "code3": "bel", "title": "België"},
    "DE": {"id": 81, "code": "de", "code3": "deu", "title": "Duitsland"},
}
#: ``{"tax": {id, isDefault, rate, title}}`` [V sample shape]; the rates of a Dutch shop.
TAXES: tuple[dict[str, Any], ...] = (
    {"id": 26998, "isDefault": True, "rate": Decimal("0.21"), "title": "21% BTW"},
    {"id": 26999, "isDefault": False, "rate": Decimal("0.09"), "title": "9% BTW"},
    {"id": 27000, "isDefault": False, "rate": Decimal("0"), "title": "0% BTW"},
)
#: ``{"paymentmethod": {id, key, title}}`` [V sample shape; ``invoice`` / id 126 is the sample];
#: the ``fee`` (incl. 21% VAT, charged as ``paymentPrice*``) is [S].
PAYMENT_METHODS: tuple[dict[str, Any], ...] = (
    {"id": 121, "key": "ideal", "title": "iDEAL", "fee": None},
    {"id": 122, "key": "paypal", "title": "PayPal", "fee": Decimal("0.35")},
    {"id": 123, "key": "creditcard", "title": "Creditcard", "fee": Decimal("0.50")},
    {"id": 124, "key": "mistercash", "title": "Bancontact", "fee": None},
    {"id": 125, "key": "banktransfer", "title": "Overboeking", "fee": None},
    {"id": 126, "key": "invoice", "title": "Op factuur", "fee": Decimal("1.50")},
)


def encode(payload: Any) -> bytes:
    """A body as the API sends it: compact UTF-8 JSON, ``Decimal`` money as exact JSON numbers."""
    return jsonbody.encode(payload)


def iso(moment: dt.datetime) -> str:
    """``2019-08-21T17:15:00+00:00`` (the samples' timestamp format, UTC)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def q2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def q4(value: Decimal) -> Decimal:
    return value.quantize(BASE, rounding=ROUND_HALF_UP)


def _excl(incl: Decimal, rate: Decimal, quantum: Decimal) -> Decimal:
    return (incl / (1 + rate)).quantize(quantum, rounding=ROUND_HALF_UP)


class Links:
    """Builds ``{"resource": {...}}`` blocks for one cluster base URL and shop language."""

    def __init__(self, base_url: str, language: str) -> None:
        self.prefix = f"{base_url.rstrip('/')}/{language}/"

    def link(self, url: str) -> str:
        path, _, query = url.partition("?")
        return f"{self.prefix}{path}.json" + (f"?{query}" if query else "")

    def resource(self, rid: int | bool, url: str, embedded: Any = None) -> dict[str, Any]:
        block: dict[str, Any] = {"id": rid, "url": url, "link": self.link(url)}
        if embedded is not None:
            block["embedded"] = embedded
        return {"resource": block}


@dataclass(slots=True)
class OrderState:
    """One order: its flat fields (sample order), product lines, and the ids it links to."""

    id: int
    fields: dict[str, Any]
    products: list[dict[str, Any]]
    customer_id: int
    quote_id: int
    invoice_ids: list[int] = field(default_factory=list)
    shipment_ids: list[int] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Store:
    """Everything the shop holds; ids are unique per kind and ascending."""

    shop_id: int = 311_240
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    orders: dict[int, OrderState] = field(default_factory=dict)
    invoices: dict[int, dict[str, Any]] = field(default_factory=dict)
    invoice_items: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    shipments: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_ids: dict[str, int] = field(
        default_factory=lambda: {
            "customer": 2_178_882,
            "order": 1_623_550,
            "product": 3_515_302,
            "invoice": 1_741_975,
            "invoice_item": 7_041_125,
            "shipment": 1_599_522,
            "event": 14_874_034,
            "quote": 20_859_265,
            "order_number": 1,
            "invoice_number": 1,
        }
    )

    def take(self, kind: str) -> int:
        value = self.next_ids[kind]
        self.next_ids[kind] = value + 1
        return value

    # ------------------------------------------------------------ rendering

    def render_customer(self, cid: int, links: Links, *, language: dict[str, Any] | bool) -> dict[str, Any]:
        out = dict(self.customers[cid])
        out["groups"] = links.resource(False, f"groups/customers?customer={cid}")
        out["invoices"] = links.resource(False, f"invoices?customer={cid}")
        out["language"] = language
        for name in ("orders", "reviews", "shipments", "tickets"):
            out[name] = links.resource(False, f"{name}?customer={cid}")
        out["metafields"] = links.resource(False, f"customers/{cid}/metafields")
        out["login"] = links.resource(False, f"customers/{cid}/login")
        return out

    def render_invoice(self, iid: int, links: Links) -> dict[str, Any]:
        inv = self.invoices[iid]
        out = {k: v for k, v in inv.items() if not k.startswith("_")}
        out["invoice"] = False
        out["isCreditNote"] = False
        out["creditNote"] = False
        out["order"] = links.resource(inv["_order"], f"orders/{inv['_order']}")
        out["customer"] = links.resource(inv["_customer"], f"customers/{inv['_customer']}")
        out["items"] = links.resource(False, f"invoices/{iid}/items")
        out["metafields"] = links.resource(False, f"invoices/{iid}/metafields")
        out["events"] = links.resource(False, f"orders/events?invoice={iid}")
        return out

    def render_shipment(self, sid: int, links: Links) -> dict[str, Any]:
        shp = self.shipments[sid]
        out = {k: v for k, v in shp.items() if not k.startswith("_")}
        out["customer"] = links.resource(shp["_customer"], f"customers/{shp['_customer']}")
        out["order"] = links.resource(shp["_order"], f"orders/{shp['_order']}")
        out["products"] = links.resource(False, f"shipments/{sid}/products")
        out["metafields"] = links.resource(False, f"shipments/{sid}/metafields")
        out["events"] = links.resource(False, f"orders/events?shipment={sid}")
        return out

    @staticmethod
    def render_product(line: dict[str, Any], links: Links) -> dict[str, Any]:
        out = {k: v for k, v in line.items() if not k.startswith("_")}
        out["product"] = links.resource(line["_product"], f"products/{line['_product']}")
        out["variant"] = links.resource(line["_variant"], f"variants/{line['_variant']}")
        return out

    def render_event(self, event: dict[str, Any], links: Links) -> dict[str, Any]:
        out = {k: v for k, v in event.items() if not k.startswith("_")}
        oid, iid, sid = event["_order"], event.get("_invoice"), event.get("_shipment")
        out["order"] = links.resource(oid, f"orders/{oid}")
        out["invoice"] = links.resource(iid, f"invoices/{iid}") if iid else False
        out["shipment"] = links.resource(sid, f"shipments/{sid}") if sid else False
        return out

    def render_order(self, oid: int, links: Links, *, embed: bool) -> dict[str, Any]:
        """The order as ``GET /orders/{id}.json`` (``embed``) or a list page shows it."""
        state = self.orders[oid]
        out = {k: v for k, v in state.fields.items() if not k.startswith("_")}
        cid = state.customer_id

        out["customer"] = links.resource(
            cid,
            f"customers/{cid}",
            self.render_customer(cid, links, language=out["language"]) if embed else None,
        )
        out["invoices"] = links.resource(
            False,
            f"invoices?order={oid}",
            [self.render_invoice(i, links) for i in state.invoice_ids] if embed else None,
        )
        out["shipments"] = links.resource(
            False,
            f"shipments?order={oid}",
            [self.render_shipment(s, links) for s in state.shipment_ids] if embed else None,
        )
        out["products"] = links.resource(
            False,
            f"orders/{oid}/products",
            [self.render_product(p, links) for p in state.products] if embed else None,
        )
        out["metafields"] = links.resource(False, f"orders/{oid}/metafields", [] if embed else None)
        out["quote"] = links.resource(state.quote_id, f"quotes/{state.quote_id}")
        out["events"] = links.resource(
            False,
            f"orders/events?order={oid}",
            [self.render_event(e, links) for e in state.events] if embed else None,
        )
        return out

    # ------------------------------------------------------------ changes

    def add_event(self, state: OrderState, kind: str, message: str, at: dt.datetime, channel: str) -> None:
        event: dict[str, Any] = {
            "id": self.take("event"),
            "createdAt": iso(at),
            "channel": channel,
            "type": kind,
            "message": message,
            "comment": None,
            "_order": state.id,
        }
        if kind == "invoice" and state.invoice_ids:
            event["_invoice"] = state.invoice_ids[-1]
        if kind == "shipment" and state.shipment_ids:
            event["_shipment"] = state.shipment_ids[-1]
        state.events.append(event)

    def add_invoice(self, state: OrderState, at: dt.datetime) -> int:
        """The shop's own invoice (setting "create on payment"), numbered ``INV00001``…"""
        iid = self.take("invoice")
        number = self.take("invoice_number")
        f = state.fields
        self.invoices[iid] = {
            "id": iid,
            "createdAt": iso(at),
            "updatedAt": iso(at),
            "number": f"INV{number:05d}",
            "status": "paid" if f["paymentStatus"] == "paid" else "not_paid",
            "isVatShifted": bool(f["_vat_shifted"]),
            "priceExcl": f["priceExcl"],
            "priceIncl": f["priceIncl"],
            "doNotifyNew": False,
            "doNotifyPaid": False,
            "_order": state.id,
            "_customer": state.customer_id,
        }
        self.invoice_items[iid] = self._invoice_items(state)
        state.invoice_ids.append(iid)
        self.add_event(state, "invoice", "new", at, "auto")
        return iid

    def _invoice_items(self, state: OrderState) -> list[dict[str, Any]]:
        items = []
        f = state.fields
        for line in state.products:
            items.append(self._item("product", line["productTitle"], line["variantTitle"], line, line["id"]))
        extra = (
            ("shipment", "_shipmentcosts_", f["shipmentTitle"], "shipment"),
            ("payment", "_paymentcosts_", f["paymentTitle"], "payment"),
        )
        for kind, title, variant, prefix in extra:
            if f[f"{prefix}PriceIncl"] or kind == "payment":
                values = {
                    "taxRate": f[f"{prefix}TaxRate"],
                    "basePriceExcl": f[f"{prefix}BasePriceExcl"],
                    "basePriceIncl": f[f"{prefix}BasePriceIncl"],
                    "priceExcl": f[f"{prefix}PriceExcl"],
                    "priceIncl": f[f"{prefix}PriceIncl"],
                    "discountExcl": ZERO,
                    "discountIncl": ZERO,
                    "quantityOrdered": 1,
                }
                items.append(self._item(kind, title, variant, values, None))
        return items

    def _item(
        self, kind: str, title: str, variant: str, v: dict[str, Any], opid: int | None
    ) -> dict[str, Any]:
        # [V] invoiceItem.json field names; "_shipmentcosts_" by analogy with "_paymentcosts_" [I]
        return {
            "id": self.take("invoice_item"),
            "type": kind,
            "title": title,
            "variant": variant,
            "orderProductId": opid,
            "articleCode": v.get("articleCode", ""),
            "ean": v.get("ean", ""),
            "sku": v.get("sku", ""),
            "taxRate": v["taxRate"],
            "basePriceExcl": v["basePriceExcl"],
            "basePriceIncl": v["basePriceIncl"],
            "priceExcl": v["priceExcl"],
            "priceIncl": v["priceIncl"],
            "discountExcl": v["discountExcl"],
            "discountIncl": v["discountIncl"],
            "quantity": v["quantityOrdered"],
        }

    def add_shipment(self, state: OrderState, at: dt.datetime) -> int:
        sid = self.take("shipment")
        shipped = state.fields["shipmentStatus"]
        self.shipments[sid] = {
            "id": sid,
            "createdAt": iso(at),
            "updatedAt": iso(at),
            "number": "SHIP" + state.fields["number"][3:],
            "status": shipped,
            "trackingCode": "",
            "doNotifyShipped": False,
            "doNotifyReadyForPickup": False,
            "doNotifyTrackingCode": False,
            "totalWeight": sum(int(p["weight"]) * int(p["quantityOrdered"]) for p in state.products),
            "totalSizeX": 0,
            "totalSizeY": 0,
            "totalSizeZ": 0,
            "_order": state.id,
            "_customer": state.customer_id,
        }
        state.shipment_ids.append(sid)
        self.add_event(state, "shipment", "new", at, "auto")
        return sid


def recompute_totals(state: OrderState) -> None:
    """Derive every excl./line/total amount from the incl. unit prices, quantities and rates.

    Per line: ``basePriceExcl = basePriceIncl / (1 + taxRate)`` to 4 decimals; ``priceIncl =
    basePriceIncl x quantity - discountIncl``; ``priceExcl = priceIncl / (1 + taxRate)`` to the cent.
    Shipment and payment fee the same way. ``taxRates`` of the order cover the products only, as in
    the one verbatim sample (there: 2.10 of the 2.40 VAT; the shipment's 0.30 sits in
    ``shipmentTaxRates``). The rounding rules for an incl.-priced shop are [I].
    """
    f = state.fields
    by_rate: dict[Decimal, Decimal] = {}
    total_excl = total_incl = ZERO
    weight = 0
    for line in state.products:
        rate = Decimal(str(line["taxRate"]))
        qty = int(line["quantityOrdered"])
        base_incl = Decimal(str(line["basePriceIncl"]))
        disc_incl = Decimal(str(line.get("discountIncl") or 0))
        line["basePriceExcl"] = _excl(base_incl, rate, BASE)
        line["priceIncl"] = q2(base_incl * qty - disc_incl)
        line["priceExcl"] = _excl(line["priceIncl"], rate, CENT)
        line["discountExcl"] = _excl(disc_incl, rate, CENT)
        tax = line["priceIncl"] - line["priceExcl"]
        line["taxRates"] = [{"name": "BTW", "rate": rate, "amount": tax}]
        line["quantityInvoiced"] = qty if f["paymentStatus"] == "paid" else 0
        by_rate[rate] = by_rate.get(rate, ZERO) + tax
        total_excl += line["priceExcl"]
        total_incl += line["priceIncl"]
        weight += int(line["weight"]) * qty
    for prefix in ("shipment", "payment"):
        rate = Decimal(str(f[f"{prefix}TaxRate"]))
        base_incl = Decimal(str(f[f"{prefix}BasePriceIncl"]))
        disc = Decimal(str(f.get(f"{prefix}DiscountIncl") or 0))
        f[f"{prefix}BasePriceExcl"] = _excl(base_incl, rate, BASE)
        incl = q2(base_incl - disc)
        excl = _excl(incl, rate, CENT)
        f[f"{prefix}PriceIncl"], f[f"{prefix}PriceExcl"] = incl, excl
        if prefix == "shipment":
            f["shipmentDiscountExcl"] = _excl(disc, rate, CENT)
        f[f"{prefix}TaxRates"] = [{"name": "BTW", "rate": rate, "amount": incl - excl}]
        total_excl += excl
        total_incl += incl
    f["priceExcl"] = q2(total_excl)
    f["priceIncl"] = q2(total_incl)
    f["taxRates"] = [
        {"name": "BTW", "rate": r, "amount": a} for r, a in sorted(by_rate.items(), reverse=True)
    ]
    f["weight"] = weight
