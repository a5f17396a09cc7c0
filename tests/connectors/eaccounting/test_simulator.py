"""The eAccounting simulator over raw HTTP: identity server, scopes, resources, paging, limits, faults."""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import httpx
import pytest

from koppeling.connectors.eaccounting.simulator import EAccountingSimulator

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> EAccountingSimulator:
    simulator = EAccountingSimulator(clock=clock)
    simulator.seed(customers=12, articles=20, orders=6, invoices=3)
    return simulator


def client(sim: EAccountingSimulator, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(
        transport=httpx.WSGITransport(app=sim.wsgi), base_url="https://eaccountingapi.sim", headers=headers
    )


def api(sim: EAccountingSimulator, scopes: tuple[str, ...] | None = None) -> httpx.Client:
    creds = sim.valid_credentials(scopes) if scopes else sim.valid_credentials()
    return client(sim, creds["access_token"])


def body(response: httpx.Response):
    return json.loads(response.content, parse_float=Decimal)


def refresh(sim: EAccountingSimulator, refresh_token: str) -> httpx.Response:
    return client(sim).post(
        "/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(sim.client_id, sim.client_secret),
    )


def new_customer(**extra):
    data = {
        "Name": "Bakkerij de Korenbloem",
        "IsPrivatePerson": False,
        "IsActive": True,
        "InvoiceAddress1": "Dorpsstraat 1",
        "InvoicePostalCode": "1234 AB",
        "InvoiceCity": "Utrecht",
        "EmailAddress": "Inkoop@Korenbloem.example",
    }
    data.update(extra)
    return data


def terms_id(sim: EAccountingSimulator) -> str:
    return next(iter(sim.books.terms))


# ------------------------------------------------------------ identity server


def test_token_refresh_rotates_and_refuses_second_use(sim: EAccountingSimulator) -> None:
    # given
    first = sim.valid_credentials()
    # when
    renewed = refresh(sim, first["refresh_token"])
    reused = refresh(sim, first["refresh_token"])
    # then
    assert renewed.status_code == 200
    tokens = renewed.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert tokens["refresh_token"] != first["refresh_token"]
    assert reused.status_code == 400 and reused.json() == {"error": "invalid_grant"}
    assert refresh(sim, tokens["refresh_token"]).status_code == 200


def test_token_refresh_concurrent_refreshers_exactly_one_wins(sim: EAccountingSimulator) -> None:
    # given two workers that both hold the same refresh token
    sim.latency = 0.05
    token = sim.valid_credentials()["refresh_token"]
    results: list[int] = []
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        results.append(refresh(sim, token).status_code)

    # when they refresh at the same moment
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then the rotation lets only one through
    assert sorted(results) == [200, 400]


def test_token_refresh_serialised_refreshers_both_succeed(sim: EAccountingSimulator) -> None:
    # given a shared token store guarded by one lock (what the connector must do)
    sim.latency = 0.02
    store = {"refresh_token": sim.valid_credentials()["refresh_token"]}
    guard = threading.Lock()
    results: list[int] = []

    def worker() -> None:
        with guard:
            answer = refresh(sim, store["refresh_token"])
            results.append(answer.status_code)
            if answer.status_code == 200:
                store["refresh_token"] = answer.json()["refresh_token"]

    # when
    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert results == [200, 200, 200]


def test_token_refresh_reuse_inside_grace_period_only(clock: FakeClock) -> None:
    # given an app configured with a 5 second grace period (a Visma Connect option)
    sim = EAccountingSimulator(clock=clock, refresh_reuse_grace=5)
    token = sim.valid_credentials()["refresh_token"]
    assert refresh(sim, token).status_code == 200
    # when
    clock.advance(3)
    inside = refresh(sim, token)
    clock.advance(3)
    outside = refresh(sim, token)
    # then
    assert inside.status_code == 200
    assert outside.status_code == 400 and outside.json()["error"] == "invalid_grant"


def test_token_wrong_client_secret_is_invalid_client(sim: EAccountingSimulator) -> None:
    # given
    token = sim.valid_credentials()["refresh_token"]
    # when
    wrong = client(sim).post(
        "/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": token},
        auth=(sim.client_id, "not-the-secret"),
    )
    in_form = client(sim).post(
        "/connect/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token,
            "client_id": sim.client_id,
            "client_secret": sim.client_secret,
        },
    )
    # then
    assert wrong.status_code == 400 and wrong.json() == {"error": "invalid_client"}
    assert in_form.status_code == 200


def test_token_authorization_code_is_single_use(sim: EAccountingSimulator) -> None:
    # given
    code = sim.new_authorization_code(redirect_uri="https://app.example/cb")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://app.example/cb"}
    # when
    first = client(sim).post("/connect/token", data=form, auth=(sim.client_id, sim.client_secret))
    second = client(sim).post("/connect/token", data=form, auth=(sim.client_id, sim.client_secret))
    # then
    assert first.status_code == 200 and {"access_token", "refresh_token"} <= set(first.json())
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"


def test_api_access_token_expires_on_the_clock(sim: EAccountingSimulator, clock: FakeClock) -> None:
    # given
    http = api(sim)
    assert http.get("/v2/customers").status_code == 200
    # when
    clock.advance(3600)
    answer = http.get("/v2/customers")
    # then
    assert answer.status_code == 401
    assert answer.json() == {"Message": "Authorization has been denied for this request."}
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_without_token_is_401(sim: EAccountingSimulator) -> None:
    # when
    answer = client(sim).get("/v2/articles")
    # then
    assert answer.status_code == 401


# ------------------------------------------------------------ scopes and modules


def test_scopes_missing_sales_scope_names_the_right(sim: EAccountingSimulator) -> None:
    # given a token without any sales scope
    http = api(sim, ("ea:api", "offline_access", "ea:accounting"))
    # when
    answer = http.get("/v2/customers")
    vat = http.get("/v2/vatcodes")
    # then
    assert answer.status_code == 403
    error = answer.json()
    assert error["ErrorCode"] == 4006
    assert "ea:sales" in error["DeveloperErrorMessage"]
    assert set(error) == {"ErrorCode", "DeveloperErrorMessage", "ErrorId", "Errors"}
    assert vat.status_code == 200


def test_scopes_readonly_scope_reads_but_cannot_write(sim: EAccountingSimulator) -> None:
    # given
    http = api(sim, ("ea:api", "offline_access", "ea:sales_readonly"))
    # when
    read = http.get("/v2/customers")
    write = http.post("/v2/customers", json=new_customer(TermsOfPaymentId=terms_id(sim)))
    # then
    assert read.status_code == 200
    assert write.status_code == 403
    assert write.json()["DeveloperErrorMessage"].endswith("No access to scopes: ea:sales")
    assert len(sim.books.customers) == 12


def test_modules_orders_need_order_module(clock: FakeClock) -> None:
    # given a company without the order module
    sim = EAccountingSimulator(clock=clock, modules={"api_standard"})
    # when
    answer = api(sim).get("/v2/orders")
    # then
    assert answer.status_code == 403
    assert answer.json()["ErrorCode"] == 4002
    assert (
        answer.json()["DeveloperErrorMessage"]
        == "ForbiddenRequestException - No access to module: order_standard"
    )


# ------------------------------------------------------------ customers


def test_customers_create_returns_201_with_real_shape(sim: EAccountingSimulator, clock: FakeClock) -> None:
    # given
    http = api(sim)
    # when
    answer = http.post("/v2/customers", json=new_customer(TermsOfPaymentId=terms_id(sim)))
    # then
    assert answer.status_code == 201
    record = body(answer)
    assert record["CustomerNumber"] == "1013"  # next free number
    assert record["ChangedUtc"] == "2026-01-01T00:00:00Z"
    assert record["TermsOfPayment"]["Id"] == terms_id(sim)
    assert record["InvoiceCountryCode"] == "NL" and record["CurrencyCode"] == "EUR"
    assert http.get(f"/v2/customers/{record['Id']}").json()["Name"] == "Bakkerij de Korenbloem"


def test_customers_create_missing_required_fields_is_2000(sim: EAccountingSimulator) -> None:
    # given
    http = api(sim)
    # when
    answer = http.post("/v2/customers", json={"Name": "x" * 51, "IsActive": "yes"})
    # then
    assert answer.status_code == 400
    error = answer.json()
    assert error["ErrorCode"] == 2000
    fields = {e["Field"] for e in error["Errors"]}
    assert {
        "Name",
        "IsActive",
        "InvoiceCity",
        "InvoicePostalCode",
        "TermsOfPaymentId",
        "IsPrivatePerson",
    } <= fields
    assert all(set(e) == {"Field", "ErrorCode", "Message", "Key"} for e in error["Errors"])


def test_customers_filter_by_email_is_case_insensitive(sim: EAccountingSimulator) -> None:
    # given
    http = api(sim)
    created = body(http.post("/v2/customers", json=new_customer(TermsOfPaymentId=terms_id(sim))))
    # when
    found = http.get("/v2/customers", params={"$filter": "EmailAddress eq 'inkoop@korenbloem.example'"})
    missing = http.get("/v2/customers", params={"$filter": "EmailAddress eq 'nobody@example.nl'"})
    # then
    assert [c["Id"] for c in found.json()["Data"]] == [created["Id"]]
    assert missing.json()["Data"] == [] and missing.json()["Meta"]["TotalNumberOfResults"] == 0


def test_customers_put_replaces_and_moves_changedutc(sim: EAccountingSimulator, clock: FakeClock) -> None:
    # given
    http = api(sim)
    created = body(
        http.post("/v2/customers", json=new_customer(TermsOfPaymentId=terms_id(sim), Telephone="030-1234567"))
    )
    clock.advance(120)
    # when a full replacement without Telephone
    replaced = http.put(
        f"/v2/customers/{created['Id']}",
        json=new_customer(TermsOfPaymentId=terms_id(sim), InvoiceCity="Amersfoort"),
    )
    changed = http.get("/v2/customers", params={"$filter": "ChangedUtc gt 2026-01-01T00:01:00Z"})
    # then
    assert replaced.status_code == 200
    record = replaced.json()
    assert record["InvoiceCity"] == "Amersfoort" and record["Telephone"] is None
    assert record["CustomerNumber"] == created["CustomerNumber"]
    assert record["ChangedUtc"] == "2026-01-01T00:02:00Z"
    assert [c["Id"] for c in changed.json()["Data"]] == [created["Id"]]


def test_customers_duplicate_number_is_conflict(sim: EAccountingSimulator) -> None:
    # when
    answer = api(sim).post(
        "/v2/customers", json=new_customer(TermsOfPaymentId=terms_id(sim), CustomerNumber="1001")
    )
    # then
    assert answer.status_code == 400 and answer.json()["ErrorCode"] == 4000


def test_customers_delete_refused_when_documents_exist(sim: EAccountingSimulator) -> None:
    # given a seeded customer with an order
    customer = next(iter(sim.books.orders.values()))["CustomerId"]
    # when
    answer = api(sim).delete(f"/v2/customers/{customer}")
    # then
    assert answer.status_code == 400 and answer.json()["ErrorCode"] == 4001


# ------------------------------------------------------------ articles and stock


def article_body(sim: EAccountingSimulator, **extra):
    coding = next(c for c in sim.books.codings.values() if c["VatRatePercent"] == Decimal("0.21"))
    data = {
        "Number": "AV-100",
        "Name": "Dekbed 200x200",
        "IsActive": True,
        "NetPrice": "41.32",
        "CodingId": coding["Id"],
        "UnitId": next(iter(sim.books.units)),
        "Barcodes": [{"Barcode": "8712345678906", "BarcodeType": 0}],
    }
    data.update(extra)
    return data


def test_articles_create_and_find_by_number(sim: EAccountingSimulator) -> None:
    # given
    http = api(sim)
    # when
    created = http.post("/v2/articles", json=article_body(sim))
    found = http.get("/v2/articles", params={"$filter": "Number eq 'av-100'"})
    # then
    assert created.status_code == 201
    record = body(created)
    assert record["GrossPrice"] == Decimal("50.00") and record["NetPrice"] == Decimal("41.32")
    assert record["Barcodes"] == [{"Barcode": "8712345678906", "BarcodeType": 0}]
    assert record["IsStock"] is False and record["StockBalance"] == 0
    assert [a["Id"] for a in found.json()["Data"]] == [record["Id"]]


def test_articles_update_sets_stock_balance_without_stock_module(sim: EAccountingSimulator) -> None:
    # given
    http = api(sim)
    record = body(http.post("/v2/articles", json=article_body(sim)))
    # when
    updated = http.put(
        f"/v2/articles/{record['Id']}", json=article_body(sim, StockBalance=17, IsActive=False)
    )
    # then
    result = body(updated)
    assert updated.status_code == 200
    assert result["StockBalance"] == 17 and result["StockBalanceAvailable"] == 17
    assert result["IsActive"] is False
    assert result["StockBalanceManuallyChangedUtc"] == "2026-01-01T00:00:00Z"


def test_articles_stock_balance_read_only_with_stock_module(clock: FakeClock) -> None:
    # given a company with the stock module
    sim = EAccountingSimulator(clock=clock, stock_module=True)
    http = api(sim)
    record = body(http.post("/v2/articles", json=article_body(sim, IsStock=True)))
    # when
    updated = body(
        http.put(f"/v2/articles/{record['Id']}", json=article_body(sim, IsStock=True, StockBalance=99))
    )
    # then the sent balance is ignored
    assert updated["IsStock"] is True and updated["StockBalance"] == 0


def test_articles_duplicate_number_and_bad_price(sim: EAccountingSimulator) -> None:
    # given
    http = api(sim)
    http.post("/v2/articles", json=article_body(sim))
    # when
    duplicate = http.post("/v2/articles", json=article_body(sim, Number="AV-100"))
    bad_price = http.post("/v2/articles", json=article_body(sim, Number="AV-101", NetPrice="1.234"))
    # then
    assert duplicate.json()["ErrorCode"] == 4000
    assert bad_price.status_code == 400 and bad_price.json()["Errors"][0]["Field"] == "NetPrice"


def order_body(customer: str, article: str, quantity: str = "3", status: int = 2, **extra):
    data = {
        "CustomerId": customer,
        "CurrencyCode": "EUR",
        "EuThirdParty": False,
        "OrderDate": "2026-01-01",
        "Status": status,
        "RotReducedInvoicingType": 0,
        "ReverseChargeOnConstructionServices": False,
        "YourReference": "WEB-9001",
        "Rows": [
            {
                "LineNumber": 1,
                "ArticleId": article,
                "Quantity": quantity,
                "IsTextRow": False,
                "IsWorkCost": False,
                "EligibleForReverseChargeOnVat": False,
            },
            {
                "LineNumber": 2,
                "IsTextRow": True,
                "Text": "Bedankt voor je bestelling",
                "IsWorkCost": False,
                "EligibleForReverseChargeOnVat": False,
            },
        ],
    }
    data.update(extra)
    return data


def test_articles_reserved_follows_ongoing_orders(sim: EAccountingSimulator) -> None:
    # given an article with 17 in stock
    http = api(sim)
    article = body(http.post("/v2/articles", json=article_body(sim, StockBalance=17)))
    customer = next(iter(sim.books.customers))
    # when an ongoing order for 3 and a draft order for 5 are entered
    http.post("/v2/orders", json=order_body(customer, article["Id"], "3", status=2))
    http.post("/v2/orders", json=order_body(customer, article["Id"], "5", status=1))
    after = body(http.get(f"/v2/articles/{article['Id']}"))
    # then only the ongoing one reserves
    assert after["StockBalanceReserved"] == 3
    assert after["StockBalanceAvailable"] == after["StockBalance"] - after["StockBalanceReserved"] == 14


# ------------------------------------------------------------ orders, drafts, invoices


def test_orders_create_computes_amounts_exactly(sim: EAccountingSimulator) -> None:
    # given
    http = api(sim)
    article = body(http.post("/v2/articles", json=article_body(sim, NetPrice="19.99")))
    customer = next(iter(sim.books.customers))
    # when
    answer = http.post("/v2/orders", json=order_body(customer, article["Id"], "3"))
    # then
    assert answer.status_code == 201
    order = body(answer)
    assert order["Amount"] == Decimal("59.97") and order["VatAmount"] == Decimal("12.59")
    assert order["Number"] == 7 and order["Status"] == 2
    assert order["Rows"][0]["ArticleNumber"] == "AV-100" and order["Rows"][0]["UnitPrice"] == Decimal("19.99")
    assert order["Rows"][1]["IsTextRow"] is True
    assert order["InvoiceCity"] == sim.books.customers[customer]["InvoiceCity"]


def test_orders_unknown_article_is_validation_error(sim: EAccountingSimulator) -> None:
    # when
    answer = api(sim).post(
        "/v2/orders", json=order_body(next(iter(sim.books.customers)), "00000000-0000-4000-8000-000000000000")
    )
    # then
    assert answer.status_code == 400
    assert answer.json()["Errors"][0]["Field"] == "Rows[0].ArticleId"


def test_orders_convert_creates_invoice_and_marks_order_invoiced(sim: EAccountingSimulator) -> None:
    # given
    http = api(sim)
    article = body(http.post("/v2/articles", json=article_body(sim)))
    order = body(
        http.post("/v2/orders", json=order_body(next(iter(sim.books.customers)), article["Id"], "2"))
    )
    # when
    invoice = http.post(f"/v2/orders/{order['Id']}/convert")
    again = http.post(f"/v2/orders/{order['Id']}/convert")
    # then
    assert invoice.status_code == 200
    result = body(invoice)
    assert result["CreatedFromOrderId"] == order["Id"]
    assert result["TotalAmount"] == Decimal("99.99") and result["TotalVatAmount"] == Decimal("17.35")
    assert result["InvoiceNumber"] == 4
    assert http.get(f"/v2/orders/{order['Id']}").json()["Status"] == 4
    assert again.status_code == 400 and again.json()["ErrorCode"] == 4002


def test_drafts_create_and_convert_to_invoice(sim: EAccountingSimulator) -> None:
    # given
    http = api(sim)
    article = body(http.post("/v2/articles", json=article_body(sim)))
    draft_body = {
        "CustomerId": next(iter(sim.books.customers)),
        "RotReducedInvoicingType": 0,
        "EuThirdParty": False,
        "YourReference": "WEB-9002",
        "Rows": [
            {
                "ArticleId": article["Id"],
                "Quantity": 1,
                "IsTextRow": False,
                "ReversedConstructionServicesVatFree": False,
            }
        ],
    }
    # when
    draft = body(http.post("/v2/customerinvoicedrafts", json=draft_body))
    invoice = http.post(f"/v2/customerinvoicedrafts/{draft['Id']}/convert", json={})
    # then
    assert draft["TotalAmount"] == Decimal("50.00") and draft["IncludesVat"] is False
    assert invoice.status_code == 200 and body(invoice)["CreatedFromDraftId"] == draft["Id"]
    assert http.get(f"/v2/customerinvoicedrafts/{draft['Id']}").status_code == 404
    assert (
        http.get("/v2/customerinvoices", params={"$filter": "YourReference eq 'WEB-9002'"}).json()["Meta"][
            "TotalNumberOfResults"
        ]
        == 1
    )


def test_invoices_modified_since_parameter(sim: EAccountingSimulator, clock: FakeClock) -> None:
    # given
    http = api(sim)
    clock.advance(600)
    draft = body(
        http.post(
            "/v2/customerinvoicedrafts",
            json={
                "CustomerId": next(iter(sim.books.customers)),
                "RotReducedInvoicingType": 0,
                "EuThirdParty": False,
                "Rows": [
                    {"IsTextRow": True, "Text": "Alleen tekst", "ReversedConstructionServicesVatFree": False}
                ],
            },
        )
    )
    http.post(f"/v2/customerinvoicedrafts/{draft['Id']}/convert", json={})
    # when
    recent = http.get("/v2/customerinvoices", params={"modifiedSinceUtc": "2026-01-01T00:05:00Z"})
    # then
    assert recent.json()["Meta"]["TotalNumberOfResults"] == 1


# ------------------------------------------------------------ reference lists, paging, filters


def test_vatcodes_are_a_plain_array(sim: EAccountingSimulator) -> None:
    # when
    answer = api(sim).get("/v2/vatcodes")
    # then
    codes = body(answer)
    assert isinstance(codes, list) and {"Id", "Code", "Description", "VatRate", "RelatedAccounts"} <= set(
        codes[0]
    )
    assert Decimal("0.21") in {c["VatRate"] for c in codes}


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/v2/termsofpayments", {"Id", "Name", "NumberOfDays", "TermsOfPaymentTypeId"}),
        ("/v2/deliverymethods", {"Id", "Name", "Code"}),
        ("/v2/countries", {"Name", "Code", "IsEuMember"}),
        ("/v2/units", {"Id", "Name", "Code", "Abbreviation"}),
        ("/v2/articleaccountcodings", {"Id", "Name", "Type", "VatRatePercent"}),
    ],
)
def test_reference_lists_are_paged(sim: EAccountingSimulator, path: str, fields: set[str]) -> None:
    # when
    answer = api(sim).get(path)
    # then
    assert answer.status_code == 200
    assert fields <= set(answer.json()["Data"][0])
    assert answer.json()["Meta"]["PageSize"] == 50


def test_countries_get_by_code(sim: EAccountingSimulator) -> None:
    # when
    answer = api(sim).get("/v2/countries/be")
    # then
    assert answer.json() == {"Name": "België", "Code": "BE", "IsEuMember": True}


def test_paging_meta_and_pages_cover_everything(sim: EAccountingSimulator) -> None:
    # given
    http = api(sim)
    # when
    pages = [http.get("/v2/customers", params={"$page": n, "$pagesize": 5}).json() for n in (1, 2, 3, 4)]
    # then
    assert pages[0]["Meta"]["TotalNumberOfPages"] == 3 and pages[0]["Meta"]["TotalNumberOfResults"] == 12
    assert [len(p["Data"]) for p in pages] == [5, 5, 2, 0]
    assert pages[0]["Meta"]["ServerTimeUtc"] == "2026-01-01T00:00:00Z"
    ids = [c["Id"] for p in pages for c in p["Data"]]
    assert len(set(ids)) == 12


def test_paging_page_size_above_maximum_is_refused(sim: EAccountingSimulator) -> None:
    # when
    answer = api(sim).get("/v2/customers", params={"$pagesize": 1001})
    # then
    assert answer.status_code == 400 and answer.json()["ErrorCode"] == 6000


def test_filter_unknown_property_and_syntax_errors(sim: EAccountingSimulator) -> None:
    # given
    http = api(sim)
    # when
    unknown = http.get("/v2/customers", params={"$filter": "Email eq 'x'"})
    broken = http.get("/v2/customers", params={"$filter": "Name eq"})
    # then
    assert unknown.status_code == 400 and unknown.json()["ErrorCode"] == 6000
    assert "Could not find a property named 'Email'" in unknown.json()["DeveloperErrorMessage"]
    assert broken.status_code == 400


def test_filter_functions_and_orderby(sim: EAccountingSimulator) -> None:
    # given
    http = api(sim)
    # when
    answer = http.get(
        "/v2/articles",
        params={"$filter": "startswith(Number,'SKU-100') and IsActive eq true", "$orderby": "Number desc"},
    )
    # then
    numbers = [a["Number"] for a in answer.json()["Data"]]
    assert numbers == sorted(numbers, reverse=True) and all(n.startswith("SKU-100") for n in numbers)


# ------------------------------------------------------------ rate limit


def test_rate_limit_600_per_minute_per_endpoint(sim: EAccountingSimulator, clock: FakeClock) -> None:
    # given 600 calls in the same minute
    http = api(sim)
    for _ in range(600):
        assert http.get("/v2/units").status_code == 200
    # when
    over = http.get("/v2/units")
    other_endpoint = http.get("/v2/countries")
    clock.advance(20)
    still = http.get("/v2/units")
    clock.advance(41)
    later = http.get("/v2/units")
    # then
    assert over.status_code == 429 and "Retry-After" not in over.headers
    assert over.json()["ErrorCode"] == 4010
    assert over.json()["DeveloperErrorMessage"] == (
        "API calls quota exceeded! maximum admitted 600 per Minute. Try again in 60 seconds."
    )
    assert set(over.json()) == {"ErrorCode", "DeveloperErrorMessage", "ErrorId"}
    assert other_endpoint.status_code == 200
    assert "Try again in 40 seconds." in still.json()["DeveloperErrorMessage"]
    assert later.status_code == 200


def test_rate_limit_optional_retry_after_header(clock: FakeClock) -> None:
    # given
    sim = EAccountingSimulator(clock=clock, rate_limit=2, send_retry_after=True)
    http = api(sim)
    http.get("/v2/units")
    http.get("/v2/units")
    # when
    answer = http.get("/v2/units")
    # then
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "60"


# ------------------------------------------------------------ writes log, faults, secrets


def test_writes_log_records_every_mutating_request(sim: EAccountingSimulator) -> None:
    # given
    http = api(sim)
    # when
    http.get("/v2/customers")
    http.post("/v2/customers", json=new_customer(TermsOfPaymentId=terms_id(sim)))
    http.post("/v2/customers", json={"Name": "kapot"})
    # then
    assert [(w.method, w.path, w.status) for w in sim.writes] == [
        ("POST", "/v2/customers", 201),
        ("POST", "/v2/customers", 400),
    ]
    assert sim.writes[0].body["Name"] == "Bakkerij de Korenbloem"
    assert sim.writes[0].client_id == sim.client_id


def test_fail_next_answers_like_a_gateway_without_processing(sim: EAccountingSimulator) -> None:
    # given
    http = api(sim)
    sim.fail_next(503, retry_after=7)
    # when
    answer = http.post("/v2/customers", json=new_customer(TermsOfPaymentId=terms_id(sim)))
    # then
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "7"
    assert answer.headers["Content-Type"].startswith("text/html")
    assert len(sim.books.customers) == 12


def test_fail_next_429_carries_the_quota_body(sim: EAccountingSimulator) -> None:
    # given
    sim.fail_next(429)
    # when
    answer = api(sim).get("/v2/customers")
    # then
    assert answer.status_code == 429 and answer.json()["ErrorCode"] == 4010


def test_malform_next_spoils_the_answer_after_processing(sim: EAccountingSimulator) -> None:
    # given
    http = api(sim)
    sim.malform_next("truncated")
    # when
    answer = http.post("/v2/customers", json=new_customer(TermsOfPaymentId=terms_id(sim)))
    # then
    assert answer.status_code == 201
    with pytest.raises(ValueError):
        json.loads(answer.content)
    assert len(sim.books.customers) == 13
    with pytest.raises(ValueError):
        sim.malform_next("nonsense")


def test_echo_secret_in_errors_puts_credentials_in_bodies(clock: FakeClock) -> None:
    # given
    sim = EAccountingSimulator(clock=clock, echo_secret_in_errors=True)
    creds = sim.valid_credentials()
    # when
    api_error = client(sim, creds["access_token"]).get("/v2/customers", params={"$filter": "Nope eq 1"})
    token_error = client(sim).post(
        "/connect/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": "x",
            "client_id": sim.client_id,
            "client_secret": "wrong!",
        },
    )
    # then
    assert creds["access_token"] in api_error.json()["DeveloperErrorMessage"]
    assert "wrong!" in token_error.json()["error_description"]


def test_seed_is_deterministic(clock: FakeClock) -> None:
    # given
    one, two = EAccountingSimulator(clock=clock, seed=7), EAccountingSimulator(clock=clock, seed=7)
    # when
    one.seed()
    two.seed()
    # then
    assert [c["EmailAddress"] for c in one.books.customers.values()] == [
        c["EmailAddress"] for c in two.books.customers.values()
    ]
    assert list(one.books.articles) == list(two.books.articles)
