"""Lightspeed webhooks: the signature over the raw body, the event id of a change, the
subscription calls of the connector, and the simulator delivering, failing and disabling."""

from __future__ import annotations

import hashlib
import itertools
import json

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koppeling.connectors import http as kh
from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.lightspeed.client import LightspeedSource
from koppeling.connectors.lightspeed.simulator import LightspeedSimulator
from koppeling.connectors.lightspeed.webhooks import sign_webhook, verify_delivery
from koppeling.connectors.webhooks import (
    WebhookRejected,
    WebhookRejection,
    header,
    receives_webhooks,
)

_ids = itertools.count()


@pytest.fixture
def sim():
    sim = LightspeedSimulator()
    sim.seed(6, seed=5)
    url = f"http://lightspeed-hooks-{next(_ids)}.sim"
    sim.url = url  # type: ignore[attr-defined]
    kh.mount_wsgi(url, sim.wsgi)
    yield sim
    kh.unmount(url)


@pytest.fixture
def source(sim):
    config = ConnectionConfig("lightspeed", sim.url, sim.valid_credentials())
    connector = LightspeedSource(config, kh.make_client(sim.url))
    yield connector
    connector.close()


def _unpaid(sim: LightspeedSimulator) -> int:
    return next(i for i in sim.order_ids() if sim.order(i)["paymentStatus"] != "paid")


def test_the_connector_declares_the_webhooks_capability(source):
    assert receives_webhooks(LightspeedSource) and receives_webhooks(source)
    assert source.webhook_secret() == source.config.credentials["api_secret"]


def test_a_delivery_verifies_with_the_api_secret_and_names_its_order(sim, source):
    hook = source.register_webhook("https://koppeling.test/hooks/abc/")
    delivery = sim.webhook_delivery(int(hook.id), sim.order_ids()[0])
    event = LightspeedSource.verify_webhook(delivery.headers, delivery.body, sim.api_secret)
    order = sim.order(sim.order_ids()[0])
    assert event.order_ids == (str(order["id"]),)
    assert event.event_id == f"orders/{order['id']}@{order['updatedAt']}"
    assert event.topic == "orders" and event.signed_at is None  # Lightspeed signs no delivery time


def test_every_delivery_of_one_change_has_the_same_event_id_and_a_new_change_another(sim, source):
    source.register_webhook("https://koppeling.test/hooks/abc/")
    oid = _unpaid(sim)
    sim.set_status(oid, "processing_awaiting_shipment", payment_status="paid")
    first = [verify_delivery(d.headers, d.body, sim.api_secret) for d in sim.outbox]
    assert len(first) == 2  # "updated" and "paid" of one change (itemAction "*")
    assert len({e.event_id for e in first}) == 1
    sim.clock = lambda: 4_102_444_800.0  # later: a new updatedAt
    sim.outbox.clear()
    sim.set_status(oid, shipment_status="shipped")
    later = {verify_delivery(d.headers, d.body, sim.api_secret).event_id for d in sim.outbox}
    assert later and first[0].event_id not in later


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h, b: ({k: v for k, v in h.items() if k != "X-Signature"}, b), WebhookRejection.SIGNATURE),
        (lambda h, b: ({**h, "X-Signature": "0" * 32}, b), WebhookRejection.SIGNATURE),
        (lambda h, b: ({**h, "X-Signature": "not hex"}, b), WebhookRejection.SIGNATURE),
        (lambda h, b: (h, b.replace(b'"id":', b'"id": ', 1)), WebhookRejection.SIGNATURE),  # re-encoded
        (lambda h, b: (h, b + b" "), WebhookRejection.SIGNATURE),
    ],
)
def test_an_unsigned_missigned_or_altered_delivery_is_refused(sim, source, change, reason):
    hook = source.register_webhook("https://koppeling.test/hooks/abc/")
    delivery = sim.webhook_delivery(int(hook.id), sim.order_ids()[0])
    headers, body = change(dict(delivery.headers), delivery.body)
    with pytest.raises(WebhookRejected) as caught:
        verify_delivery(headers, body, sim.api_secret)
    assert caught.value.reason == reason and caught.value.status == 401


def test_the_wrong_secret_and_an_empty_secret_are_refused(sim, source):
    hook = source.register_webhook("https://koppeling.test/hooks/abc/")
    delivery = sim.webhook_delivery(int(hook.id), sim.order_ids()[0])
    for secret in ("another-secret", ""):
        with pytest.raises(WebhookRejected):
            verify_delivery(delivery.headers, delivery.body, secret)


def test_signature_case_and_header_case_do_not_matter(sim, source):
    hook = source.register_webhook("https://koppeling.test/hooks/abc/")
    delivery = sim.webhook_delivery(int(hook.id), sim.order_ids()[0])
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    headers["x-signature"] = headers["x-signature"].upper()
    assert verify_delivery(headers, delivery.body, sim.api_secret).order_ids
    assert header(delivery.headers, "x-signature") == delivery.headers["X-Signature"]


@pytest.mark.parametrize(
    "body",
    [b"<html>502</html>", b"{}", b'{"order": 1}', b'{"order": {"id": "x"}}', b"[1]", b"\xff\xfe", b""],
)
def test_a_signed_body_that_is_no_order_is_malformed_not_a_crash(body):
    headers = {"X-Signature": sign_webhook(body, "s3cret")}
    with pytest.raises(WebhookRejected) as caught:
        verify_delivery(headers, body, "s3cret")
    assert caught.value.reason == WebhookRejection.MALFORMED and caught.value.status == 400


def test_an_xml_delivery_verifies_and_external_entities_are_not_resolved(sim, source):
    hook = source.register_webhook("https://koppeling.test/hooks/abc/")
    sim.webhooks[int(hook.id)]["format"] = "xml"
    oid = sim.order_ids()[1]
    delivery = sim.webhook_delivery(int(hook.id), oid)
    assert delivery.body.startswith(b"<?xml")
    assert verify_delivery(delivery.headers, delivery.body, sim.api_secret).order_ids == (str(oid),)
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE o [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<order><id>&x;</id></order>"
    )
    with pytest.raises(WebhookRejected) as caught:
        verify_delivery({"X-Signature": sign_webhook(evil, "k")}, evil, "k")
    assert caught.value.reason == WebhookRejection.MALFORMED


def test_an_invoice_delivery_names_its_order():
    body = json.dumps({"invoice": {"id": 9, "updatedAt": "x", "order": {"resource": {"id": 77}}}}).encode()
    event = verify_delivery({"X-Signature": sign_webhook(body, "k")}, body, "k")
    assert event.order_ids == ("77",) and event.topic == "invoices"


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=300), signature=st.text(max_size=40), sign=st.booleans())
def test_no_body_or_header_makes_verification_raise_anything_but_a_rejection(body, signature, sign):
    headers = {"X-Signature": sign_webhook(body, "k") if sign else signature, "X-Format": "JSON"}
    try:
        event = verify_delivery(headers, body, "k")
    except WebhookRejected:
        return
    assert sign and event.event_id


@settings(max_examples=100, deadline=None)
@given(
    item=st.dictionaries(st.sampled_from(["id", "updatedAt", "order"]), st.none() | st.integers() | st.text())
)
def test_any_signed_json_item_is_an_event_or_a_rejection(item):
    body = json.dumps({"order": item}).encode()
    try:
        event = verify_delivery({"X-Signature": hashlib.md5(body + b"k").hexdigest()}, body, "k")
    except WebhookRejected as exc:
        assert exc.status == 400
        return
    assert event.order_ids == (str(item["id"]).strip(),)


# -- the subscription calls -----------------------------------------------------------------------


def test_register_list_reactivate_delete_and_the_shop_data_stays_untouched(sim, source):
    hook = source.register_webhook("https://koppeling.test/hooks/abc/")
    stored = sim.webhooks[int(hook.id)]
    assert (stored["itemGroup"], stored["itemAction"], stored["format"]) == ("orders", "*", "json")
    assert stored["address"] == hook.address == "https://koppeling.test/hooks/abc/"
    assert [h.id for h in source.list_webhooks()] == [hook.id] and hook.active
    stored["isActive"] = False
    assert not source.list_webhooks()[0].active
    assert source.reactivate_webhook(hook.id).active and stored["isActive"]
    source.delete_webhook(hook.id)
    source.delete_webhook(hook.id)  # gone already: no error
    assert source.list_webhooks() == [] and sim.webhooks == {}
    sim.assert_read_only()  # only webhook set-up was written
    assert {method for method, path, _ in sim.writes} == {"POST", "PUT", "DELETE"}


def test_the_connector_refuses_to_write_anything_but_webhooks(source):
    with pytest.raises(ValueError):
        source._call("PUT", "orders/1.json", body={"order": {"status": "cancelled"}})


# -- the simulator delivering --------------------------------------------------------------------


def _receiver(answers: list[int]):
    received: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(answers.pop(0) if answers else 200)

    return httpx.Client(transport=httpx.MockTransport(handle)), received


def test_the_simulator_posts_signed_deliveries_to_the_address(sim, source):
    source.register_webhook("https://koppeling.test/hooks/abc/")
    sim.set_status(_unpaid(sim), "processing_awaiting_shipment", payment_status="paid")
    client, received = _receiver([])
    results = sim.deliver(client)
    assert [status for _, status in results] == [200, 200] and sim.outbox == []
    request = received[0]
    assert str(request.url) == "https://koppeling.test/hooks/abc/"
    assert request.headers["X-Signature"] == sign_webhook(request.content, sim.api_secret)


def test_the_shop_disables_a_webhook_after_failures_in_a_row(sim, source):
    hook = source.register_webhook("https://koppeling.test/hooks/abc/")
    sim.disable_after = 3
    oid = _unpaid(sim)
    client, received = _receiver([500, 503, 200, 500, 500, 500, 200])
    for _ in range(4):  # eight deliveries offered: fail, fail, ok (resets), fail x3 -> off
        sim.edit_order(oid, memo="x")
        sim.edit_order(oid, memo="y")
        sim.deliver(client)
    assert len(received) == 6
    assert sim.webhooks[int(hook.id)]["isActive"] is False
    sim.edit_order(oid, memo="z")
    assert sim.outbox == []  # a disabled webhook sends nothing
    source.reactivate_webhook(hook.id)
    assert sim.webhook_failures[int(hook.id)] == 0


def test_an_unreachable_address_counts_as_a_failure(sim, source):
    hook = source.register_webhook("http://127.0.0.1:9/hooks/abc/")
    sim.disable_after = 1
    sim.edit_order(sim.order_ids()[0], memo="x")
    assert sim.deliver(timeout=0.5)[0][1] is None
    assert sim.webhooks[int(hook.id)]["isActive"] is False


def test_a_dropped_webhook_is_gone_from_the_list(sim, source):
    hook = source.register_webhook("https://koppeling.test/hooks/abc/")
    sim.drop_webhook(int(hook.id))
    assert source.list_webhooks() == []
