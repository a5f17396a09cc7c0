"""The ``webhooks`` capability: a source that pushes "this changed" to koppeling.

A connector that offers webhooks inherits :class:`ReceivesWebhooks`. The runtime's generic part
(``sync.webhooks``: the endpoint, the event table, queueing, the watchdog) knows nothing of any
vendor; it only calls what is declared here:

- ``verify_webhook(headers, body, secret)`` — a classmethod, no network: checks the vendor's
  signature over the **raw** body (constant-time) and says which event it is and which orders it
  names (``WebhookEvent``), or raises :class:`WebhookRejected`;
- ``webhook_secret()`` — which stored credential signs the deliveries;
- ``register_webhook(url)`` / ``list_webhooks()`` / ``delete_webhook(id)`` /
  ``reactivate_webhook(id)`` — the subscription, through the vendor's API.

A webhook only *speeds things up*: the order it names is read again through the API before
anything is booked, and the scheduled incremental run stays the source of truth.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

__all__ = [
    "ReceivesWebhooks",
    "RemoteWebhook",
    "WebhookEvent",
    "WebhookRejected",
    "WebhookRejection",
    "header",
    "receives_webhooks",
]


class WebhookRejection(StrEnum):
    """Why a delivery was refused; ``SIGNATURE`` answers 401, the rest 400."""

    SIGNATURE = "signature"  # missing or wrong signature: not from the shop
    MALFORMED = "malformed"  # signed, but not a body we can read
    STALE = "stale"  # a signed timestamp outside the window (a replay)


class WebhookRejected(ValueError):
    """A delivery that must not lead to anything; ``reason`` picks the HTTP status."""

    def __init__(self, reason: WebhookRejection, detail: str = "") -> None:
        super().__init__(detail or reason.value)
        self.reason = reason
        self.detail = detail

    @property
    def status(self) -> int:
        return 401 if self.reason == WebhookRejection.SIGNATURE else 400


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One verified delivery.

    ``event_id`` is the same for every delivery of the same change (the vendor's delivery id, or
    one derived from signed content): duplicates are dropped by it. ``signed_at`` is set only when
    the vendor signs a delivery time; then a timestamp window applies.
    """

    event_id: str
    order_ids: tuple[str, ...] = ()
    topic: str = ""
    signed_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class RemoteWebhook:
    """A subscription as the vendor's API lists it."""

    id: str
    address: str
    active: bool = True
    topic: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)


class ReceivesWebhooks(abc.ABC):
    """Mixin of a source connector that can tell koppeling about changed orders at once."""

    #: the vendor's API can list its subscriptions (the watchdog checks them); False: it cannot,
    #: and only the reconciliation scan catches what a dropped subscription missed
    webhooks_listable: ClassVar[bool] = True
    #: the API can turn a disabled subscription on again (otherwise: delete and register anew)
    webhooks_reactivatable: ClassVar[bool] = True

    @classmethod
    @abc.abstractmethod
    def verify_webhook(cls, headers: Mapping[str, str], body: bytes, secret: str) -> WebhookEvent:
        """Check the signature over the raw ``body``; the event, or ``WebhookRejected``."""

    @abc.abstractmethod
    def webhook_secret(self) -> str:
        """The secret the vendor signs deliveries with (from this connection's credentials)."""

    @abc.abstractmethod
    def register_webhook(self, url: str) -> RemoteWebhook:
        """Subscribe ``url`` to order changes; the subscription the API made."""

    @abc.abstractmethod
    def list_webhooks(self) -> list[RemoteWebhook]:
        """Every subscription of this account (ours and others')."""

    @abc.abstractmethod
    def delete_webhook(self, webhook_id: str) -> None:
        """Remove a subscription; an unknown id is not an error."""

    def reactivate_webhook(self, webhook_id: str) -> RemoteWebhook:
        """Turn a disabled subscription on again."""
        raise NotImplementedError


def receives_webhooks(connector: object) -> bool:
    """Does this connector (class or instance) offer the webhooks capability?"""
    cls = connector if isinstance(connector, type) else type(connector)
    return issubclass(cls, ReceivesWebhooks)


def header(headers: Mapping[str, str], name: str) -> str:
    """A header's value, whatever its case in ``headers`` ("" when absent)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return str(value)
    return ""
