"""The demo shows every seed link beside Mijnwebwinkel → Acumulus, each with bookings."""

from __future__ import annotations

import datetime as dt

import pytest

from koppeling.demo_links import first_runs, start_demo_links
from koppeling.sync.models import Connection, Organisation, RecordState, SyncRecord

pytestmark = pytest.mark.django_db


def test_the_three_other_seed_links_are_set_up_and_book_on_their_simulators():
    from koppeling.connectors.mijnwebwinkel.simulator import MijnwebwinkelSimulator
    from koppeling.connectors.simserver import serve_wsgi

    shop = MijnwebwinkelSimulator()
    numbers = shop.seed(12, seed=7, start=dt.date.today() - dt.timedelta(days=2), days=2)
    for number in numbers:
        shop.set_status(number, 3, at=dt.datetime.now() - dt.timedelta(hours=1))
    server = serve_wsgi(shop.wsgi, host="127.0.0.1", port=0)
    org = Organisation.objects.create(slug="demo", name="Demo Webwinkel")
    connection = Connection(organisation=org, name="Mijnwebwinkel (simulator)", system="mijnwebwinkel")
    connection.base_url, connection.credentials = server.url, shop.valid_credentials()
    connection.save()
    demo = start_demo_links(org, connection)
    try:
        pushed = first_runs(demo)
        again = first_runs(demo)
    finally:
        demo.shutdown()
        server.shutdown()
    assert set(pushed) == {"Webwinkel → Factuursturen", "SEOshop → Asperion", "eAccounting ↔ AccountView"}
    assert all(count > 0 for count in pushed.values()), pushed
    assert sum(again.values()) == 0  # a second run books nothing twice
    assert len(demo.sims["asperion"].files) == 1  # the day's orders in one file
    assert demo.sims["factuursturen"].invoices
    for link in demo.links:
        assert not SyncRecord.objects.filter(link=link, state=RecordState.FAILED).exists(), (
            link.name,
            list(
                SyncRecord.objects.filter(link=link, state=RecordState.FAILED).values_list(
                    "error_code", "params"
                )
            ),
        )
