"""EAccountingConnector against the simulator: tokens, rights, orders, customers, articles, stock."""

from __future__ import annotations

import threading
from decimal import Decimal

import httpx
import pytest

from koppeling.connectors.base import Capability, Findability
from koppeling.connectors.eaccounting.api import EAccountingCode, retry_after_of, validate_response
from koppeling.connectors.eaccounting.client import EAccountingConnector, EAccountingSettings
from koppeling.connectors.eaccounting.simulator import EAccountingSimulator
from koppeling.connectors.errors import AuthError, DataError, NotFound, RateLimited
from koppeling.connectors.registry import connector_class
from koppeling.core.products import PRODUCT_FIELDS, Product, StockLevel

from .helpers import FakeClock, LockedStore, add_orders, connector, credentials


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> EAccountingSimulator:
    simulator = EAccountingSimulator(clock=clock)
    simulator.seed(customers=10, articles=20, orders=0, invoices=0)
    return simulator


def refresh_grants(sim: EAccountingSimulator) -> list[dict]:
    return [r for r in sim.token_requests if r["grant_type"] == "refresh_token"]


def test_registry_declares_the_eaccounting_facts():
    # given / when
    cls = connector_class("eaccounting")
    # then
    assert cls is EAccountingConnector
    assert cls.capabilities() == {
        Capability.READS_ORDERS,
        Capability.READS_CUSTOMERS,
        Capability.WRITES_PRODUCTS,
        Capability.WRITES_STOCK,
    }
    assert cls.cursor_ordered is True and cls.findable is Findability.BY_REFERENCE
    assert [(r.limit, r.period_seconds, r.applies_to) for r in cls.rate_limits] == [(600, 60, {"*"})]
    assert "refresh_token" in cls.credential_fields and "access_token_expires_at" in cls.credential_fields


# ------------------------------------------------------------ tokens


def test_refresh_before_expiry_rotates_and_stores_the_new_pair(sim, clock):
    # given a connection whose access token is about to expire
    store = LockedStore(credentials(sim))
    old = dict(store.credentials)
    source = connector(sim, old, store=store)
    clock.advance(3600 - 30)
    # when it makes a call
    source.check()
    # then it refreshed once, stored the rotated refresh token, and used the new access token
    assert len(refresh_grants(sim)) == 1
    assert store.credentials["refresh_token"] != old["refresh_token"]
    assert (
        store.credentials["access_token"] == source.config.credentials["access_token"] != old["access_token"]
    )
    assert float(store.credentials["access_token_expires_at"]) == clock() + 3600


def test_refresh_two_connectors_one_store_second_uses_first_result(sim, clock):
    # given two workers holding the same (expired) credentials and sharing one store
    initial = credentials(sim)
    store = LockedStore(initial)
    first, second = connector(sim, initial, store=store), connector(sim, initial, store=store)
    clock.advance(4000)
    # when both call eAccounting, one after the other
    first.check()
    second.check()
    # then only the first spent the refresh token; the second took what the first stored
    assert [r["status"] for r in refresh_grants(sim)] == [200]
    assert second.config.credentials == store.credentials == first.config.credentials
    assert store.writes == 1


def test_refresh_two_connectors_at_once_spend_the_old_token_once(sim, clock):
    # given two workers that notice the expiry at the same moment
    sim.latency = 0.02
    initial = credentials(sim)
    store = LockedStore(initial)
    workers = [connector(sim, initial, store=store) for _ in range(2)]
    clock.advance(4000)
    start = threading.Barrier(2)
    errors: list[Exception] = []

    def work(source: EAccountingConnector) -> None:
        start.wait()
        try:
            source.check()
        except Exception as exc:  # collected: the assertion below names it
            errors.append(exc)

    # when
    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then both succeeded, with one refresh between them
    assert errors == []
    assert [r["status"] for r in refresh_grants(sim)] == [200]
    assert workers[0].config.credentials["access_token"] == workers[1].config.credentials["access_token"]


def test_refresh_after_401_when_the_expiry_is_unknown(sim, clock):
    # given credentials without a stored expiry, whose access token the server let expire
    creds = credentials(sim)
    creds.pop("access_token_expires_at")
    source = connector(sim, creds)
    clock.advance(3700)
    # when
    source.check()
    # then the 401 led to one refresh and the call was repeated
    assert len(refresh_grants(sim)) == 1
    assert source.config.credentials["refresh_token"] != creds["refresh_token"]


def test_refresh_refused_is_an_auth_error_without_any_secret(clock):
    # given a user who disconnected the app, and a server that echoes secrets in its errors
    sim = EAccountingSimulator(clock=clock, echo_secret_in_errors=True)
    creds = credentials(sim)
    sim.revoke_grants()
    source = connector(sim, creds)
    clock.advance(4000)
    # when / then
    with pytest.raises(AuthError) as caught:
        source.check()
    assert caught.value.code == EAccountingCode.REFRESH_REFUSED and caught.value.suggestion
    text = repr(caught.value.params)
    assert all(creds[k] not in text for k in ("refresh_token", "client_secret", "access_token"))


# ------------------------------------------------------------ errors and limits


def test_rate_limit_429_without_retry_after_reads_the_body(sim):
    # given the documented 429 body ("Try again in 55 seconds.") and no Retry-After header
    sim.fail_next(429)
    # when / then
    with pytest.raises(RateLimited) as caught:
        connector(sim).check()
    assert caught.value.retry_after == 55 and not caught.value.maybe_processed


def test_rate_limit_of_the_simulator_window_is_paced(clock):
    # given a company whose limit of 3 per minute is spent
    sim = EAccountingSimulator(clock=clock, rate_limit=3)
    source = connector(sim)
    for _ in range(3):
        source.check()
    clock.advance(20)
    # when / then: the wait is what the body says (the window frees up 40 seconds from now)
    with pytest.raises(RateLimited) as caught:
        source.check()
    assert caught.value.retry_after == 40


def test_retry_after_of_prefers_the_header_then_the_body_then_a_minute():
    # given three answers
    def answer(headers=None, body=b"{}"):
        return httpx.Response(
            429, headers=headers or {}, content=body, request=httpx.Request("GET", "http://x")
        )

    # when / then
    assert retry_after_of(answer({"Retry-After": "7"})) == 7
    assert retry_after_of(answer(body=b'{"DeveloperErrorMessage": "Try again in 12 seconds."}')) == 12
    assert retry_after_of(answer()) == 60


def test_validate_response_validation_error_names_the_field():
    # given a 400 with the located Errors list
    body = (
        b'{"ErrorCode": 2000, "DeveloperErrorMessage": "DataModelValidationError", "ErrorId": "x", '
        b'"Errors": [{"Field": "Name", "ErrorCode": "Required", "Message": "The Name field is required."}]}'
    )
    response = httpx.Response(400, content=body, request=httpx.Request("POST", "http://x/v2/articles"))
    # when / then
    with pytest.raises(DataError) as caught:
        validate_response(response, mutating=True)
    assert caught.value.code == EAccountingCode.REJECTED
    assert "Name: The Name field is required." in caught.value.params["remote"]


# ------------------------------------------------------------ rights


def test_check_rights_names_the_missing_write_scope(sim):
    # given an authorisation with read-only sales access
    creds = {
        **credentials(sim),
        **{
            k: str(v)
            for k, v in sim.valid_credentials(("ea:api", "offline_access", "ea:sales_readonly")).items()
            if k in ("access_token", "refresh_token", "scope")
        },
    }
    source = connector(sim, creds)
    # when reading is asked, it passes; when writing articles is asked, the scope is named
    source.check_rights(frozenset({Capability.READS_ORDERS, Capability.READS_CUSTOMERS}))
    with pytest.raises(AuthError) as caught:
        source.check_rights(frozenset({Capability.WRITES_PRODUCTS}))
    assert caught.value.code == EAccountingCode.SCOPE_MISSING and caught.value.params["scope"] == "ea:sales"


def test_check_rights_names_the_missing_order_module(clock):
    # given a company without the order module
    sim = EAccountingSimulator(clock=clock, modules={"api_standard"})
    source = connector(sim)
    source.check_rights(frozenset({Capability.READS_CUSTOMERS}))
    # when / then
    with pytest.raises(AuthError) as caught:
        source.check_rights(frozenset({Capability.READS_ORDERS}))
    assert caught.value.code == EAccountingCode.MODULE_MISSING
    assert caught.value.params["module"] == "order_standard"


def test_check_rights_without_stored_scopes_probes_the_endpoints(sim):
    # given credentials that do not say which scopes were granted, and no sales scope at all
    issued = sim.valid_credentials(("ea:api", "offline_access", "ea:accounting"))
    creds = {
        **credentials(sim),
        "access_token": issued["access_token"],
        "refresh_token": issued["refresh_token"],
    }
    creds.pop("scope")
    # when / then
    with pytest.raises(AuthError) as caught:
        connector(sim, creds).check_rights(frozenset({Capability.READS_CUSTOMERS}))
    assert caught.value.code == EAccountingCode.SCOPE_MISSING
    assert "ea:sales" in caught.value.params["scope"]


# ------------------------------------------------------------ orders and customers


def test_fetch_changed_orders_carry_the_coding_rates_and_the_customer(sim):
    # given one order of two rows: a 21% and a 9% article
    high = next(a for a in sim.books.articles.values() if a["Number"] == "SKU-1001")
    low = next(a for a in sim.books.articles.values() if a["Number"] == "SKU-1011")
    customer = next(iter(sim.books.customers.values()))
    rows = [
        {
            "LineNumber": 1,
            "ArticleId": high["Id"],
            "Quantity": Decimal(2),
            "IsTextRow": False,
            "IsWorkCost": False,
            "EligibleForReverseChargeOnVat": False,
            "DiscountPercentage": Decimal("0.1"),
        },
        {
            "LineNumber": 2,
            "ArticleId": low["Id"],
            "Quantity": Decimal(1),
            "IsTextRow": False,
            "IsWorkCost": False,
            "EligibleForReverseChargeOnVat": False,
        },
    ]
    record = add_orders(sim, 1, CustomerId=customer["Id"], Rows=rows)[0]
    # when
    (fetched,) = list(connector(sim).fetch_changed(None))
    # then
    order = fetched.item
    assert fetched.source_id == record["Id"] and fetched.number == str(record["Number"])
    assert [(line.sku, line.vat_rate, line.quantity) for line in order.lines] == [
        ("SKU-1001", Decimal(21), Decimal(2)),
        ("SKU-1011", Decimal(9), Decimal(1)),
    ]
    assert order.lines[0].unit_price_ex == Decimal("16.49") * Decimal("0.9")
    assert order.total_inc == record["Amount"] + record["VatAmount"]
    assert order.customer.email == customer["EmailAddress"]
    assert order.payment_method == customer["TermsOfPayment"]["Name"]


def test_fetch_changed_status_change_keeps_the_fingerprint(sim, clock):
    # given an ongoing order read once
    record = add_orders(sim, 1)[0]
    source = connector(sim)
    before = next(iter(source.fetch_changed(None)))
    # when it is shipped (a status change, not an edit)
    clock.advance(60)
    sim.books.save_order({**record, "Status": 3}, sim.books.orders[record["Id"]])
    after = next(iter(connector(sim).fetch_changed(None)))
    # then it is read again (changed), with the same fingerprint
    assert after.changed_at > before.changed_at and after.fingerprint == before.fingerprint


def test_fetch_changed_an_order_edited_while_paging_is_not_missed(sim, clock):
    # given twelve orders changed one second apart, read five per page
    orders = []
    for _ in range(12):
        orders += add_orders(sim, 1)
        clock.advance(1)
    source = connector(sim, page_size=5)
    seen: list[str] = []
    # when, after the first page arrived, one not yet read and then one already read are edited
    for fetched in source.fetch_changed(None):
        seen.append(fetched.source_id)
        if len(seen) == 5:
            for index in (7, 2):
                clock.advance(1)
                record = sim.books.orders[orders[index]["Id"]]
                sim.books.save_order({**record, "YourReference": "edited"}, record)
    # then every order was yielded; the unread one once, at its new place; the read one again
    assert set(seen) == {o["Id"] for o in orders}
    assert len(seen) == 13 and seen.count(orders[7]["Id"]) == 1
    assert seen[-2:] == [orders[7]["Id"], orders[2]["Id"]]


def test_fetch_changed_since_is_a_closed_start_and_until_an_open_end(sim, clock):
    # given three orders changed at 0 s, 10 s and 20 s
    made = []
    for _ in range(3):
        made += add_orders(sim, 1)
        clock.advance(10)
    source = connector(sim)
    second = list(source.fetch_changed(None))[1]
    # when
    window = list(source.fetch_changed(second.changed_at, until=second.changed_at.replace(second=59)))
    # then the order at exactly ``since`` is in, the ones before it are not
    assert [f.source_id for f in window] == [made[1]["Id"], made[2]["Id"]]


def test_fetch_one_by_id_or_number_and_unknown_is_not_found(sim):
    # given
    record = add_orders(sim, 1)[0]
    source = connector(sim)
    # when / then
    assert source.fetch_one(record["Id"]).source_id == record["Id"]
    assert source.fetch_one(str(record["Number"])).source_id == record["Id"]
    with pytest.raises(NotFound):
        source.fetch_one("424242")


def test_fetch_customers_changed_company_and_person(sim):
    # given the seeded customers (some companies with a contact person)
    fetched = list(connector(sim).fetch_customers_changed(None))
    # when
    by_number = {f.number: f.item for f in fetched}
    records = {c["CustomerNumber"]: c for c in sim.books.customers.values()}
    # then a company keeps its contact as the person; a private person has no company
    assert len(fetched) == len(records)
    for number, party in by_number.items():
        record = records[number]
        if record["IsPrivatePerson"]:
            assert party.company == "" and party.name == record["Name"]
        else:
            assert party.company == record["Name"] and party.name == (record["ContactPersonName"] or "")


# ------------------------------------------------------------ articles


def product(sku: str = "AV-2001", **changes) -> Product:
    values = {
        "name": "Linnen schort",
        "ean": "8712345678906",
        "description_long": "Lang verhaal",
        "price_ex": Decimal("19.95"),
        "vat_rate": Decimal(21),
        "unit": "st",
    }
    values.update(changes)
    return Product(source_id=sku, sku=sku, **values)


def article(sim: EAccountingSimulator, number: str) -> dict:
    return next(a for a in sim.books.articles.values() if a["Number"] == number)


def test_create_product_sends_every_field_with_coding_and_unit(sim):
    # given a new article
    target = connector(sim)
    # when
    result = target.create_product(product(), EAccountingSettings())
    # then
    stored = article(sim, "AV-2001")
    assert result.target_id == stored["Id"]
    assert stored["Name"] == "Linnen schort" and stored["Note"] == "Lang verhaal"
    assert stored["NetPrice"] == Decimal("19.95") and stored["GrossPrice"] == Decimal("24.14")
    assert sim.books.codings[stored["CodingId"]]["VatRatePercent"] == Decimal("0.21")
    assert stored["Barcodes"] == [{"Barcode": "8712345678906", "BarcodeType": 0}]
    assert target.find_product(product()).target_id == stored["Id"]
    assert target.find_product(product("OTHER", ean="8712345678906")).target_id == stored["Id"]


def test_update_product_leaves_protected_fields_alone(sim):
    # given an article created, then enriched in eAccounting
    target = connector(sim)
    created = target.create_product(product())
    stored = article(sim, "AV-2001")
    sim.books.save_article({**stored, "Note": "Verrijkt in eAccounting"}, stored)
    # when the flow updates every field but the protected long description
    fields = frozenset(PRODUCT_FIELDS) - {"description_long"}
    target.update_product(
        created.target_id,
        product(name="Linnen schort blauw", price_ex=Decimal("21.00"), description_long="Nieuw"),
        fields,
    )
    # then
    stored = article(sim, "AV-2001")
    assert stored["Name"] == "Linnen schort blauw" and stored["NetPrice"] == Decimal("21.00")
    assert stored["GrossPrice"] == Decimal("25.41")  # recomputed, not the stale one
    assert stored["Note"] == "Verrijkt in eAccounting"


def test_update_product_without_a_change_writes_nothing(sim):
    # given an article as the flow created it
    target = connector(sim)
    created = target.create_product(product())
    writes = len(sim.writes)
    # when it is updated with the same values
    target.update_product(created.target_id, product(), frozenset(PRODUCT_FIELDS))
    # then no PUT went out
    assert len(sim.writes) == writes


def test_create_product_with_an_unknown_coding_is_a_data_error(sim):
    # given settings naming a coding the company does not have
    settings = EAccountingSettings(codings={"*": "Bestaat niet"})
    # when / then
    with pytest.raises(DataError) as caught:
        connector(sim).create_product(product(), settings)
    assert caught.value.code == EAccountingCode.NO_CODING and not sim.writes


def test_create_product_truncates_a_long_name_with_a_warning(sim):
    # given a name longer than the 50 characters eAccounting takes
    long_name = "Schort " * 10
    # when
    result = connector(sim).create_product(product(name=long_name))
    # then
    assert article(sim, "AV-2001")["Name"] == long_name[:50]
    assert [w.code for w in result.warnings] == [EAccountingCode.VALUE_TRUNCATED]


# ------------------------------------------------------------ stock


def test_set_stock_managed_sets_the_balance_and_repeats_harmlessly(sim):
    # given
    target = connector(sim)
    # when
    target.set_stock(StockLevel("SKU-1002", Decimal(12)), Decimal(9))
    writes = len(sim.writes)
    target.set_stock(StockLevel("SKU-1002", Decimal(12)), Decimal(9))
    # then
    assert article(sim, "SKU-1002")["StockBalance"] == Decimal(9)
    assert len(sim.writes) == writes


def test_set_stock_not_managed_leaves_the_balance(sim):
    # given an article with a balance
    before = article(sim, "SKU-1003")["StockBalance"]
    # when the source says it keeps no stock for it
    connector(sim).set_stock(StockLevel("SKU-1003", Decimal(5), managed=False), Decimal(5))
    # then
    assert article(sim, "SKU-1003")["StockBalance"] == before and not sim.writes


def test_set_stock_with_the_stock_module_is_a_clear_data_error(clock):
    # given a company with the stock module (eAccounting keeps the stock)
    sim = EAccountingSimulator(clock=clock, stock_module=True)
    sim.seed(customers=2, articles=5, orders=0, invoices=0)
    # when / then
    with pytest.raises(DataError) as caught:
        connector(sim).set_stock(StockLevel("SKU-1001", Decimal(3)), Decimal(3))
    assert caught.value.code == EAccountingCode.STOCK_MODULE and caught.value.params["sku"] == "SKU-1001"


def test_set_stock_of_an_unknown_article_is_a_data_error(sim):
    with pytest.raises(DataError) as caught:
        connector(sim).set_stock(StockLevel("NOPE-1", Decimal(3)), Decimal(3))
    assert caught.value.code == EAccountingCode.ARTICLE_UNKNOWN


def test_the_barcode_index_reads_the_articles_in_pages_of_a_thousand(clock):
    """A first sync looks every new article up by barcode: the index of a 2,500-article company is
    three calls (pages of 1,000, the API's largest), once per run — not 25 at the usual page size."""
    sim = EAccountingSimulator(clock=clock)
    sim.seed(customers=1, articles=2500, orders=0, invoices=0)
    conn = connector(sim)
    calls: list[str] = []
    conn.http.event_hooks["request"].append(lambda request: calls.append(request.url.path))
    last = next(a for a in reversed(list(sim.books.articles.values())) if a.get("Barcodes"))
    found = conn.article_by_barcode(last["Barcodes"][0]["Barcode"])
    assert found is not None and found["Id"] == last["Id"]
    assert calls.count("/v2/articles") == 3
    assert conn.article_by_barcode("0000000000000") is None and calls.count("/v2/articles") == 3
