"""Shared fixtures: in-process simulators mounted at fixed base URLs, and a ready link."""

from __future__ import annotations

import datetime as dt

import pytest

from koppeling.connectors import http as kh

SHOP_URL = "http://mijnwebwinkel.sim"
BOOKS_URL = "http://acumulus.sim"

LINK_SETTINGS = {
    "version": 2,
    "statuses": ["3", "6", "7"],
    "order_prefix": "WA",
}
TARGET_SETTINGS = {"version": 1, "accounts": {"paypal": "2", "*": "1"}, "cost_centers": {"*": "1"}}


@pytest.fixture(autouse=True)
def own_rate_limit_buckets(settings, tmp_path):
    """Each test its own rate-limit buckets (the embedded default is a file in the data folder)."""
    if not str(settings.KOPPELING.get("RATE_LIMIT_URL", "")).startswith("redis"):
        settings.KOPPELING = {
            **settings.KOPPELING,
            "RATE_LIMIT_URL": f"sqlite://{tmp_path}/ratelimits.sqlite3",
        }


@pytest.fixture(autouse=True)
def default_language():
    """A test that activates a language (the CLI does) does not leave it to the next one."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def vies_sim():
    """VIES answers every test (the flow runtime asks it about EU business customers)."""
    from koppeling.connectors.vies.client import ViesChecker
    from koppeling.connectors.vies.simulator import ViesSimulator

    sim = ViesSimulator()
    kh.mount_wsgi(ViesChecker.default_base_url, sim.wsgi)
    yield sim
    kh.unmount(ViesChecker.default_base_url)


@pytest.fixture
def shop_sim():
    from koppeling.connectors.mijnwebwinkel.simulator import MijnwebwinkelSimulator

    sim = MijnwebwinkelSimulator()
    kh.mount_wsgi(SHOP_URL, sim.wsgi)
    yield sim
    kh.unmount(SHOP_URL)


@pytest.fixture
def books_sim():
    from koppeling.connectors.acumulus.simulator import AcumulusSimulator

    sim = AcumulusSimulator()
    kh.mount_wsgi(BOOKS_URL, sim.wsgi)
    yield sim
    kh.unmount(BOOKS_URL)


@pytest.fixture
def seeded_shop(shop_sim):
    """30 orders from 08:00 four days ago to 08:00 yesterday: none lies ahead of the clock at any
    hour the suite runs (ending at 08:00 today, some did before 08:00)."""
    shop_sim.seed(30, seed=11, start=dt.date.today() - dt.timedelta(days=4), days=3)
    return shop_sim


def make_link(
    shop, books, *, settings=None, target_settings=None, name="Shop → Acumulus", org=None, books_options=None
):
    """An organisation's link Mijnwebwinkel → Acumulus with its one orders → invoices flow."""
    from koppeling.sync.models import Connection, Flow, Link, Organisation

    org = (
        org
        or Organisation.objects.get_or_create(
            slug="acme", defaults={"name": "Acme", "notify_email": "owner@acme.test"}
        )[0]
    )
    source = Connection(organisation=org, name=f"{name} shop", system="mijnwebwinkel", base_url=SHOP_URL)
    source.credentials = shop.valid_credentials()
    source.save()
    target = Connection(
        organisation=org,
        name=f"{name} books",
        system="acumulus",
        base_url=BOOKS_URL,
        options=books_options or {},
    )
    target.credentials = books.valid_credentials()
    target.save()
    link = Link.objects.create(organisation=org, name=name, source=source, target=target)
    Flow.objects.create(
        link=link,
        kind="orders_to_invoices",
        source=source,
        target=target,
        settings=settings or dict(LINK_SETTINGS),
        target_settings=target_settings or dict(TARGET_SETTINGS),
    )
    return link


def flow_of(link):
    return link.flows.get()


@pytest.fixture
def link(db, seeded_shop, books_sim):
    return make_link(seeded_shop, books_sim)


@pytest.fixture
def expired_claims(settings):
    """Claims expire at once, so a re-run can recover what a 'crashed' run left behind."""
    settings.KOPPELING = {**settings.KOPPELING, "CLAIM_TIMEOUT_SECONDS": 0}


class Clock:
    """One simulated clock for the runtime, its rate limiter and the simulators alike."""

    def __init__(self) -> None:
        self.moment = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self.moment

    def epoch(self) -> float:
        return self.moment.timestamp()

    def advance(self, seconds: float) -> None:
        self.moment += dt.timedelta(seconds=seconds)
