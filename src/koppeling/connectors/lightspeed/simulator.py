"""A local imitation of the Lightspeed eCom (C-Series, formerly SEOshop) REST API, as a WSGI app.

Same URL shape (``{cluster}/{language}/{resource}.json``), HTTP Basic auth with the 32-character API
key and secret, bodies wrapped in the resource name (``{"order": {...}}``, ``{"orders": [...]}``),
``resource`` link blocks (``embedded`` on detail answers), ``page``/``limit`` (max 250)/``since_id``
and the ``created_at``/``updated_at`` filters, ``count`` endpoints, the three rate-limit windows
(5 minutes, hour, day) in ``X-RateLimit-Limit|Remaining|Reset`` as ``a/b/c`` and a 429 past them,
error bodies ``{"error": {"code", "method", "request", "message"}}``, webhooks CRUD and signed
deliveries (``X-Signature`` = md5(body + secret)). What is verified and what inferred:
``docs/connectors/lightspeed.md``.

>>> sim = LightspeedSimulator()
>>> sorted(sim.valid_credentials())
['api_key', 'api_secret', 'cluster', 'language']
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import hashlib
import json
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

import httpx

from . import records, seeding
from .ratelimit import DEFAULT_LIMITS, RateLimited, RateWindows
from .records import Links, Store, encode
from .webhooks import (
    SINGULAR,
    WebhookDelivery,
    WebhookFieldError,
    build_delivery,
    sign_webhook,
    webhook_fields,
)

__all__ = ["MALFORM_KINDS", "LightspeedSimulator", "WebhookDelivery", "sign_webhook"]

MALFORM_KINDS = frozenset({"not_json", "truncated", "wrong_shape", "empty_body", "bad_record"})
DEFAULT_PAGE_SIZE = 50  # [I]
MAX_PAGE_SIZE = 250  # [V] SDK docs; larger values are clamped here [I]
_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_FILTERS = {  # resource -> {query parameter: field of the rendered record}
    "orders": {"status": "status", "customer": "customer", "number": "number"},
    "customers": {"email": "email"},
    "invoices": {"order": "order", "customer": "customer", "number": "number"},
    "shipments": {"order": "order", "customer": "customer"},
}


class _Error(Exception):
    def __init__(self, status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = list(headers)


class LightspeedSimulator:
    """One Lightspeed eCom shop behind a WSGI callable (``sim.wsgi``, or ``sim`` itself)."""

    def __init__(
        self,
        *,
        api_key: str = hashlib.md5(b"koppeling-sim-key", usedforsecurity=False).hexdigest(),
        api_secret: str = hashlib.md5(b"koppeling-sim-secret", usedforsecurity=False).hexdigest(),
        language: str = "nl",
        languages: Iterable[str] = ("nl", "en"),
        base_url: str = "https://api.webshopapp.com",
        latency: float = 0.0,
        clock: Callable[[], float] = time.time,
        rate_limits: tuple[int, int, int] = DEFAULT_LIMITS,
        read_only: bool = False,
        echo_secret_in_errors: bool = False,
        webhook_secret: str | None = None,
        max_webhooks: int = 10,
        disable_after: int = 5,
    ) -> None:
        self._lock = threading.RLock()
        self.api_key = api_key
        self.api_secret = api_secret
        self.language = language
        self.languages = frozenset(languages) | {language}
        self.base_url = base_url.rstrip("/")
        self.latency = latency
        self.clock = clock
        self.read_only = read_only
        self.echo_secret_in_errors = echo_secret_in_errors
        self.webhook_secret = webhook_secret
        self.max_webhooks = max_webhooks
        #: failed deliveries in a row after which the shop turns a webhook off [S]
        self.disable_after = disable_after
        self.webhook_failures: Counter[int] = Counter()
        self.delivered: list[tuple[WebhookDelivery, int | None]] = []
        self.store = Store()
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.outbox: list[WebhookDelivery] = []
        self.writes: list[tuple[str, str, int]] = []
        self.request_count = 0
        self.requests_by_path: Counter[str] = Counter()
        self._next_webhook = 64_674
        self._faults: deque[tuple[int, float | str | None]] = deque()
        self._malform: deque[str] = deque()
        self.limiter = RateWindows(rate_limits, lambda: self.clock())

    @property
    def rate_limits(self) -> tuple[int, int, int]:
        """Calls allowed per 5 minutes, hour and day (settable, e.g. ``(1000, 12000, 288000)``)."""
        return self.limiter.limits

    @rate_limits.setter
    def rate_limits(self, limits: tuple[int, int, int]) -> None:
        self.limiter.limits = tuple(limits)  # type: ignore[assignment]

    # ------------------------------------------------------------ knobs and inspection

    def valid_credentials(self) -> dict[str, str]:
        """What a connection needs: key, secret (HTTP Basic), shop language and cluster."""
        cluster = "us1" if "shoplightspeed" in self.base_url else "eu1"
        return {
            "api_key": self.api_key,
            "api_secret": self.api_secret,
            "language": self.language,
            "cluster": cluster,
        }

    def fail_next(self, status: int = 503, times: int = 1, retry_after: float | str | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (and ``Retry-After``); nothing is done."""
        with self._lock:
            self._faults.extend([(status, retry_after)] * times)

    def malform_next(self, kind: str = "not_json") -> None:
        """Spoil the next successful answer: see ``MALFORM_KINDS``."""
        if kind not in MALFORM_KINDS:
            raise ValueError(f"unknown malformation {kind!r}; known: {', '.join(sorted(MALFORM_KINDS))}")
        with self._lock:
            self._malform.append(kind)

    def reset_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._malform.clear()

    def data_writes(self) -> list[tuple[str, str, int]]:
        """Every write to shop data (not webhook set-up) that reached the API, allowed or refused."""
        return [w for w in self.writes if "/webhooks" not in w[1]]

    def assert_read_only(self) -> None:
        """The seed's promise: the link only reads the shop. Raises if any data write was attempted."""
        writes = self.data_writes()
        if writes:
            raise AssertionError(f"the shop was written to: {writes}")

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).replace(microsecond=0)

    def links(self) -> Links:
        return Links(self.base_url, self.language)

    def order(self, order_id: int) -> dict[str, Any]:
        """The order exactly as ``GET /orders/{id}.json`` returns it (unwrapped, JSON types)."""
        with self._lock:
            return json.loads(encode(self.store.render_order(int(order_id), self.links(), embed=True)))

    def order_ids(self) -> list[int]:
        with self._lock:
            return sorted(self.store.orders)

    def order_id(self, number: str) -> int:
        with self._lock:
            return next(o.id for o in self.store.orders.values() if o.fields["number"] == number)

    def __len__(self) -> int:
        return len(self.store.orders)

    # ------------------------------------------------------------ data changes (the merchant's side)

    def seed(
        self, count: int, *, seed: int = 42, start: dt.datetime | None = None, days: float | None = None
    ) -> list[int]:
        """Generate ``count`` orders from ``start`` (default 2025-01-01 08:00 UTC). Deterministic."""
        start = start or dt.datetime(2025, 1, 1, 8, 0, tzinfo=dt.UTC)
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
        span = dt.timedelta(days=days) if days else dt.timedelta(minutes=10 * max(count, 1))
        step = span / max(count, 1)
        with self._lock:
            return seeding.seed_orders(
                self.store,
                count,
                seed=seed,
                start=start,
                step=step,
                now=max(self.now(), start),
                language=self.language,
            )

    def set_status(
        self,
        order_id: int,
        status: str | None = None,
        *,
        payment_status: str | None = None,
        shipment_status: str | None = None,
        at: dt.datetime | None = None,
    ) -> None:
        """Change the order's state as the shop would (invoice on payment, events, webhooks)."""
        for value, allowed in (
            (status, records.ORDER_STATUSES),
            (payment_status, records.PAYMENT_STATUSES),
            (shipment_status, records.SHIPMENT_STATUSES),
        ):
            if value is not None and value not in allowed:
                raise ValueError(f"unknown status {value!r}")
        with self._lock:
            state = self.store.orders[int(order_id)]
            moment = at or self.now()
            f = state.fields
            actions = ["updated"]
            if status:
                f["status"] = status
            if payment_status and payment_status != f["paymentStatus"]:
                f["paymentStatus"] = payment_status
                if payment_status == "paid":
                    actions.append("paid")
                    if not state.invoice_ids:
                        self.store.add_invoice(state, moment)
                        self._queue("invoices", state.invoice_ids[-1], "created")
                for iid in state.invoice_ids:
                    invoice_status = "paid" if payment_status == "paid" else "not_paid"
                    self.store.invoices[iid]["status"] = invoice_status
                    self.store.invoices[iid]["updatedAt"] = records.iso(moment)
                if state.invoice_ids:  # the sample's sequence: invoice paid, then order paid
                    self.store.add_event(state, "invoice", invoice_status, moment, "api")
                self.store.add_event(state, "order", payment_status, moment, "api")
            if shipment_status and shipment_status != f["shipmentStatus"]:
                f["shipmentStatus"] = shipment_status
                for sid in state.shipment_ids:
                    self.store.shipments[sid]["status"] = shipment_status
                if shipment_status == "shipped":
                    actions.append("shipped")
            f["updatedAt"] = records.iso(moment)
            for action in actions:
                self._queue("orders", state.id, action)

    def edit_order(self, order_id: int, *, recompute: bool = True, **changes: Any) -> dict[str, Any]:
        """Change order fields after the fact (dotted paths for nested ones; ``products`` replaces
        the lines). Totals are recomputed from the lines unless ``recompute=False``."""
        with self._lock:
            state = self.store.orders[int(order_id)]
            for key, value in changes.items():
                if key == "products":
                    state.products = copy.deepcopy(list(value))
                    continue
                target = state.fields
                *parents, leaf = key.split(".")
                for part in parents:
                    target = target.setdefault(part, {})
                target[leaf] = copy.deepcopy(value)
            if recompute:
                records.recompute_totals(state)
            state.fields["updatedAt"] = records.iso(self.now())
            self._queue("orders", state.id, "updated")
            return self.order(state.id)

    # ------------------------------------------------------------ webhooks (the shop's side)

    def webhook_delivery(self, webhook_id: int, item_id: int) -> WebhookDelivery:
        """The signed POST a webhook would send now for ``item_id`` (of its item group)."""
        with self._lock:
            hook = self.webhooks[webhook_id]
            return self._delivery(hook, hook["itemGroup"], item_id)

    def deliver(
        self, client: httpx.Client | None = None, *, timeout: float = 5.0
    ) -> list[tuple[WebhookDelivery, int | None]]:
        """Send what is in ``outbox`` as the shop would: POST each delivery to its address. A
        delivery not answered 2xx (or not at all: status None) counts against its webhook; after
        ``disable_after`` failures in a row the webhook is turned off (``isActive`` false) and
        sends nothing more until it is turned on again [S: the real policy is not published]."""
        with self._lock:
            pending, self.outbox = self.outbox, []
        own = client is None
        http = client or httpx.Client(timeout=timeout)
        results: list[tuple[WebhookDelivery, int | None]] = []
        try:
            for delivery in pending:
                with self._lock:
                    hook = self.webhooks.get(delivery.webhook_id)
                    if hook is None or not hook["isActive"]:
                        continue  # deleted or disabled meanwhile: the shop sends nothing
                try:
                    status: int | None = http.post(
                        delivery.url, content=delivery.body, headers=delivery.headers
                    ).status_code
                except httpx.HTTPError:
                    status = None
                results.append((delivery, status))
                self._count_delivery(delivery.webhook_id, status)
        finally:
            if own:
                http.close()
        self.delivered.extend(results)
        return results

    def _count_delivery(self, webhook_id: int, status: int | None) -> None:
        with self._lock:
            if status is not None and 200 <= status < 300:
                self.webhook_failures[webhook_id] = 0
                return
            self.webhook_failures[webhook_id] += 1
            hook = self.webhooks.get(webhook_id)
            if hook is not None and self.webhook_failures[webhook_id] >= self.disable_after:
                hook["isActive"] = False
                hook["updatedAt"] = records.iso(self.now())

    def drop_webhook(self, webhook_id: int) -> None:
        """The shop forgets a webhook (an app reinstalled, a merchant's clean-up)."""
        with self._lock:
            self.webhooks.pop(int(webhook_id), None)

    def _queue(self, group: str, item_id: int, action: str) -> None:
        for hook in self.webhooks.values():
            if hook["isActive"] and hook["itemGroup"] == group and hook["itemAction"] in (action, "*"):
                self.outbox.append(self._delivery(hook, group, item_id))

    def _delivery(self, hook: dict[str, Any], group: str, item_id: int) -> WebhookDelivery:
        return build_delivery(
            self.store,
            hook,
            item_id,
            base_url=self.base_url,
            secret=self.webhook_secret or self.api_secret,
            rate_headers=self.limiter.headers(),
        )

    # ------------------------------------------------------------ WSGI

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """The WSGI entry point (``httpx.WSGITransport(app=sim.wsgi)``)."""
        if self.latency:
            time.sleep(self.latency)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "") or "/"
        raw_query = environ.get("QUERY_STRING", "")
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        with self._lock:
            self.request_count += 1
            self.requests_by_path[path] += 1
            presented = self._presented(environ)
            try:
                status, payload, headers = self._dispatch(method, path, query, environ, presented)
            except _Error as exc:
                status, headers = exc.status, exc.headers
                request = path + (f"?{raw_query}" if raw_query else "")
                payload = self._error_body(exc.status, method, request, exc.message, environ, presented)
            if status == 204:
                body = b""
            elif status == 200 and self._malform:
                body = self._spoil(self._malform.popleft(), payload)
            else:
                body = encode(payload)
        out = [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))]
        out.extend(headers)
        start_response(f"{status} {_REASONS.get(status, 'Error')}", out)
        return [body]

    __call__ = wsgi

    @staticmethod
    def _presented(environ: Mapping[str, Any]) -> tuple[str, str] | None:
        header = environ.get("HTTP_AUTHORIZATION", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            key, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return key, secret

    def _error_body(
        self,
        status: int,
        method: str,
        request: str,
        message: str,
        environ: Mapping[str, Any],
        presented: tuple[str, str] | None,
    ) -> dict[str, Any]:
        if self.echo_secret_in_errors and presented:
            key, secret = presented
            host = environ.get("HTTP_HOST", "api.webshopapp.com")
            request = f"https://{key}:{secret}@{host}{request}"
            message = f"{message} (api key {key}, api secret {secret})"
        return {"error": {"code": status, "method": method, "request": request, "message": message}}

    def _spoil(self, kind: str, payload: Any) -> bytes:
        if kind == "not_json":
            return b"<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>"
        if kind == "empty_body":
            return b""
        if kind == "truncated":
            return encode(payload)[:-9] or b"{"
        if kind == "wrong_shape":
            return encode({"data": payload, "status": "ok"})
        data = json.loads(encode(payload))  # bad_record: one order in the answer gets a garbage total
        items = (
            next((v for v in data.values() if isinstance(v, list)), None) if isinstance(data, dict) else None
        )
        victim = items[len(items) // 2] if items else next(iter(data.values()), None) if data else None
        if isinstance(victim, dict):
            victim["priceIncl"] = "12,50 EUR"
        return encode(data)

    # ------------------------------------------------------------ routing

    def _dispatch(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        environ: Mapping[str, Any],
        presented: tuple[str, str] | None,
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        if self._faults:
            status, retry_after = self._faults.popleft()
            headers = [] if retry_after is None else [("Retry-After", str(retry_after))]
            raise _Error(status, "Service temporarily unavailable (simulator).", headers)
        if presented is None:
            raise _Error(401, "Access denied.")  # message as in a client's fixture [I]
        if presented != (self.api_key, self.api_secret):
            raise _Error(401, "Access denied.")
        parts = path.strip("/").split("/")
        if len(parts) < 2 or not parts[-1].endswith(".json"):
            raise _Error(404, "Not found.")
        language = parts[0]
        if language not in self.languages:
            raise _Error(404, "Unknown or inactive language.")
        parts[-1] = parts[-1][: -len(".json")]
        resource = parts[1:]
        try:
            headers = self.limiter.take()
        except RateLimited as exc:
            raise _Error(429, "Too many requests.", exc.headers) from None  # message [I]
        links = Links(self.base_url, language)
        if method != "GET":
            status, payload = self._write(method, resource, environ, links, path)
            return status, payload, headers
        return 200, self._read(resource, query, links), headers

    def _read(self, resource: list[str], query: Mapping[str, str], links: Links) -> Any:
        store = self.store
        head = resource[0]
        if resource == ["account"]:
            base = {"id": store.shop_id, "appId": False, "apiKey": self.api_key}
            return {
                "account": base
                | {
                    n: links.resource(False, f"account/{n}")
                    for n in ("signout", "permissions", "ratelimit", "metafields")
                }
            }
        if resource == ["account", "ratelimit"]:
            return self.limiter.body()
        if head in ("taxes", "paymentmethods") and len(resource) <= 2:
            rows = [
                {k: v for k, v in row.items() if k != "fee"}
                for row in (records.TAXES if head == "taxes" else records.PAYMENT_METHODS)
            ]
            if len(resource) == 1:
                return {head: rows}
            row = next((r for r in rows if str(r["id"]) == resource[1]), None)
            if row is None:
                raise _Error(404, "Not found.")
            return {SINGULAR[head]: row}
        if head == "webhooks" and len(resource) <= 2:
            if len(resource) == 1:
                return {"webhooks": list(self.webhooks.values())}
            if resource[1] == "count":
                return {"count": len(self.webhooks)}
            return {"webhook": self._webhook(resource[1])}
        renders: dict[str, tuple[Mapping[int, Any], Callable[[int], dict[str, Any]]]] = {
            "orders": (store.orders, lambda i: store.render_order(i, links, embed=False)),
            "customers": (store.customers, lambda i: store.render_customer(i, links, language=False)),
            "invoices": (store.invoices, lambda i: store.render_invoice(i, links)),
            "shipments": (store.shipments, lambda i: store.render_shipment(i, links)),
        }
        if head not in renders:
            raise _Error(404, "Not found.")
        table, render = renders[head]
        if len(resource) <= 2 and resource[1:] in ([], ["count"]):
            # filter on light views (orders: their flat fields), render only the page
            view = self._order_view if head == "orders" else render
            rows = self._filtered([view(i) for i in sorted(table)], query, _FILTERS.get(head, {}))
            if resource[1:] == ["count"]:
                return {"count": len(rows)}
            return {head: self._page([render(row["id"]) for row in self._slice(rows, query)], query)}
        rid = self._id(resource[1], table)
        if len(resource) == 2:
            if head == "orders":
                return {"order": store.render_order(rid, links, embed=True)}
            return {SINGULAR[head]: render(rid)}
        if head == "orders" and resource[2] == "products":
            lines = [store.render_product(p, links) for p in store.orders[rid].products]
            if len(resource) == 3:
                return {"orderProducts": self._page(self._slice(lines, query), query)}
            if resource[3:] == ["count"]:
                return {"count": len(lines)}
            line = next((p for p in lines if str(p["id"]) == resource[3]), None)
            if line is None or len(resource) > 4:
                raise _Error(404, "Not found.")
            return {"orderProduct": line}
        if head == "invoices" and resource[2:] == ["items"]:
            return {"invoiceItems": list(store.invoice_items.get(rid, []))}
        raise _Error(404, "Not found.")

    @staticmethod
    def _id(text: str, table: Mapping[int, Any]) -> int:
        try:
            rid = int(text)
        except ValueError:
            raise _Error(404, "Not found.") from None
        if rid not in table:
            raise _Error(404, "Not found.")
        return rid

    def _webhook(self, text: str) -> dict[str, Any]:
        return self.webhooks[self._id(text, self.webhooks)]

    # ------------------------------------------------------------ lists

    @staticmethod
    def _moment(query: Mapping[str, str], name: str) -> str | None:
        raw = query.get(name, "").strip()
        if not raw:
            return None
        text = raw.replace(" ", "T").replace("Z", "+00:00")
        try:
            if len(text) == 10:
                moment = dt.datetime.fromisoformat(
                    text + ("T23:59:59" if name.endswith("max") else "T00:00:00")
                )
            else:
                moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise _Error(400, f"Invalid value for {name}.") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)  # naive times read as UTC [I]
        return records.iso(moment)

    def _filtered(
        self, rows: list[dict[str, Any]], query: Mapping[str, str], filters: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        since = query.get("since_id", "")
        bounds = [
            (name, self._moment(query, name))
            for name in ("created_at_min", "created_at_max", "updated_at_min", "updated_at_max")
        ]
        if since and not since.isdigit():
            raise _Error(400, "Invalid value for since_id.")
        out = []
        for row in rows:
            if since and row["id"] <= int(since):
                continue
            keep = True
            for name, bound in bounds:
                if bound is not None:
                    value = row["createdAt" if name.startswith("created") else "updatedAt"]
                    keep = keep and (value >= bound if name.endswith("min") else value <= bound)
            for param, fieldname in filters.items():
                wanted = query.get(param)
                if wanted is None or wanted == "":
                    continue
                value = row.get(fieldname)
                if isinstance(value, dict):  # a resource link: filter by its id
                    value = value["resource"]["id"]
                keep = keep and str(value).lower() == wanted.lower()
            if keep:
                out.append(row)
        return out

    def _order_view(self, oid: int) -> dict[str, Any]:
        state = self.store.orders[oid]
        f = state.fields
        view = {k: f[k] for k in ("id", "createdAt", "updatedAt", "status", "number")}
        view["customer"] = {"resource": {"id": state.customer_id}}
        return view

    @staticmethod
    def _slice(rows: list[dict[str, Any]], query: Mapping[str, str]) -> list[dict[str, Any]]:
        try:
            page = int(query.get("page") or 1)
            limit = int(query.get("limit") or DEFAULT_PAGE_SIZE)
        except ValueError:
            raise _Error(400, "Invalid value for page or limit.") from None
        if page < 1 or limit < 1:
            raise _Error(400, "Invalid value for page or limit.")
        limit = min(limit, MAX_PAGE_SIZE)
        return rows[(page - 1) * limit : page * limit]

    @staticmethod
    def _page(rows: list[dict[str, Any]], query: Mapping[str, str]) -> list[dict[str, Any]]:
        wanted = [f.strip() for f in query.get("fields", "").split(",") if f.strip()]
        if wanted:
            rows = [{k: v for k, v in row.items() if k in wanted} for row in rows]
        return rows

    # ------------------------------------------------------------ writes

    def _body(self, environ: Mapping[str, Any]) -> dict[str, Any]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        raw = environ["wsgi.input"].read(length) if length else b""
        if "form-urlencoded" in environ.get("CONTENT_TYPE", ""):
            body: dict[str, Any] = {}
            for key, value in parse_qsl(raw.decode(), keep_blank_values=True):  # webhook[isActive]=true
                outer, _, inner = key.partition("[")
                body.setdefault(outer, {})[inner.rstrip("]")] = value
            return body
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            raise _Error(400, "Invalid JSON in request body.") from None
        if not isinstance(body, dict):
            raise _Error(400, "Invalid request body.")
        return body

    def _write(
        self, method: str, resource: list[str], environ: Mapping[str, Any], links: Links, path: str
    ) -> tuple[int, Any]:
        is_webhook = resource[0] == "webhooks"
        if method not in ("POST", "PUT", "DELETE"):
            raise _Error(405, "Method not allowed.")
        if self.read_only and not is_webhook:
            self.writes.append((method, path, 403))
            raise _Error(403, "Insufficient permissions for this resource.")  # [I]
        try:
            status, payload = self._apply(method, resource, environ, links)
        except _Error as exc:
            self.writes.append((method, path, exc.status))
            raise
        self.writes.append((method, path, status))
        return status, payload

    def _apply(
        self, method: str, resource: list[str], environ: Mapping[str, Any], links: Links
    ) -> tuple[int, Any]:
        if resource == ["webhooks"] and method == "POST":
            if len(self.webhooks) >= self.max_webhooks:
                raise _Error(400, "Maximum number of webhooks reached.")  # shopLimits.maxWebhooks [V]
            hook = self._webhook_fields(self._body(environ).get("webhook"), {})
            now = records.iso(self.now())
            hook = {"id": self._next_webhook, "createdAt": now, "updatedAt": now} | hook
            self._next_webhook += 1
            self.webhooks[hook["id"]] = hook
            return 201, {"webhook": hook}
        if len(resource) == 2 and resource[0] == "webhooks":
            hook = self._webhook(resource[1])
            if method == "DELETE":
                del self.webhooks[hook["id"]]
                return 204, None
            if method == "PUT":
                hook.update(self._webhook_fields(self._body(environ).get("webhook"), hook))
                hook["updatedAt"] = records.iso(self.now())
                if hook["isActive"]:
                    self.webhook_failures[hook["id"]] = 0
                return 200, {"webhook": hook}
        if len(resource) == 2 and resource[0] == "orders" and method == "PUT":
            oid = self._id(resource[1], self.store.orders)
            change = self._body(environ).get("order")
            if not isinstance(change, dict):
                raise _Error(400, "Invalid request body.")
            state = self.store.orders[oid]
            self.set_status(
                oid,
                change.get("status"),
                payment_status=change.get("paymentStatus"),
                shipment_status=change.get("shipmentStatus"),
            )
            for key in ("memo", "comment"):
                if key in change:
                    state.fields[key] = str(change[key])
            return 200, {"order": self.store.render_order(oid, links, embed=False)}
        raise _Error(405, "Method not allowed.")

    def _webhook_fields(self, given: Any, current: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return webhook_fields(given, current, languages=self.languages, default_language=self.language)
        except WebhookFieldError as exc:
            raise _Error(400, str(exc)) from None
