"""Activity retention per organisation: its own period, else the installation's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from koppeling.sync import retention, tasks
from koppeling.sync.models import ActivityEvent, Organisation, Run

pytestmark = pytest.mark.django_db


def _event(org: Organisation, days_old: int) -> ActivityEvent:
    return ActivityEvent.objects.create(
        organisation=org, code="x", params={}, created_at=timezone.now() - dt.timedelta(days=days_old)
    )


def test_each_organisation_keeps_its_own_period(link, settings):
    settings.KOPPELING = {**settings.KOPPELING, "ACTIVITY_RETENTION_DAYS": 30}
    short = Organisation.objects.create(slug="kort", name="Kort", activity_retention_days=7)
    long = Organisation.objects.create(slug="lang", name="Lang", activity_retention_days=90)
    default = link.organisation
    events = {
        (org.slug, age): _event(org, age).pk for org in (short, long, default) for age in (1, 10, 40, 100)
    }
    tasks.purge_activity.call_local()
    left = set(ActivityEvent.objects.filter(code="x").values_list("pk", flat=True))
    kept = {key for key, pk in events.items() if pk in left}
    assert kept == {
        ("kort", 1),
        ("lang", 1),
        ("lang", 10),
        ("lang", 40),
        (default.slug, 1),
        (default.slug, 10),
    }


def test_runs_follow_their_organisations_period(link, settings):
    from koppeling.sync.engine import Engine

    Engine(link).run()
    Run.objects.update(started_at=timezone.now() - dt.timedelta(days=10))
    org = link.organisation
    org.activity_retention_days = 60
    org.save()
    retention.purge()
    assert Run.objects.exists()
    org.activity_retention_days = 5
    org.save()
    retention.purge()
    assert not Run.objects.exists()


def test_the_organisations_period_is_its_own_else_the_installations(link, settings):
    settings.KOPPELING = {**settings.KOPPELING, "ACTIVITY_RETENTION_DAYS": 30}
    org = link.organisation
    assert org.retention_days == 30
    org.activity_retention_days = 14
    assert org.retention_days == 14
