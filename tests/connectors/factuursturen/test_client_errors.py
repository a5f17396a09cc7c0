"""FactuursturenTarget's error taxonomy: the hourly limit, credentials, lost answers, texts."""

from __future__ import annotations

import httpx
import pytest

from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.errors import AuthError, DataError, RateLimited, ResponseError, TransientError
from koppeling.connectors.factuursturen.api import Call, FactuursturenCode, transport_error
from koppeling.connectors.factuursturen.client import FactuursturenTarget
from koppeling.connectors.factuursturen.simulator import FactuursturenSimulator
from koppeling.connectors.http import ResponseTooLarge
from koppeling.connectors.simserver import serve_wsgi
from koppeling.core.messages import text_of

from .fs_helpers import SETTINGS, FakeClock, invoice, make_target, missing_params, party

#: codes that only ever appear as a warning on a booking (no suggestion needed)
WARNING_CODES = {
    FactuursturenCode.CATEGORIES_MIXED,
    FactuursturenCode.DEBTOR_FIELD_SHORTENED,
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> FactuursturenSimulator:
    return FactuursturenSimulator(clock=clock)


@pytest.fixture
def target(sim: FactuursturenSimulator, clock: FakeClock) -> FactuursturenTarget:
    return make_target(sim, clock=clock)


def test_push_invoice_over_the_hourly_limit_is_rate_limited_not_an_auth_error(sim, target):
    # given an account that takes one more invoice this hour
    sim.invoice_limit_per_hour = 1
    target.push_invoice(invoice("WA1001"), SETTINGS)
    # when the next one is pushed (the clock stands at 12:00:00 UTC)
    with pytest.raises(RateLimited) as info:
        target.push_invoice(invoice("WA1002"), SETTINGS)
    # then it is the limit (403 with X-RateLimit-Remaining: 0), waiting for the next clock hour
    error = info.value
    assert not isinstance(error, AuthError) and error.status_code == 403
    assert error.code == "factuursturen_rate_limited" and not error.maybe_processed
    assert error.retry_after == 3600 + 30 and "limit" in error.params["remote"]
    assert not missing_params(error.outcome) and sim.rate_limited_count == 1 and len(sim.invoices) == 1


def test_push_invoice_over_the_limit_with_retry_after_waits_that_long(sim, target, clock):
    sim.invoice_limit_per_hour, sim.send_retry_after = 1, True
    clock.now += 3000  # 12:50
    target.push_invoice(invoice("WA1001"), SETTINGS)
    with pytest.raises(RateLimited) as info:
        target.push_invoice(invoice("WA1002"), SETTINGS)
    assert info.value.retry_after == 600


def test_push_invoice_over_a_limit_on_every_call_is_rate_limited_on_the_lookup(clock):
    # given an account whose limit counts every call, and no call left this hour
    sim = FactuursturenSimulator(clock=clock, request_limit_per_hour=0)
    with pytest.raises(RateLimited):
        make_target(sim, clock=clock).push_invoice(invoice(), SETTINGS)


def test_request_403_without_the_rate_limit_header_is_forbidden(sim, target):
    sim.fail_next(403)
    with pytest.raises(AuthError) as info:
        target.push_invoice(invoice(), SETTINGS)
    assert info.value.code == "factuursturen_forbidden" and info.value.suggestion


def test_request_429_is_rate_limited_with_its_retry_after(sim, target):
    sim.fail_next(429, retry_after=7)
    with pytest.raises(RateLimited) as info:
        target.push_invoice(invoice(), SETTINGS)
    assert info.value.retry_after == 7 and not info.value.maybe_processed


@pytest.mark.parametrize("revoked", [False, True])
def test_check_wrong_or_revoked_key_is_an_auth_error(sim, revoked):
    # given a wrong API key, or the right one unticked "Actief"
    credentials = sim.valid_credentials() if revoked else {**sim.valid_credentials(), "api_key": "wrong"}
    if revoked:
        sim.revoke_key()
    # when the connection is checked
    with pytest.raises(AuthError) as info:
        make_target(sim, credentials).check()
    # then the owner is told where the key is made and that it must be active
    assert info.value.code == "factuursturen_auth" and "Verbindingen" in info.value.suggestion
    assert info.value.status_code == 401


def test_check_without_an_api_key_says_which_credential_is_missing(sim):
    with pytest.raises(AuthError) as info:
        make_target(sim, {"username": sim.username, "api_key": " "}).check()
    assert info.value.code == "credentials_missing" and info.value.params["fields"] == "api_key"
    assert sim.request_count == 0


def test_push_invoice_gateway_error_after_booking_is_outcome_unknown_then_found(sim, target):
    # given the customer's debtor exists and Factuursturen books the invoice but a gateway answers 502
    sim.add_client(contact="Jan Jansen", email="jan@example.nl")
    sim.accept_then_fail_next(502)
    # when pushed
    with pytest.raises(TransientError) as info:
        target.push_invoice(invoice("WA1001"), SETTINGS)
    # then it may have been booked, and the lookup by reference finds the one invoice
    assert info.value.code == "factuursturen_outcome_unknown" and info.value.maybe_processed
    found = target.find_invoice("WA1001")
    assert found is not None and len(sim.invoices) == 1 and found.target_id == str(next(iter(sim.invoices)))


def test_push_invoice_unreadable_answer_to_the_booking_is_outcome_unknown(sim, target):
    # given the connector knows the debtor already (one push done), so the next call is the booking
    target.push_invoice(invoice("WA1001"), SETTINGS)
    sim.malform_next("html")
    with pytest.raises(TransientError) as info:
        target.push_invoice(invoice("WA1002"), SETTINGS)
    assert info.value.maybe_processed and len(sim.invoices) == 2


def test_push_invoice_unreadable_answer_to_the_lookup_is_a_bad_response(sim, target):
    sim.malform_next("truncated")
    with pytest.raises(ResponseError) as info:
        target.push_invoice(invoice(), SETTINGS)
    assert info.value.code == "factuursturen_bad_response" and sim.invoices == {}


@pytest.mark.parametrize(("status", "processed"), [(503, False), (502, False)])
def test_push_invoice_5xx_on_the_lookup_is_retryable_and_not_processed(sim, target, status, processed):
    sim.fail_next(status, retry_after=5)
    with pytest.raises(TransientError) as info:
        target.push_invoice(invoice(), SETTINGS)
    assert info.value.maybe_processed is processed and info.value.retry_after == 5
    assert info.value.code == "factuursturen_unavailable" and not missing_params(info.value.outcome)


def test_push_invoice_unreachable_is_not_processed():
    target = FactuursturenTarget(
        ConnectionConfig("factuursturen", "http://127.0.0.1:9/api/v1", {"username": "u", "api_key": "k"}),
        httpx.Client(timeout=1.0),
    )
    with pytest.raises(TransientError) as info:
        target.push_invoice(invoice(), SETTINGS)
    assert info.value.code == "factuursturen_unreachable" and not info.value.maybe_processed


def test_push_invoice_timeout_before_the_booking_is_not_processed():
    # given Factuursturen on a socket, slower than the client waits, and a connector that knows nothing
    sim = FactuursturenSimulator(latency=0.5)
    with serve_wsgi(sim.wsgi) as server:
        config = ConnectionConfig("factuursturen", server.url + "/api/v1", sim.valid_credentials())
        target = FactuursturenTarget(config, httpx.Client(timeout=httpx.Timeout(0.1, connect=2.0)))
        # when pushed, the debtor lookup times out
        with pytest.raises(TransientError) as info:
            target.push_invoice(invoice(), SETTINGS)
        sim.latency = 0
    # then no invoice can have been made: safe to push again
    assert info.value.code == "factuursturen_timeout" and not info.value.maybe_processed
    assert "ReadTimeout" in info.value.params["detail"]


@pytest.mark.parametrize(("call", "maybe"), [(Call.BOOK, True), (Call.READ, False)])
def test_transport_error_answer_too_large(call, maybe):
    error = transport_error(ResponseTooLarge("big", cap=10), call)
    assert isinstance(error, TransientError) is maybe
    if not maybe:
        assert isinstance(error, ResponseError)


def test_errors_keep_credentials_out_of_everything_but_remote(sim, target):
    # given error bodies that echo the user name and key (the runtime redacts ``remote``)
    sim.echo_secret_in_errors = True
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice(customer=party(email="not-an-address")), SETTINGS)
    # then the key is only in the remote text, never in our own parameters or the message
    params = dict(info.value.params)
    assert sim.api_key in params.pop("remote")
    assert sim.api_key not in repr(params) and sim.username not in repr(params)
    assert sim.api_key not in info.value.message.replace(info.value.params["remote"], "")


@pytest.mark.parametrize("code", list(FactuursturenCode))
def test_every_code_has_a_registered_text_and_a_suggestion_where_it_stops(code):
    text = text_of(code)
    assert text is not None and text.text
    if code not in WARNING_CODES:
        assert text.suggestion, f"{code} stops or explains something: it needs a suggestion"
