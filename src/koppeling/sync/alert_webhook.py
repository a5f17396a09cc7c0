"""The organisation's optional outbound webhook for alerts: one signed POST when an alert opens.

Beside the e-mail, an owner can have alerts posted to a chat channel or a monitoring system. The
body is JSON with the alert as a code with parameters (already redacted), its text in Dutch and
English, and a ``text`` field, so Slack, Mattermost and Teams incoming webhooks show it as it is.

Every POST is signed like Stripe's and GitHub's webhooks: ``X-Koppeling-Signature: sha256=<hex>``
is the HMAC-SHA256 of ``"<X-Koppeling-Timestamp>.<body>"`` under the organisation's signing
secret, so a receiver can check that it came from koppeling and is fresh. A 2xx answer is
delivered; anything else is tried again with a growing pause (1, 2, 4 … 60 minutes), at most
``MAX_ATTEMPTS`` times, then the activity log says it gave up. Redirects are not followed and the
address must be https (http only where connections may use it: localhost, simulators).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from koppeling import __version__
from koppeling.connectors.http import make_client

from .alerts import alert_text
from .connections import base_url_problem
from .models import ActivityEvent, ActivityLevel, Alert, Organisation
from .outcomes import SyncCode

log = logging.getLogger(__name__)

__all__ = ["MAX_ATTEMPTS", "deliver", "deliver_due", "new_secret", "payload", "send_test", "signature"]

MAX_ATTEMPTS = 8
TIMEOUT_SECONDS = 10.0
EVENT = "alert.opened"


def new_secret() -> str:
    """A signing secret: 32 random bytes, URL-safe."""
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of ``timestamp.body`` under ``secret`` (what a receiver recomputes)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def payload(alert: Alert) -> dict[str, Any]:
    """The alert as the webhook receives it (no prose stored: rendered here, in both languages)."""
    texts = {}
    for language in ("nl", "en"):
        with translation.override(language):
            subject, body = alert_text(alert)
        texts[language] = f"{subject}\n\n{body}"
    link = alert.link
    return {
        "event": EVENT,
        "id": alert.pk,
        "organisation": link.organisation.slug,
        "link": {"id": link.pk, "name": link.name},
        "flow": None if alert.flow is None else {"id": alert.flow.pk, "kind": alert.flow.kind},
        "kind": alert.kind,
        "code": alert.code,
        "params": alert.params,
        "paused": alert.paused,
        "opened_at": alert.opened_at.isoformat(),
        "text": texts["nl"],
        "text_en": texts["en"],
    }


def deliver(alert_id: int, *, now: dt.datetime | None = None) -> bool:
    """POST the alert to its organisation's webhook, if it has one and it was not delivered yet;
    whether it is delivered now (never raises: a receiver that is down must not hide the alert)."""
    alert = Alert.objects.select_related("link__organisation", "flow").get(pk=alert_id)
    if alert.webhook_notified_at is not None:
        return True
    hook = alert.link.organisation.alert_webhook
    if not hook.get("url"):
        return False
    now = now or timezone.now()
    detail = _post(hook, payload(alert), str(alert.pk), now)
    attempts = alert.webhook_attempts + 1
    if not detail:
        Alert.objects.filter(pk=alert.pk).update(
            webhook_notified_at=now, webhook_tried_at=now, webhook_attempts=attempts
        )
        return True
    Alert.objects.filter(pk=alert.pk).update(webhook_tried_at=now, webhook_attempts=attempts)
    log.warning("alert %s: webhook not delivered (attempt %s): %s", alert.pk, attempts, detail)
    if attempts >= MAX_ATTEMPTS:
        ActivityEvent.objects.create(
            organisation_id=alert.link.organisation_id,
            link_id=alert.link_id,
            flow_id=alert.flow_id,
            level=ActivityLevel.WARNING,
            code=SyncCode.ALERT_WEBHOOK_FAILED,
            params={
                "host": urlsplit(hook["url"]).hostname or "?",
                "attempts": attempts,
                "detail": detail[:200],
            },
        )
    return False


def _post(hook: dict[str, str], document: dict[str, Any], delivery: str, now: dt.datetime) -> str:
    """Empty when the receiver took ``document``, else why not: an address connections may not use
    either (plain http to a public host), a status, or the transport error's kind."""
    problem = base_url_problem(hook["url"], runtime=True)
    if problem:
        return problem
    body = json.dumps(document, ensure_ascii=False, sort_keys=True).encode()
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"koppeling/{__version__}",
        "X-Koppeling-Event": str(document["event"]),
        "X-Koppeling-Delivery": delivery,
        "X-Koppeling-Timestamp": timestamp,
        "X-Koppeling-Signature": signature(hook.get("secret", ""), timestamp, body),
    }
    try:
        with make_client(hook["url"], timeout=TIMEOUT_SECONDS, deadline=TIMEOUT_SECONDS) as client:
            answer = client.post(hook["url"], content=body, headers=headers, follow_redirects=False)
    except Exception as exc:  # any transport problem is "not delivered", tried again later
        return type(exc).__name__
    return "" if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"


def send_test(organisation: Organisation, user: str = "") -> str:
    """POST a test event to the organisation's webhook, signed like an alert: "" when the
    receiver took it, else why not (so the owner sees at once whether the address works)."""
    hook = organisation.alert_webhook
    if not hook.get("url"):
        return "no webhook"
    now = timezone.now()
    texts = {}
    for language in ("nl", "en"):
        with translation.override(language):
            texts[language] = gettext("koppeling: a test of the alert webhook (sent by %(user)s).") % {
                "user": user or "?"
            }
    document = {
        "event": "test",
        "id": None,
        "organisation": organisation.slug,
        "opened_at": now.isoformat(),
        "text": texts["nl"],
        "text_en": texts["en"],
    }
    return _post(hook, document, f"test-{int(now.timestamp())}", now)


def _pause(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def deliver_due(now: dt.datetime | None = None) -> int:
    """Open alerts whose webhook delivery failed and whose pause is over: try again (every minute
    with the dispatcher). Returns how many were delivered."""
    now = now or timezone.now()
    waiting = (
        Alert.objects.filter(closed_at__isnull=True, webhook_notified_at__isnull=True)
        .filter(webhook_attempts__gt=0, webhook_attempts__lt=MAX_ATTEMPTS)
        .exclude(link__organisation__alert_webhook_encrypted="")
        .filter(Q(webhook_tried_at__isnull=True) | Q(webhook_tried_at__lte=now - _pause(1)))
        .values_list("pk", "webhook_attempts", "webhook_tried_at")
    )
    delivered = 0
    for pk, attempts, tried in waiting:
        if tried is None or tried + _pause(attempts) <= now:
            delivered += deliver(pk, now=now)
    return delivered
