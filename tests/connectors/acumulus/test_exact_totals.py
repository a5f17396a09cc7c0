"""To the cent in Acumulus's own computation: 20,000 random orders through the connector's payload.

The runtime passes ``totals_method=PER_LINE_FROM_EX`` (the connector's own); each invoice is turned
into the ``invoice_add`` lines exactly as pushed, and Acumulus's computation of those lines
(``acumulus_totals``: round(quantity × unitprice) per line, VAT per line — what the simulator books)
must give exactly what the customer paid.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "core"))
from random_orders import random_orders

from koppeling.connectors.acumulus.client import AcumulusTarget, acumulus_totals
from koppeling.connectors.base import ConnectionConfig
from koppeling.core.invoicing import InvoiceSettings, order_to_invoice
from koppeling.core.totals import TotalsMethod


def _booked(payload: dict) -> Decimal:
    lines = payload["customer"]["invoice"]["line"]
    return acumulus_totals(
        [(Decimal(ln["quantity"]), Decimal(ln["unitprice"]), Decimal(ln["vatrate"])) for ln in lines]
    )[1]


def test_invoice_payload_random_orders_book_to_the_cent():
    # given the Acumulus connector, its declared totals method passed to core, 20,000 random orders
    target = AcumulusTarget(ConnectionConfig("acumulus", "http://acumulus.sim/acumulus", {}))
    settings = InvoiceSettings(totals_method=AcumulusTarget.totals_method)
    off = []
    for order in random_orders(20_000, seed=7):
        # when each is made an invoice and its invoice_add message built
        payload, warnings = target.invoice_payload(order_to_invoice(order, settings))
        # then Acumulus books exactly the order's total, and says nothing differs
        if _booked(payload) != order.total_inc or warnings:
            off.append((order.number, order.total_inc, _booked(payload)))
    assert off == []
    assert AcumulusTarget.totals_method is TotalsMethod.PER_LINE_FROM_EX
