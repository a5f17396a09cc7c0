"""The link filter of Rapportage, Fouten and Activity: a list while it is short, a search on the
link's name once a firm has more links than a list can hold (rendering 10,000 options cost a
bookkeeper's pages hundreds of milliseconds)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from koppeling.sync.engine import Engine
from koppeling.sync.models import Connection, Link, SyncRecord
from koppeling.web.pages import common

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_links(link):
    """The fixture's link, booked, and a second link of the same organisation (nothing booked)."""
    Engine(link).run()
    org = link.organisation
    shop = Connection.objects.create(organisation=org, name="Tweede winkel", system="mijnwebwinkel")
    books = Connection.objects.create(organisation=org, name="Tweede boeken", system="acumulus")
    other = Link.objects.create(organisation=org, name="Tweede winkel → Acumulus", source=shop, target=books)
    return link, other


def test_a_short_list_of_links_is_a_list(signed_in, two_links):
    html = signed_in.get(reverse("pages:report")).content.decode()
    assert '<select name="link">' in html and 'name="link_name"' not in html


def test_more_links_than_a_list_holds_is_a_search_on_the_name(signed_in, two_links, monkeypatch):
    first, _other = two_links
    monkeypatch.setattr(common, "LINK_LIST_MAX", 1)
    for page in ("pages:report", "pages:failures", "pages:activity"):
        html = signed_in.get(reverse(page)).content.decode()
        assert 'name="link_name"' in html and '<select name="link">' not in html, page
    booked = SyncRecord.objects.filter(link=first, state="pushed").count()
    assert booked > 0
    found = signed_in.get(reverse("pages:report"), {"link_name": first.name[:6]}).context["count"]
    assert found == booked
    assert signed_in.get(reverse("pages:report"), {"link_name": "Tweede"}).context["count"] == 0
