"""The OSS page: where the organisation stands against EUR 10,000, for members only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.web.conftest import PASSWORD

from koppeling.sync.lookups import DISTANCE_KEY
from koppeling.sync.models import RecordState, SyncRecord

pytestmark = pytest.mark.django_db


def watch(link, before: str = "1000") -> None:
    flow = link.flows.get()
    flow.settings = {**flow.settings, "oss_sales_before": before}
    flow.save()


def book(link, day: dt.date, amount: str, country: str, number: str) -> SyncRecord:
    flow = link.flows.get()
    return SyncRecord.objects.create(
        link=link,
        flow=flow,
        source_id=number,
        source_number=number,
        state=RecordState.PUSHED,
        order_date=day,
        sent={"country": country, "regime": "eu_b2c_oss", DISTANCE_KEY: amount},
        pushed_at=timezone.now(),
    )


def page(client, user, **query):
    client.login(username=user.username, password=PASSWORD)
    return client.get(reverse("pages:oss"), query)


def test_the_page_shows_the_numbers_and_the_crossing_sale(client, owner, link):
    watch(link, "1000")
    year = timezone.localdate().year
    book(link, dt.date(year, 1, 3), "6000", "DE", "WA501")
    book(link, dt.date(year, 1, 4), "3500", "BE", "WA502")  # 10,500 with the starting figure
    book(link, dt.date(year - 1, 7, 1), "250", "FR", "WA400")

    response = page(client, owner)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="oss-meter"' in html and 'max="10000"' in html and 'value="10000"' in html
    assert "10,500.00" in html or "10.500,00" in html
    assert 'data-past="1"' in html
    crossing = f"{reverse('pages:where')}?q=WA502&amp;link={link.pk}"
    assert crossing in html
    table = html.split('id="oss-countries"', 1)[1]
    assert table.index('data-country="DE"') < table.index('data-country="BE"') < table.index("FR")
    assert reverse("pages:config", args=[link.flows.get().pk]) in html
    assert 'href="/oss/"' in html  # the nav link
    assert 'id="oss-not-watched"' not in html


def test_below_the_threshold_reads_as_dutch_vat(client, owner, link):
    watch(link, "0")
    book(link, timezone.localdate().replace(month=1, day=2), "2500", "DE", "WA1")
    html = page(client, owner).content.decode()
    assert 'data-past="0"' in html and 'id="oss-crossing"' not in html
    assert 'value="2500' in html
    headroom = html.split('id="oss-headroom">', 1)[1].split("<", 1)[0]
    assert headroom in ("EUR 7.500,00", "EUR 7,500.00")  # Dutch or English number format
    assert "Dutch VAT" in html or "Nederlandse btw" in html


def test_a_reader_may_look(client, reader, link):
    watch(link)
    response = page(client, reader)
    assert response.status_code == 200
    assert 'id="oss-status"' in response.content.decode()


def test_another_organisation_is_not_found(client, owner, outsider, link):
    watch(link)
    book(link, timezone.localdate().replace(month=1, day=2), "123.45", "DE", "SECRET1")
    response = page(client, outsider, organisation=link.organisation_id)
    assert response.status_code == 404
    own = page(client, outsider).content.decode()  # their own organisation: none of the first's
    assert "SECRET1" not in own and "123.45" not in own and 'data-country="DE"' not in own


def test_without_a_starting_figure_the_threshold_is_not_watched(client, owner, link):
    html = page(client, owner).content.decode()
    assert 'id="oss-not-watched"' in html
    assert reverse("pages:config", args=[link.flows.get().pk]) in html


def test_signed_out_goes_to_sign_in(client, link):
    response = client.get(reverse("pages:oss"))
    assert response.status_code == 302
