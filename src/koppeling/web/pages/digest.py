"""The daily e-mail of new failures, one per organisation (not one per order).

Each organisation gets the orders that failed since its last digest (at most a day back the first
time), with the reason and the suggestion, in Dutch with the English below it — like the alerts.
A sent digest is an activity row; it is what "since the last digest" is measured from, so running
the task twice the same day sends nothing new. Schedule: ``daily_failure_digest`` (07:05).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from koppeling.core.messages import gettext_noop, register
from koppeling.sync.models import ActivityEvent, Organisation, RecordState, SyncRecord
from koppeling.sync.outcomes import render

log = logging.getLogger(__name__)

DIGEST_SENT = "failure_digest_sent"
#: orders listed in one mail; the rest is counted
LISTED = 50
FIRST_WINDOW = dt.timedelta(days=1)

register({DIGEST_SENT: (gettext_noop("Daily e-mail of %(count)s new failed orders sent to %(to)s."),)})


def _since(org: Organisation, now: dt.datetime) -> dt.datetime:
    last = ActivityEvent.objects.filter(organisation=org, code=DIGEST_SENT).aggregate(at=Max("created_at"))[
        "at"
    ]
    return last or now - FIRST_WINDOW


def _body(org: Organisation, failed: list[SyncRecord], count: int) -> str:
    lines = [
        ngettext(
            "%(count)s order of %(org)s failed since the last e-mail.",
            "%(count)s orders of %(org)s failed since the last e-mail.",
            count,
        )
        % {"count": count, "org": org.name},
        "",
    ]
    for record in failed:
        shown = render(record.error_code or record.reason_code, record.params)
        lines.append(f"- {record.link.name} · {record.source_number or record.source_id}: {shown.text}")
        if shown.suggestion:
            lines.append(f"  {shown.suggestion}")
    if count > len(failed):
        lines.append(_("… and %(more)s more.") % {"more": count - len(failed)})
    base = str(settings.KOPPELING.get("BASE_URL", "")).rstrip("/")
    lines += ["", _("Open Fouten to process them: %(url)s") % {"url": base + reverse("pages:failures")}]
    return "\n".join(lines)


def digest_for(org: Organisation, now: dt.datetime) -> bool:
    """Mail ``org`` its new failures; False when there were none or nobody to tell."""
    since = _since(org, now)
    rows = SyncRecord.objects.filter(
        link__organisation=org, state=RecordState.FAILED, updated_at__gte=since, updated_at__lt=now
    ).exclude(object_type="batch")
    count = rows.count()
    recipients = org.alert_recipients()
    if not count or not recipients:
        return False
    failed = list(rows.select_related("link").order_by("updated_at")[:LISTED])
    with translation.override("nl"):
        subject = ngettext(
            "koppeling: %(count)s new failed order", "koppeling: %(count)s new failed orders", count
        ) % {"count": count}
        body_nl = _body(org, failed, count)
    with translation.override("en"):
        body_en = _body(org, failed, count)
    send_mail(subject, f"{body_nl}\n\n— English —\n\n{body_en}\n", None, recipients)
    ActivityEvent.objects.create(
        organisation=org,
        code=DIGEST_SENT,
        params={"count": count, "to": ", ".join(recipients)},
        created_at=now,
    )
    return True


def send_failure_digests(now: dt.datetime | None = None) -> int:
    """One mail per organisation with new failures; returns how many were sent."""
    now = now or timezone.now()
    candidates = (
        SyncRecord.objects.filter(state=RecordState.FAILED, updated_at__gte=now - FIRST_WINDOW * 7)
        .values_list("link__organisation_id", flat=True)
        .distinct()
    )
    sent = 0
    for org in Organisation.objects.filter(pk__in=list(candidates)):
        try:
            sent += digest_for(org, now)
        except Exception:  # one organisation's mail server problem must not stop the others
            log.exception("failure digest for organisation %s could not be sent", org.pk)
    return sent


@db_periodic_task(crontab(hour="7", minute="5"))
def daily_failure_digest() -> int:
    return send_failure_digests()
