"""The Asperion simulator: the daily-file drop, the import it triggers, and the REST read side."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from koppeling.connectors.asperion.batch_format import write_orders_xml
from koppeling.connectors.asperion.importer import CONCEPT
from koppeling.connectors.asperion.simulator import AsperionSimulator

from .factory import LICENCE, batch, line, order

BASE = "https://asperion.sim"
T0 = 1_736_000_000.0  # 2025-01-04T14:13:20Z


@pytest.fixture
def sim() -> AsperionSimulator:
    return AsperionSimulator(clock=lambda: T0)


def http(sim: AsperionSimulator) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi), base_url=BASE)


def put(sim: AsperionSimulator, data: bytes, name: str = "koppeling-20250103.xml", licence: str = LICENCE):
    return http(sim).put(
        f"/import/orders/{licence}/{name}", content=data, headers={"Content-Type": "application/xml"}
    )


def token(sim: AsperionSimulator) -> str:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": sim.refresh_token,
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
    }
    return http(sim).post("/connect/token", data=form).json()["access_token"]


def api(sim: AsperionSimulator, path: str, **params) -> httpx.Response:
    return http(sim).get(path, params=params, headers={"Authorization": f"Bearer {token(sim)}"})


# -- the drop ----------------------------------------------------------------------------------------


def test_put_file_is_received_not_yet_imported(sim: AsperionSimulator) -> None:
    # given today's file with two orders
    data = write_orders_xml(batch(order(), order("ORD00002", invoice="INV00002")))
    # when
    response = put(sim, data)
    # then
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["orders"], body["uploads"], body["report"]) == ("received", 2, 1, None)
    assert sim.administration().invoices == {}


def test_put_same_bytes_again_changes_nothing(sim: AsperionSimulator) -> None:
    # given a file delivered and imported
    data = write_orders_xml(batch())
    put(sim, data)
    sim.synchronise()
    # when the link, unsure after a crash, delivers it again
    again = put(sim, data)
    sim.synchronise()
    # then
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["status"] == "imported"
    assert len(sim.administration().invoices) == 1


def test_put_changed_file_before_import_replaces_it(sim: AsperionSimulator) -> None:
    # given a file received but not imported
    put(sim, write_orders_xml(batch()))
    # when a corrected file with the same name arrives
    response = put(sim, write_orders_xml(batch(order(), order("ORD00002", invoice="INV00002"))))
    sim.synchronise()
    # then
    assert response.status_code == 200
    assert response.json()["replaced"] is True
    assert sorted(sim.administration().imported_orders) == ["ORD00001", "ORD00002"]


def test_put_changed_file_after_import_is_refused(sim: AsperionSimulator) -> None:
    # given an imported file
    put(sim, write_orders_xml(batch()))
    sim.synchronise()
    # when other bytes arrive under its name
    response = put(sim, write_orders_xml(batch(order("ORD00009", invoice="INV00009"))))
    # then
    assert response.status_code == 409
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["title"] == "Conflict"


def test_put_invalid_file_answers_422_with_location(sim: AsperionSimulator) -> None:
    # given a file whose first line amount has three decimals
    data = write_orders_xml(batch()).replace(b"<AmountExclVat>32.98<", b"<AmountExclVat>32.985<", 1)
    # when
    response = put(sim, data)
    # then
    assert response.status_code == 422
    body = response.json()
    assert list(body["errors"]) == ["/Asperion/Orders/Order/Orderlines/Orderline[1]/AmountExclVat"]
    assert body["line"] > 1
    assert sim.files == {}


@pytest.mark.parametrize("name", ["..%2Fetc%2Fpasswd.xml", "daily.txt", ".hidden.xml", "a%20b.xml"])
def test_put_bad_file_name_answers_400(sim: AsperionSimulator, name: str) -> None:
    # given
    # when
    response = http(sim).put(f"/import/orders/{LICENCE}/{name}", content=write_orders_xml(batch()))
    # then
    assert response.status_code in (400, 404)
    assert sim.files == {}


def test_put_unknown_licence_is_accepted_but_never_imported(sim: AsperionSimulator) -> None:
    # given a mistyped licence code (the link cannot check it)
    data = write_orders_xml(batch(licence="SIM-LIC-0001-ASPERlON"))
    # when
    response = put(sim, data, licence="SIM-LIC-0001-ASPERlON")
    reports = sim.synchronise()
    # then the upload looks fine, but nothing reaches the administration
    assert response.status_code == 201
    assert reports == []
    assert [f.name for f in sim.unclaimed_files()] == ["koppeling-20250103.xml"]
    assert sim.administration().invoices == {}


def test_get_file_and_listing_show_status_and_report(sim: AsperionSimulator) -> None:
    # given an imported file
    put(sim, write_orders_xml(batch()))
    sim.synchronise()
    client = http(sim)
    # when
    one = client.get(f"/import/orders/{LICENCE}/koppeling-20250103.xml").json()
    listing = client.get(f"/import/orders/{LICENCE}").json()
    missing = client.get(f"/import/orders/{LICENCE}/koppeling-20250104.xml")
    # then
    assert one["status"] == "imported"
    assert one["report"] == {"imported": ["ORD00001"], "skipped": [], "errors": []}
    assert one["importedAt"] == "2025-01-04T14:13:20+00:00"
    assert [f["file"] for f in listing["_data"]] == ["koppeling-20250103.xml"]
    assert missing.status_code == 404


# -- the import --------------------------------------------------------------------------------------


def test_synchronise_makes_concept_invoices_and_new_debtors(sim: AsperionSimulator) -> None:
    # given a delivered file
    put(sim, write_orders_xml(batch()))
    # when the merchant presses "Synchroniseren"
    [report] = sim.synchronise()
    # then
    admin = sim.administration()
    [invoice] = admin.invoices.values()
    assert report.imported == ["ORD00001"]
    assert invoice.status == CONCEPT
    assert invoice.invoice_number is None
    assert invoice.description == "Bestelling ORD00001 factuur INV00001"
    assert str(invoice.amount_incl) == "44.85"
    assert [line["ledgerAccountId"] for line in invoice.lines] == [8000, 8000]
    [debtor] = admin.debtors.values()
    assert (debtor.email_address, debtor.name, debtor.address) == (
        "jan.devries@example.nl",
        "Jan de Vries",
        "Dorpsstraat 12 bis",
    )


def test_synchronise_matches_debtors_on_email_ignoring_case(sim: AsperionSimulator) -> None:
    # given two orders by the same customer, e-mail typed differently, and one by another
    orders = (
        order(),
        order("ORD00002", invoice="INV00002", email="Jan.DeVries@Example.nl", name="J. de Vries"),
        order("ORD00003", invoice="INV00003", email="els@example.nl", name="Els Bakker"),
    )
    put(sim, write_orders_xml(batch(*orders)))
    # when
    sim.synchronise()
    # then the known debtor is reused, not changed; the unknown one is created
    admin = sim.administration()
    debtors = sorted(admin.debtors.values(), key=lambda d: d.customer_number)
    assert [d.name for d in debtors] == ["Jan de Vries", "Els Bakker"]
    numbers = [i.debtor.customer_number for i in admin.invoices.values()]
    assert numbers[0] == numbers[1] != numbers[2]


def test_synchronise_skips_an_order_already_imported(sim: AsperionSimulator) -> None:
    # given yesterday's order delivered again inside today's file
    put(sim, write_orders_xml(batch()), name="koppeling-20250102.xml")
    sim.synchronise()
    put(sim, write_orders_xml(batch(order(), order("ORD00002", invoice="INV00002"))))
    # when
    [report] = sim.synchronise()
    # then
    assert report.imported == ["ORD00002"]
    assert report.skipped == [("ORD00001", "already imported")]
    assert len(sim.administration().invoices) == 2


def test_synchronise_unknown_payment_code_fails_that_order_only(sim: AsperionSimulator) -> None:
    # given one order with a payment code the administration does not know
    put(sim, write_orders_xml(batch(order(payment="BITCOIN"), order("ORD00002", invoice="INV00002"))))
    # when
    [report] = sim.synchronise()
    # then
    assert report.errors == [("ORD00001", "unknown payment code 'BITCOIN'")]
    assert report.imported == ["ORD00002"]


def test_synchronise_books_lines_on_the_sales_type_of_their_vat_class(sim: AsperionSimulator) -> None:
    # given 21%, 9% and 0% lines
    lines = (line("12.10"), line("10.90", rate="9", text="Koffie"), line("5.00", rate="0", text="Cadeaubon"))
    put(sim, write_orders_xml(batch(order(lines=lines))))
    # when
    sim.synchronise()
    # then
    [invoice] = sim.administration().invoices.values()
    assert [(x["vatCode"], x["ledgerAccountId"]) for x in invoice.lines] == [
        ("VH", 8000),
        ("VL", 8010),
        ("V0", 8020),
    ]


def test_auto_import_imports_at_delivery(sim: AsperionSimulator) -> None:
    # given
    sim.auto_import = True
    # when
    response = put(sim, write_orders_xml(batch()))
    # then
    assert response.json()["status"] == "imported"
    assert len(sim.administration().invoices) == 1


def test_validate_on_upload_off_fails_at_import_time(sim: AsperionSimulator) -> None:
    # given a simulator that, like a plain drop box, takes any bytes
    sim.validate_on_upload = False
    put(sim, b"<Asperion><Orders/></Asperion>")
    # when
    [report] = sim.synchronise()
    # then
    assert sim.files[(LICENCE, "koppeling-20250103.xml")].status == "failed"
    assert report.errors and report.imported == []


# -- faults ------------------------------------------------------------------------------------------


def test_fail_next_receives_nothing(sim: AsperionSimulator) -> None:
    # given a load balancer answering 503 once
    sim.fail_next(503, retry_after=30)
    # when
    first = put(sim, write_orders_xml(batch()))
    second = put(sim, write_orders_xml(batch()))
    # then
    assert first.status_code == 503
    assert first.headers["Retry-After"] == "30"
    assert second.status_code == 201


def test_accept_then_fail_next_then_redelivery_is_a_duplicate(sim: AsperionSimulator) -> None:
    # given the file arrives but the answer is lost
    sim.accept_then_fail_next(502)
    data = write_orders_xml(batch())
    lost = put(sim, data)
    # when the link looks the file up, then delivers again
    status = http(sim).get(f"/import/orders/{LICENCE}/koppeling-20250103.xml")
    again = put(sim, data)
    # then
    assert lost.status_code == 502
    assert status.json()["status"] == "received"
    assert again.json()["duplicate"] is True
    assert again.json()["uploads"] == 2


def test_malform_next_html_after_doing_the_work(sim: AsperionSimulator) -> None:
    # given
    sim.malform_next("html")
    # when
    response = put(sim, write_orders_xml(batch()))
    # then
    assert response.status_code == 201
    assert response.text.startswith("<html>")
    assert (LICENCE, "koppeling-20250103.xml") in sim.files


# -- REST (read side) --------------------------------------------------------------------------------


def test_rest_requires_a_bearer_token(sim: AsperionSimulator) -> None:
    # given no token
    # when
    response = http(sim).get("/v1/salesinvoiceswithlines")
    # then
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert set(response.json()) >= {"title", "status", "detail", "traceId"}


def test_token_refuses_wrong_client_and_grant(sim: AsperionSimulator) -> None:
    # given
    client = http(sim)
    base = {"client_id": sim.client_id, "client_secret": sim.client_secret}
    # when
    wrong_client = client.post(
        "/connect/token", data=base | {"client_secret": "x", "grant_type": "refresh_token"}
    )
    wrong_grant = client.post(
        "/connect/token", data=base | {"grant_type": "refresh_token", "refresh_token": "old"}
    )
    # then
    assert (wrong_client.status_code, wrong_client.json()["error"]) == (400, "invalid_client")
    assert (wrong_grant.status_code, wrong_grant.json()["error"]) == (400, "invalid_grant")


def test_token_authorization_code_is_single_use(sim: AsperionSimulator) -> None:
    # given a code from the authorize step
    code = sim.authorization_code()
    form = {"grant_type": "authorization_code", "code": code, "client_id": sim.client_id}
    form["client_secret"] = sim.client_secret
    client = http(sim)
    # when
    first = client.post("/connect/token", data=form)
    second = client.post("/connect/token", data=form)
    # then
    assert first.json()["token_type"] == "Bearer"
    assert first.json()["expires_in"] == 3600
    assert second.status_code == 400


def test_rest_reads_back_concept_invoices_by_order_number(sim: AsperionSimulator) -> None:
    # given two imported orders
    put(sim, write_orders_xml(batch(order(), order("ORD00002", invoice="INV00002"))))
    sim.synchronise()
    # when (reconciliation: find the invoice carrying the order number)
    found = api(sim, "/v1/salesinvoiceswithlines", Description="ORD00002").json()
    # then
    [invoice] = found["_data"]
    assert invoice["invoiceNumber"] is None
    assert invoice["amountInclVat"] == 44.85
    assert invoice["lines"]["_meta"] == {"totalCount": 2}
    assert found["_meta"]["totalCount"] == 1
    one = api(sim, f"/v1/salesinvoiceswithlines/{invoice['id']}").json()
    assert one["description"] == "Bestelling ORD00002 factuur INV00002"


def test_rest_debtors_filter_on_email(sim: AsperionSimulator) -> None:
    # given
    put(sim, write_orders_xml(batch()))
    sim.synchronise()
    # when
    found = api(sim, "/v1/debtors", EmailAddress="JAN.DEVRIES@example.nl").json()
    # then
    assert [d["emailAddress"] for d in found["_data"]] == ["jan.devries@example.nl"]
    assert found["_meta"]["administrationId"] == sim.default_administration


def test_rest_tenant_header_selects_the_administration(sim: AsperionSimulator) -> None:
    # given a second administration with its own licence code and file
    other = sim.add_administration("SIM-LIC-0002", "Tweede Winkel BV")
    put(sim, write_orders_xml(batch(licence="SIM-LIC-0002")), licence="SIM-LIC-0002")
    sim.synchronise("SIM-LIC-0002")
    bearer = {"Authorization": f"Bearer {token(sim)}"}
    client = http(sim)
    # when
    mine = client.get("/v1/salesinvoiceswithlines", headers=bearer).json()
    theirs = client.get("/v1/salesinvoiceswithlines", headers=bearer | {"X-Tenant-Id": str(other)}).json()
    denied = client.get("/v1/salesinvoiceswithlines", headers=bearer | {"X-Tenant-Id": "999"})
    # then
    assert mine["_meta"]["totalCount"] == 0
    assert theirs["_meta"]["totalCount"] == 1
    assert denied.status_code == 403


def test_rest_paging_meta(sim: AsperionSimulator) -> None:
    # given five imported orders
    orders = [order(f"ORD0000{i}", invoice=f"INV0000{i}") for i in range(1, 6)]
    put(sim, write_orders_xml(batch(*orders)))
    sim.synchronise()
    # when
    page = api(sim, "/v1/salesinvoiceswithlines", page=2, pageSize=2).json()
    # then
    assert [i["description"][:19] for i in page["_data"]] == ["Bestelling ORD00003", "Bestelling ORD00004"]
    assert page["_meta"]["pageCount"] == 3
    assert page["_meta"]["nextPage"].endswith("page=3")
    assert page["_meta"]["previousPage"].endswith("page=1")


def test_rest_is_read_only_here(sim: AsperionSimulator) -> None:
    # given
    bearer = {"Authorization": f"Bearer {token(sim)}"}
    # when
    response = http(sim).post("/v1/debtors", json={"name": "x"}, headers=bearer)
    # then
    assert response.status_code == 405


def test_valid_credentials_name_the_licence_code(sim: AsperionSimulator) -> None:
    # given / when
    creds = sim.valid_credentials()
    # then
    assert creds["licence_code"] == LICENCE
    assert dataclasses.asdict(sim.administration().settings)["journal_id"] == "VK"


def test_synchronise_reuses_a_debtor_the_administration_already_had(sim: AsperionSimulator) -> None:
    # given an administration with seeded debtors, one of whom orders again
    emails = sim.seed_debtors(5, seed=4)
    known = next(d for d in sim.administration().debtors.values() if d.email_address == emails[2])
    put(sim, write_orders_xml(batch(order(email=emails[2].upper(), name="Andere Naam"))))
    # when
    sim.synchronise()
    # then
    [invoice] = sim.administration().invoices.values()
    assert invoice.debtor is known
    assert known.name != "Andere Naam"
    assert len(sim.administration().debtors) == 5


def test_seed_debtors_is_deterministic() -> None:
    # given two simulators
    one, two = AsperionSimulator(), AsperionSimulator()
    # when / then
    assert one.seed_debtors(3, seed=9) == two.seed_debtors(3, seed=9)
