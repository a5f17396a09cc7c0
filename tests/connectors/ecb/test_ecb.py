"""The ECB rates fetcher against its simulator, and the table core keeps."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest

from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.ecb.client import EcbRates
from koppeling.connectors.ecb.simulator import EcbSimulator
from koppeling.connectors.errors import ResponseError, TransientError
from koppeling.connectors.registry import connector_class
from koppeling.core.exchange import ExchangeRateError, load_fallback

BASE = "http://ecb.sim/stats/eurofxref"


def fetcher(sim: EcbSimulator) -> EcbRates:
    http = httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi))
    return EcbRates(ConnectionConfig("ecb", BASE, {}), http)


def test_fetch_90d_gives_every_published_day():
    # given the simulator serving the shipped snapshot / when fetched / then the same rates
    table = fetcher(EcbSimulator()).fetch("90d")
    assert table.rate("USD", dt.date(2026, 10, 2)).rate == Decimal("1.1225")
    assert table.rate("USD", dt.date(2026, 9, 14)).date == dt.date(2026, 9, 11)  # the weekend after


def test_fetch_daily_gives_the_last_day_only():
    table = fetcher(EcbSimulator()).fetch("daily")
    assert table.latest_date() == dt.date(2026, 10, 2) and "AUD" not in table.currencies()


def test_fetch_server_error_is_transient():
    sim = EcbSimulator()
    sim.fail_next(503)
    with pytest.raises(TransientError):
        fetcher(sim).fetch()


def test_fetch_not_a_feed_is_a_response_error():
    http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, content=b"<html/>")))
    with pytest.raises(ResponseError):
        EcbRates(ConnectionConfig("ecb", BASE, {}), http).fetch()


def test_rate_refuses_a_stale_table():
    table = fetcher(EcbSimulator()).fetch()
    with pytest.raises(ExchangeRateError):
        table.rate("USD", dt.date(2026, 11, 30))  # 59 days after the last rate: refresh, do not trust


def test_fallback_states_its_source_and_works_offline():
    table = load_fallback()
    assert "unverified" in table.source
    assert table.rate("GBP", dt.date(2026, 12, 1)).date == dt.date(2026, 10, 2)


def test_ecb_connector_is_registered():
    assert connector_class("ecb") is EcbRates
