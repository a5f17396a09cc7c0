"""A link whose shop and Acumulus are served over real sockets (timeouts and drops are real)."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.conftest import make_link

from koppeling.connectors.simserver import serve_wsgi

#: each call's total deadline; the simulators' hangs last longer, so a hang is a timeout
DEADLINE = 0.25


class Clock:
    """The runtime's clock, moved on by the test (backoffs and rate-limit holds cost no time)."""

    def __init__(self) -> None:
        self.moment = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += dt.timedelta(seconds=seconds)


@pytest.fixture
def socket_link(db, shop_sim, books_sim):
    """Three eligible orders; both simulators on sockets; every call bounded by ``DEADLINE``."""
    shop_sim.seed(3, seed=5, start=dt.date.today() - dt.timedelta(days=2), days=1)
    for number in shop_sim.order_numbers():
        shop_sim.set_status(number, 3)
    servers = [serve_wsgi(shop_sim.wsgi), serve_wsgi(books_sim.wsgi)]
    options = {"call_deadline_seconds": DEADLINE}
    link = make_link(shop_sim, books_sim, books_options=options)
    pairs = ((link.source, servers[0], shop_sim), (link.target, servers[1], books_sim))
    for connection, server, sim in pairs:
        connection.base_url = server.url
        connection.credentials = sim.valid_credentials()  # a new address takes its credentials again
        connection.options = options
        connection.save()
    yield link
    for server in servers:
        server.shutdown()
