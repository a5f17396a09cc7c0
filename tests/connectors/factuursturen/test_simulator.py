"""The Factuursturen simulator speaks the API as documented in docs/connectors/factuursturen.md.

Raw HTTP only (no client class): what a connector would see on the wire.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest

from koppeling.connectors.factuursturen.sim_model import InvoiceLine, factuursturen_totals
from koppeling.connectors.factuursturen.simulator import FactuursturenSimulator

BASE = "http://factuursturen.sim"
NOON = 1_767_268_800.0  # 2026-01-01 12:00:00 UTC, 13:00 in Amsterdam
HOUR = 3600.0


class FakeClock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOON)


@pytest.fixture
def sim(clock: FakeClock) -> FactuursturenSimulator:
    return FactuursturenSimulator(clock=clock)


def client_for(sim: FactuursturenSimulator, *, auth: tuple[str, str] | None = None) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=sim.wsgi),
        base_url=BASE,
        auth=auth if auth is not None else (sim.username, sim.api_key),
    )


@pytest.fixture
def http(sim: FactuursturenSimulator) -> httpx.Client:
    return client_for(sim)


@pytest.fixture
def debtor(sim: FactuursturenSimulator) -> int:
    return sim.add_client(contact="Jan Jansen", email="jan@example.nl", city="Utrecht")


def invoice_form(clientnr: int, reference: str = "Bestelling WA1001", **extra: str) -> dict[str, str]:
    form = {
        "clientnr": str(clientnr),
        "action": "send",
        "sendmethod": "mail",
        "reference[line1]": reference,
        "lines[0][amount]": "4",
        "lines[0][description]": "Appels",
        "lines[0][tax_rate]": "21",
        "lines[0][price]": "13",
    }
    form.update(extra)
    return form


def get_invoice(http: httpx.Client, number: str) -> dict:
    response = http.get(f"/api/v1/invoices/{number}")
    assert response.status_code == 200, response.text
    return response.json()["invoice"]


# -- authentication --------------------------------------------------------------------------------


def test_wsgi_refuses_request_without_credentials(sim: FactuursturenSimulator) -> None:
    # given
    anonymous = httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi), base_url=BASE)
    # when
    response = anonymous.get("/api/v1/clients")
    # then
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert "Authentication failed" in response.text


def test_wsgi_refuses_wrong_api_key(sim: FactuursturenSimulator) -> None:
    # given
    wrong = client_for(sim, auth=(sim.username, "not-the-key"))
    # when
    response = wrong.get("/api/v1/clients")
    # then
    assert response.status_code == 401


def test_wsgi_accepts_valid_credentials_and_reports_remaining(http: httpx.Client) -> None:
    # when
    response = http.get("/api/v1/clients")
    # then
    assert response.status_code == 200
    assert response.json() == []
    assert response.headers["X-RateLimit-Remaining"] == "60"


def test_revoke_key_refuses_following_requests(sim: FactuursturenSimulator, http: httpx.Client) -> None:
    # given
    sim.revoke_key()
    # when
    response = http.get("/api/v1/clients")
    # then
    assert response.status_code == 401


def test_valid_credentials_returns_username_and_api_key(sim: FactuursturenSimulator) -> None:
    # when
    creds = sim.valid_credentials()
    # then
    assert creds == {"username": sim.username, "api_key": sim.api_key}


# -- clients ---------------------------------------------------------------------------------------


def test_create_client_form_encoded_returns_201_with_number_as_text(http: httpx.Client) -> None:
    # given
    form = {"contact": "Piet de Vries", "email": "piet@example.nl", "reference[line1]": "Webwinkel"}
    # when
    response = http.post("/api/v1/clients", data=form)
    # then
    assert response.status_code == 201
    assert response.text == "1"
    client = http.get("/api/v1/clients/1").json()["client"]
    assert client["clientnr"] == "1"
    assert client["email"] == "piet@example.nl"
    assert client["country"] == "146"
    assert client["showcontact"] == "true"
    assert client["tax_type"] == "extax"
    assert client["reference"] == {"line1": "Webwinkel", "line2": "", "line3": ""}


def test_create_client_json_body_is_accepted(http: httpx.Client) -> None:
    # given
    body = {
        "company": "Bakkerij Bol",
        "email": "info@bol.example",
        "country": "Duitsland",
        "showcontact": False,
    }
    # when
    response = http.post("/api/v1/clients", json=body)
    # then
    assert response.status_code == 201
    client = http.get(f"/api/v1/clients/{response.text}").json()["client"]
    assert client["country"] == "50"
    assert client["showcontact"] == "false"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"contact": "X", "email": "geen-adres"}, "Invalid e-mail address"),
        ({"contact": "X", "country": "DE"}, "Unknown country"),
        ({"email": "a@b.nl"}, "contact or a company"),
        ({"contact": "X", "tax_type": "inclusive"}, "tax_type"),
    ],
)
def test_create_client_invalid_fields_answers_400(
    sim: FactuursturenSimulator, http: httpx.Client, form: dict[str, str], message: str
) -> None:
    # when
    response = http.post("/api/v1/clients", data=form)
    # then
    assert response.status_code == 400
    assert message in response.text
    assert sim.clients == {}


def test_get_client_unknown_number_answers_404(http: httpx.Client) -> None:
    # when
    response = http.get("/api/v1/clients/999")
    # then
    assert response.status_code == 404


def test_search_clients_by_email_finds_the_debtor(sim: FactuursturenSimulator, http: httpx.Client) -> None:
    # given
    numbers = sim.seed_clients(8, seed=7)
    wanted = sim.clients[numbers[3]]
    # when
    response = http.get(f"/api/v1/search/clients/email/{wanted['email'].upper()}")
    # then
    assert response.status_code == 200
    found = response.json()
    assert [c["clientnr"] for c in found] == [wanted["clientnr"]]


def test_search_clients_unknown_email_answers_empty_list(
    sim: FactuursturenSimulator, http: httpx.Client
) -> None:
    # given
    sim.seed_clients(3)
    # when
    response = http.get("/api/v1/search/clients/email/nobody@example.nl")
    # then
    assert response.status_code == 200
    assert response.json() == []


def test_seed_clients_is_deterministic_per_seed() -> None:
    # given
    first, second = FactuursturenSimulator(), FactuursturenSimulator()
    # when
    first.seed_clients(5, seed=42)
    second.seed_clients(5, seed=42)
    # then
    assert [c["email"] for c in first.clients.values()] == [c["email"] for c in second.clients.values()]
    assert all(c["country"] == "146" for c in first.clients.values())


# -- invoices: create and read ---------------------------------------------------------------------


def test_create_invoice_form_flattened_keys_returns_201_and_id(http: httpx.Client, debtor: int) -> None:
    # when
    response = http.post("/api/v1/invoices", data=invoice_form(debtor))
    # then
    assert response.status_code == 201
    assert response.text == "20260001"
    assert response.headers["X-RateLimit-Remaining"] == "59"


def test_get_invoice_has_the_documented_shape(http: httpx.Client, debtor: int) -> None:
    # given
    number = http.post("/api/v1/invoices", data=invoice_form(debtor)).text
    # when
    raw = http.get(f"/api/v1/invoices/{number}")
    invoice = raw.json()["invoice"]
    # then
    assert invoice["id"] == invoice["invoicenr"] == invoice["invoicenr_full"] == "20260001"
    assert invoice["lines"] == {
        "line1": {
            "amount": 4,
            "amount_desc": "",
            "description": "Appels",
            "tax_rate": 21,
            "price": 13,
            "discount_pct": 0,
            "linetotal": 52,
        }
    }
    assert invoice["taxes"] == {"tax1": {"rate": 21, "sum": "10.92", "sum_of": "52.00"}}
    assert (invoice["tax"], invoice["totalintax"], invoice["open"]) == ("10.92", "62.92", "62.92")
    assert invoice["reference"] == {"line1": "Bestelling WA1001", "line2": "", "line3": ""}
    assert (invoice["sent"], invoice["duedate"], invoice["paiddate"]) == ("2026-01-01", "2026-01-31", "")
    assert invoice["clientnr"] == str(debtor)
    assert invoice["email"] == "jan@example.nl"
    assert invoice["history"]["item1"]["date"] == "2026-01-01"
    assert '"https:\\/\\/www.factuursturen.nl\\/pay?' in raw.text  # PHP json_encode escapes slashes


@pytest.mark.parametrize("keyed", [False, True], ids=["array", "line-keys"])
def test_create_invoice_json_body_books_same_totals(http: httpx.Client, debtor: int, keyed: bool) -> None:
    # given
    lines = [
        {"amount": 2, "description": "Koffie", "tax_rate": 9, "price": Decimal("8.95")},
        {"amount": 1, "description": "Mok", "tax_rate": 21, "price": "12.95"},
    ]
    body = {
        "clientnr": debtor,
        "action": "send",
        "sendmethod": "mail",
        "reference": {"line1": "Bestelling WA2002"},
        "lines": {f"line{n}": line for n, line in enumerate(lines, start=1)} if keyed else lines,
    }
    # when
    response = http.post(
        "/api/v1/invoices",
        content=json.dumps(body, default=str),
        headers={"Content-Type": "application/json"},
    )
    # then
    assert response.status_code == 201
    invoice = get_invoice(http, response.text)
    assert invoice["taxes"]["tax1"] == {"rate": 9, "sum": "1.61", "sum_of": "17.90"}
    assert invoice["taxes"]["tax2"] == {"rate": 21, "sum": "2.72", "sum_of": "12.95"}
    assert Decimal(invoice["totalintax"]) == Decimal("35.18")


def test_create_invoice_multipart_body_is_accepted(http: httpx.Client, debtor: int) -> None:
    # given
    fields = {key: (None, value) for key, value in invoice_form(debtor).items()}
    # when
    response = http.post("/api/v1/invoices", files=fields)
    # then
    assert response.status_code == 201
    assert get_invoice(http, response.text)["totalintax"] == "62.92"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lines[0][tax_rate]": "19"}, "Tax rate 19 is not set in this account"),
        ({"lines[0][price]": "12,50"}, "dot as decimal separator"),
        ({"lines[0][amount]": ""}, "missing required field amount"),
        ({"clientnr": ""}, "Missing required field: clientnr"),
        ({"clientnr": "424242"}, "does not exist"),
        ({"action": ""}, "action"),
        ({"sendmethod": ""}, "sendmethod"),
        ({"action": "save"}, "savename"),
        ({"alreadypaid": "alles"}, "alreadypaid"),
        ({"alreadypaidmethod": "x" * 33}, "32 characters"),
    ],
)
def test_create_invoice_invalid_answers_400(
    sim: FactuursturenSimulator, http: httpx.Client, debtor: int, change: dict[str, str], message: str
) -> None:
    # given
    form = {**invoice_form(debtor), **change}
    # when
    response = http.post("/api/v1/invoices", data=form)
    # then
    assert response.status_code == 400
    assert message in response.text
    assert sim.invoices == {}


def test_create_invoice_without_lines_answers_400(http: httpx.Client, debtor: int) -> None:
    # given
    form = {"clientnr": str(debtor), "action": "send", "sendmethod": "mail"}
    # when
    response = http.post("/api/v1/invoices", data=form)
    # then
    assert response.status_code == 400
    assert "at least one line" in response.text


def test_create_invoice_email_to_debtor_without_address_answers_400(
    sim: FactuursturenSimulator, http: httpx.Client
) -> None:
    # given
    nr = sim.add_client(company="Zonder Mail BV")
    # when
    response = http.post("/api/v1/invoices", data=invoice_form(nr, sendmethod="email"))
    # then
    assert response.status_code == 400
    assert "no e-mail address" in response.text


def test_create_invoice_bad_json_answers_400(http: httpx.Client) -> None:
    # when
    response = http.post(
        "/api/v1/invoices", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    # then
    assert response.status_code == 400
    assert "invalid JSON" in response.text


def test_create_invoice_own_number_duplicate_refused(
    sim: FactuursturenSimulator, http: httpx.Client, debtor: int
) -> None:
    # given
    assert http.post("/api/v1/invoices", data=invoice_form(debtor, invoicenr="1001")).status_code == 201
    # when
    response = http.post("/api/v1/invoices", data=invoice_form(debtor, invoicenr="1001"))
    # then
    assert response.status_code == 400
    assert len(sim.invoices) == 1
    assert get_invoice(http, "1001")["invoicenr"] == "1001"


def test_saved_invoice_is_not_listed_with_sent_invoices(http: httpx.Client, debtor: int) -> None:
    # given
    form = invoice_form(debtor, action="save", savename="concept 1")
    # when
    saved = http.post("/api/v1/invoices", data=form)
    # then
    assert saved.status_code == 201
    assert http.get("/api/v1/invoices").json() == []
    assert [i["name"] for i in http.get("/api/v1/invoices_saved").json()] == ["concept 1"]


def test_get_invoice_by_prefixed_invoicenr(clock: FakeClock) -> None:
    # given
    sim = FactuursturenSimulator(clock=clock, invoice_prefix="F")
    http = client_for(sim)
    nr = sim.add_client(contact="Jan")
    number = http.post("/api/v1/invoices", data=invoice_form(nr)).text
    # when
    by_number = get_invoice(http, "F20260001")
    # then
    assert number == "20260001"
    assert by_number["id"] == "20260001"
    assert by_number["invoicenr"] == "F20260001"
    assert http.get("/api/v1/invoices/F999").status_code == 404


def test_get_invoice_pdf_returns_pdf_bytes(http: httpx.Client, debtor: int) -> None:
    # given
    number = http.post("/api/v1/invoices", data=invoice_form(debtor)).text
    # when
    response = http.get(f"/api/v1/invoices_pdf/{number}")
    # then
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


# -- paid status -----------------------------------------------------------------------------------


def test_create_invoice_alreadypaid_full_books_it_paid(http: httpx.Client, debtor: int) -> None:
    # given
    form = invoice_form(debtor, alreadypaid="full", alreadypaidmethod="iDEAL")
    # when
    number = http.post("/api/v1/invoices", data=form).text
    # then
    invoice = get_invoice(http, number)
    assert (invoice["open"], invoice["paiddate"]) == ("0.00", "2026-01-01")
    assert [i["id"] for i in http.get("/api/v1/invoices", params={"filter": "paid"}).json()] == [number]
    assert http.get("/api/v1/invoices", params={"filter": "open"}).json() == []


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_invoices_payment_full_marks_invoice_paid(http: httpx.Client, debtor: int, method: str) -> None:
    # given
    number = http.post("/api/v1/invoices", data=invoice_form(debtor)).text
    # when
    response = http.request(
        method,
        f"/api/v1/invoices_payment/{number}",
        data={"date": "2026-01-02", "amount": "full", "method": "Bank"},
    )
    # then
    assert response.status_code == 201
    invoice = get_invoice(http, number)
    assert (invoice["open"], invoice["paiddate"]) == ("0.00", "2026-01-02")


def test_invoices_payment_partial_then_too_much(http: httpx.Client, debtor: int) -> None:
    # given
    number = http.post("/api/v1/invoices", data=invoice_form(debtor)).text
    # when
    http.post(f"/api/v1/invoices_payment/{number}", json={"date": "2026-01-02", "amount": "20.00"})
    partly = http.get("/api/v1/invoices", params={"filter": "partly"}).json()
    http.post(f"/api/v1/invoices_payment/{number}", json={"date": "2026-01-03", "amount": "50.00"})
    # then
    assert [i["open"] for i in partly] == ["42.92"]
    assert [i["open"] for i in http.get("/api/v1/invoices", params={"filter": "toomuch"}).json()] == ["-7.08"]


def test_invoices_payment_invalid_date_answers_400(http: httpx.Client, debtor: int) -> None:
    # given
    number = http.post("/api/v1/invoices", data=invoice_form(debtor)).text
    # when
    response = http.post(f"/api/v1/invoices_payment/{number}", data={"date": "02-01-2026", "amount": "full"})
    # then
    assert response.status_code == 400
    assert get_invoice(http, number)["open"] == "62.92"


# -- lists, paging, search -------------------------------------------------------------------------


def test_list_invoices_pages_with_start_and_count(http: httpx.Client, debtor: int) -> None:
    # given
    for n in range(5):
        http.post("/api/v1/invoices", data=invoice_form(debtor, reference=f"Bestelling WA{n}"))
    # when
    first = http.get("/api/v1/invoices", params={"start": 0, "count": 2}).json()
    last = http.get("/api/v1/invoices", params={"start": 4, "count": 2}).json()
    beyond = http.get("/api/v1/invoices", params={"start": 5, "count": 2}).json()
    everything = http.get("/api/v1/invoices", params={"count": -1}).json()
    # then
    assert [i["id"] for i in first] == ["20260001", "20260002"]
    assert [i["id"] for i in last] == ["20260005"]
    assert beyond == []
    assert len(everything) == 5


def test_list_invoices_filters_on_since_and_clientnr(
    sim: FactuursturenSimulator, http: httpx.Client, debtor: int
) -> None:
    # given
    other = sim.add_client(contact="Ander")
    http.post("/api/v1/invoices", data=invoice_form(debtor, sent="2025-12-30"))
    http.post("/api/v1/invoices", data=invoice_form(other))
    # when
    since = http.get("/api/v1/invoices", params={"since": "2026-01-01"}).json()
    mine = http.get("/api/v1/invoices", params={"clientnr": str(debtor)}).json()
    # then
    assert [i["clientnr"] for i in since] == [str(other)]
    assert [i["sent"] for i in mine] == ["2025-12-30"]


def test_list_invoices_unknown_filter_answers_400(http: httpx.Client) -> None:
    # when
    response = http.get("/api/v1/invoices", params={"filter": "betaald"})
    # then
    assert response.status_code == 400


def test_search_invoices_by_order_reference(
    sim: FactuursturenSimulator, http: httpx.Client, debtor: int
) -> None:
    # given
    for order in ("WA1001", "WA1002", "WA10021"):
        http.post("/api/v1/invoices", data=invoice_form(debtor, reference=f"Bestelling {order}"))
    # when
    found = http.get("/api/v1/search/invoices/all/WA1002").json()
    by_field = http.get("/api/v1/search/invoices/reference/WA1001").json()
    # then
    assert sorted(i["reference"]["line1"] for i in found) == ["Bestelling WA1002", "Bestelling WA10021"]
    assert [i["reference"]["line1"] for i in by_field] == ["Bestelling WA1001"]
    assert sim.invoice_by_reference("Bestelling WA1001").id == 20260001
    assert sim.invoice_by_reference("WA9999") is None
    with pytest.raises(ValueError, match="2 invoices"):
        sim.invoice_by_reference("WA1002")


def test_search_invoices_does_not_look_in_line_descriptions(http: httpx.Client, debtor: int) -> None:
    # given
    http.post("/api/v1/invoices", data=invoice_form(debtor, reference=""))
    # when
    found = http.get("/api/v1/search/invoices/all/Appels").json()
    # then
    assert found == []


def test_search_unknown_area_answers_404(http: httpx.Client) -> None:
    # when
    response = http.get("/api/v1/search/orders/all/x")
    # then
    assert response.status_code == 404


# -- rate limit ------------------------------------------------------------------------------------


def test_rate_limit_refuses_61st_invoice_in_the_same_hour(
    sim: FactuursturenSimulator, http: httpx.Client, clock: FakeClock, debtor: int
) -> None:
    # given
    for n in range(60):
        assert http.post("/api/v1/invoices", data=invoice_form(debtor, reference=f"R{n}")).status_code == 201
        clock.advance(10)
    # when
    refused = http.post("/api/v1/invoices", data=invoice_form(debtor, reference="R60"))
    # then
    assert refused.status_code == 403
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert "Retry-After" not in refused.headers
    assert "API limit reached" in refused.text
    assert sim.rate_limited_count == 1
    assert len(sim.invoices) == 60
    assert sim.invoice_by_reference("R60") is None
    assert http.get("/api/v1/invoices/20260001").status_code == 200  # reads still allowed


def test_rate_limit_allows_invoices_again_in_the_next_clock_hour(
    sim: FactuursturenSimulator, http: httpx.Client, clock: FakeClock, debtor: int
) -> None:
    # given
    clock.now = NOON + 59 * 60  # 12:59 UTC
    for n in range(60):
        http.post("/api/v1/invoices", data=invoice_form(debtor, reference=f"R{n}"))
    assert http.post("/api/v1/invoices", data=invoice_form(debtor)).status_code == 403
    # when
    clock.now = NOON + HOUR  # 13:00 UTC: a new clock hour
    response = http.post("/api/v1/invoices", data=invoice_form(debtor, reference="R60"))
    # then
    assert response.status_code == 201
    assert response.headers["X-RateLimit-Remaining"] == "59"
    assert sim.rate_limited_count == 1


def test_rate_limit_rolling_window_waits_a_full_hour(clock: FakeClock) -> None:
    # given
    sim = FactuursturenSimulator(
        clock=clock, window="rolling", invoice_limit_per_hour=3, send_retry_after=True
    )
    http = client_for(sim)
    nr = sim.add_client(contact="Jan")
    for _ in range(3):
        http.post("/api/v1/invoices", data=invoice_form(nr))
    # when
    clock.advance(HOUR - 1)
    still_refused = http.post("/api/v1/invoices", data=invoice_form(nr))
    clock.advance(2)
    allowed = http.post("/api/v1/invoices", data=invoice_form(nr))
    # then
    assert still_refused.status_code == 403
    assert still_refused.headers["Retry-After"] == "1"
    assert allowed.status_code == 201
    assert sim.rate_limited_count == 1


def test_rate_limit_on_all_requests_when_configured(clock: FakeClock) -> None:
    # given
    sim = FactuursturenSimulator(clock=clock, request_limit_per_hour=2)
    http = client_for(sim)
    # when
    answers = [http.get("/api/v1/taxes") for _ in range(3)]
    # then
    assert [a.status_code for a in answers] == [200, 200, 403]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert sim.rate_limited_count == 1


# -- writes log ------------------------------------------------------------------------------------


def test_writes_log_records_every_mutation_and_no_debtor_change(
    sim: FactuursturenSimulator, http: httpx.Client, debtor: int
) -> None:
    # given
    new = http.post("/api/v1/clients", data={"contact": "Nieuw", "email": "nieuw@example.nl"}).text
    number = http.post("/api/v1/invoices", data=invoice_form(int(new))).text
    http.post(f"/api/v1/invoices_payment/{number}", data={"date": "2026-01-01", "amount": "full"})
    http.post("/api/v1/invoices", data=invoice_form(debtor, **{"lines[0][tax_rate]": "7"}))
    # when
    log = [(w.method, w.resource, w.id, w.status) for w in sim.writes]
    # then
    assert log == [
        ("POST", "clients", new, 201),
        ("POST", "invoices", number, 201),
        ("POST", "invoices_payment", number, 201),
        ("POST", "invoices", "", 400),
    ]
    assert sim.client_writes() == []


def test_writes_log_catches_a_debtor_update(
    sim: FactuursturenSimulator, http: httpx.Client, debtor: int
) -> None:
    # when
    http.put(f"/api/v1/clients/{debtor}", data={"city": "Amersfoort"})
    # then
    assert [(w.method, w.path) for w in sim.client_writes()] == [("PUT", f"/api/v1/clients/{debtor}")]
    assert sim.clients[debtor]["city"] == "Amersfoort"


# -- fault injection -------------------------------------------------------------------------------


def test_fail_next_answers_without_processing(
    sim: FactuursturenSimulator, http: httpx.Client, debtor: int
) -> None:
    # given
    sim.fail_next(503, times=2, retry_after=30)
    # when
    answers = [http.post("/api/v1/invoices", data=invoice_form(debtor)) for _ in range(3)]
    # then
    assert [a.status_code for a in answers] == [503, 503, 201]
    assert answers[0].headers["Retry-After"] == "30"
    assert answers[0].headers["Content-Type"].startswith("text/html")
    assert len(sim.invoices) == 1


def test_accept_then_fail_next_books_but_answers_502(
    sim: FactuursturenSimulator, http: httpx.Client, debtor: int
) -> None:
    # given
    sim.accept_then_fail_next(502)
    # when
    response = http.post("/api/v1/invoices", data=invoice_form(debtor, reference="Bestelling WA7"))
    # then
    assert response.status_code == 502
    assert sim.invoice_by_reference("Bestelling WA7") is not None
    assert http.get("/api/v1/search/invoices/all/WA7").json()[0]["id"] == "20260001"


@pytest.mark.parametrize("kind", ["html", "truncated", "empty", "list"])
def test_malform_next_processes_then_spoils_the_answer(
    sim: FactuursturenSimulator, http: httpx.Client, debtor: int, kind: str
) -> None:
    # given
    number = http.post("/api/v1/invoices", data=invoice_form(debtor)).text
    sim.malform_next(kind)
    # when
    response = http.get(f"/api/v1/invoices/{number}")
    # then
    assert response.status_code == 200
    if kind == "list":
        assert response.json() == []
    else:
        with pytest.raises(ValueError):
            response.json()["invoice"]
    assert get_invoice(http, number)["id"] == number  # the next answer is sound again


def test_malform_next_unknown_kind_is_refused(sim: FactuursturenSimulator) -> None:
    # when / then
    with pytest.raises(ValueError, match="unknown malformation"):
        sim.malform_next("garbage")


def test_echo_secret_in_errors_puts_credentials_in_error_bodies(
    sim: FactuursturenSimulator, http: httpx.Client
) -> None:
    # given
    quiet = http.get("/api/v1/clients/77").text
    sim.echo_secret_in_errors = True
    # when
    loud = http.get("/api/v1/clients/77").text
    # then
    assert sim.api_key not in quiet
    assert sim.api_key in loud
    assert sim.username in loud


def test_latency_is_added_to_each_request(sim: FactuursturenSimulator, http: httpx.Client) -> None:
    # given
    import time

    sim.latency = 0.02
    # when
    started = time.perf_counter()
    http.get("/api/v1/taxes")
    elapsed = time.perf_counter() - started
    # then
    assert elapsed >= 0.02


def test_wsgi_is_thread_safe_under_concurrent_creates(sim: FactuursturenSimulator, debtor: int) -> None:
    # given
    sim.invoice_limit_per_hour = 1000

    def create(n: int) -> str:
        with client_for(sim) as http:
            return http.post("/api/v1/invoices", data=invoice_form(debtor, reference=f"T{n}")).text

    # when
    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(create, range(80)))
    # then
    assert len(set(numbers)) == 80
    assert len(sim.invoices) == 80


# -- totals ----------------------------------------------------------------------------------------


def test_totals_round_vat_once_per_rate_not_per_line(http: httpx.Client, debtor: int) -> None:
    # given
    form = {"clientnr": str(debtor), "action": "send", "sendmethod": "mail"}
    for n in range(3):
        form.update({f"lines[{n}][amount]": "1", f"lines[{n}][price]": "0.99", f"lines[{n}][tax_rate]": "21"})
    # when
    invoice = get_invoice(http, http.post("/api/v1/invoices", data=form).text)
    # then
    assert invoice["taxes"] == {"tax1": {"rate": 21, "sum": "0.62", "sum_of": "2.97"}}  # per line: 3 x 0.21
    assert invoice["totalintax"] == "3.59"


def test_totals_for_intax_debtor_take_prices_incl_vat(
    sim: FactuursturenSimulator, http: httpx.Client
) -> None:
    # given
    nr = sim.add_client(contact="Incl", tax_type="intax")
    form = invoice_form(nr, **{"lines[0][amount]": "1", "lines[0][price]": "12.10"})
    # when
    invoice = get_invoice(http, http.post("/api/v1/invoices", data=form).text)
    # then
    assert invoice["tax_type"] == "intax"
    assert (invoice["tax"], invoice["totalintax"]) == ("2.10", "12.10")
    assert invoice["taxes"]["tax1"]["sum_of"] == "10.00"


def test_totals_apply_debtor_standard_discount_unless_overridden(
    sim: FactuursturenSimulator, http: httpx.Client
) -> None:
    # given
    nr = sim.add_client(contact="Korting", stddiscount="10")
    # when
    implicit = get_invoice(http, http.post("/api/v1/invoices", data=invoice_form(nr)).text)
    explicit = get_invoice(
        http,
        http.post("/api/v1/invoices", data=invoice_form(nr, discounttype="percentage", discount="0")).text,
    )
    # then
    assert (implicit["discount"], implicit["totalintax"]) == ("10", "56.63")
    assert (explicit["discount"], explicit["totalintax"]) == ("0", "62.92")


def test_factuursturen_totals_groups_rates_and_line_discounts() -> None:
    # given
    lines = [
        InvoiceLine(Decimal(3), Decimal("19.95"), Decimal(21), discount_pct=Decimal(10)),
        InvoiceLine(Decimal(1), Decimal("4.95"), Decimal(0)),
        InvoiceLine(Decimal(2), Decimal("3.49"), Decimal(9)),
    ]
    # when
    totals = factuursturen_totals(lines)
    # then
    assert totals.linetotals == [Decimal("53.87"), Decimal("4.95"), Decimal("6.98")]
    assert [(g.rate, g.sum, g.sum_of) for g in totals.groups] == [
        (Decimal(21), Decimal("11.31"), Decimal("53.87")),
        (Decimal(0), Decimal("0.00"), Decimal("4.95")),
        (Decimal(9), Decimal("0.63"), Decimal("6.98")),
    ]
    assert (totals.total_ex, totals.tax, totals.total_inc) == (
        Decimal("65.80"),
        Decimal("11.94"),
        Decimal("77.74"),
    )


# -- reference data --------------------------------------------------------------------------------


def test_taxes_lists_the_dutch_rates_as_strings(http: httpx.Client) -> None:
    # when
    taxes = http.get("/api/v1/taxes").json()
    # then
    assert [(t["percentage"], t["type"]) for t in taxes] == [("21", "H"), ("9", "L"), ("0", "Z"), ("0", "N")]
    assert taxes[0]["default"] == "true"


def test_countrylist_profiles_categories_have_their_shapes(http: httpx.Client) -> None:
    # when
    countries = http.get("/api/v1/countrylist/en").json()
    profiles = http.get("/api/v1/profiles").json()
    categories = http.get("/api/v1/categories").json()
    # then
    assert {"id": "146", "name": "Netherlands"} in countries
    assert {"id": "146", "name": "Nederland"} in http.get("/api/v1/countrylist").json()
    assert profiles[0]["id"] == "1"
    assert set(categories[0]) == {"id", "name", "ledger"}


def test_create_product_computes_priceintax(http: httpx.Client) -> None:
    # given
    form = {"code": "Soundboard-50S", "name": "Flash Soundboard 50 Samples", "price": "39.95", "taxes": "21"}
    # when
    created = http.post("/api/v1/products/", data=form)
    # then
    assert (created.status_code, created.text) == (201, "1")
    product = http.get("/api/v1/products/1").json()["product"]
    assert (product["price"], product["priceintax"]) == ("39.95", "48.34")
    assert http.post("/api/v1/products", data={**form, "taxes": "19"}).status_code == 400


def test_unknown_path_answers_404(http: httpx.Client) -> None:
    # when
    response = http.get("/api/v2/clients")
    # then
    assert response.status_code == 404
