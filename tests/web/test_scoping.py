"""A second organisation reaches none of the first's pages or actions by URL.

The URL list is read from the URL conf itself — every pattern of every namespace but the admin's
— so a page added tomorrow is checked without anyone remembering to add it here. Each pattern
with an id is tried with the ids of everything the first organisation has (links, flows, ledger
rows, migrations, connections …), by GET and by POST: the answer is 404 (or 405 for the wrong
method), never the page, never a 403 that says it exists. Pages without an id must not show any
of the first organisation's data, and nothing of it may change.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from tests.web.conftest import PASSWORD

from koppeling.sync import backfill as backfills
from koppeling.sync.models import Connection, Membership, SyncRecord

pytestmark = pytest.mark.django_db

SKIP_NAMESPACES = {"admin"}
#: signing out or switching language would end the test's own session, not reach anyone's data
SKIP_NAMES = {"logout", "accounts:logout", "set_language"}
STR_VALUES = ("pause", "resume", "cancel", "x")


def all_patterns(resolver=None, prefix: str = "", namespace: str = ""):
    """(route, name, converters) of every URL pattern of the site."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            if ns in SKIP_NAMESPACES:
                continue
            full_ns = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else ns
            yield from all_patterns(entry, prefix + str(entry.pattern), full_ns or "")
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or ""
            yield prefix + str(entry.pattern), name, dict(entry.pattern.converters)


def fill(route: str, values: dict[str, object]) -> str:
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
    return "/" + path.lstrip("^").rstrip("$")


def test_the_walk_finds_the_dashboard_pages():
    names = {name for _, name, _ in all_patterns()}
    assert {
        "pages:overview",
        "pages:report",
        "pages:failure_retry",
        "pages:migration_action",
        "web:link",
    } <= names


def test_a_second_organisation_reaches_nothing_of_the_first(
    client, owner, outsider, link, failed_icp, in_review, seeded_shop
):
    flow = link.flows.get()
    migration = backfills.start(flow, dt.date.today() - dt.timedelta(days=30), dt.date.today())
    mine = {m.organisation_id for m in Membership.objects.filter(user=outsider)}
    mine |= set(Membership.objects.filter(user=outsider).values_list("pk", flat=True))
    ids = {link.pk, flow.pk, migration.pk, link.organisation_id, failed_icp.pk, in_review.pk}
    ids |= set(SyncRecord.objects.filter(link=link, state="pushed").values_list("pk", flat=True)[:2])
    ids |= set(Connection.objects.filter(organisation=link.organisation).values_list("pk", flat=True))
    ids -= mine
    before = dict(SyncRecord.objects.values_list("pk", "state"))
    secrets = [link.name, failed_icp.source_number and f">{failed_icp.source_number}<", in_review.reference]

    client.login(username=outsider.username, password=PASSWORD)
    checked = 0
    for route, name, converters in all_patterns():
        if name in SKIP_NAMES or route.startswith(("static", "media")):
            continue
        if not converters:
            for method in (client.get, client.post):
                response = method(fill(route, {}), {"ids": list(ids), "all": "1", "flow": flow.pk})
                assert response.status_code != 500, (route, method)
                if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
                    html = response.content.decode()
                    assert not [s for s in secrets if s and s in html], (route, name)
                checked += 1
            continue
        keys = list(converters)
        choices = [
            sorted(ids) if type(converters[k]).__name__ == "IntConverter" else STR_VALUES for k in keys
        ]
        by_id = any(type(converters[k]).__name__ == "IntConverter" for k in keys)
        for combo in itertools.product(*choices):
            url = fill(route, dict(zip(keys, combo, strict=True)))
            for method in (client.get, client.post):
                response = method(url, {"why": "x", "target_number": "1", "confirm_not_booked": "1"})
                if by_id:  # an id of the first organisation's: as if it did not exist
                    assert response.status_code in (404, 405), (url, method.__name__, response.status_code)
                else:  # a token (password reset, invitation): its own "invalid" page, nothing of ours
                    assert response.status_code in (200, 302, 400, 404, 405, 410), (url, response.status_code)
                    html = response.content.decode(errors="replace")
                    assert not [s for s in secrets if s and s in html], (url, name)
                checked += 1
    assert checked > 100
    assert dict(SyncRecord.objects.values_list("pk", "state")) == before  # nothing changed
