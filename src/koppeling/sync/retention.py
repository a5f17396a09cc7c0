"""How long the activity log keeps what it holds, per organisation (guarantee 6).

The installation sets the period (``KOPPELING_ACTIVITY_RETENTION_DAYS``); an organisation may set
its own (``Organisation.activity_retention_days``, 1 to ``MAX_DAYS``), e.g. a shorter one because
its privacy statement promises it. Activity events, attempt details (which can hold the other
side's error texts) and runs older than their organisation's period are deleted; the ledger stays.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import QuerySet
from django.utils import timezone

from .models import ActivityEvent, AttemptOutcome, Organisation, Run, SyncAttempt

__all__ = ["MAX_DAYS", "MIN_DAYS", "periods", "purge"]

MIN_DAYS = 1
MAX_DAYS = 3650


def periods() -> list[tuple[int, QuerySet[Organisation]]]:
    """Each period in use and the organisations it applies to: those with their own, and the
    installation's for the rest."""
    from django.conf import settings

    default = int(settings.KOPPELING["ACTIVITY_RETENTION_DAYS"])
    own: dict[int, list[int]] = defaultdict(list)
    for pk, days in Organisation.objects.filter(activity_retention_days__isnull=False).values_list(
        "pk", "activity_retention_days"
    ):
        if days != default:
            own[int(days)].append(pk)
    others = [pk for pks in own.values() for pk in pks]
    groups = [(days, Organisation.objects.filter(pk__in=pks)) for days, pks in own.items()]
    return [*groups, (default, Organisation.objects.exclude(pk__in=others))]


def purge(now: dt.datetime | None = None) -> int:
    """Delete what is past each organisation's period; returns how many activity events went."""
    now = now or timezone.now()
    deleted = 0
    for days, organisations in periods():
        before = now - dt.timedelta(days=days)
        chosen = organisations.values("pk")
        deleted += ActivityEvent.objects.filter(organisation__in=chosen, created_at__lt=before).delete()[0]
        SyncAttempt.objects.filter(record__link__organisation__in=chosen, started_at__lt=before).exclude(
            outcome=AttemptOutcome.SENDING
        ).delete()
        Run.objects.filter(link__organisation__in=chosen, started_at__lt=before).delete()
    return deleted
