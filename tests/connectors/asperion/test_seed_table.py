"""Seed 002, Fig. 5: the import screen's table, reproduced to the cent.

The seven rows are taken verbatim from the seed (Betref, Periode, Factuur datum, Deb nr., Debiteur,
Bedrag excl. BTW, Bedrag incl. BTW, Betaalwijze). They are rebuilt as core ``Invoice``s (lines at
21 %, 9 % and 0 % whose VAT is ``round(excl × rate)``), delivered by ``AsperionTarget.push_batch``,
imported by the simulator, and each imported Concept invoice is checked against its row. The three
debtors exist in the administration already (known customers keep their number [V seed]).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from koppeling.connectors import http as kh
from koppeling.connectors.asperion.client import AsperionSettings, AsperionTarget
from koppeling.connectors.asperion.importer import Debtor
from koppeling.connectors.asperion.simulator import AsperionSimulator
from koppeling.connectors.base import BatchDocument, ConnectionConfig
from koppeling.core.models import Invoice, InvoiceLine, LineKind, Party, VatRegime

URL = "http://asperion-seed-table.sim"
#: Fig. 5 of seed 002, row by row (the rows' text as the seed prints it)
TABLE = """\
Bestelling ORD000038	12-2014	21-12-2014	2269322	cccc cccc	€ 699,17	€ 824,80	IDEAL
Bestelling ORD000033 factuur INV000037	11-2014	17-11-2014	3636059	Sophie F	€ 31,75	€ 38,00	Op factuur
Bestelling ORD000032 factuur INV000038	11-2014	16-11-2014	2269322	cccc cccc	€ 56,95	€ 68,50	Op factuur
Bestelling ORD000030 factuur INV000021	11-2014	11-11-2014	3568347	Sophie Fischer	€ 32,08	€ 32,08	Op factuur
Bestelling ORD000029 factuur INV000020	10-2014	10-10-2014	2269322	cccc cccc	€ 29,34	€ 34,07	Op factuur
Bestelling ORD000002 factuur INV000002	07-2014	03-07-2014	2269322	cccc cccc	€ 23,96	€ 29,00	Op factuur
Bestelling ORD000001 factuur INV000001	06-2014	16-06-2014	2269322	cccc cccc	€ 14,05	€ 17,00	Op factuur"""
TOTAL_EXCL, TOTAL_INCL = "€ 887,30", "€ 1.043,45"
#: the shop's payment keys behind the seed's Betaalwijze, and the code our reading writes for it
METHODS = {"IDEAL": ("ideal", "IDEAL"), "Op factuur": ("invoice", "OPFACTUUR")}
#: each order's lines as (excl., VAT, rate): VAT = round(excl × rate) per line
LINES = {
    "ORD000038": [("522.54", "109.73", 21), ("176.63", "15.90", 9)],
    "ORD000033": [("28.27", "5.94", 21), ("3.48", "0.31", 9)],
    "ORD000032": [("53.54", "11.24", 21), ("3.41", "0.31", 9)],
    "ORD000030": [("32.08", "0.00", 0)],
    "ORD000029": [("17.41", "3.66", 21), ("11.93", "1.07", 9)],
    "ORD000002": [("11.98", "2.52", 21), ("11.98", "2.52", 21)],
    "ORD000001": [("14.05", "2.95", 21)],
}
CUSTOMERS = {
    "cccc cccc": Party(
        name="cccc cccc",
        email="cccc@example.nl",
        street="Kerkstraat 3",
        postal_code="1234 AB",
        city="Utrecht",
    ),
    "Sophie F": Party(
        name="Sophie F", email="sophie.f@example.nl", street="Laan 8", postal_code="2511 CV", city="Den Haag"
    ),
    "Sophie Fischer": Party(
        name="Sophie Fischer",
        company="Fischer GmbH",
        email="sophie@fischer.example.de",
        street="Hauptstraße 5",
        postal_code="10115",
        city="Berlin",
        country_code="DE",
        vat_number="DE136695976",
    ),
}


def euro(text: str) -> Decimal:
    return Decimal(text.removeprefix("€ ").replace(".", "").replace(",", "."))


def rows() -> list[list[str]]:
    return [line.split("\t") for line in TABLE.splitlines()]


def as_invoice(row: list[str]) -> Invoice:
    description, _, date, _, debtor, _, _, method = row
    number = description.split()[1]
    lines = [
        InvoiceLine(
            LineKind.PRODUCT,
            f"Artikel {i + 1}",
            Decimal(1),
            Decimal(ex),
            Decimal(rate),
            Decimal(ex),
            Decimal(vat),
        )
        for i, (ex, vat, rate) in enumerate(LINES[number])
    ]
    if "factuur" in description:  # the shop's invoice number, on the line a source carries it on
        shop_number = description.split()[-1]
        lines.append(
            InvoiceLine(
                LineKind.OTHER,
                f"Webwinkelfactuur {shop_number}",
                *[Decimal(0)] * 2,
                Decimal(21),
                *[Decimal(0)] * 2,
            )
        )
    customer = CUSTOMERS[debtor]
    return Invoice(
        reference=number,
        description=f"Bestelling {number}",
        issue_date=dt.datetime.strptime(date, "%d-%m-%Y").date(),
        regime=VatRegime.EU_B2B if customer.vat_number else VatRegime.DOMESTIC,
        customer=customer,
        lines=lines,
        payment_method=METHODS[method][0],
    )


@pytest.fixture
def sim():
    sim = AsperionSimulator()
    admin = sim.administration()
    for name, number in (("cccc cccc", "2269322"), ("Sophie F", "3636059"), ("Sophie Fischer", "3568347")):
        party = CUSTOMERS[name]
        admin.debtors[int(number)] = Debtor(
            int(number), number, name, party.email, party.street, party.postal_code, party.city,
            party.country_code, party.vat_number, "", "", "1", "2014-01-01",
        )  # fmt: skip
    kh.mount_wsgi(URL, sim.wsgi)
    yield sim
    kh.unmount(URL)


def test_seed_table_invoices_written_imported_and_matching_to_the_cent(sim) -> None:
    # given the seven orders of the seed's table as core invoices, in one day's batch
    invoices = tuple(as_invoice(row) for row in rows())
    assert sum((i.total_ex for i in invoices), Decimal(0)) == euro(TOTAL_EXCL)
    assert sum((i.total_inc for i in invoices), Decimal(0)) == euro(TOTAL_INCL)
    batch = BatchDocument("1/2015-02-01-1", dt.date(2014, 6, 16), dt.date(2014, 12, 21), invoices)
    connector = AsperionTarget(
        ConnectionConfig("asperion", URL, {"licence_code": sim.licence_code}), kh.make_client(URL)
    )
    # when it is delivered and the merchant presses "Synchroniseren"
    connector.push_batch(batch, AsperionSettings())
    (report,) = sim.synchronise()
    # then all seven are Concept invoices exactly as the table shows them
    assert report.imported == [row[0].split()[1] for row in rows()] and not report.errors
    admin = sim.administration()
    for row, booked in zip(rows(), admin.invoices.values(), strict=True):
        description, period, date, debtor_number, debtor_name, excl, incl, method = row
        shown = booked.as_api()
        assert booked.description == description
        assert f"{shown['bookperiod']:02d}-{shown['bookyear']}" == period
        assert booked.date.strftime("%d-%m-%Y") == date
        assert (shown["debtorCustomerNumber"], booked.debtor.name) == (debtor_number, debtor_name)
        assert (booked.amount_excl, booked.amount_incl) == (euro(excl), euro(incl))
        assert booked.payment_code == METHODS[method][1]
        assert booked.status == 0 and booked.invoice_number is None  # Concept: Asperion numbers it later
    # and the totals line of the table holds, ORD000030 (ICP) at 0 %, ORD000038 without a shop invoice
    assert sum((i.amount_excl for i in admin.invoices.values()), Decimal(0)) == euro(TOTAL_EXCL)
    assert sum((i.amount_incl for i in admin.invoices.values()), Decimal(0)) == euro(TOTAL_INCL)
    icp = admin.invoices[admin.imported_orders["ORD000030"]]
    assert icp.amount_excl == icp.amount_incl and {line["vatCode"] for line in icp.lines} == {"V0"}
    assert admin.invoices[admin.imported_orders["ORD000038"]].description == "Bestelling ORD000038"
    assert len(admin.debtors) == 3  # known customers keep their number; none created
