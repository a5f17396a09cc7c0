"""Alerts: one per problem, not one per order. Opening one pauses the link and mails once."""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import ActivityEvent, ActivityLevel, Alert, Link, LinkStatus

log = logging.getLogger(__name__)

SUBJECTS = {
    "auth": "koppeling: {link} is gepauzeerd — inloggegevens geweigerd / credentials refused",
    "quota": "koppeling: {link} is gepauzeerd — limiet bereikt / account limit reached",
    "unreachable": "koppeling: {link} — systeem onbereikbaar / system unreachable",
}


def open_alert(
    link: Link, kind: str, message: str, *, suggestion: str = "", pause: bool = True
) -> Alert | None:
    """Open an alert of ``kind`` (pausing ``link`` unless told not to); mails only when it is new."""
    created: Alert | None = None
    with transaction.atomic():
        if pause:
            Link.objects.filter(pk=link.pk).update(status=LinkStatus.PAUSED, paused_reason=message)
            link.status, link.paused_reason = LinkStatus.PAUSED, message
        if not Alert.objects.filter(link=link, kind=kind, closed_at__isnull=True).exists():
            try:
                with transaction.atomic():
                    created = Alert.objects.create(link=link, kind=kind, message=message)
            except IntegrityError:  # another worker opened it at the same moment
                created = None
        if created is not None:
            ActivityEvent.objects.create(
                organisation_id=link.organisation_id,
                link=link,
                level=ActivityLevel.ERROR,
                code=f"link_paused_{kind}" if pause else f"alert_{kind}",
                message=f"Link paused: {message}" if pause else message,
            )
            alert_id = created.pk
            transaction.on_commit(lambda: send_alert_mail_safely(alert_id, suggestion))
    return created


def send_alert_mail_safely(alert_id: int, suggestion: str = "") -> bool:
    """A mail server that is down must not hide the pause: log it; the dispatcher retries."""
    try:
        send_alert_mail(alert_id, suggestion)
    except Exception:
        log.exception("alert %s could not be mailed; will retry", alert_id)
        return False
    return True


def resend_unnotified() -> int:
    """Mail open alerts whose first mail failed (runs every minute with the dispatcher)."""
    sent = 0
    for alert_id in Alert.objects.filter(closed_at__isnull=True, notified_at__isnull=True).values_list(
        "pk", flat=True
    ):
        sent += send_alert_mail_safely(alert_id)
    return sent


def send_alert_mail(alert_id: int, suggestion: str = "") -> None:
    alert = Alert.objects.select_related("link__organisation").get(pk=alert_id)
    link = alert.link
    recipients = link.organisation.alert_recipients()
    if not recipients:
        return
    body = (
        f"De koppeling '{link.name}' is gepauzeerd. / The link '{link.name}' has been paused.\n\n"
        f"{alert.message}\n\n"
        + (f"{suggestion}\n\n" if suggestion else "")
        + "Na het herstellen: open de koppeling en kies 'Hervatten'. Orders die intussen binnenkwamen "
        "worden dan alsnog verwerkt; er gaat niets verloren.\n"
        "After fixing it, open the link and choose 'Resume'. Orders that came in meanwhile are then "
        "processed; nothing is lost.\n"
    )
    send_mail(SUBJECTS.get(alert.kind, "koppeling: {link}").format(link=link.name), body, None, recipients)
    Alert.objects.filter(pk=alert.pk).update(notified_at=timezone.now())


def close_alert(link: Link, kind: str, message: str) -> bool:
    """The problem went away by itself (e.g. the system answers again): close, and say so."""
    closed = Alert.objects.filter(link=link, kind=kind, closed_at__isnull=True).update(
        closed_at=timezone.now()
    )
    if closed:
        ActivityEvent.objects.create(
            organisation_id=link.organisation_id, link=link, code=f"alert_{kind}_closed", message=message
        )
    return bool(closed)


def resume(link: Link) -> None:
    """The owner fixed the cause: close open alerts and let the link run again."""
    with transaction.atomic():
        Alert.objects.filter(link=link, closed_at__isnull=True).update(closed_at=timezone.now())
        Link.objects.filter(pk=link.pk).update(status=LinkStatus.ACTIVE, paused_reason="", next_run_at=None)
        link.status, link.paused_reason = LinkStatus.ACTIVE, ""
        ActivityEvent.objects.create(
            organisation_id=link.organisation_id, link=link, code="link_resumed", message="Link resumed"
        )
