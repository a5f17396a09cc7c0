"""The sample exports convert to exactly the golden files (column order, rounding, neutralising)."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx

from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.vies.client import ViesChecker
from koppeling.connectors.vies.simulator import ViesSimulator
from koppeling.convert import StratoOptions, convert_strato


def simulated_vies():
    """VIES as the golden run consults it: the simulator, the shop's own number as requester."""
    http = httpx.Client(transport=httpx.WSGITransport(app=ViesSimulator().wsgi))
    config = ConnectionConfig(
        "vies", "http://vies.sim/checkVatService", {"requester_vat_number": "NL004495445B01"}
    )
    return ViesChecker(config, http).check_number


GOLDEN_OPTIONS = dict(cost_center="Webshop A", prefix="WA")


def test_sample_exports_match_golden_files(data_dir, tmp_path):
    summary = convert_strato(
        customers=data_dir / "Klanten.csv",
        orders=data_dir / "Bestellingen.xml",
        out_dir=tmp_path,
        options=StratoOptions(**GOLDEN_OPTIONS, vat_check=simulated_vies()),
    )
    assert summary.exit_code == 0, summary.issues
    golden = sorted(p.name for p in (data_dir / "golden").iterdir())
    written = sorted(p.name for p in tmp_path.glob("Acumulus*.csv"))
    assert written == golden
    for name in golden:
        assert (tmp_path / name).read_bytes() == (data_dir / "golden" / name).read_bytes(), name
    assert summary.totals_match
    assert summary.input_total_inc == Decimal("467.55")
    data = json.loads((tmp_path / "conversion-summary.json").read_text(encoding="utf-8"))
    assert data["totals"]["match"] is True
    assert {o["file"]: o["invoices"] for o in data["outputs"] if o["kind"] == "invoices"} == {
        "AcumulusBancontactFacturen.csv": 1,
        "AcumulusBankFacturen.csv": 2,
        "AcumulusPayPalFacturen.csv": 2,
        "AcumulusiDEALFacturen.csv": 1,
    }


def test_golden_invoices_facts(data_dir):
    rows = (data_dir / "golden" / "AcumulusBankFacturen.csv").read_text(encoding="utf-8").splitlines()
    header = rows[0].split(";")
    assert header[:3] == ["Ordernummer", "Factuurdatum", "Klantnummer"]
    by_col = [dict(zip(header, r.split(";"), strict=True)) for r in rows[1:]]
    # the unpaid order says so; the ICP sale to Germany is EU reverse charge (3); order number in description
    wa1003 = [r for r in by_col if r["Ordernummer"] == "WA1003"]
    assert {r["Betaalstatus"] for r in wa1003} == {"1"} and {r["Btw-type"] for r in wa1003} == {"3"}
    assert all(r["Omschrijving"] == "Bestelling WA1003" for r in wa1003)
    assert all(r["Kostenplaats"] == "Webshop A" for r in by_col)


def test_formula_injection_is_neutralised_in_golden_output(data_dir):
    klanten = (data_dir / "golden" / "AcumulusKlanten.csv").read_text(encoding="utf-8")
    assert ";'=cmd|' /C calc'!A0;" in klanten
    assert ";=cmd" not in klanten
    ideal = (data_dir / "golden" / "AcumulusiDEALFacturen.csv").read_text(encoding="utf-8")
    assert "'=cmd|" in ideal and '"\'+Theefilters ""XL"" (100 stuks); ongebleekt"' in ideal
    assert "+31 20 123 4567" in klanten  # a phone number is a number, not a formula
