"""MijnwebwinkelSource against the simulator, in-process (httpx.WSGITransport) and on a socket."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest

from koppeling.connectors.base import Capability, ConnectionConfig, Fetched, FetchedOrder, Findability
from koppeling.connectors.errors import (
    AuthError,
    ConnectorError,
    DataError,
    NotFound,
    RateLimited,
    ResponseError,
    TransientError,
)
from koppeling.connectors.mijnwebwinkel.client import (
    MijnwebwinkelSource,
    parse_retry_after,
    redact_url,
    validate_response,
)
from koppeling.connectors.mijnwebwinkel.simulator import MijnwebwinkelSimulator
from koppeling.connectors.mijnwebwinkel.translate import fingerprint
from koppeling.connectors.registry import connector_class
from koppeling.connectors.simserver import serve_wsgi

from .conftest import make_source, missing_params

AMS = dt.timezone(dt.timedelta(hours=1))  # CET in winter: the seeded data lies in Jan/Feb


def test_registry_finds_the_source():
    cls = connector_class("mijnwebwinkel")
    assert cls is MijnwebwinkelSource
    assert cls.credential_fields == ("partner_token", "token")
    assert cls.default_base_url == "https://api.myonlinestore.com"
    # a source: it reads orders, nothing is pushed into it
    assert cls.capabilities() == {Capability.READS_ORDERS}
    assert cls.findable is Findability.NONE and cls.cursor_ordered is False


def test_check_and_statuses(source, sim):
    source.check()
    statuses = source.statuses()
    assert [s.id for s in statuses][:3] == ["1", "2", "3"]
    assert statuses[0].label == "In behandeling"
    # orderstatuses goes out with the partner token only
    assert sim.requests_by_path["/v1/orderstatuses"] == 1


def test_paging_over_more_than_100_orders(source, sim):
    sim.reset_counters()
    fetched = list(source.fetch_changed(None))
    assert len(fetched) == 250
    assert [f.source_id for f in fetched] == [str(n) for n in sim.order_numbers()]
    assert all(isinstance(f, Fetched) and f.error is None and f.order is not None for f in fetched)
    assert all(f.item is f.order and f.number == f.source_id for f in fetched)
    assert FetchedOrder is Fetched  # the old name still works
    assert sim.requests_by_path["/v1/orders"] == 3  # 100 + 100 + 50 (short page ends it)


def test_paging_stops_on_exact_multiple(clock):
    sim = MijnwebwinkelSimulator(clock=clock)
    sim.seed(200, start=dt.date(2025, 1, 1))
    src = make_source(sim)
    assert len(list(src.fetch_changed(None))) == 200
    assert sim.requests_by_path["/v1/orders"] == 3  # the third, empty page ends it


def test_changed_since_filter_is_closed_start(source, sim):
    all_orders = list(source.fetch_changed(None))
    moments = sorted(f.changed_at for f in all_orders)
    since = moments[100]
    expected = {f.source_id for f in all_orders if f.changed_at >= since}
    got = list(source.fetch_changed(since))
    assert {f.source_id for f in got} == expected
    assert all(f.changed_at >= since for f in got)
    # an aware datetime in another zone means the same instant
    got_utc = list(source.fetch_changed(since.astimezone(dt.UTC)))
    assert {f.source_id for f in got_utc} == expected


def test_changed_window_with_until_is_half_open(source):
    all_orders = list(source.fetch_changed(None))
    moments = sorted(f.changed_at for f in all_orders)
    since, until = moments[50], moments[120]
    got = list(source.fetch_changed(since, until=until))
    expected = {f.source_id for f in all_orders if since <= f.changed_at < until}
    assert {f.source_id for f in got} == expected


def test_status_change_is_seen_and_keeps_the_fingerprint(source, sim, clock):
    first = source.fetch_one("1010")
    clock.now = dt.datetime(2025, 6, 1, 9, 30, 0)
    sim.set_status(1010, 7)
    got = list(source.fetch_changed(dt.datetime(2025, 6, 1, 9, 30, 0)))
    assert [f.source_id for f in got] == ["1010"]
    assert got[0].order.status == "7"
    assert got[0].fingerprint == first.fingerprint  # a status change is not an edit


def test_edit_after_booking_changes_the_fingerprint(source, sim):
    before = source.fetch_one("1020")
    record = sim.order(1020)
    lines = record["orderlines"]
    lines[0]["quantity"] += 1
    sim.edit_order(1020, orderlines=lines)
    after = source.fetch_one("1020")
    assert after.fingerprint != before.fingerprint
    sim.edit_order(1021, **{"debtor.email": "nieuw@example.nl"})
    assert source.fetch_one("1021").order.customer.email == "nieuw@example.nl"


def test_fetch_created_by_date(source, sim):
    got = list(source.fetch_created(dt.date(2025, 1, 5), dt.date(2025, 1, 10)))
    expected = [n for n in sim.order_numbers() if "2025-01-05" <= sim.order(n)["date"] <= "2025-01-10"]
    assert [int(f.source_id) for f in got] == expected and expected


def test_fetch_one_and_not_found(source):
    fetched = source.fetch_one("1001")
    assert fetched.order.number == "1001"
    with pytest.raises(NotFound) as info:
        source.fetch_one("999999")
    assert info.value.code == "not_found" and info.value.status_code == 404
    assert "/v1/orders/999999" in info.value.params["what"] and "token=***" in info.value.params["what"]
    assert "999999 not found" in info.value.params["remote"]


def test_test_orders_are_excluded_unless_asked(clock):
    sim = MijnwebwinkelSimulator(clock=clock)
    sim.seed(20, test_orders=3)
    assert len(list(make_source(sim).fetch_changed(None))) == 20
    with_test = list(make_source(sim, include_test=True).fetch_changed(None))
    assert len(with_test) == 23
    assert sum(f.source_id.startswith("T-") for f in with_test) == 3


def test_bad_store_token(sim):
    src = make_source(sim, credentials={"token": "wrong"})
    with pytest.raises(AuthError) as info:
        src.check()
    # the shop's token is named as the culprit, not the partner token
    assert info.value.code == "mww_token_refused" and info.value.status_code == 401
    assert info.value.params["remote"] == "Unauthorized: Invalid store token"
    assert not missing_params(info.value.outcome)
    assert "Instellingen" in info.value.suggestion
    with pytest.raises(AuthError) as info2:
        list(src.fetch_changed(None))
    assert info2.value.code == "mww_token_refused"
    assert src.statuses()  # the partner token alone still works


def test_bad_partner_token(sim):
    src = make_source(sim, credentials={"partner_token": "wrong"})
    with pytest.raises(AuthError) as info:
        src.check()
    assert info.value.code == "mww_partner_token_refused"
    assert "partner token" in info.value.params["remote"]
    with pytest.raises(AuthError) as info2:
        src.statuses()
    assert info2.value.code == "mww_partner_token_refused"


def test_revoked_token_and_missing_credentials(sim):
    src = make_source(sim)
    src.check()
    sim.revoke_token()
    with pytest.raises(AuthError) as info:
        list(src.fetch_created(dt.date(2025, 1, 1)))
    assert info.value.code == "mww_token_refused" and "revoked" in info.value.params["remote"]
    src2 = make_source(sim, credentials={"token": ""})
    with pytest.raises(AuthError) as info2:
        src2.check()
    assert info2.value.code == "credentials_missing" and info2.value.params["fields"] == "token"
    assert not missing_params(info2.value.outcome)


def test_429_with_retry_after_seconds_and_date(source, sim):
    sim.fail_next(429, retry_after=17)
    with pytest.raises(RateLimited) as info:
        list(source.fetch_changed(None))
    assert info.value.retry_after == 17
    assert info.value.code == "rate_limited" and info.value.maybe_processed is False
    assert not missing_params(info.value.outcome)
    assert sim.token not in info.value.params["operation"]
    sim.fail_next(429, retry_after="Wed, 21 Oct 2099 07:28:00 GMT")
    with pytest.raises(RateLimited) as info2:
        source.check()
    assert info2.value.retry_after > 1_000_000
    assert len(list(source.fetch_changed(None))) == 250  # and it recovers


def test_rate_limit_knob(clock):
    sim = MijnwebwinkelSimulator(clock=clock, rate_limit=(2, 60))
    sim.seed(5)
    src = make_source(sim)
    src.check()
    src.check()
    with pytest.raises(RateLimited) as info:
        src.check()
    assert info.value.retry_after and info.value.retry_after <= 60


def test_503_and_500_are_transient(source, sim):
    sim.fail_next(503, times=2)
    for _ in range(2):
        with pytest.raises(TransientError) as info:
            source.check()
        assert type(info.value) is TransientError and info.value.code == "server_error"
        assert info.value.status_code == 503 and info.value.params["status"] == 503
    source.check()


def test_other_4xx(source, sim):
    sim.fail_next(400, body={"code": 400, "message": "Bad Request", "description": "limit: too big"})
    with pytest.raises(ConnectorError) as info:
        source.check()
    assert type(info.value) is ConnectorError and info.value.code == "request_rejected"
    assert info.value.params["status"] == 400 and info.value.params["remote"] == "Bad Request: limit: too big"
    sim.fail_next(422, body={"type": "about:blank", "title": "Invalid", "detail": "x", "status": 422})
    with pytest.raises(DataError) as info2:
        source.check()
    assert info2.value.code == "data_error" and info2.value.params["remote"] == "Invalid: x"


@pytest.mark.parametrize("kind", ["not_json", "truncated", "empty_body", "wrong_shape"])
def test_malformed_page_is_a_response_error(source, sim, kind):
    sim.malform_next(kind)
    with pytest.raises(ResponseError) as info:
        list(source.fetch_changed(None))
    assert info.value.code == "bad_response" and not missing_params(info.value.outcome)
    detail = info.value.params["detail"]
    assert detail.startswith("GET http://mijnwebwinkel.test/v1/orders")
    assert "not JSON" in detail or "where a list of orders was expected" in detail
    stored = repr(info.value.params) + info.value.message
    assert sim.token not in stored and sim.partner_token not in stored


def test_one_bad_record_does_not_hide_the_others(source, sim):
    sim.malform_next("bad_record")
    fetched = list(source.fetch_changed(None))
    assert len(fetched) == 250
    bad = [f for f in fetched if f.error is not None]
    assert len(bad) == 1
    error = bad[0].error
    assert isinstance(error, DataError) and bad[0].order is None
    assert error.field.startswith("orders[50].orderlines[0].price")  # the middle of page 1
    assert error.field.endswith(".amount")
    assert error.value == "12,50 EUR"
    assert error.code == "field_not_a_number" and error.order_number == bad[0].source_id
    assert error.params["path"] == error.field and error.params["number"] == bad[0].source_id
    assert error.params["value"] == repr("12,50 EUR") and not missing_params(error.outcome)
    assert sum(f.order is not None for f in fetched) == 249


def test_validate_response_unit():
    request = httpx.Request(
        "GET", "https://api.myonlinestore.com/v1/orders?token=SECRET&partner_token=P&limit=1"
    )
    ok = httpx.Response(200, json=[{"number": 1}], request=request)
    assert validate_response(ok, expect=list) == [{"number": 1}]
    with pytest.raises(ResponseError) as info:
        validate_response(httpx.Response(200, json={"a": 1}, request=request), expect=list)
    assert info.value.code == "bad_response"
    assert "SECRET" not in info.value.params["detail"] and "token=***" in info.value.params["detail"]
    with pytest.raises(AuthError) as refused:
        validate_response(httpx.Response(403, json={"Error": "Authentication failed!"}, request=request))
    assert refused.value.code == "mww_credentials_refused"  # the body names neither token
    assert refused.value.params["remote"] == "Authentication failed!"
    with pytest.raises(AuthError) as quota:
        validate_response(httpx.Response(402, json={"Warning": "API Module not active"}, request=request))
    assert quota.value.code == "mww_api_inactive" and quota.value.params["remote"] == "API Module not active"
    with pytest.raises(RateLimited) as limited:
        validate_response(httpx.Response(429, headers={"Retry-After": "5"}, request=request))
    assert limited.value.retry_after == 5 and limited.value.maybe_processed is False
    assert "SECRET" not in limited.value.params["operation"]
    with pytest.raises(TransientError) as gateway:
        validate_response(httpx.Response(502, text="<html>", request=request))
    assert gateway.value.code == "server_error" and gateway.value.params["status"] == 502


def test_parse_retry_after():
    now = dt.datetime(2025, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 01 Jan 2025 12:01:00 GMT", now=now) == 60
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_redact_url():
    assert redact_url("http://x/v1/orders?token=a&partner_token=b&limit=2") == (
        "http://x/v1/orders?token=***&partner_token=***&limit=2"
    )


def test_translated_orders_add_up(source):
    for fetched in source.fetch_changed(None):
        order = fetched.order
        total = sum(
            ((line.unit_price_inc * line.quantity).quantize(Decimal("0.01")) for line in order.lines),
            Decimal(0),
        )
        assert total == order.total_inc, fetched.source_id


def test_fingerprint_ignores_status_fields(sim):
    record = sim.order(1005)
    changed = dict(
        record, status=4, status_changed_date="2030-01-01", archived=True, payment_status="refunded"
    )
    assert fingerprint(changed) == fingerprint(record)
    edited = dict(record, price={**record["price"], "total": "0.010000"})
    assert fingerprint(edited) != fingerprint(record)


def test_set_status_via_patch(source, sim, clock):
    clock.now = dt.datetime(2025, 5, 5, 5, 5, 5)
    new_status = 4 if sim.order(1003)["status"] != 4 else 3
    source.set_status("1003", new_status)
    record = sim.order(1003)
    assert record["status"] == new_status and record["status_changed_date"] == "2025-05-05"
    unchanged = sim.order(1003)
    clock.now = dt.datetime(2025, 6, 6, 6, 6, 6)
    source.set_status("1003", new_status)  # same status: not a status change
    assert sim.order(1003)["status_changed_date"] == unchanged["status_changed_date"]
    with pytest.raises(ConnectorError) as info:
        source.set_status("1003", 99)
    assert info.value.code == "request_rejected" and "unknown order status 99" in info.value.params["remote"]


def test_socket_latency_and_timeout(clock):
    sim = MijnwebwinkelSimulator(clock=clock)
    sim.seed(120)
    server = serve_wsgi(sim.wsgi)
    try:
        config = ConnectionConfig("mijnwebwinkel", server.url, sim.valid_credentials())
        fast = MijnwebwinkelSource(config, httpx.Client(timeout=5))
        assert len(list(fast.fetch_changed(None))) == 120
        sim.latency = 0.5
        slow = MijnwebwinkelSource(config, httpx.Client(timeout=0.1))
        with pytest.raises(TransientError) as info:
            slow.check()
        assert info.value.code == "timeout" and info.value.params["detail"] == "ReadTimeout"
        assert sim.token not in repr(info.value.params)
        sim.latency = 0
        fast.close()
        slow.close()
    finally:
        server.shutdown()
    unreachable = MijnwebwinkelSource(
        ConnectionConfig("mijnwebwinkel", server.url, sim.valid_credentials()), httpx.Client(timeout=1)
    )
    with pytest.raises(TransientError) as info2:
        unreachable.check()
    assert info2.value.code == "unreachable" and info2.value.params["detail"] == "ConnectError"


@pytest.mark.parametrize(
    ("number", "test"),
    [
        ("T-1301", True),
        ("t-1301", True),
        ("1301-T", True),
        ("2026T100", False),
        ("WT1001", False),
        ("1001", False),
    ],
)
def test_only_the_t_dash_marker_makes_a_test_order(number, test):
    """Issue 13: any "T" in a number used to drop the order silently; only the documented marker does."""
    from koppeling.connectors.mijnwebwinkel.client import is_test_number

    assert is_test_number(number) is test
