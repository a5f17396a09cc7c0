"""The simulators' random faults do what they say, and only when asked (other tests rely on that)."""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest

from koppeling.connectors.acumulus.simulator import AcumulusSimulator
from koppeling.connectors.mijnwebwinkel.simulator import MijnwebwinkelSimulator
from koppeling.connectors.simfaults import FAULT_MODES, RandomFaults
from koppeling.connectors.simserver import serve_wsgi


def _shop() -> MijnwebwinkelSimulator:
    shop = MijnwebwinkelSimulator()
    shop.seed(3, seed=2, start=dt.date(2026, 11, 20), days=2)
    return shop


def _orders_url(shop: MijnwebwinkelSimulator, base: str) -> tuple[str, dict[str, str]]:
    return f"{base}/v1/orders", {"partner_token": shop.partner_token, "token": shop.token, "format": "json"}


def test_off_unless_asked():
    shop, books = _shop(), AcumulusSimulator()
    assert shop.random_faults(0) is None and books.random_faults(None) is None
    client = httpx.Client(transport=httpx.WSGITransport(app=shop.wsgi))
    url, params = _orders_url(shop, "http://shop.sim")
    assert all(client.get(url, params=params).status_code == 200 for _ in range(50))


def test_seeded_share_and_modes():
    a, b = RandomFaults(0.2, seed=9), RandomFaults(0.2, seed=9)
    draws = [a.draw() for _ in range(2000)]
    assert draws == [b.draw() for _ in range(2000)]
    assert 300 < sum(d is not None for d in draws) < 500
    assert set(a.injected) == set(FAULT_MODES)


def test_paths_and_times_limit_the_faults():
    faults = RandomFaults(1.0, paths=["invoice_add"], times=2)
    assert faults.draw("/stable/contacts/picklist.php") is None
    assert [faults.draw("/stable/invoices/invoice_add.php") for _ in range(4)][2:] == [None, None]
    assert sum(faults.injected.values()) == 2


@pytest.mark.parametrize(("rate", "modes"), [(1.5, FAULT_MODES), (0.2, ["meltdown"]), (0.2, [])])
def test_bad_settings_are_refused(rate, modes):
    with pytest.raises(ValueError):
        RandomFaults(rate, modes=modes)


@pytest.fixture
def served_shop():
    shop = _shop()
    server = serve_wsgi(shop.wsgi)
    yield shop, server.url
    server.shutdown()


@pytest.mark.parametrize(
    ("mode", "status"),
    [("server_error", {500, 502, 503, 504}), ("server_error_after", {502}), ("rate_limited", {429})],
)
def test_error_answers(served_shop, mode, status):
    shop, base = served_shop
    shop.random_faults(1.0, modes=[mode], retry_after=7)
    url, params = _orders_url(shop, base)
    answer = httpx.get(url, params=params, timeout=5)
    assert answer.status_code in status
    if mode == "rate_limited":
        assert answer.headers["Retry-After"] == "7"


@pytest.mark.parametrize("mode", ["drop", "drop_after"])
def test_dropped_connections(served_shop, mode):
    shop, base = served_shop
    shop.random_faults(1.0, modes=[mode])
    url, params = _orders_url(shop, base)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        httpx.get(url, params=params, timeout=5)


def test_dropped_connection_in_process_raises_what_the_network_would():
    shop = _shop()
    shop.random_faults(1.0, modes=["drop"])
    client = httpx.Client(transport=httpx.WSGITransport(app=shop.wsgi))
    url, params = _orders_url(shop, "http://shop.sim")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(url, params=params)


@pytest.mark.parametrize("mode", ["timeout", "timeout_after"])
def test_hangs_pass_the_clients_deadline(served_shop, mode):
    shop, base = served_shop
    shop.random_faults(1.0, modes=[mode], hang_seconds=0.6)
    url, params = _orders_url(shop, base)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, params=params, timeout=0.2)


def test_drip_delivers_the_whole_answer_slowly(served_shop):
    shop, base = served_shop
    url, params = _orders_url(shop, base)
    normal = httpx.get(url, params=params, timeout=5).json()
    shop.random_faults(1.0, modes=["drip"], drip_seconds=0.4, seed=1)
    started = time.monotonic()
    dripped = httpx.get(url, params=params, timeout=5)
    assert dripped.status_code == 200 and dripped.json() == normal
    assert time.monotonic() - started > 0.01


@pytest.mark.parametrize("mode", ["server_error", "rate_limited", "drop", "timeout"])
def test_faults_before_processing_book_nothing(mode):
    from tests.connectors.acumulus.acumulus_helpers import invoice, make_target

    books = AcumulusSimulator()
    books.random_faults(1.0, modes=[mode], hang_seconds=0.01, paths=["invoice_add"])
    with pytest.raises(Exception):
        make_target(books).push_invoice(invoice("WA7001"))
    assert books.entries_with_description_containing("WA7001") == []


@pytest.mark.parametrize("mode", ["server_error_after", "timeout_after", "drop_after"])
def test_faults_after_processing_book_and_say_maybe(mode):
    """The booking was made, the answer lost: the connector must never claim it was not sent."""
    from tests.connectors.acumulus.acumulus_helpers import invoice, make_target

    from koppeling.connectors.errors import TransientError

    books = AcumulusSimulator()
    books.random_faults(1.0, modes=[mode], hang_seconds=0.01, paths=["invoice_add"])
    with pytest.raises(TransientError) as caught:
        make_target(books).push_invoice(invoice("WA7002"))
    assert caught.value.maybe_processed
    assert len(books.entries_with_description_containing("WA7002")) == 1
