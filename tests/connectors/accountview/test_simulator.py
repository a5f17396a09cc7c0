"""The AccountView.net simulator over raw HTTP: token, companies, rights, AccountViewData read/write."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from koppeling.connectors.accountview.simulator import AccountViewSimulator

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
def sim(clock: FakeClock) -> AccountViewSimulator:
    simulator = AccountViewSimulator(clock=clock)
    simulator.seed(debtors=12, articles=20, sales_orders=3, invoices=2)
    return simulator


def raw_client(sim: AccountViewSimulator, headers: dict[str, str] | None = None) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=sim.wsgi),
        base_url="https://www.accountview.sim",
        headers=headers or {},
    )


def api(sim: AccountViewSimulator, user: str = "koppeling") -> httpx.Client:
    creds = sim.valid_credentials(user)
    return raw_client(
        sim,
        {
            "Authorization": f"Bearer {creds['access_token']}",
            "X-Company": creds["company_id"],
            "Accept": "application/json",
        },
    )


def body(response: httpx.Response):
    return json.loads(response.content, parse_float=Decimal)


def read(http: httpx.Client, business_object: str, **params):
    return http.get(
        "/api/v3/AccountViewData", params={"BusinessObject": business_object, "PageSize": 100, **params}
    )


def equal(field: str, value: str, value_type: str = "C", n: int = 1) -> dict[str, str]:
    return {
        f"FilterControlSource{n}": field,
        f"FilterOperator{n}": "Equal",
        f"FilterValueType{n}": value_type,
        f"FilterValue{n}": value,
        f"FilterIsListOfValues{n}": "false",
    }


def post_rows(
    business_object: str,
    table: str,
    fields: list[tuple[str, str]],
    rows: list[list],
    detail: tuple[str, list[tuple[str, str]], list[list]] | None = None,
) -> dict:
    """The row/field-list body of POST AccountViewData (RowId first, detail rows carry HeaderId)."""
    definition = {
        "Name": table,
        "Fields": [{"Name": "RowId", "FieldType": "C"}]
        + [{"Name": name, "FieldType": kind} for name, kind in fields],
    }
    out = {
        "BookDate": "2026-01-15T10:00:00.000Z",
        "BusinessObject": business_object,
        "Table": {"Definition": definition},
        "TableData": {"Data": {"Rows": [{"Values": [str(i + 1), *row]} for i, row in enumerate(rows)]}},
    }
    if detail:
        name, detail_fields, detail_rows = detail
        out["Table"]["DetailDefinitions"] = [
            {
                "Name": name,
                "Fields": [{"Name": "RowId", "FieldType": "C"}, {"Name": "HeaderId", "FieldType": "C"}]
                + [{"Name": n, "FieldType": k} for n, k in detail_fields],
            }
        ]
        out["TableData"]["DetailData"] = [
            {"Rows": [{"Values": [str(i + 1), "1", *row]} for i, row in enumerate(detail_rows)]}
        ]
    return out


DEBTOR_FIELDS = [
    ("ACCT_NR", "C"),
    ("ACCT_NAME", "C"),
    ("SRC_CODE", "C"),
    ("POST_CODE", "C"),
    ("CITY", "C"),
    ("CNT_CODE", "C"),
    ("MAIL_BUS", "C"),
]


def new_debtor(name: str = "Bakkerij de Korenbloem", email: str = "inkoop@korenbloem.example") -> dict:
    return post_rows(
        "AR1", "CONTACT", DEBTOR_FIELDS, [["1300", name, "korenbloem", "3511ab", "Utrecht", "nl", email]]
    )


def token_form(sim: AccountViewSimulator, **form) -> dict:
    return {"client_id": sim.client_id, "client_secret": sim.client_secret, **form}


# ------------------------------------------------------------ OAuth2


def test_token_refresh_rotates_and_refuses_second_use(sim: AccountViewSimulator) -> None:
    # given
    first = sim.valid_credentials()
    http = raw_client(sim)
    form = token_form(sim, grant_type="refresh_token", refresh_token=first["refresh_token"])
    # when
    renewed = http.post("/api/v3/token", data=form)
    reused = http.post("/api/v3/token", data=form)
    # then
    assert renewed.status_code == 200
    assert set(renewed.json()) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert renewed.json()["refresh_token"] != first["refresh_token"]
    assert reused.status_code == 400 and reused.json() == {"error": "invalid_grant"}


def test_token_refresh_without_rotation_when_configured(clock: FakeClock) -> None:
    # given
    sim = AccountViewSimulator(clock=clock, rotate_refresh_tokens=False)
    form = token_form(sim, grant_type="refresh_token", refresh_token=sim.valid_credentials()["refresh_token"])
    # when
    answers = [raw_client(sim).post("/api/v3/token", data=form).status_code for _ in range(2)]
    # then
    assert answers == [200, 200]


def test_token_authorization_code_and_bad_client(sim: AccountViewSimulator) -> None:
    # given
    code = sim.new_authorization_code(redirect_uri="https://app.example/cb")
    http = raw_client(sim)
    # when
    good = http.post(
        "/api/v3/token",
        data=token_form(
            sim, grant_type="authorization_code", code=code, redirect_uri="https://app.example/cb"
        ),
    )
    bad = http.post(
        "/api/v3/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": "x",
            "client_id": sim.client_id,
            "client_secret": "nope",
        },
    )
    # then
    assert good.status_code == 200 and good.json()["token_type"] == "bearer"
    assert bad.status_code == 400 and bad.json() == {"error": "invalid_client"}


def test_api_needs_a_valid_bearer_token(sim: AccountViewSimulator, clock: FakeClock) -> None:
    # given
    http = api(sim)
    # when
    without = raw_client(sim, {"X-Company": sim.company_id}).get("/api/v3/Companies")
    clock.advance(3601)
    expired = http.get("/api/v3/Companies")
    # then
    assert without.status_code == 401
    assert without.json() == {"Message": "Authorization has been denied for this request."}
    assert expired.status_code == 401


def test_api_data_calls_need_x_company(sim: AccountViewSimulator) -> None:
    # given
    token = sim.valid_credentials()["access_token"]
    # when
    missing = raw_client(sim, {"Authorization": f"Bearer {token}"}).get(
        "/api/v3/AccountViewData", params={"BusinessObject": "AR1", "PageSize": 1}
    )
    wrong = raw_client(sim, {"Authorization": f"Bearer {token}", "X-Company": "nope"}).get(
        "/api/v3/AccountViewData", params={"BusinessObject": "AR1", "PageSize": 1}
    )
    # then
    assert missing.status_code == 400
    assert set(missing.json()) == {"ErrorType", "ErrorNumbers", "ErrorMessage"}
    assert missing.json()["ErrorType"] == "AccountViewError"
    assert wrong.status_code == 403


def test_companies_lists_id_description_code(sim: AccountViewSimulator) -> None:
    # when
    answer = api(sim).get("/api/v3/Companies")
    # then
    assert answer.json() == [{"Id": sim.company_id, "Description": "Koppeling Demo B.V.", "Code": "KOPP"}]


# ------------------------------------------------------------ rights


def test_business_objects_show_the_users_rights(sim: AccountViewSimulator) -> None:
    # given a user who may read debtors and only insert sales orders
    sim.set_rights("verkoop", "AR1", "R")
    sim.set_rights("verkoop", "SO1", "RI")
    # when
    objects = {
        o["Code"]: o for o in api(sim, "verkoop").get("/api/v3/accountviewsystembusinessobjects").json()
    }
    # then
    assert set(objects) == {"AR1", "SO1"}
    assert objects["SO1"] == {
        "Code": "SO1",
        "Description": "Verkooporders",
        "InsertAllowed": True,
        "UpdateAllowed": False,
        "DeleteAllowed": False,
    }
    assert objects["AR1"]["InsertAllowed"] is False


def test_rights_user_without_insert_right_gets_the_error(sim: AccountViewSimulator) -> None:
    # given
    sim.set_rights("lezer", "*", "R")
    # when
    answer = api(sim, "lezer").post("/api/v3/AccountViewData", json=new_debtor())
    # then
    assert answer.status_code == 403
    error = answer.json()
    assert error["ErrorType"] == "AccountViewError" and error["ErrorNumbers"] == [2001]
    assert "lezer" in error["ErrorMessage"] and "AR1" in error["ErrorMessage"]
    assert len(sim.company.debtors) == 12


def test_rights_user_without_read_right_cannot_read(sim: AccountViewSimulator) -> None:
    # given
    sim.set_rights("verkoop", "SO1", "RI")
    # when
    answer = read(api(sim, "verkoop"), "AK1")
    # then
    assert answer.status_code == 403 and answer.json()["ErrorNumbers"] == [2001]


def test_rights_update_needs_update_right(sim: AccountViewSimulator) -> None:
    # given a user who may add but not change debtors
    sim.set_rights("invoer", "AR1", "RI")
    existing = next(iter(sim.company.debtors))
    update = post_rows("AR1", "CONTACT", [("SUB_NR", "C"), ("CITY", "C")], [[existing, "Zwolle"]])
    # when
    answer = api(sim, "invoer").post("/api/v3/AccountViewData", json=update)
    # then
    assert answer.status_code == 403 and "te wijzigen" in answer.json()["ErrorMessage"]


# ------------------------------------------------------------ debtors (AR1 / CONTACT)


def test_debtors_lookup_by_email_with_equal_filter(sim: AccountViewSimulator) -> None:
    # given
    http = api(sim)
    target = list(sim.company.debtors.values())[3]
    # when
    found = read(http, "AR1", PageSize=1, **equal("MAIL_BUS", target["MAIL_BUS"]))
    other_case = read(http, "AR1", PageSize=1, **equal("MAIL_BUS", target["MAIL_BUS"].upper()))
    # then
    assert found.status_code == 200
    assert [row["SUB_NR"] for row in found.json()["CONTACT"]] == [target["SUB_NR"]]
    assert found.json()["USR_LINK"] == []
    assert other_case.json()["CONTACT"] == []  # FoxPro "=" is case-sensitive


def test_debtors_create_autonumbers_and_answers_keyed_by_table(
    sim: AccountViewSimulator, clock: FakeClock
) -> None:
    # given
    http = api(sim)
    # when
    answer = http.post("/api/v3/AccountViewData", json=new_debtor())
    # then
    assert answer.status_code == 200
    row = answer.json()["CONTACT"][0]
    assert row["SUB_NR"] == "10013"
    assert (row["SRC_CODE"], row["POST_CODE"], row["CNT_CODE"]) == (
        "KORENBLOEM",
        "3511AB",
        "NL",
    )  # FLD_FMT "!"
    assert row["MAIL_BUS"] == "inkoop@korenbloem.example"
    assert row["INP_DATE"] == row["CNG_DATE"] == "2026-01-01T00:00:00"
    again = read(http, "AR1", **equal("SUB_NR", "10013"))
    assert again.json()["CONTACT"][0]["ACCT_NAME"] == "Bakkerij de Korenbloem"


def test_debtors_post_with_existing_sub_nr_updates(sim: AccountViewSimulator, clock: FakeClock) -> None:
    # given
    http = api(sim)
    existing = next(iter(sim.company.debtors.values()))
    clock.advance(90)
    update = post_rows(
        "AR1",
        "CONTACT",
        [("SUB_NR", "C"), ("CITY", "C"), ("TEL_BUS", "C")],
        [[existing["SUB_NR"], "Zwolle", "038-1234567"]],
    )
    # when
    answer = http.post("/api/v3/AccountViewData", json=update)
    # then
    row = answer.json()["CONTACT"][0]
    assert answer.status_code == 200
    assert (row["CITY"], row["TEL_BUS"], row["ACCT_NAME"]) == ("Zwolle", "038-1234567", existing["ACCT_NAME"])
    assert row["CNG_DATE"] == "2026-01-01T00:01:30" and row["CNG_NR"] == 2
    assert len(sim.company.debtors) == 12


def test_debtors_missing_mandatory_field_is_refused(sim: AccountViewSimulator) -> None:
    # given a debtor without SRC_CODE and a too long name
    missing = post_rows("AR1", "CONTACT", [("ACCT_NR", "C"), ("ACCT_NAME", "C")], [["1300", "Jan Jansen"]])
    too_long = post_rows(
        "AR1",
        "CONTACT",
        [("ACCT_NR", "C"), ("ACCT_NAME", "C"), ("SRC_CODE", "C")],
        [["1300", "x" * 41, "JAN"]],
    )
    unknown = post_rows("AR1", "CONTACT", [("ACCT_NR", "C"), ("E_MAIL", "C")], [["1300", "a@b.nl"]])
    http = api(sim)
    # when
    answers = [http.post("/api/v3/AccountViewData", json=b) for b in (missing, too_long, unknown)]
    # then
    assert [a.status_code for a in answers] == [400, 400, 400]
    assert [a.json()["ErrorNumbers"] for a in answers] == [[1001], [1002], [1004]]
    assert "SRC_CODE" in answers[0].json()["ErrorMessage"]
    assert len(sim.company.debtors) == 12


def test_debtors_paging_with_lastkey_and_pagenumber(sim: AccountViewSimulator) -> None:
    # given
    http = api(sim)
    # when
    first = read(http, "AR1", PageSize=5, Fields="contact.sub_nr, contact.acct_name").json()["CONTACT"]
    second = read(http, "AR1", PageSize=5, Fields="contact.sub_nr", lastKey=first[-1]["SUB_NR"]).json()[
        "CONTACT"
    ]
    page3 = read(http, "AR1", PageSize=5, PageNumber=3, Fields="SUB_NR").json()["CONTACT"]
    # then
    assert [set(r) for r in first] == [{"SUB_NR", "ACCT_NAME"}] * 5
    assert [r["SUB_NR"] for r in second] == ["10006", "10007", "10008", "10009", "10010"]
    assert [r["SUB_NR"] for r in page3] == ["10011", "10012"]


def test_read_unknown_field_object_and_operator(sim: AccountViewSimulator) -> None:
    # given
    http = api(sim)
    # when
    field = read(http, "AR1", Fields="contact.nope")
    unknown_bo = read(http, "XX9")
    operator = read(http, "AR1", FilterControlSource1="SUB_NR", FilterOperator1="Like", FilterValue1="1")
    # then
    assert field.json()["ErrorNumbers"] == [1004]
    assert unknown_bo.json()["ErrorNumbers"] == [1005]
    assert operator.status_code == 400 and operator.json()["ErrorNumbers"] == [3001]


def test_read_date_filter_on_change_date(sim: AccountViewSimulator) -> None:
    # given debtors changed one hour apart from 2026-01-05 08:30
    http = api(sim)
    # when
    since = read(
        http,
        "AR1",
        Fields="SUB_NR,CNG_DATE",
        FilterControlSource1="CNG_DATE",
        FilterOperator1="DateOnOrAfterDate",
        FilterValueType1="T",
        FilterValue1="{^2026-01-05 17:30:00}",
        FilterIsListOfValues1="false",
        SortFields="CNG_DATE",
        SortOrder="descending",
    )
    # then
    rows = since.json()["CONTACT"]
    assert [r["SUB_NR"] for r in rows] == ["10012", "10011", "10010"]


def test_read_free_form_foxpro_filter(sim: AccountViewSimulator) -> None:
    # when
    answer = read(
        api(sim), "AK1", Fields="art_code", Filter="article.ag_code='ETEN' AND !EMPTY(article.ean_code)"
    )
    # then
    codes = [r["ART_CODE"] for r in answer.json()["ARTICLE"]]
    assert codes and all(sim.company.articles[c]["AG_CODE"] == "ETEN" for c in codes)


# ------------------------------------------------------------ articles and stock


def test_stock_available_minus_sales_reservations(sim: AccountViewSimulator) -> None:
    # given an article with 10 in technical stock and no open orders
    http = api(sim)
    sim.set_stock("SKU-1001", 10)
    debtor = next(iter(sim.company.debtors))
    order = post_rows(
        "SO1",
        "SO_HDR",
        [("ORD_DATE", "T"), ("RPL_INV", "C"), ("COMMENT1", "C")],
        [["2026-01-15T10:00:00.000Z", debtor, "WEB-9001"]],
        detail=(
            "SO_LINE",
            [("ART_CODE", "C"), ("ORD_QTY", "N"), ("ART_PX", "N")],
            [["SKU-1001", 3, "16.49"]],
        ),
    )
    # when a sales order reserves 3
    created = http.post("/api/v3/AccountViewData", json=order)
    stock = read(
        http, "AK1", Fields="art_code,qty_tech,qty_avail,qty_res,qty_free2", **equal("ART_CODE", "SKU-1001")
    )
    # then
    assert created.status_code == 200
    row = body(stock)["ARTICLE"][0]
    assert (row["QTY_TECH"], row["QTY_AVAIL"], row["QTY_RES"]) == (10, 10, 3)
    assert row["QTY_AVAIL"] - row["QTY_RES"] == row["QTY_FREE2"] == 7
    # and delivering it ends the reservation and lowers the technical stock
    sim.deliver_order(created.json()["SO_HDR"][0]["ORD_NR"])
    after = body(read(http, "AK1", Fields="qty_tech,qty_res,qty_free2", **equal("ART_CODE", "SKU-1001")))[
        "ARTICLE"
    ]
    assert after == [{"QTY_TECH": 7, "QTY_RES": 0, "QTY_FREE2": 7}]


def test_articles_quantities_are_read_only(sim: AccountViewSimulator) -> None:
    # given
    update = post_rows(
        "AK1",
        "ARTICLE",
        [("ART_CODE", "C"), ("ART_DESC1", "C"), ("QTY_TECH", "N")],
        [["SKU-1002", "Wollen sjaal grijs", 999]],
    )
    before = sim.company.articles["SKU-1002"]["QTY_TECH"]
    # when
    answer = api(sim).post("/api/v3/AccountViewData", json=update)
    # then
    assert answer.status_code == 200
    assert answer.json()["ARTICLE"][0]["ART_DESC1"] == "Wollen sjaal grijs"
    assert sim.company.articles["SKU-1002"]["QTY_TECH"] == before


# ------------------------------------------------------------ sales orders and journal pages


def test_sales_order_post_is_all_or_nothing(sim: AccountViewSimulator) -> None:
    # given one good and one unknown article on the same order
    debtor = next(iter(sim.company.debtors))
    order = post_rows(
        "SO1",
        "SO_HDR",
        [("RPL_INV", "C"), ("COMMENT1", "C")],
        [[debtor, "WEB-9002"]],
        detail=("SO_LINE", [("ART_CODE", "C"), ("ORD_QTY", "N")], [["SKU-1001", 1], ["NOPE", 1]]),
    )
    # when
    answer = api(sim).post("/api/v3/AccountViewData", json=order)
    # then
    assert answer.status_code == 400 and answer.json()["ErrorNumbers"] == [1006]
    assert "NOPE" in answer.json()["ErrorMessage"]
    assert len(sim.company.orders) == 3


def test_sales_order_found_again_by_description(sim: AccountViewSimulator) -> None:
    # given
    http = api(sim)
    debtor = next(iter(sim.company.debtors))
    http.post(
        "/api/v3/AccountViewData",
        json=post_rows(
            "SO1",
            "SO_HDR",
            [("RPL_INV", "C"), ("COMMENT1", "C")],
            [[debtor, "WEB-9003"]],
            detail=("SO_LINE", [("ART_CODE", "C"), ("ORD_QTY", "N")], [["SKU-1004", 2]]),
        ),
    )
    # when
    found = read(http, "SO1", **equal("COMMENT1", "WEB-9003"))
    # then
    assert len(found.json()["SO_HDR"]) == 1
    assert [line["ART_CODE"] for line in found.json()["SO_LINE"]] == ["SKU-1004"]


def invoice_page(debtor: str, inv_nr: str, amount: str = "100.00", vat: str = "21.00") -> dict:
    return post_rows(
        "DJ2",
        "DJ_PAGE",
        [("DJ_CODE", "C"), ("HDR_DESC", "C"), ("SUB_NR", "C"), ("INV_NR", "C"), ("TRN_DATE", "T")],
        [["VRK", f"Order {inv_nr}", debtor, inv_nr, "2026-01-15T00:00:00.000Z"]],
        detail=(
            "DJ_LINE",
            [("ACCT_NR", "C"), ("AMOUNT", "N"), ("VAT_AMT", "N"), ("VAT_CODE", "C"), ("TRN_DESC", "C")],
            [["8000", amount, vat, "1", "Omzet"]],
        ),
    )


def test_journal_page_books_a_sales_invoice_and_refuses_duplicates(sim: AccountViewSimulator) -> None:
    # given
    http = api(sim)
    debtor = next(iter(sim.company.debtors))
    # when
    first = http.post("/api/v3/AccountViewData", json=invoice_page(debtor, "WEB9004"))
    second = http.post("/api/v3/AccountViewData", json=invoice_page(debtor, "WEB9004"))
    found = read(http, "DJ2P", **equal("INV_NR", "WEB9004"))
    # then
    assert first.status_code == 200
    page = body(first)["DJ_PAGE"][0]
    assert page["PAGE_AMT"] == Decimal("121.00") and page["PAGE_VAT"] == Decimal("21.00")
    assert page["TRN_DATE"] == "2026-01-15" and page["PERIOD"] == 1
    line = body(first)["DJ_LINE"][0]
    assert (line["DJ_CODE"], line["PAGE_NR"], line["SUB_NR"]) == ("VRK", page["PAGE_NR"], debtor)
    assert second.status_code == 400 and second.json()["ErrorNumbers"] == [1007]
    assert set(found.json()) == {"DJ_PAGE", "DJ_LINE", "USR_LINK", "PAGE_WF"}
    assert len(found.json()["DJ_PAGE"]) == 1


def test_journal_page_memorial_must_balance(sim: AccountViewSimulator) -> None:
    # given
    page = post_rows(
        "DJ2",
        "DJ_PAGE",
        [("DJ_CODE", "C"), ("HDR_DESC", "C")],
        [["MEM", "Correctie"]],
        detail=("DJ_LINE", [("ACCT_NR", "C"), ("AMOUNT", "N")], [["8000", "12.10"], ["1300", "-12.00"]]),
    )
    # when
    answer = api(sim).post("/api/v3/AccountViewData", json=page)
    # then
    assert answer.status_code == 400 and answer.json()["ErrorNumbers"] == [1008]


def test_post_accepts_lower_case_keys_like_public_clients(sim: AccountViewSimulator) -> None:
    # given the spelling APIcenter sends ("name", "values")
    payload = {
        "BookDate": "2026-01-15T10:00:00.000Z",
        "BusinessObject": "AR1",
        "Table": {
            "Definition": {
                "Name": "CONTACT",
                "Fields": [
                    {"name": "RowId", "FieldType": "C"},
                    {"name": "ACCT_NR", "FieldType": "C"},
                    {"name": "ACCT_NAME", "FieldType": "C"},
                    {"name": "SRC_CODE", "FieldType": "C"},
                ],
            }
        },
        "TableData": {"Data": {"Rows": [{"values": [1, "1300", "Piet Puk", "-"]}]}},
    }
    # when
    answer = api(sim).post("/api/v3/accountviewdata", json=payload)
    # then
    assert answer.status_code == 200 and answer.json()["CONTACT"][0]["ACCT_NAME"] == "Piet Puk"


def test_read_only_objects_cannot_be_posted(sim: AccountViewSimulator) -> None:
    # when
    answer = api(sim).post(
        "/api/v3/AccountViewData", json=post_rows("VA1", "VAT", [("VAT_CODE", "C")], [["9"]])
    )
    # then
    assert answer.status_code == 400


def test_fields_dictionary_per_business_object(sim: AccountViewSimulator) -> None:
    # when
    answer = api(sim).get("/api/v3/accountviewfields", params={"BusinessObject": "SO1"})
    # then
    rows = answer.json()["DCT_FLD"]
    assert {r["DBF_NAME"] for r in rows} == {"SO_HDR", "SO_LINE"}
    art = next(r for r in rows if r["FIELD_NAME"] == "ART_CODE")
    assert art["INP_MAND"] is True and art["FLD_FMT"] == "!"


# ------------------------------------------------------------ writes log, faults, limits, secrets


def test_writes_log_records_every_post(sim: AccountViewSimulator) -> None:
    # given
    http = api(sim)
    # when
    read(http, "AR1")
    http.post("/api/v3/AccountViewData", json=new_debtor())
    http.post("/api/v3/AccountViewData", json=post_rows("AR1", "CONTACT", [("ACCT_NR", "C")], [["1300"]]))
    # then
    assert [(w.status, w.user, w.company) for w in sim.writes] == [
        (200, "koppeling", sim.company_id),
        (400, "koppeling", sim.company_id),
    ]
    assert sim.writes[0].body["BusinessObject"] == "AR1"


def test_fail_next_and_malform_next(sim: AccountViewSimulator) -> None:
    # given
    http = api(sim)
    sim.fail_next(502, retry_after=3)
    # when
    failed = http.post("/api/v3/AccountViewData", json=new_debtor())
    sim.malform_next("not_json")
    spoiled = http.post("/api/v3/AccountViewData", json=new_debtor())
    # then
    assert failed.status_code == 502 and failed.headers["Retry-After"] == "3"
    assert spoiled.status_code == 200 and spoiled.content.startswith(b"<html>")
    assert len(sim.company.debtors) == 13  # the spoiled one was processed


def test_server_offline_is_503(sim: AccountViewSimulator) -> None:
    # given the customer's AccountView server is down
    sim.server_online = False
    # when
    answer = read(api(sim), "AR1")
    # then
    assert answer.status_code == 503 and answer.json()["ErrorNumbers"] == [2003]


def test_rate_limit_is_off_by_default_and_optional(clock: FakeClock) -> None:
    # given
    sim = AccountViewSimulator(clock=clock, rate_limit=(2, 60))
    http = api(sim)
    http.get("/api/v3/Companies")
    http.get("/api/v3/Companies")
    # when
    over = http.get("/api/v3/Companies")
    clock.advance(60)
    later = http.get("/api/v3/Companies")
    # then
    assert over.status_code == 429 and over.headers["Retry-After"] == "60"
    assert later.status_code == 200


def test_echo_secret_in_errors_puts_credentials_in_bodies(clock: FakeClock) -> None:
    # given
    sim = AccountViewSimulator(clock=clock, echo_secret_in_errors=True)
    creds = sim.valid_credentials()
    http = raw_client(
        sim, {"Authorization": f"Bearer {creds['access_token']}", "X-Company": creds["company_id"]}
    )
    # when
    api_error = read(http, "XX9")
    token_error = raw_client(sim).post(
        "/api/v3/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": "x",
            "client_id": sim.client_id,
            "client_secret": "oops!",
        },
    )
    # then
    assert creds["access_token"] in api_error.json()["ErrorMessage"]
    assert "oops!" in token_error.json()["error_description"]


def test_seed_is_deterministic(clock: FakeClock) -> None:
    # given
    one, two = AccountViewSimulator(clock=clock, seed=3), AccountViewSimulator(clock=clock, seed=3)
    # when
    one.seed()
    two.seed()
    # then
    assert [d["MAIL_BUS"] for d in one.company.debtors.values()] == [
        d["MAIL_BUS"] for d in two.company.debtors.values()
    ]
    assert {c: a["QTY_TECH"] for c, a in one.company.articles.items()} == {
        c: a["QTY_TECH"] for c, a in two.company.articles.items()
    }
