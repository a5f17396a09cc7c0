"""Webhooks of the Lightspeed simulator: the ``webhook`` resource's fields and signed deliveries.

Create body ``{"webhook": {isActive, itemGroup, itemAction, language, format, address}}`` (JSON, or
the form fields ``webhook[itemGroup]=orders`` of the docs' curl example); groups and actions as
listed on developers.seoshop.com/api/tutorials/webhooks [V]. A delivery is a POST of the item in
the API's own wrapped shape (``{"order": {...}}``) [V: a client's live test unwraps the root name]
with the headers ``X-Shop-Id``, ``X-Format``, ``X-Language``, ``X-<Group>-Id``, ``X-RateLimit-*``
[V docs; the exact spelling of ``X-<Group>-Id`` is I] and ``X-Signature`` = md5(raw body + secret)
[V: Lightspeed community answers; which secret (app secret vs API secret) is I].
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from . import records
from .records import Links, Store, encode

__all__ = ["WebhookDelivery", "WebhookFieldError", "build_delivery", "sign_webhook", "webhook_fields"]

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
