"""Webhooks in: receive, drop duplicates, queue the order on the priority path; and keep watch.

Vendor-neutral: everything vendor-specific is behind the connector's ``webhooks`` capability
(``koppeling.connectors.webhooks.ReceivesWebhooks``). The guarantees:

- **Who may call.** ``/hooks/<token>/``: the token (256 bits, per flow) finds the flow, then the
  vendor's signature over the raw body is checked in constant time with the secret of the flow's
  source connection. Nothing unsigned or mis-signed reaches the database or the queue (401/400).
- **Replays and duplicates.** Where the vendor signs a delivery time, a delivery outside the window
  (``WEBHOOK_WINDOW_SECONDS``, 5 minutes) is refused. Every accepted delivery is one
  ``WebhookEvent`` row, unique per (flow, event id): a resent or replayed delivery is answered
  200 and does nothing. And a webhook is only a hint — the order is read again through the API.
- **At once.** The order goes to ``tasks.push_record_now`` (Verwerk's priority path) when the
  transaction commits; the ledger's claims still make it exactly one invoice, however many
  deliveries and workers.
- **Nothing missed.** Shops drop or disable subscriptions after failures, so the watchdog
  (``watch_due``) checks each one every ``WEBHOOK_WATCHDOG_MINUTES`` (15), registers it again where
  the API allows and opens an alert; and the reconciliation scan (``scan_due``) runs an incremental
  fetch of every flow with webhooks every ``WEBHOOK_SCAN_MINUTES`` (15), whatever its schedule.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from koppeling.connectors.base import Capability, Connector
from koppeling.connectors.errors import ConnectorError
from koppeling.connectors.registry import connector_class
from koppeling.connectors.webhooks import (
    ReceivesWebhooks,
    RemoteWebhook,
    WebhookRejected,
    WebhookRejection,
    receives_webhooks,
)
from koppeling.core.messages import gettext_noop, register

from . import alerts
from .connections import build_connector
from .flowkinds import kind_of
from .models import ActivityEvent, ActivityLevel, Alert, Flow, FlowStatus, LinkStatus, RunKind
from .redact import Redactor
from .webhook_models import SubscriptionStatus, WebhookEvent, WebhookSubscription

__all__ = [
    "WEBHOOK_ALERT",
    "Receipt",
    "WebhookCode",
    "WebhookSetupError",
    "check_subscription",
    "disable",
    "enable",
    "endpoint_url",
    "purge_events",
    "receive",
    "scan_due",
    "watch_due",
]

log = logging.getLogger(__name__)

#: ``Alert.kind`` of a lost or re-registered subscription (one open alert per link)
WEBHOOK_ALERT = "webhook"
#: at most this many orders queued per delivery (a vendor batching changes)
MAX_ORDERS_PER_EVENT = 50


class WebhookCode(StrEnum):
    REGISTERED = "webhook_registered"
    REACTIVATED = "webhook_reactivated"
    REREGISTERED = "webhook_reregistered"
    LOST = "webhook_lost"
    NO_PUBLIC_URL = "webhook_no_public_url"
    UNSUPPORTED = "webhook_unsupported"


_OFTEN = gettext_noop(
    "If this happens often, the shop could not reach koppeling: check that its public address is "
    "reachable from the internet."
)
register(
    {
        WebhookCode.REGISTERED: (gettext_noop("%(system)s sends order changes to koppeling at once."), ""),
        WebhookCode.REACTIVATED: (
            gettext_noop(
                "%(system)s had turned koppeling's webhook off; it is on again. Orders changed "
                "meanwhile are picked up by the reconciliation scan."
            ),
            _OFTEN,
        ),
        WebhookCode.REREGISTERED: (
            gettext_noop(
                "%(system)s had dropped koppeling's webhook; it has been registered again. Orders "
                "changed meanwhile are picked up by the reconciliation scan."
            ),
            _OFTEN,
        ),
        WebhookCode.LOST: (
            gettext_noop(
                "%(system)s no longer sends order changes to koppeling, and the webhook could not be "
                "registered again. Orders are still picked up by the reconciliation scan, only later."
            ),
            gettext_noop(
                "Check the connection's credentials and rights; koppeling tries again every 15 minutes."
            ),
        ),
        WebhookCode.NO_PUBLIC_URL: (
            gettext_noop("Webhooks need koppeling's public address (KOPPELING_PUBLIC_URL)."),
            gettext_noop("Set the https:// address at which the shop can reach koppeling."),
        ),
        WebhookCode.UNSUPPORTED: (gettext_noop("%(system)s offers no webhooks."), ""),
    }
)


class WebhookSetupError(ValueError):
    """Webhooks cannot be turned on for this flow: a code with parameters."""

    def __init__(self, code: WebhookCode, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(code.value)
        self.code = code
        self.params = dict(params or {})


def _setting(name: str, default: float) -> float:
    return float(settings.KOPPELING.get(name, default))


# -- receiving ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Receipt:
    """The answer to one delivery: HTTP ``status`` and a short machine word (no details)."""

    status: int
    outcome: str
    orders: tuple[str, ...] = ()


def receive(
    token: str, headers: Mapping[str, str], body: bytes, *, now: dt.datetime | None = None
) -> Receipt:
    """One delivery to ``/hooks/<token>/``: verified, recorded once, its orders queued."""
    now = now or timezone.now()
    sub = (
        WebhookSubscription.objects.select_related("flow__link", "flow__source")
        .filter(token=token)
        .exclude(status=SubscriptionStatus.OFF)
        .first()
    )
    if sub is None:
        return Receipt(404, "unknown")
    flow = sub.flow
    try:
        cls = connector_class(flow.source.system)
    except Exception:
        return Receipt(404, "unknown")
    if not receives_webhooks(cls):
        return Receipt(404, "unknown")
    try:
        event = cls.verify_webhook(headers, body, _secret_of(flow))  # type: ignore[attr-defined]
    except WebhookRejected as exc:
        log.info("webhook for flow %s refused: %s", flow.pk, exc.reason)
        return Receipt(exc.status, exc.reason.value)
    except Exception:  # a body the vendor's parser did not foresee: refused, never a traceback
        log.warning("webhook for flow %s could not be read", flow.pk, exc_info=True)
        return Receipt(400, WebhookRejection.MALFORMED.value)
    if event.signed_at is not None:
        window = dt.timedelta(seconds=_setting("WEBHOOK_WINDOW_SECONDS", 300))
        signed = event.signed_at if event.signed_at.tzinfo else event.signed_at.replace(tzinfo=dt.UTC)
        if abs(now - signed) > window:
            return Receipt(400, WebhookRejection.STALE.value)
    orders = tuple(dict.fromkeys(str(o) for o in event.order_ids))[:MAX_ORDERS_PER_EVENT]
    return _record(sub, event.event_id, event.topic, orders, now)


def _secret_of(flow: Flow) -> str:
    connector = build_connector(flow.source)
    try:
        return connector.webhook_secret()  # type: ignore[attr-defined]
    finally:
        connector.close()


def _record(
    sub: WebhookSubscription, event_id: str, topic: str, orders: tuple[str, ...], now: dt.datetime
) -> Receipt:
    """Insert the event (a duplicate stops here) and queue its orders after the commit."""
    from .review import VERWERK_PRIORITY
    from .tasks import enqueue_on_commit, push_record_now

    flow = sub.flow
    running = flow.status == FlowStatus.ACTIVE and flow.link.status == LinkStatus.ACTIVE
    with transaction.atomic():
        try:
            with transaction.atomic():
                WebhookEvent.objects.create(
                    flow=flow,
                    event_id=event_id,
                    topic=topic[:50],
                    order_ids=list(orders),
                    received_at=now,
                    queued=running and bool(orders),
                )
        except IntegrityError:
            WebhookEvent.objects.filter(flow=flow, event_id=event_id).update(duplicates=F("duplicates") + 1)
            return Receipt(200, "duplicate")
        WebhookSubscription.objects.filter(pk=sub.pk).update(last_event_at=now)
        if not running:  # paused: the scan after resuming reads what changed meanwhile
            return Receipt(200, "paused", orders)
        for source_id in orders:
            enqueue_on_commit(push_record_now, flow.pk, source_id, priority=VERWERK_PRIORITY)
    return Receipt(200, "queued" if orders else "nothing", orders)


# -- registration -------------------------------------------------------------------------------------


def endpoint_url(sub: WebhookSubscription, public_url: str | None = None) -> str:
    """The address the vendor posts to: koppeling's public address + ``/hooks/<token>/``."""
    base = (public_url or str(settings.KOPPELING.get("PUBLIC_URL") or "")).strip().rstrip("/")
    if not base:
        raise WebhookSetupError(WebhookCode.NO_PUBLIC_URL)
    return f"{base}/hooks/{sub.token}/"


def _webhook_connector(flow: Flow) -> Connector:
    if kind_of(flow.kind).reads != Capability.READS_ORDERS:  # a webhook names orders
        raise WebhookSetupError(WebhookCode.UNSUPPORTED, {"system": flow.source.system})
    connector = build_connector(flow.source)
    if not isinstance(connector, ReceivesWebhooks):
        connector.close()
        raise WebhookSetupError(WebhookCode.UNSUPPORTED, {"system": connector.label})
    return connector


def enable(flow: Flow, *, public_url: str | None = None) -> WebhookSubscription:
    """Register the flow's webhook at its source; raises ``WebhookSetupError`` or the
    connector's ``ConnectorError``. A refused registration leaves the subscription ``lost``:
    the watchdog tries again, and the alert says so."""
    connector = _webhook_connector(flow)
    try:
        sub, created = WebhookSubscription.objects.get_or_create(flow=flow)
        try:
            address = endpoint_url(sub, public_url)
        except WebhookSetupError:
            if created:
                sub.delete()
            raise
        try:
            if sub.remote_id:
                connector.delete_webhook(sub.remote_id)  # type: ignore[attr-defined]
            remote = connector.register_webhook(address)  # type: ignore[attr-defined]
        except ConnectorError as exc:  # the person sees it now; the watchdog keeps trying
            cause = {"code": str(exc.code), "params": Redactor(connector.secrets()).params(exc.params)}
            WebhookSubscription.objects.filter(pk=sub.pk).update(
                address=address,
                remote_id="",
                status=SubscriptionStatus.LOST,
                checked_at=timezone.now(),
                problem_code=WebhookCode.LOST,
                problem_params={"system": connector.label, "first": cause},
            )
            raise
        now = timezone.now()
        sub.status, sub.remote_id, sub.address = SubscriptionStatus.ACTIVE, remote.id, address
        sub.registered_at = sub.checked_at = now
        sub.problem_code, sub.problem_params = "", {}
        sub.save()
        _activity(flow, WebhookCode.REGISTERED, {"system": connector.label}, ActivityLevel.INFO)
        return sub
    finally:
        connector.close()


def disable(flow: Flow) -> None:
    """Turn the flow's webhook off: removed at the source (if it can be), refused here."""
    sub = WebhookSubscription.objects.filter(flow=flow).first()
    if sub is None:
        return
    if sub.remote_id:
        try:
            connector = _webhook_connector(flow)
            try:
                connector.delete_webhook(sub.remote_id)  # type: ignore[attr-defined]
            finally:
                connector.close()
        except (ConnectorError, WebhookSetupError) as exc:  # gone already, or unreachable: off here
            log.info("webhook of flow %s not deleted at the source: %s", flow.pk, exc)
    WebhookSubscription.objects.filter(pk=sub.pk).update(status=SubscriptionStatus.OFF, remote_id="")


# -- the watchdog -------------------------------------------------------------------------------------


def _running() -> Q:
    return Q(flow__status=FlowStatus.ACTIVE, flow__link__status=LinkStatus.ACTIVE) & ~Q(
        status=SubscriptionStatus.OFF
    )


def watch_due(now: dt.datetime | None = None) -> dict[str, int]:
    """Check every subscription not checked for ``WEBHOOK_WATCHDOG_MINUTES``; outcome counts."""
    now = now or timezone.now()
    before = now - dt.timedelta(minutes=_setting("WEBHOOK_WATCHDOG_MINUTES", 15))
    due = WebhookSubscription.objects.filter(_running()).filter(
        Q(checked_at__isnull=True) | Q(checked_at__lte=before)
    )
    counts: dict[str, int] = {}
    for sub in due.select_related("flow__link", "flow__source"):
        try:
            outcome = check_subscription(sub, now=now)
        except Exception:  # one flow's fault must not stop the others' checks
            log.exception("webhook check of flow %s failed", sub.flow_id)
            outcome = "error"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def check_subscription(sub: WebhookSubscription, *, now: dt.datetime | None = None) -> str:
    """Is the flow's webhook still there and on? If not: register it again, and alert.

    Returns ``ok``, ``unlisted`` (the API cannot list them), ``registered`` (the first time),
    ``reactivated``, ``reregistered``,
    ``unreachable`` (a passing failure: checked again next time, no alert) or ``lost`` (it could
    not be put right: one alert; the scan keeps the flow complete meanwhile).
    """
    now = now or timezone.now()
    flow = sub.flow
    try:
        connector = _webhook_connector(flow)
    except WebhookSetupError as exc:
        return _lost(sub, now, flow.source.system, exc.code, exc.params, Redactor([]))
    label = connector.label
    redactor = Redactor(connector.secrets())
    try:
        if not connector.webhooks_listable:  # type: ignore[attr-defined]
            WebhookSubscription.objects.filter(pk=sub.pk).update(checked_at=now)
            return "unlisted"
        listed = connector.list_webhooks()  # type: ignore[attr-defined]
        ours = _ours(sub, listed)
        for extra in [h for h in listed if h.address == sub.address and ours and h.id != ours.id]:
            connector.delete_webhook(extra.id)  # type: ignore[attr-defined]  # a double registration
        if ours is not None and ours.active:
            _healthy(sub, ours, now)
            return "ok"
        if ours is not None and connector.webhooks_reactivatable:  # type: ignore[attr-defined]
            remote = connector.reactivate_webhook(ours.id)  # type: ignore[attr-defined]
            code = WebhookCode.REACTIVATED
        else:
            if ours is not None:
                connector.delete_webhook(ours.id)  # type: ignore[attr-defined]
            address = sub.address or endpoint_url(sub)
            remote = connector.register_webhook(address)  # type: ignore[attr-defined]
            code = WebhookCode.REACTIVATED if ours is not None else WebhookCode.REREGISTERED
    except ConnectorError as exc:
        if exc.retryable:  # down for a moment (5xx, 429, a timeout): no alert, look again later
            WebhookSubscription.objects.filter(pk=sub.pk).update(checked_at=now)
            return "unreachable"
        return _lost(sub, now, label, exc.code, exc.params, redactor)
    except WebhookSetupError as exc:
        return _lost(sub, now, label, exc.code, exc.params, redactor)
    finally:
        connector.close()
    if sub.registered_at is None:  # never registered (the first try failed): no repair to report
        _healthy(sub, remote, now)
        _activity(flow, WebhookCode.REGISTERED, {"system": label}, ActivityLevel.INFO)
        return "registered"
    return _reregistered(sub, remote, code, label, now)


def _ours(sub: WebhookSubscription, listed: list[RemoteWebhook]) -> RemoteWebhook | None:
    by_id = [h for h in listed if sub.remote_id and h.id == sub.remote_id]
    by_address = [h for h in listed if sub.address and h.address == sub.address]
    return (by_id or by_address or [None])[0]


def _healthy(sub: WebhookSubscription, remote: RemoteWebhook, now: dt.datetime) -> None:
    WebhookSubscription.objects.filter(pk=sub.pk).update(
        status=SubscriptionStatus.ACTIVE,
        remote_id=remote.id,
        checked_at=now,
        registered_at=Coalesce("registered_at", Value(now)),
        problem_code="",
        problem_params={},
    )
    flow = sub.flow
    mine = Alert.objects.filter(link_id=flow.link_id, kind=WEBHOOK_ALERT, flow=flow, closed_at__isnull=True)
    if mine.exists():  # another flow's open webhook alert on this link stays open
        alerts.close_alert(flow.link, WEBHOOK_ALERT)


def _reregistered(
    sub: WebhookSubscription, remote: RemoteWebhook, code: WebhookCode, label: str, now: dt.datetime
) -> str:
    params = {"system": label}
    WebhookSubscription.objects.filter(pk=sub.pk).update(
        status=SubscriptionStatus.ACTIVE,
        remote_id=remote.id,
        checked_at=now,
        registered_at=now,
        reregistered=F("reregistered") + 1,
        problem_code="",
        problem_params={},
    )
    flow = sub.flow
    alerts.open_alert(flow.link, WEBHOOK_ALERT, code, params, pause=False, flow=flow)
    _activity(flow, code, params, ActivityLevel.WARNING)
    from .tasks import enqueue_on_commit, sync_flow

    # deliveries were missed while it was gone: catch up now, not at the next scan
    WebhookSubscription.objects.filter(pk=sub.pk).update(scanned_at=now)
    enqueue_on_commit(sync_flow, flow.pk, RunKind.SCHEDULED)
    return "reactivated" if code == WebhookCode.REACTIVATED else "reregistered"


def _lost(
    sub: WebhookSubscription,
    now: dt.datetime,
    label: str,
    cause: str,
    cause_params: Mapping[str, Any],
    redactor: Redactor,
) -> str:
    """It could not be put right: the row says so, one alert opens (the link keeps running)."""
    params = {"system": label, "first": {"code": str(cause), "params": redactor.params(cause_params)}}
    WebhookSubscription.objects.filter(pk=sub.pk).update(
        status=SubscriptionStatus.LOST, checked_at=now, problem_code=WebhookCode.LOST, problem_params=params
    )
    flow = sub.flow
    alerts.open_alert(flow.link, WEBHOOK_ALERT, WebhookCode.LOST, params, pause=False, flow=flow)
    return "lost"


def _activity(flow: Flow, code: str, params: dict[str, Any], level: str) -> None:
    ActivityEvent.objects.create(
        organisation_id=flow.link.organisation_id,
        link_id=flow.link_id,
        flow=flow,
        level=level,
        code=code,
        params=params,
    )


# -- the reconciliation scan --------------------------------------------------------------------------


def scan_due(now: dt.datetime | None = None) -> list[int]:
    """Queue an incremental run of every flow with webhooks not run for ``WEBHOOK_SCAN_MINUTES``:
    what a lost or late delivery missed is booked within that time anyway. Returns the flow ids."""
    from .tasks import sync_flow

    now = now or timezone.now()
    before = now - dt.timedelta(minutes=_setting("WEBHOOK_SCAN_MINUTES", 15))
    due = (
        WebhookSubscription.objects.filter(_running())
        .filter(Q(scanned_at__isnull=True) | Q(scanned_at__lte=before))
        .filter(Q(flow__last_run_at__isnull=True) | Q(flow__last_run_at__lte=before))
        .filter(Q(flow__waiting_until__isnull=True) | Q(flow__waiting_until__lte=now))
    )
    flow_ids = list(due.values_list("flow_id", flat=True))
    WebhookSubscription.objects.filter(flow_id__in=flow_ids).update(scanned_at=now)
    for flow_id in flow_ids:
        sync_flow(flow_id, RunKind.SCHEDULED)
    return flow_ids


def purge_events(now: dt.datetime | None = None) -> int:
    """Received events are kept as long as their organisation's activity log (at least a week:
    the dedupe window)."""
    from .retention import periods

    now = now or timezone.now()
    deleted = 0
    for days, organisations in periods():
        before = now - dt.timedelta(days=max(7, days))
        deleted += WebhookEvent.objects.filter(
            flow__link__organisation__in=organisations.values("pk"), received_at__lt=before
        ).delete()[0]
    return deleted
