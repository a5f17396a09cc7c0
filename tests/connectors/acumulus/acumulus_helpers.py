"""Builders shared by the Acumulus tests: a target on an in-process simulator, invoices, lines."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import httpx

from koppeling.connectors.acumulus.client import AcumulusSettings, AcumulusTarget
from koppeling.connectors.acumulus.simulator import AcumulusSimulator
from koppeling.connectors.base import ConnectionConfig
from koppeling.core.messages import Outcome, text_of
from koppeling.core.models import Invoice, InvoiceLine, LineKind, Party, PaymentStatus, VatRegime
from koppeling.core.money import round_cents

BASE = "http://acumulus.sim/acumulus"

#: what a flow into the simulator chooses: its account 1 and cost center 1
SETTINGS = AcumulusSettings(accounts={"*": "1"}, cost_centers={"*": "1"})


def missing_params(outcome: Outcome) -> set[str]:
    """The placeholders of the code's registered text (and suggestion) that ``outcome`` does not fill.

    Raises if the code has no registered text at all (it would be shown as the bare code).
    """
    text = text_of(outcome.code)
    assert text is not None, f"no text registered for {outcome.code!r}"
    return set(re.findall(r"%\((\w+)\)s", text.text + text.suggestion)) - set(outcome.params)


def make_target(sim: AcumulusSimulator, credentials: dict | None = None, **options) -> AcumulusTarget:
    http = httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi))
    config = ConnectionConfig("acumulus", BASE, credentials or sim.valid_credentials(), options)
    return AcumulusTarget(config, http)


def line(
    kind=LineKind.PRODUCT, description="T-shirt", quantity="1", unit="10.00", rate="21", sku=""
) -> InvoiceLine:
    q, u, r = Decimal(quantity), Decimal(unit), Decimal(rate)
    total_ex = round_cents(q * u)
    return InvoiceLine(kind, description, q, u, r, total_ex, round_cents(total_ex * r / 100), sku=sku)


def invoice(reference="WA0001", regime=VatRegime.DOMESTIC, lines=None, customer=None, **kwargs) -> Invoice:
    return Invoice(
        reference=reference,
        description=f"Bestelling {reference}",
        issue_date=kwargs.pop("issue_date", dt.date(2026, 1, 15)),
        regime=regime,
        customer=customer
        or Party(
            name="Jan Jansen",
            email="jan@example.nl",
            street="Dorpsstraat 1",
            postal_code="1234 AB",
            city="Utrecht",
            country_code="NL",
        ),
        lines=lines
        if lines is not None
        else [line(sku="TS-1"), line(LineKind.SHIPPING, "Verzending", unit="4.95")],
        payment_status=kwargs.pop("payment_status", PaymentStatus.PAID),
        payment_date=kwargs.pop("payment_date", dt.date(2026, 1, 15)),
        payment_method=kwargs.pop("payment_method", "iDEAL"),
        **kwargs,
    )
