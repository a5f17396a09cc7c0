"""Alerts: one per problem and link, not one per order; mailed once, when it opens.

Credentials refused or an account's limit reached pause the link (every flow over it would fail
the same way); "unreachable for several runs" and reconciliation differences do not — retrying is
right, and nothing is lost meanwhile. An alert is a code with parameters; the mail renders it in
Dutch and English, and says "paused" only when the link is.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import ActivityEvent, ActivityLevel, Alert, Flow, Link, LinkStatus
from .outcomes import SyncCode, render

log = logging.getLogger(__name__)


def open_alert(
    link: Link,
    kind: str,
    code: str,
    params: Mapping[str, Any] | None = None,
    *,
    pause: bool = True,
    flow: Flow | None = None,
) -> Alert | None:
    """Open an alert of ``kind`` (pausing ``link`` unless told not to); mails only when it is new.

    ``params`` must already be redacted (they come from ``FlowRun.params``).
    """
    params = dict(params or {})
    created: Alert | None = None
    with transaction.atomic():
        if pause:
            Link.objects.filter(pk=link.pk).update(
                status=LinkStatus.PAUSED, paused_code=code, paused_params=params
            )
            link.status, link.paused_code, link.paused_params = LinkStatus.PAUSED, code, params
        if not Alert.objects.filter(link=link, kind=kind, closed_at__isnull=True).exists():
            try:
                with transaction.atomic():
                    created = Alert.objects.create(
                        link=link, flow=flow, kind=kind, code=code, params=params, paused=pause
                    )
            except IntegrityError:  # another worker opened it at the same moment
                created = None
        if created is not None:
            ActivityEvent.objects.create(
                organisation_id=link.organisation_id,
                link=link,
                flow=flow,
                level=ActivityLevel.ERROR,
                code=SyncCode.LINK_PAUSED if pause else code,
                params={"code": code, "params": params} if pause else params,
            )
            alert_id = created.pk
            transaction.on_commit(lambda: notify(alert_id))
    return created


def notify(alert_id: int) -> None:
    """Tell people once that an alert opened: the e-mail, and the organisation's webhook if set."""
    from .alert_webhook import deliver

    send_alert_mail_safely(alert_id)
    try:
        deliver(alert_id)
    except Exception:  # the dispatcher tries again (``resend_unnotified``)
        log.exception("alert %s: webhook delivery failed; will retry", alert_id)


def send_alert_mail_safely(alert_id: int) -> bool:
    """A mail server that is down must not hide the alert: log it; the dispatcher retries."""
    try:
        send_alert_mail(alert_id)
    except Exception:
        log.exception("alert %s could not be mailed; will retry", alert_id)
        return False
    return True


def resend_unnotified() -> int:
    """Mail open alerts whose first mail failed, and post those whose webhook did not take them
    once their pause is over (runs every minute with the dispatcher)."""
    from .alert_webhook import deliver_due

    sent = 0
    for alert_id in Alert.objects.filter(closed_at__isnull=True, notified_at__isnull=True).values_list(
        "pk", flat=True
    ):
        sent += send_alert_mail_safely(alert_id)
    try:
        sent += deliver_due()
    except Exception:
        log.exception("alert webhooks could not be retried")
    return sent


def alert_text(alert: Alert) -> tuple[str, str]:
    """(subject, body) in the active language."""
    link = alert.link
    shown = render(alert.code, alert.params)
    subject = _("koppeling: %(link)s — %(problem)s") % {
        "link": link.name,
        "problem": alert.get_kind_display(),
    }
    lines = []
    if alert.paused:
        lines.append(_("The link '%(link)s' has been paused.") % {"link": link.name})
    lines.append(shown.text)
    first = alert.params.get("first") if isinstance(alert.params, dict) else None
    if isinstance(first, dict):
        lines.append(render(str(first.get("code", "")), first.get("params") or {}).text)
    if shown.suggestion:
        lines.append(shown.suggestion)
    if alert.paused:
        lines.append(
            _(
                "After fixing it, open the link and choose 'Resume'. Orders that came in meanwhile are "
                "then processed; nothing is lost."
            )
        )
    else:
        lines.append(_("The link keeps running; nothing is lost meanwhile."))
    return subject, "\n\n".join(lines)


def send_alert_mail(alert_id: int) -> None:
    alert = Alert.objects.select_related("link__organisation").get(pk=alert_id)
    recipients = alert.link.organisation.alert_recipients()
    if not recipients:
        return
    with translation.override("nl"):
        subject_nl, body_nl = alert_text(alert)
    with translation.override("en"):
        _subject_en, body_en = alert_text(alert)
    body = f"{body_nl}\n\n— English —\n\n{body_en}\n"
    send_mail(subject_nl, body, None, recipients)
    Alert.objects.filter(pk=alert.pk).update(notified_at=timezone.now())


def close_alert(link: Link, kind: str) -> bool:
    """The problem went away by itself (e.g. the system answers again): close, and say so."""
    closed = Alert.objects.filter(link=link, kind=kind, closed_at__isnull=True).update(
        closed_at=timezone.now()
    )
    if closed:
        ActivityEvent.objects.create(
            organisation_id=link.organisation_id, link=link, code=SyncCode.ALERT_CLOSED, params={"kind": kind}
        )
    return bool(closed)


def resume(link: Link, user: str = "") -> None:
    """The owner fixed the cause: close open alerts and let the link run again."""
    from .models import Flow

    with transaction.atomic():
        Alert.objects.filter(link=link, closed_at__isnull=True).update(closed_at=timezone.now())
        Link.objects.filter(pk=link.pk).update(status=LinkStatus.ACTIVE, paused_code="", paused_params={})
        Flow.objects.filter(link=link).update(next_run_at=None)
        link.status, link.paused_code, link.paused_params = LinkStatus.ACTIVE, "", {}
        ActivityEvent.objects.create(
            organisation_id=link.organisation_id, link=link, code=SyncCode.LINK_RESUMED, params={"user": user}
        )
