"""Valid aXML batches for the Asperion tests (plain dataclasses from ``batch_format``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from koppeling.connectors.asperion.batch_format import AxmlAddress, AxmlBatch, AxmlDebtor, AxmlLine, AxmlOrder

LICENCE = "SIM-LIC-0001-ASPERION"
CREATED = dt.datetime(2025, 1, 3, 3, 0, tzinfo=dt.UTC)


def line(
    incl: str, *, qty: str = "1", rate: str = "21", kind: str = "product", text: str = "Katoenen T-shirt"
) -> AxmlLine:
    """A line from its total incl. VAT: excl. and VAT to the cent, unit price to 4 decimals."""
    amount_incl = Decimal(incl)
    factor = 1 + Decimal(rate) / 100
    excl = (amount_incl / factor).quantize(Decimal("0.01"))
    unit = (excl / Decimal(qty)).quantize(Decimal("0.0001"))
    category = {"21": "hoog", "9": "laag", "0": "nul"}[rate]
    return AxmlLine(
        text, Decimal(qty), unit, Decimal(rate), category, excl, amount_incl - excl, amount_incl, kind=kind
    )


def order(
    number: str = "ORD00001",
    *,
    invoice: str = "INV00001",
    email: str = "jan.devries@example.nl",
    name: str = "Jan de Vries",
    payment: str = "IDEAL",
    lines: tuple[AxmlLine, ...] | None = None,
) -> AxmlOrder:
    lines = lines or (line("39.90", qty="2"), line("4.95", kind="shipping", text="Verzendkosten PostNL"))
    debtor = AxmlDebtor(
        email=email,
        name=name,
        invoice_address=AxmlAddress(
            "Dorpsstraat", "12", "3512 AB", "Utrecht", "NL", house_number_addition="bis"
        ),
        phone="030 123 4567",
    )
    description = f"Bestelling {number}" + (f" factuur {invoice}" if invoice else "")
    return AxmlOrder(
        order_number=number,
        order_date=dt.date(2025, 1, 2),
        description=description,
        payment_code=payment,
        debtor=debtor,
        lines=lines,
        total_excl=sum((x.amount_excl for x in lines), Decimal(0)),
        total_vat=sum((x.vat_amount for x in lines), Decimal(0)),
        total_incl=sum((x.amount_incl for x in lines), Decimal(0)),
        shop_invoice_number=invoice,
    )


def batch(*orders: AxmlOrder, licence: str = LICENCE) -> AxmlBatch:
    return AxmlBatch(licence, CREATED, tuple(orders) or (order(),))
