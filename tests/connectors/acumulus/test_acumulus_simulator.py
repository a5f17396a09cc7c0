"""The simulator speaks the real API's shapes; the client's normaliser reads its quirks."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import httpx
import pytest
from acumulus_helpers import BASE, invoice, make_target
from lxml import etree

from koppeling.connectors.acumulus.api import (
    api_messages,
    as_list,
    build_message,
    normalise,
    parse_body,
    validate_response,
)
from koppeling.connectors.acumulus.simulator import AcumulusSimulator
from koppeling.connectors.errors import AuthError, DataError, NotFound

# Verbatim bodies from libAcumulus tests/Unit/ApiClient/ApiRequestResponseExamples.php
INVOICE_ADD = (
    '{"invoice":{"invoicenumber":"20240016","token":"lc9gfgYN8bQQHnIV99r4jmDraKhQoeIj",'
    '"entryid":"55393014","contactid":"9326320","conceptid":[]},"errors":{"count_errors":"0"},'
    '"warnings":{"count_warnings":"0"},"status":"0"}'
)
NO_CONTRACT = (
    '{"errors":{"error":{"code":"403 Forbidden","codetag":"AF1001MCS","message":"Verplichte contract '
    'sectie ontbreekt"},"count_errors":"1"},"warnings":{"count_warnings":"0"},"status":"1"}'
)
ACCOUNTS = (
    '{"accounts":{"account":[{"accountid":"70582","accountnumber":"4911764","accountdescription":"Giro",'
    '"accounttypeid":"1"},{"accountid":"70583","accountnumber":{},"accountdescription":"Kas",'
    '"accounttypeid":"1"}]},"errors":{"count_errors":"0"},"warnings":{"count_warnings":"0"},"status":"0"}'
)


def _json(status: int, text: str) -> httpx.Response:
    return httpx.Response(status, content=text.encode(), headers={"Content-Type": "application/json"})


def post(sim: AcumulusSimulator, function: str, submit: dict, *, urlencoded: bool = False) -> httpx.Response:
    client = httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi))
    xml = build_message(submit)
    url = f"{BASE}/stable/{function}.php"
    if urlencoded:
        return client.post(
            url,
            content=urlencode({"xmlstring": xml}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    return client.post(url, files={"xmlstring": (None, xml)})


# -- normalisation of real sample bodies -----------------------------------------------------------


def test_normalise_real_samples_empty_values_and_unwrapped_lists():
    body = validate_response(_json(200, INVOICE_ADD), mutating=True)
    assert body["invoice"]["conceptid"] == "" and body["invoice"]["entryid"] == "55393014"
    accounts = as_list(validate_response(_json(200, ACCOUNTS))["accounts"]["account"])
    assert accounts[1]["accountnumber"] == ""
    assert api_messages(parse_body(_json(403, NO_CONTRACT)), "error") == [
        ("403 Forbidden", "AF1001MCS", "Verplichte contract sectie ontbreekt")
    ]
    with pytest.raises(AuthError) as info:
        validate_response(_json(403, NO_CONTRACT))
    assert info.value.code == "acumulus_auth" and info.value.params["codetag"] == "AF1001MCS"


def test_normalise_scalars_lists_and_nesting():
    assert normalise({"a": {}, "b": [], "c": [{"d": {}}], "e": 3, "f": None}) == {
        "a": "",
        "b": "",
        "c": [{"d": ""}],
        "e": "3",
        "f": "",
    }
    assert as_list({"x": "1"}) == [{"x": "1"}] and as_list("") == []


def test_xml_and_json_answers_normalise_to_the_same_shape(sim):
    creds = sim.valid_credentials()
    as_json = post(sim, "picklists/picklist_costcenters", {"contract": creds, "format": "json"})
    as_xml = post(sim, "picklists/picklist_costcenters", {"contract": creds, "format": "xml"})
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_xml.headers["content-type"].startswith("application/xml")
    assert validate_response(as_json) == validate_response(as_xml)


def test_format_defaults_to_xml_and_single_item_is_not_wrapped(sim):
    sim.cost_centers = [("7", "Enige")]
    response = post(sim, "picklists/picklist_costcenters", {"contract": sim.valid_credentials()})
    root = etree.fromstring(response.content)
    assert root.tag == "response" and root.findtext("status") == "0"
    as_json = post(
        sim, "picklists/picklist_costcenters", {"contract": sim.valid_credentials(), "format": "json"}
    )
    assert json.loads(as_json.content)["costcenters"] == {
        "costcenter": {"costcenterid": "7", "costcentername": "Enige"}
    }


# -- the simulator's shapes ----------------------------------------------------------------------


def test_simulator_missing_contract_matches_the_real_403_sample(sim):
    response = post(sim, "picklists/picklist_accounts", {"format": "json", "lang": "nl"})
    assert response.status_code == 403
    assert json.loads(response.content) == json.loads(NO_CONTRACT)


def test_simulator_invoice_add_answer_has_the_real_shape(sim):
    target = make_target(sim)
    payload, _ = target.invoice_payload(invoice())
    response = post(
        sim, "invoices/invoice_add", {"contract": sim.valid_credentials(), "format": "json", **payload}
    )
    body = json.loads(response.content)
    assert list(body) == ["invoice", "errors", "warnings", "status"]
    assert body["invoice"]["conceptid"] == [] and body["status"] == "0"
    assert body["errors"] == {"count_errors": "0"}
    assert all(isinstance(value, str) for value in body["invoice"].values() if value != [])


def test_simulator_accepts_url_encoded_xmlstring(sim):
    response = post(
        sim, "general/general_about", {"contract": sim.valid_credentials(), "format": "json"}, urlencoded=True
    )
    assert json.loads(response.content)["general"]["roleid"] == "5"


def test_simulator_invalid_xml_answers_xml_error(sim):
    client = httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi))
    response = client.post(
        f"{BASE}/stable/general/general_about.php", files={"xmlstring": (None, "<myxml><oops>")}
    )
    assert response.status_code == 400 and response.headers["content-type"].startswith("application/xml")
    with pytest.raises(DataError) as info:
        validate_response(response)
    assert info.value.code == "acumulus_rejected" and info.value.params["codetag"] == "SIMXMLP01"


def test_simulator_validation_collects_all_errors(sim):
    submit = {
        "contract": sim.valid_credentials(),
        "format": "json",
        "customer": {
            "countrycode": "NL",
            "invoice": {
                "vattype": "9",
                "issuedate": "2026-13-01",
                "costcenter": "8",
                "paymentstatus": "2",
                "line": [{"product": "x", "nature": "Thing"}],
            },
        },
    }
    body = json.loads(post(sim, "invoices/invoice_add", submit).content)
    tags = {error["codetag"] for error in body["errors"]["error"]}
    assert {"SIMVATT01", "SIMDATE01", "SIMCOST01", "SIMLINE02", "SIMLINE03", "SIMLINE04", "SIMLINE05"} <= tags
    assert body["status"] == "1" and body["errors"]["count_errors"] == str(len(tags))


def test_simulator_oss_rate_must_be_the_customers_country_rate(sim):
    target = make_target(sim)
    from acumulus_helpers import line

    from koppeling.core.models import Party, VatRegime

    french = Party(name="Marie", email="m@example.fr", country_code="FR")
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice("WA-oss", VatRegime.EU_B2C_OSS, customer=french, lines=[line(rate="21")]))
    assert info.value.code == "acumulus_rejected" and info.value.params["codetag"] == "SIMVATR01"
    assert "country FR" in info.value.params["remote"]


def test_simulator_description_missing_gives_status_2_warning(sim):
    target = make_target(sim)
    payload, _ = target.invoice_payload(invoice())
    payload["customer"]["invoice"]["description"] = ""
    body = json.loads(
        post(
            sim, "invoices/invoice_add", {"contract": sim.valid_credentials(), "format": "json", **payload}
        ).content
    )
    assert body["status"] == "2" and body["warnings"]["warning"]["codetag"] == "SIMDESC01"


def test_simulator_entry_delete_status_and_counters(sim):
    target = make_target(sim)
    pushed = target.push_invoice(invoice())
    assert target.delete_entry(pushed.target_id) == "removed"
    with pytest.raises(NotFound) as info:
        target.delete_entry(pushed.target_id)  # already in that status: P2XFELO12
    assert info.value.code == "acumulus_not_found" and info.value.params["codetag"] == "P2XFELO12"
    assert target.entry_info(pushed.target_id)["deleted"] != ""
    with pytest.raises(DataError) as bad:
        target.call("entry/entry_deletestatus_set", {"entryid": pushed.target_id, "entrydeletestatus": "5"})
    assert bad.value.code == "acumulus_rejected" and bad.value.params["codetag"] == "XCM7ELO12"
    assert sim.requests["invoices/invoice_add"] == 1 and sim.requests["entry/entry_info"] == 1
    assert sim.request_count == 5


def test_simulator_contacts_are_matched_when_duplicates_are_disabled(sim):
    target = make_target(sim)
    first = target.push_invoice(invoice("WA1"))
    second = target.push_invoice(invoice("WA2"))
    assert sim.invoices[first.target_id].contactid == sim.invoices[second.target_id].contactid


def test_simulator_unknown_path_is_html_404(sim):
    client = httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi))
    response = client.post(f"{BASE}/stable/invoices/nothing_here.php", files={"xmlstring": (None, "<a/>")})
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
