"""The Lightspeed eCom simulator speaks the real API's shapes: raw HTTP through httpx, no client class."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from koppeling.connectors.lightspeed.simulator import LightspeedSimulator, sign_webhook
from koppeling.connectors.simserver import serve_wsgi

SAMPLES = Path(__file__).with_name("samples")
BASE = "https://api.webshopapp.com"
T0 = 1_750_000_000.0  # 2025-06-15T15:06:40Z


def sample(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text())


class Clock:
    def __init__(self, start: float = T0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock: Clock) -> LightspeedSimulator:
    sim = LightspeedSimulator(clock=clock)
    sim.seed(60, seed=11)
    return sim


def client(sim: LightspeedSimulator, *, auth: tuple[str, str] | None = None) -> httpx.Client:
    creds = auth or (sim.api_key, sim.api_secret)
    return httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi), base_url=BASE, auth=creds)


def dec(value: object) -> Decimal:
    return Decimal(str(value))


# -- auth, URLs and errors ---------------------------------------------------------------------------


def test_wsgi_missing_credentials_answers_401_error_body(sim: LightspeedSimulator) -> None:
    # given a request without an Authorization header
    http = httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi), base_url=BASE)
    # when
    response = http.get("/nl/orders.json")
    # then
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": 401, "method": "GET", "request": "/nl/orders.json", "message": "Access denied."}
    }


def test_wsgi_wrong_secret_answers_401(sim: LightspeedSimulator) -> None:
    # given the right key with a wrong secret
    http = client(sim, auth=(sim.api_key, "0" * 32))
    # when
    response = http.get("/nl/orders.json")
    # then
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 401


def test_wsgi_credentials_in_url_are_http_basic(sim: LightspeedSimulator) -> None:
    # given the PHP client's style: key:secret in the URL (httpx turns it into Basic auth)
    http = httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi))
    # when
    response = http.get(f"https://{sim.api_key}:{sim.api_secret}@api.webshopapp.com/nl/orders/count.json")
    # then
    assert response.status_code == 200
    assert response.json() == {"count": 60}


def test_wsgi_unknown_language_answers_404(sim: LightspeedSimulator) -> None:
    # given a language the shop does not have
    # when
    response = client(sim).get("/fr/orders.json")
    # then
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Unknown or inactive language."


def test_wsgi_unknown_order_answers_404(sim: LightspeedSimulator) -> None:
    # given an id no order has
    # when
    response = client(sim).get("/nl/orders/1.json")
    # then
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"code", "method", "request", "message"}


def test_echo_secret_in_errors_puts_presented_credentials_in_error_body(clock: Clock) -> None:
    # given a simulator that echoes credentials back, as a careless server might
    sim = LightspeedSimulator(clock=clock, echo_secret_in_errors=True)
    http = client(sim, auth=(sim.api_key, "f" * 32))
    # when
    body = http.get("/nl/orders.json").text
    # then both the key and the (wrong) secret the client sent are in the body
    assert sim.api_key in body
    assert "f" * 32 in body


# -- shapes compared with the verbatim samples -------------------------------------------------------


def test_order_detail_has_the_sample_fields_and_embeds(sim: LightspeedSimulator) -> None:
    # given the sample order (GET /orders/{id}.json of a real shop)
    expected = sample("order")["order"]
    oid = sim.order_ids()[5]
    # when
    order = client(sim).get(f"/nl/orders/{oid}.json").json()["order"]
    # then the same fields, in the same order, and the same embedded resources
    assert list(order) == list(expected)
    products = order["products"]["resource"]
    assert products["url"] == f"orders/{oid}/products"
    assert products["link"] == f"{BASE}/nl/orders/{oid}/products.json"
    assert set(products["embedded"][0]) == set(sample("orderProduct")["orderProduct"])
    customer = order["customer"]["resource"]["embedded"]
    assert list(customer) == list(expected["customer"]["resource"]["embedded"])
    assert order["customer"]["resource"]["id"] == customer["id"]


def test_order_detail_embeds_shop_invoice_with_sample_fields(sim: LightspeedSimulator) -> None:
    # given a paid order (the shop makes its invoice on payment)
    paid = next(o for o in (sim.order(i) for i in sim.order_ids()) if o["paymentStatus"] == "paid")
    # when
    order = client(sim).get(f"/nl/orders/{paid['id']}.json").json()["order"]
    # then
    invoice = order["invoices"]["resource"]["embedded"][0]
    assert list(invoice) == list(sample("invoice")["invoice"])
    assert invoice["number"].startswith("INV") and len(invoice["number"]) == 8
    assert order["invoices"]["resource"]["url"] == f"invoices?order={paid['id']}"


def test_orders_list_has_links_without_embedded(sim: LightspeedSimulator) -> None:
    # given
    # when
    orders = client(sim).get("/nl/orders.json", params={"limit": 3}).json()["orders"]
    # then
    assert len(orders) == 3
    for order in orders:
        assert "embedded" not in order["products"]["resource"]
        assert order["number"].startswith("ORD")


def test_resources_match_sample_field_names(sim: LightspeedSimulator) -> None:
    # given one of each kind
    http = client(sim)
    order = sim.order(sim.order_ids()[2])
    cid = order["customer"]["resource"]["id"]
    sid = (
        order["shipments"]["resource"]["embedded"][0]["id"]
        if order["shipments"]["resource"]["embedded"]
        else None
    )
    # when
    customer = http.get(f"/nl/customers/{cid}.json").json()["customer"]
    tax = http.get("/nl/taxes.json").json()["taxes"][0]
    method = http.get("/nl/paymentmethods/126.json").json()["paymentmethod"]
    limits = http.get("/nl/account/ratelimit.json").json()
    account = http.get("/nl/account.json").json()["account"]
    # then
    assert list(customer) == list(sample("customer")["customer"])
    assert set(tax) == set(sample("tax")["tax"])
    assert set(method) == set(sample("paymentmethod")["paymentmethod"])
    assert method["key"] == "invoice"
    assert {k: set(v) for k, v in limits["accountRatelimit"].items()} == {
        k: set(v) for k, v in sample("accountRatelimit")["accountRatelimit"].items()
    }
    assert set(account) == set(sample("account")["account"])
    if sid is not None:
        shipment = http.get(f"/nl/shipments/{sid}.json").json()["shipment"]
        assert list(shipment) == list(sample("shipment")["shipment"])


def test_order_products_and_invoice_items_are_wrapped(sim: LightspeedSimulator) -> None:
    # given a paid order with its invoice
    http = client(sim)
    order = next(o for o in (sim.order(i) for i in sim.order_ids()) if o["paymentStatus"] == "paid")
    iid = order["invoices"]["resource"]["embedded"][0]["id"]
    # when
    lines = http.get(f"/nl/orders/{order['id']}/products.json").json()["orderProducts"]
    one = http.get(f"/nl/orders/{order['id']}/products/{lines[0]['id']}.json").json()["orderProduct"]
    items = http.get(f"/nl/invoices/{iid}/items.json").json()["invoiceItems"]
    # then
    assert one == lines[0]
    assert set(items[0]) == set(sample("invoiceItem")["invoiceItem"])
    assert [i["type"] for i in items][-1] == "payment"
    assert sum(dec(i["priceIncl"]) for i in items) == dec(order["priceIncl"])


def test_seed_order_totals_add_up_to_the_cent(sim: LightspeedSimulator) -> None:
    # given every seeded order
    for oid in sim.order_ids():
        # when
        order = sim.order(oid)
        lines = order["products"]["resource"]["embedded"]
        # then lines + shipment + payment fee make the totals, excl. and incl.
        extras_incl = dec(order["shipmentPriceIncl"]) + dec(order["paymentPriceIncl"])
        extras_excl = dec(order["shipmentPriceExcl"]) + dec(order["paymentPriceExcl"])
        assert sum(dec(p["priceIncl"]) for p in lines) + extras_incl == dec(order["priceIncl"])
        assert sum(dec(p["priceExcl"]) for p in lines) + extras_excl == dec(order["priceExcl"])
        for line in lines:
            assert dec(line["taxRates"][0]["amount"]) == dec(line["priceIncl"]) - dec(line["priceExcl"])


def test_seed_is_deterministic(clock: Clock) -> None:
    # given two simulators seeded alike
    one, two = LightspeedSimulator(clock=clock), LightspeedSimulator(clock=clock)
    # when
    one.seed(25, seed=3)
    two.seed(25, seed=3)
    # then
    assert [one.order(i) for i in one.order_ids()] == [two.order(i) for i in two.order_ids()]


def test_seed_covers_the_states_the_link_must_tell_apart(sim: LightspeedSimulator) -> None:
    # given
    # when
    states = {(o["status"], o["paymentStatus"]) for o in map(sim.order, sim.order_ids())}
    # then paid-and-awaiting-shipment, unpaid-awaiting-shipment (pay by invoice) and others occur
    assert ("processing_awaiting_shipment", "paid") in states
    assert ("processing_awaiting_payment", "not_paid") in states
    assert any(status == "cancelled" for status, _ in states)


# -- paging, filters, counts -------------------------------------------------------------------------


def test_orders_limit_is_capped_at_250(clock: Clock) -> None:
    # given 300 orders
    sim = LightspeedSimulator(clock=clock)
    sim.seed(300, seed=1)
    http = client(sim)
    # when
    first = http.get("/nl/orders.json", params={"limit": 500}).json()["orders"]
    second = http.get("/nl/orders.json", params={"limit": 250, "page": 2}).json()["orders"]
    default = http.get("/nl/orders.json").json()["orders"]
    # then
    assert len(first) == 250
    assert len(second) == 50
    assert len(default) == 50
    assert {o["id"] for o in first}.isdisjoint({o["id"] for o in second})


def test_orders_since_id_pages_in_id_order(sim: LightspeedSimulator) -> None:
    # given the twentieth order's id
    ids = sim.order_ids()
    # when
    page = client(sim).get("/nl/orders.json", params={"since_id": ids[19], "limit": 10}).json()["orders"]
    # then
    assert [o["id"] for o in page] == ids[20:30]


def test_orders_updated_at_min_returns_changed_orders(sim: LightspeedSimulator, clock: Clock) -> None:
    # given one order paid an hour after the clock's start
    clock.now = T0 + 3600
    oid = next(i for i in sim.order_ids() if sim.order(i)["paymentStatus"] == "not_paid")
    sim.set_status(oid, "processing_awaiting_shipment", payment_status="paid")
    cursor = dt.datetime.fromtimestamp(T0 + 1800, dt.UTC)
    http = client(sim)
    # when (both documented date forms)
    iso = http.get("/nl/orders.json", params={"updated_at_min": cursor.isoformat()}).json()["orders"]
    plain = http.get("/nl/orders.json", params={"updated_at_min": cursor.strftime("%Y-%m-%d %H:%M:%S")})
    # then
    assert [o["id"] for o in iso] == [oid]
    assert [o["id"] for o in plain.json()["orders"]] == [oid]
    assert iso[0]["updatedAt"] == "2025-06-15T16:06:40+00:00"


def test_orders_status_filter_and_count_agree(sim: LightspeedSimulator) -> None:
    # given
    http = client(sim)
    params = {"status": "processing_awaiting_shipment", "limit": 250}
    # when
    listed = http.get("/nl/orders.json", params=params).json()["orders"]
    counted = http.get("/nl/orders/count.json", params={"status": "processing_awaiting_shipment"}).json()
    # then
    assert listed and all(o["status"] == "processing_awaiting_shipment" for o in listed)
    assert counted == {"count": len(listed)}


def test_orders_created_at_bounds_are_inclusive(sim: LightspeedSimulator) -> None:
    # given the creation time of the tenth order
    order = sim.order(sim.order_ids()[9])
    # when
    found = client(sim).get(
        "/nl/orders.json", params={"created_at_min": order["createdAt"], "created_at_max": order["createdAt"]}
    )
    # then
    assert [o["id"] for o in found.json()["orders"]] == [order["id"]]


def test_orders_bad_filter_value_answers_400(sim: LightspeedSimulator) -> None:
    # given
    # when
    response = client(sim).get("/nl/orders.json", params={"updated_at_min": "gisteren"})
    # then
    assert response.status_code == 400
    assert "updated_at_min" in response.json()["error"]["message"]


def test_customers_email_filter_finds_the_customer(sim: LightspeedSimulator) -> None:
    # given a customer's e-mail in another case
    customer = sim.order(sim.order_ids()[0])["customer"]["resource"]["embedded"]
    # when
    found = client(sim).get("/nl/customers.json", params={"email": customer["email"].upper()}).json()
    # then
    assert [c["id"] for c in found["customers"]] == [customer["id"]]


def test_orders_fields_parameter_limits_the_fields(sim: LightspeedSimulator) -> None:
    # given
    # when
    orders = client(sim).get("/nl/orders.json", params={"fields": "id,number,updatedAt", "limit": 2}).json()
    # then
    assert [set(o) for o in orders["orders"]] == [{"id", "number", "updatedAt"}] * 2


# -- merchant-side changes ---------------------------------------------------------------------------


def test_set_status_paid_makes_the_shop_invoice(sim: LightspeedSimulator, clock: Clock) -> None:
    # given an unpaid order without an invoice
    oid = next(i for i in sim.order_ids() if sim.order(i)["paymentStatus"] == "not_paid")
    assert sim.order(oid)["invoices"]["resource"]["embedded"] == []
    clock.now += 60
    # when
    sim.set_status(oid, "processing_awaiting_shipment", payment_status="paid")
    # then
    order = sim.order(oid)
    assert (order["status"], order["paymentStatus"]) == ("processing_awaiting_shipment", "paid")
    invoice = order["invoices"]["resource"]["embedded"][0]
    assert invoice["status"] == "paid"
    assert invoice["priceIncl"] == order["priceIncl"]
    assert order["events"]["resource"]["embedded"][-1]["message"] == "paid"


def test_set_status_unknown_value_raises(sim: LightspeedSimulator) -> None:
    # given
    # when / then
    with pytest.raises(ValueError, match="unknown status"):
        sim.set_status(sim.order_ids()[0], "paid_and_shipped")


def test_edit_order_recomputes_totals_and_bumps_updated_at(sim: LightspeedSimulator, clock: Clock) -> None:
    # given an order whose first line gets one more unit
    oid = sim.order_ids()[4]
    state = sim.store.orders[oid]
    lines = [dict(p) for p in state.products]
    lines[0]["quantityOrdered"] += 1
    before = sim.order(oid)
    clock.now += 120
    # when
    after = sim.edit_order(oid, products=lines, email="nieuw@example.nl")
    # then
    unit = dec(lines[0]["basePriceIncl"])
    assert dec(after["priceIncl"]) == dec(before["priceIncl"]) + unit
    assert after["email"] == "nieuw@example.nl"
    assert after["updatedAt"] == "2025-06-15T15:08:40+00:00"


# -- rate limits -------------------------------------------------------------------------------------


def test_rate_limit_headers_count_down_per_window(sim: LightspeedSimulator) -> None:
    # given the documented defaults
    http = client(sim)
    # when
    first = http.get("/nl/orders/count.json")
    second = http.get("/nl/orders/count.json")
    # then: three slash-separated windows, 5 min / hour / day, reset in seconds to the window's end
    assert first.headers["X-RateLimit-Limit"] == "300/3000/12000"
    assert first.headers["X-RateLimit-Remaining"] == "299/2999/11999"
    assert second.headers["X-RateLimit-Remaining"] == "298/2998/11998"
    assert first.headers["X-RateLimit-Reset"] == "200/3200/32000"


def test_rate_limit_exceeded_answers_429_until_the_window_resets(clock: Clock) -> None:
    # given a shop allowing 3 calls per 5 minutes
    sim = LightspeedSimulator(clock=clock, rate_limits=(3, 3000, 12000))
    http = client(sim)
    for _ in range(3):
        assert http.get("/nl/orders.json").status_code == 200
    # when
    refused = http.get("/nl/orders.json")
    clock.now += 200  # the 5-minute window ends at 15:10:00
    allowed = http.get("/nl/orders.json")
    # then
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "200"
    assert refused.headers["X-RateLimit-Remaining"].split("/")[0] == "0"
    assert refused.json()["error"]["code"] == 429
    assert allowed.status_code == 200
    assert allowed.headers["X-RateLimit-Remaining"] == "2/2996/11996"


def test_account_ratelimit_reports_the_windows(clock: Clock) -> None:
    # given a shop with the sample's higher limits and one call made
    sim = LightspeedSimulator(clock=clock, rate_limits=(1000, 12000, 288000))
    http = client(sim)
    http.get("/nl/orders/count.json")
    # when
    body = http.get("/nl/account/ratelimit.json").json()["accountRatelimit"]
    # then
    assert body["limit5Min"] == {
        "limit": 1000,
        "remaining": 998,
        "reset": 200,
        "resetTime": "2025-06-15T15:10:00+00:00",
    }
    assert body["limitDay"]["resetTime"] == "2025-06-16T00:00:00+00:00"


# -- webhooks ----------------------------------------------------------------------------------------


def test_webhooks_crud(sim: LightspeedSimulator) -> None:
    # given
    http = client(sim)
    new = {"isActive": True, "itemGroup": "orders", "itemAction": "paid", "language": "nl", "format": "json"}
    new["address"] = "https://koppeling.example/hooks/lightspeed"
    # when
    created = http.post("/nl/webhooks.json", json={"webhook": new})
    hid = created.json()["webhook"]["id"]
    listed = http.get("/nl/webhooks.json").json()["webhooks"]
    updated = http.put(f"/nl/webhooks/{hid}.json", json={"webhook": {"isActive": False}})
    counted = http.get("/nl/webhooks/count.json").json()
    deleted = http.delete(f"/nl/webhooks/{hid}.json")
    gone = http.get(f"/nl/webhooks/{hid}.json")
    # then
    assert created.status_code == 201
    assert list(created.json()["webhook"]) == list(sample("webhook")["webhook"])
    assert created.json()["webhook"]["language"]["code"] == "nl"
    assert [w["id"] for w in listed] == [hid]
    assert updated.json()["webhook"]["isActive"] is False
    assert counted == {"count": 1}
    assert deleted.status_code == 204
    assert gone.status_code == 404


def test_webhooks_create_accepts_the_docs_form_encoding(sim: LightspeedSimulator) -> None:
    # given the curl example's fields: webhook[itemGroup]=orders ...
    form = {
        "webhook[isActive]": "true",
        "webhook[itemGroup]": "orders",
        "webhook[itemAction]": "created",
        "webhook[language]": "nl",
        "webhook[format]": "json",
        "webhook[address]": "https://koppeling.example/hooks/new",
    }
    # when
    response = client(sim).post("/nl/webhooks.json", data=form)
    # then
    assert response.status_code == 201
    assert response.json()["webhook"]["itemAction"] == "created"
    assert response.json()["webhook"]["isActive"] is True


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"itemGroup": "payments"}, "Invalid itemGroup."),
        ({"itemAction": "refunded"}, "Invalid itemAction."),
        ({"format": "csv"}, "Invalid format."),
        ({"address": "ftp://x"}, "Invalid address."),
    ],
)
def test_webhooks_create_rejects_undocumented_values(
    sim: LightspeedSimulator, change: dict, message: str
) -> None:
    # given
    hook = {"itemGroup": "orders", "itemAction": "*", "address": "https://x.example/h"} | change
    # when
    response = client(sim).post("/nl/webhooks.json", json={"webhook": hook})
    # then
    assert response.status_code == 400
    assert response.json()["error"]["message"] == message


def test_set_status_queues_signed_deliveries(sim: LightspeedSimulator) -> None:
    # given a webhook on paid orders
    http = client(sim)
    hook = {
        "itemGroup": "orders",
        "itemAction": "paid",
        "address": "https://koppeling.example/h",
        "language": "nl",
    }
    http.post("/nl/webhooks.json", json={"webhook": hook})
    oid = next(i for i in sim.order_ids() if sim.order(i)["paymentStatus"] == "not_paid")
    # when
    sim.set_status(oid, "processing_awaiting_shipment", payment_status="paid")
    # then one delivery: the order wrapped as the API wraps it, signed md5(body + secret)
    [delivery] = sim.outbox
    assert delivery.url == "https://koppeling.example/h"
    assert json.loads(delivery.body)["order"]["paymentStatus"] == "paid"
    assert delivery.headers["X-Order-Id"] == str(oid)
    assert delivery.headers["X-Format"] == "JSON"
    assert delivery.headers["X-Language"] == "nl"
    expected = hashlib.md5(delivery.body + sim.api_secret.encode()).hexdigest()
    assert delivery.headers["X-Signature"] == expected == sign_webhook(delivery.body, sim.api_secret)
    assert "X-RateLimit-Remaining" in delivery.headers


def test_webhook_delivery_on_demand_for_xml_webhook(sim: LightspeedSimulator) -> None:
    # given an XML webhook on invoices
    http = client(sim)
    hook = {"itemGroup": "invoices", "itemAction": "*", "format": "xml", "address": "https://x.example/h"}
    hid = http.post("/nl/webhooks.json", json={"webhook": hook}).json()["webhook"]["id"]
    iid = next(iter(sim.store.invoices))
    # when
    delivery = sim.webhook_delivery(hid, iid)
    # then
    assert delivery.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?><invoice><id>')
    assert delivery.headers["Content-Type"] == "application/xml"
    assert delivery.headers["X-Signature"] == sign_webhook(delivery.body, sim.api_secret)


def test_webhooks_maximum_is_enforced(clock: Clock) -> None:
    # given a shop allowing two webhooks
    sim = LightspeedSimulator(clock=clock, max_webhooks=2)
    http = client(sim)
    hook = {"itemGroup": "orders", "itemAction": "*", "address": "https://x.example/h"}
    for _ in range(2):
        http.post("/nl/webhooks.json", json={"webhook": hook})
    # when
    response = http.post("/nl/webhooks.json", json={"webhook": hook})
    # then
    assert response.status_code == 400


# -- read-only promise -------------------------------------------------------------------------------


def test_assert_read_only_passes_for_reads_and_webhook_setup(sim: LightspeedSimulator) -> None:
    # given a link that reads and registers a webhook
    http = client(sim)
    http.get("/nl/orders.json")
    http.post(
        "/nl/webhooks.json",
        json={"webhook": {"itemGroup": "orders", "itemAction": "*", "address": "https://x.example/h"}},
    )
    # when / then
    sim.assert_read_only()
    assert [w[0] for w in sim.writes] == ["POST"]


def test_assert_read_only_catches_a_write_to_an_order(sim: LightspeedSimulator) -> None:
    # given a link that writes to an order
    oid = sim.order_ids()[0]
    response = client(sim).put(f"/nl/orders/{oid}.json", json={"order": {"memo": "geboekt"}})
    # when / then
    assert response.status_code == 200
    assert sim.data_writes() == [("PUT", f"/nl/orders/{oid}.json", 200)]
    with pytest.raises(AssertionError, match="written to"):
        sim.assert_read_only()


def test_read_only_key_refuses_writes_and_records_them(clock: Clock) -> None:
    # given a key with read permissions only
    sim = LightspeedSimulator(clock=clock, read_only=True)
    sim.seed(3)
    oid = sim.order_ids()[0]
    # when
    response = client(sim).put(f"/nl/orders/{oid}.json", json={"order": {"status": "completed"}})
    # then
    assert response.status_code == 403
    assert sim.order(oid)["status"] != "completed"
    assert sim.data_writes() == [("PUT", f"/nl/orders/{oid}.json", 403)]


# -- faults ------------------------------------------------------------------------------------------


def test_fail_next_answers_the_status_then_recovers(sim: LightspeedSimulator) -> None:
    # given two injected 503s with Retry-After
    sim.fail_next(503, times=2, retry_after=7)
    http = client(sim)
    # when
    answers = [http.get("/nl/orders/count.json") for _ in range(3)]
    # then
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].headers["Retry-After"] == "7"
    assert answers[0].json()["error"]["code"] == 503


@pytest.mark.parametrize("kind", ["not_json", "truncated", "empty_body"])
def test_malform_next_spoils_one_answer(sim: LightspeedSimulator, kind: str) -> None:
    # given
    sim.malform_next(kind)
    http = client(sim)
    # when
    spoiled = http.get("/nl/orders.json", params={"limit": 3})
    good = http.get("/nl/orders.json", params={"limit": 3})
    # then
    assert spoiled.status_code == 200
    with pytest.raises(ValueError):
        json.loads(spoiled.content)
    assert len(good.json()["orders"]) == 3


def test_malform_next_bad_record_spoils_one_order(sim: LightspeedSimulator) -> None:
    # given
    sim.malform_next("bad_record")
    # when
    orders = client(sim).get("/nl/orders.json", params={"limit": 5}).json()["orders"]
    # then
    assert [o["priceIncl"] for o in orders].count("12,50 EUR") == 1


def test_malform_next_wrong_shape_hides_the_wrapper(sim: LightspeedSimulator) -> None:
    # given
    sim.malform_next("wrong_shape")
    # when
    body = client(sim).get("/nl/orders/count.json").json()
    # then
    assert "count" not in body


def test_malform_next_unknown_kind_raises(sim: LightspeedSimulator) -> None:
    # given / when / then
    with pytest.raises(ValueError, match="unknown malformation"):
        sim.malform_next("gibberish")


def test_wsgi_serves_on_a_real_socket(sim: LightspeedSimulator) -> None:
    # given the simulator on localhost
    with serve_wsgi(sim.wsgi) as server:
        token = base64.b64encode(f"{sim.api_key}:{sim.api_secret}".encode()).decode()
        # when
        response = httpx.get(
            f"{server.url}/nl/orders/count.json", headers={"Authorization": f"Basic {token}"}
        )
    # then
    assert response.json() == {"count": 60}
