"""Webhooks of the Lightspeed simulator: the ``webhook`` resource's fields and signed deliveries.

Create body ``{"webhook": {isActive, itemGroup, itemAction, language, format, address}}`` (JSON, or
the form fields ``webhook[itemGroup]=orders`` of the docs' curl example); groups and actions as
listed on developers.seoshop.com/api/tutorials/webhooks [V]. A delivery is a POST of the item in
the API's own wrapped shape (``{"order": {...}}``) [V: a client's live test unwraps the root name]
with the headers ``X-Shop-Id``, ``X-Format``, ``X-Language``, ``X-<Group>-Id``, ``X-RateLimit-*``
[V docs; the exact spelling of ``X-<Group>-Id`` is I] and ``X-Signature`` = md5(raw body + secret)
[V: Lightspeed community answers; which secret (app secret vs API secret) is I].

The receiving side is :func:`verify_delivery`: the signature over the raw bytes, compared in
constant time, then the order's id and ``updatedAt`` read from the signed body (never from the
unsigned ``X-Order-Id`` header). Lightspeed signs no delivery id and no delivery time [V by
absence], so the event id is derived from signed content: ``orders/<id>@<updatedAt>`` — the same
for a resent delivery and for the ``updated`` and ``paid`` deliveries of one change.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from koppeling.connectors.webhooks import WebhookEvent, WebhookRejected, WebhookRejection, header

from . import records
from .records import Links, Store, encode

__all__ = [
    "WebhookDelivery",
    "WebhookFieldError",
    "build_delivery",
    "sign_webhook",
    "verify_delivery",
    "webhook_fields",
]

_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)

SINGULAR = {
    "orders": "order",
    "customers": "customer",
    "invoices": "invoice",
    "shipments": "shipment",
    "taxes": "tax",
    "paymentmethods": "paymentmethod",
    "webhooks": "webhook",
}


class WebhookFieldError(ValueError):
    """A webhook body the API would refuse (400)."""


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One POST the shop would send: to ``url``, with these ``headers`` and raw ``body``."""

    webhook_id: int
    url: str
    headers: dict[str, str]
    body: bytes


def sign_webhook(body: bytes, secret: str) -> str:
    """``X-Signature`` of a delivery: lower-case hex md5 of the raw body followed by the secret.

    >>> sign_webhook(b'{"order":{}}', "s3cret") == hashlib.md5(b'{"order":{}}s3cret').hexdigest()
    True
    """
    return hashlib.md5(body + secret.encode(), usedforsecurity=False).hexdigest()


def _xml(tag: str, value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append(f"<{tag}>")
        for key, item in value.items():
            _xml(key, item, out)
        out.append(f"</{tag}>")
    elif isinstance(value, list):
        out.append(f"<{tag}>")
        for item in value:
            _xml("item", item, out)
        out.append(f"</{tag}>")
    else:
        text = "" if value is None else json.dumps(value).strip('"')
        out.append(f"<{tag}>{escape(text)}</{tag}>")


def build_delivery(
    store: Store,
    hook: Mapping[str, Any],
    item_id: int,
    *,
    base_url: str,
    secret: str,
    rate_headers: Iterable[tuple[str, str]],
) -> WebhookDelivery:
    """The signed delivery of ``hook`` for item ``item_id`` of its item group, as it is now."""
    group = hook["itemGroup"]
    links = Links(base_url, hook["language"]["code"])
    if group == "orders":
        record = store.render_order(item_id, links, embed=False)
    elif group == "invoices":
        record = store.render_invoice(item_id, links)
    elif group == "customers":
        record = store.render_customer(item_id, links, language=False)
    else:
        raise ValueError(f"the simulator delivers orders, invoices and customers, not {group}")
    singular = SINGULAR[group]
    if hook["format"] == "xml":
        parts: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>']
        _xml(singular, json.loads(encode(record)), parts)
        body, ctype = "".join(parts).encode(), "application/xml"
    else:
        body, ctype = encode({singular: record}), "application/json"
    headers = {
        "Content-Type": ctype,
        "X-Shop-Id": str(store.shop_id),
        "X-Format": hook["format"].upper(),
        "X-Language": hook["language"]["code"],
        f"X-{singular.capitalize()}-Id": str(item_id),
        "X-Signature": sign_webhook(body, secret),
        **dict(rate_headers),
    }
    return WebhookDelivery(hook["id"], hook["address"], headers, body)


def webhook_fields(
    given: Any, current: Mapping[str, Any], *, languages: Iterable[str], default_language: str
) -> dict[str, Any]:
    """Validate a create/update body against the documented values; the stored fields."""
    if not isinstance(given, dict):
        raise WebhookFieldError("Invalid request body.")
    merged = {**current, **given}
    group, action = merged.get("itemGroup"), merged.get("itemAction")
    fmt = str(merged.get("format") or "json").lower()
    address = str(merged.get("address") or "")
    if group not in records.WEBHOOK_GROUPS:
        raise WebhookFieldError("Invalid itemGroup.")
    if action not in records.WEBHOOK_ACTIONS:
        raise WebhookFieldError("Invalid itemAction.")
    if fmt not in ("json", "xml"):
        raise WebhookFieldError("Invalid format.")
    if not address.startswith(("http://", "https://")):
        raise WebhookFieldError("Invalid address.")
    language = merged.get("language") or default_language
    code = language.get("code") if isinstance(language, dict) else str(language)
    if code not in set(languages):
        raise WebhookFieldError("Invalid language.")
    active = merged.get("isActive", True)
    if isinstance(active, str):
        active = active.lower() in ("true", "1")
    fallback = {"id": 0, "code": code, "locale": code, "title": code}
    return {
        "isActive": bool(active),
        "itemGroup": group,
        "itemAction": action,
        "language": dict(records.LANGUAGES.get(code, fallback)),
        "format": fmt,
        "address": address,
    }


def verify_delivery(headers: Mapping[str, str], body: bytes, secret: str) -> WebhookEvent:
    """A delivery checked: ``X-Signature`` = md5(raw body + secret), compared in constant time;
    the event id and order id from the signed body. ``WebhookRejected`` otherwise."""
    given = header(headers, "X-Signature").strip()
    if not secret or not _HEX32.fullmatch(given):
        raise WebhookRejected(WebhookRejection.SIGNATURE, "no X-Signature")
    if not hmac.compare_digest(sign_webhook(body, secret), given.lower()):
        raise WebhookRejected(WebhookRejection.SIGNATURE, "X-Signature does not match")
    root, item = _item(body, header(headers, "X-Format") or header(headers, "Content-Type"))
    group = {v: k for k, v in SINGULAR.items()}.get(root, root)
    item_id = str(item.get("id", "")).strip()
    if not item_id.isdigit():
        raise WebhookRejected(WebhookRejection.MALFORMED, f"{root} without an id")
    changed = str(item.get("updatedAt") or "").strip()
    event_id = f"{group}/{item_id}@{changed}" if changed else f"{group}/{item_id}#{_digest(body)}"
    orders: tuple[str, ...] = ()
    if group == "orders":
        orders = (item_id,)
    elif group in ("invoices", "shipments"):
        linked = _linked_id(item.get("order"))
        orders = (linked,) if linked else ()
    return WebhookEvent(event_id=event_id[:200], order_ids=orders, topic=group)


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]


def _item(body: bytes, fmt: str) -> tuple[str, dict[str, Any]]:
    """The root name and the item of a wrapped JSON (``{"order": {...}}``) or XML delivery."""
    if "xml" in fmt.lower() or body.lstrip().startswith(b"<"):
        try:
            root = etree.fromstring(body, _XML_PARSER)
        except etree.XMLSyntaxError:
            raise WebhookRejected(WebhookRejection.MALFORMED, "not XML") from None
        fields = {child.tag: _xml_value(child) for child in root if isinstance(child.tag, str)}
        return str(root.tag), fields
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected(WebhookRejection.MALFORMED, "not JSON") from None
    if not isinstance(data, dict) or len(data) != 1:
        raise WebhookRejected(WebhookRejection.MALFORMED, "not a wrapped item")
    ((root, item),) = data.items()
    if not isinstance(item, dict):
        raise WebhookRejected(WebhookRejection.MALFORMED, f"{root} is not an object")
    return str(root), item


def _xml_value(element: Any) -> Any:
    children = [c for c in element if isinstance(c.tag, str)]
    if not children:
        return element.text or ""
    return {c.tag: _xml_value(c) for c in children}


def _linked_id(link: Any) -> str:
    """The id in a ``{"resource": {"id": 1, ...}}`` link block ("" when none)."""
    resource = link.get("resource") if isinstance(link, dict) else None
    value = resource.get("id") if isinstance(resource, dict) else None
    text = str(value).strip() if value not in (None, False) else ""
    return text if text.isdigit() else ""
