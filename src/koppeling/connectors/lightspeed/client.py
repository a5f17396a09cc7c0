"""Lightspeed eCom (C-Series, formerly SEOshop) as a koppeling order source — read-only.

Auth: HTTP Basic, API key as user and API secret as password [V]; the URL is
``{cluster}/{language}/{resource}.json`` with the cluster (``eu1``/``us1``) and the shop language
(``nl``) from the connection's options. The connector only ever sends GET to shop data: the seed
promises the merchant that the link reads the shop and changes nothing (tested against the
simulator's write log). The one exception is its own set-up: the ``webhooks`` resource
(``register_webhook`` and friends), which changes no order, customer or invoice.

Incremental fetch, and why ``cursor_ordered`` is True although the API cannot sort: the list
endpoint has no sort parameter (only ``page``, ``limit``, ``since_id``, the ``created_at`` /
``updated_at`` bounds and ``fields`` [V NickTacke ListQuery]) and pages by id. So a fetch first
lists the whole window cheaply (``fields=id,updatedAt``, 250 a page, paged by ``since_id`` so a
change during the listing cannot shift a page), sorts it by ``(updatedAt, id)`` and then reads each
order in that order (``GET /orders/{id}.json``: its products and the shop's invoices come embedded,
one call per order). What it yields is therefore in change-time order, and a fetch cut off by a
rate limit or a fault resumes from the last order it yielded instead of from the start — with the
published 300 calls per 5 minutes, a window of more than ~300 changed orders could otherwise never
complete. ``changed_at`` is the ``updatedAt`` of the listing (the order is sorted by it); the
order read a moment later may be newer, which the next window picks up.

Every answer goes through ``api.validate_response``; records become ``Order`` in ``translate``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx

from koppeling.connectors.base import (
    Capability,
    ConnectionConfig,
    Connector,
    Fetched,
    Findability,
    RateLimit,
    ReadsOrders,
    Status,
)
from koppeling.connectors.errors import (
    AuthError,
    ConnectorCode,
    DataError,
    NotFound,
    ResponseError,
    TransientError,
)
from koppeling.connectors.http import ResponseTooLarge
from koppeling.connectors.registry import register as register_connector
from koppeling.connectors.webhooks import ReceivesWebhooks, RemoteWebhook, WebhookEvent
from koppeling.core.models import Order

from .api import CLUSTERS, WINDOWS, LightspeedCode, params, unwrap, validate_response
from .translate import (
    ORDER_STATUSES,
    PAYMENT_STATUSES,
    SHOP_TIMEZONE,
    encode_status,
    fingerprint,
    parse_moment,
    record_error,
    status_label,
    translate_order,
)
from .webhooks import verify_delivery

__all__ = ["MAX_PAGE_SIZE", "LightspeedSource"]

MAX_PAGE_SIZE = 250  # [V] NickTacke README / ListQuery: limit <= 250
_LANGUAGE = re.compile(r"[a-z]{2}")
_LAST = dt.datetime.max.replace(tzinfo=dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    """A bound for ``updated_at_*`` / ``created_at_*``: UTC, whole seconds, explicit offset [I]."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat()


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


@register_connector
class LightspeedSource(Connector, ReadsOrders, ReceivesWebhooks):
    """Reads the orders of one Lightspeed eCom shop.

    ``config.options``: ``cluster`` (``eu1`` default | ``us1``; ignored when the connection's
    address is not a cluster's, e.g. a simulator), ``language`` (an active shop language, default
    ``nl``), ``timezone`` for order dates (default Europe/Amsterdam), ``shop`` (copied to
    ``Order.shop``), ``currency`` (the shop's, default EUR: orders carry none), ``page_size``
    (1-250, default 250), ``shop_invoice_line`` (carry the shop's invoice number as a 0.00 line,
    default True), ``account_limits`` (the shop's own limits from ``GET /account/ratelimit.json``,
    ``{"calls_5min": n, "calls_hour": n, "calls_day": n}``: they replace the published defaults).
    ``language`` and ``cluster`` are also read from the credentials (the simulator's
    ``valid_credentials`` puts them there) but are never treated as secrets.
    """

    system: ClassVar[str] = "lightspeed"
    label: ClassVar[str] = "Lightspeed eCom"
    credential_fields: ClassVar[tuple[str, ...]] = ("api_key", "api_secret")
    default_base_url: ClassVar[str] = CLUSTERS["eu1"]
    findable: ClassVar[Findability] = Findability.NONE  # a source: nothing is pushed into it
    #: every call counts against three windows per API key [V: Lightspeed staff, community 1360]
    rate_limits: ClassVar[tuple[RateLimit, ...]] = (
        RateLimit(WINDOWS[0], 300, 300),
        RateLimit(WINDOWS[1], 3000, 3600),
        RateLimit(WINDOWS[2], 12000, 86400),
    )
    #: yielded in (updatedAt, id) order: the window is listed and sorted before orders are read
    cursor_ordered: ClassVar[bool] = True
    #: a cut-off fetch resumes after ``(updatedAt, id)`` of the last order written (``after_id``)
    resumes_after_id: ClassVar[bool] = True

    def __init__(self, config: ConnectionConfig, http: httpx.Client | None = None, **kwargs: Any) -> None:
        super().__init__(config, http, **kwargs)
        options: Mapping[str, Any] = config.options or {}
        creds = config.credentials or {}
        given = (config.base_url or "").rstrip("/")
        self.cluster = str(options.get("cluster") or creds.get("cluster") or "").strip().lower()
        if self.cluster in CLUSTERS and (not given or given in CLUSTERS.values()):
            given = CLUSTERS[self.cluster]
        self.base_url = given or self.default_base_url
        self.language = str(options.get("language") or creds.get("language") or "nl").strip().lower()
        self.tz = ZoneInfo(str(options["timezone"])) if options.get("timezone") else SHOP_TIMEZONE
        self.shop = str(options.get("shop", ""))
        self.currency = str(options.get("currency", "EUR")).upper()
        self.page_size = max(1, min(MAX_PAGE_SIZE, int(options.get("page_size", MAX_PAGE_SIZE))))
        self.invoice_line = bool(options.get("shop_invoice_line", True))

    # ------------------------------------------------------------ facts

    def secrets(self) -> list[str]:
        """Key, secret and a stored ``webhook_secret``: the language ("nl") and cluster are no
        secrets to redact."""
        return [
            str(self.config.credentials.get(k))
            for k in (*self.credential_fields, "webhook_secret")
            if self.config.credentials.get(k)
        ]

    def limits(self) -> tuple[RateLimit, ...]:
        """The published defaults, or the shop's own (``options["account_limits"]``), plus extras."""
        own = (self.config.options or {}).get("account_limits") or {}
        base = tuple(
            RateLimit(
                limit.name, int(own.get(limit.name, limit.limit)), limit.period_seconds, limit.applies_to
            )
            for limit in self.rate_limits
        )
        extra = tuple(RateLimit.from_dict(d) for d in (self.config.options or {}).get("rate_limits", ()))
        return base + extra

    # ------------------------------------------------------------ HTTP (GET only)

    def _auth(self) -> tuple[str, str]:
        creds = self.config.credentials or {}
        missing = [name for name in self.credential_fields if not str(creds.get(name) or "").strip()]
        if missing:
            raise AuthError(ConnectorCode.CREDENTIALS_MISSING, params(fields=", ".join(missing)))
        if self.cluster and self.cluster not in CLUSTERS:
            raise AuthError(
                LightspeedCode.CLUSTER_UNKNOWN, params(cluster=self.cluster, known=", ".join(CLUSTERS))
            )
        if not _LANGUAGE.fullmatch(self.language):
            raise AuthError(
                LightspeedCode.LANGUAGE_UNKNOWN, params(language=self.language, remote="not two letters")
            )
        return str(creds["api_key"]).strip(), str(creds["api_secret"]).strip()

    def _get(self, path: str, query: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One GET of ``{base}/{language}/{path}``; the decoded body, or the error taxonomy."""
        return self._call("GET", path, query)

    def _call(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One call; only the webhook set-up sends anything but GET."""
        if method != "GET" and not path.startswith("webhooks"):
            raise ValueError("the Lightspeed connector writes nothing but its own webhooks")
        auth = self._auth()
        operation = f"{method} {path}"
        url = f"{self.base_url}/{self.language}/{path}"
        clean = {k: str(v) for k, v in (query or {}).items() if v is not None}
        try:
            response = self.http.request(method, url, params=clean, auth=auth, json=body)
        except httpx.TimeoutException as exc:
            raise TransientError(
                ConnectorCode.TIMEOUT,
                params(operation=operation, detail=type(exc).__name__),
                maybe_processed=False,
            ) from None
        except ResponseTooLarge as exc:
            raise ResponseError(ConnectorCode.RESPONSE_TOO_LARGE, params(limit=exc.cap)) from None
        except httpx.TransportError as exc:
            raise TransientError(
                ConnectorCode.UNREACHABLE,
                params(operation=operation, detail=type(exc).__name__),
                maybe_processed=False,
            ) from None
        if response.status_code == 204:  # DELETE: no body
            return {}
        return validate_response(response, operation, language=self.language)

    # ------------------------------------------------------------ webhooks (the capability)

    @classmethod
    def verify_webhook(cls, headers: Mapping[str, str], body: bytes, secret: str) -> WebhookEvent:
        """``X-Signature`` = md5(raw body + secret) [V community]; see ``webhooks.verify_delivery``."""
        return verify_delivery(headers, body, secret)

    def webhook_secret(self) -> str:
        """The signing secret: ``webhook_secret`` if the connection stores one (an App Store app's
        app secret), else the API secret of the shop's key [I: community answers name both]."""
        creds = self.config.credentials or {}
        return str(creds.get("webhook_secret") or creds.get("api_secret") or "").strip()

    def register_webhook(self, url: str) -> RemoteWebhook:
        """``POST /webhooks.json``: every action on orders (``*``: created, updated, paid, …), JSON,
        in the connection's language. One change may come as several deliveries; they share an
        event id."""
        fields = {
            "isActive": True,
            "itemGroup": "orders",
            "itemAction": "*",
            "language": self.language,
            "format": "json",
            "address": url,
        }
        body = self._call("POST", "webhooks.json", body={"webhook": fields})
        return _remote(unwrap(body, "webhook", dict, "POST webhooks.json"))

    def list_webhooks(self) -> list[RemoteWebhook]:
        """``GET /webhooks.json`` (a shop holds at most ``maxWebhooks``, 10 in the sample: one page)."""
        listed = unwrap(
            self._get("webhooks.json", {"limit": MAX_PAGE_SIZE}), "webhooks", list, "GET webhooks.json"
        )
        return [_remote(hook) for hook in listed if isinstance(hook, dict)]

    def delete_webhook(self, webhook_id: str) -> None:
        try:
            self._call("DELETE", f"webhooks/{int(webhook_id)}.json")
        except NotFound:
            return None

    def reactivate_webhook(self, webhook_id: str) -> RemoteWebhook:
        """``PUT /webhooks/{id}.json`` with ``isActive: true``."""
        body = self._call("PUT", f"webhooks/{int(webhook_id)}.json", body={"webhook": {"isActive": True}})
        return _remote(unwrap(body, "webhook", dict, "PUT webhooks.json"))

    # ------------------------------------------------------------ the connector

    def check(self) -> None:
        """``GET /orders/count.json``: proves the key, the secret, the language and order reading."""
        body = self._get("orders/count.json")
        if not isinstance(body.get("count"), int):
            raise ResponseError(params=params(detail="GET orders/count.json: no count"))

    def check_rights(self, capabilities: frozenset[Capability]) -> None:
        """Orders and the shop's invoices (embedded in an order; the invoice number) must be readable."""
        self.check()
        self._get("invoices/count.json")

    def read_account_limits(self) -> dict[str, int]:
        """The shop's own limits (``GET /account/ratelimit.json`` [V sample]), in the shape of the
        ``account_limits`` option, for the connection's set-up to store."""
        body = unwrap(
            self._get("account/ratelimit.json"), "accountRatelimit", dict, "GET account/ratelimit.json"
        )
        out = {}
        for window, key in zip(WINDOWS, ("limit5Min", "limitHour", "limitDay"), strict=True):
            entry = body.get(key)
            if isinstance(entry, dict) and isinstance(entry.get("limit"), int) and entry["limit"] > 0:
                out[window] = entry["limit"]
        return out

    def statuses(self) -> list[Status]:
        """Every ``paymentStatus/status`` pair (``translate.encode_status``): the flow selects on these.

        The seed's choice is ``paid/processing_awaiting_shipment`` (``translate.SEED_STATUS``).
        """
        return [
            Status(encode_status(payment, status), status_label(payment, status))
            for payment in PAYMENT_STATUSES
            for status in ORDER_STATUSES
        ]

    def fetch_changed(
        self, since: dt.datetime | None, *, until: dt.datetime | None = None, after_id: str | None = None
    ) -> Iterator[Fetched[Order]]:
        """Orders whose ``updatedAt`` is in ``[since, until)``, in ``(updatedAt, id)`` order; with
        ``after_id`` only those after ``(since, after_id)`` (a cut-off fetch resumed: the listing is
        cheap, the orders before the resume point are not read again)."""
        since, until = _aware(since), _aware(until)
        resume = int(after_id) if after_id and after_id.isdigit() and since is not None else None
        filters: dict[str, Any] = {}
        if since is not None:
            filters["updated_at_min"] = _stamp(since)
        if until is not None:
            filters["updated_at_max"] = _stamp(until)  # inclusive at seconds: the rest is cut below
        window = sorted(self._window(filters), key=lambda row: (row[0] or _LAST, row[1]))
        for moment, order_id in window:
            if moment is not None and ((since and moment < since) or (until and moment >= until)):
                continue
            if resume is not None and moment == since and order_id <= resume:
                continue
            fetched = self._read(order_id, moment)
            if fetched is not None:
                yield fetched

    def fetch_created(self, start: dt.date, end: dt.date | None = None) -> Iterator[Fetched[Order]]:
        """Orders placed from ``start`` to ``end`` (both inclusive, shop dates): migrations."""
        filters = {"created_at_min": _stamp(dt.datetime.combine(start, dt.time(), tzinfo=self.tz))}
        if end is not None:
            filters["created_at_max"] = _stamp(dt.datetime.combine(end, dt.time(23, 59, 59), tzinfo=self.tz))
        for moment, order_id in sorted(self._window(filters), key=lambda row: row[1]):
            fetched = self._read(order_id, moment)
            if fetched is not None:
                yield fetched

    def fetch_one(self, source_id: str) -> Fetched[Order]:
        """One order by id (``1623550``) or, for a person's input, by number (``ORD00018``, via the
        ``number`` filter [I]); ``NotFound`` if the shop does not know it."""
        wanted = str(source_id).strip()
        if not wanted.isdigit():
            listed = unwrap(
                self._get("orders.json", {"number": wanted, "fields": "id", "limit": 1}),
                "orders",
                list,
                "GET orders.json",
            )
            if not listed or not isinstance(listed[0], dict) or not str(listed[0].get("id", "")).isdigit():
                raise NotFound(params=params(what=f"order {wanted}"))
            wanted = str(listed[0]["id"])
        body = self._get(f"orders/{wanted}.json")
        return self._fetched(body.get("order"), f"order[{wanted}]", wanted, None)

    # ------------------------------------------------------------ listing and reading

    def _window(self, filters: Mapping[str, Any]) -> list[tuple[dt.datetime | None, int]]:
        """``(updatedAt, id)`` of every order matching ``filters``, paged by ``since_id``."""
        rows: dict[int, dt.datetime | None] = {}
        since_id = 0
        operation = "GET orders.json"
        while True:
            query = {**filters, "limit": self.page_size, "fields": "id,updatedAt"}
            if since_id:
                query["since_id"] = since_id
            page = unwrap(self._get("orders.json", query), "orders", list, operation)
            ids = []
            for i, row in enumerate(page):
                order_id = row.get("id") if isinstance(row, dict) else None
                if not isinstance(order_id, int) or isinstance(order_id, bool):
                    raise ResponseError(params=params(detail=f"{operation}: orders[{i}] has no id"))
                ids.append(order_id)
                rows[order_id] = parse_moment(row.get("updatedAt"))
            if len(page) < self.page_size:
                return list((moment, order_id) for order_id, moment in rows.items())
            if max(ids) <= since_id:
                raise ResponseError(LightspeedCode.SINCE_ID_IGNORED, params(since_id=since_id))
            since_id = max(ids)

    def _read(self, order_id: int, moment: dt.datetime | None) -> Fetched[Order] | None:
        """One listed order, read whole; None when it was deleted since it was listed."""
        try:
            body = self._get(f"orders/{order_id}.json")
        except NotFound:
            return None
        except ResponseError as exc:  # this one answer is unreadable: that order fails, not the fetch
            return Fetched(str(order_id), None, fingerprint(None), moment, exc, "")
        return self._fetched(body.get("order"), f"orders[{order_id}]", str(order_id), moment)

    def _fetched(self, record: Any, path: str, order_id: str, moment: dt.datetime | None) -> Fetched[Order]:
        print_ = fingerprint(record)
        if not isinstance(record, dict):
            error = record_error(path, ConnectorCode.FIELD_WRONG_TYPE, record, expected="an order object")
            return Fetched(order_id, None, print_, moment, error)
        number = str(record.get("number") or "").strip()
        changed = moment or parse_moment(record.get("updatedAt"))
        try:
            order = translate_order(
                record,
                path=path,
                tz=self.tz,
                shop=self.shop,
                currency=self.currency,
                invoice_line=self.invoice_line,
            )
        except DataError as exc:
            return Fetched(order_id, None, print_, changed, exc, number)
        except Exception as exc:  # never let one odd record end the fetch
            error = record_error(
                path, ConnectorCode.RECORD_UNREADABLE, number=number, detail=type(exc).__name__
            )
            return Fetched(order_id, None, print_, changed, error, number)
        return Fetched(order.source_id, order, print_, changed, None, number)


def _remote(hook: Mapping[str, Any]) -> RemoteWebhook:
    """A listed webhook in the capability's terms."""
    return RemoteWebhook(
        id=str(hook.get("id", "")),
        address=str(hook.get("address") or ""),
        active=hook.get("isActive") is not False,
        topic=f"{hook.get('itemGroup', '')}/{hook.get('itemAction', '')}",
    )
