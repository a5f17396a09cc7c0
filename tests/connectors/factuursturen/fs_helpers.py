"""Builders shared by the Factuursturen connector tests: a target on the simulator, invoices, lines."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import httpx
from tests.conftest import Clock

from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.factuursturen.client import FactuursturenTarget
from koppeling.connectors.factuursturen.settings import FactuursturenSettings
from koppeling.connectors.factuursturen.simulator import FactuursturenSimulator
from koppeling.core.messages import Outcome, text_of
from koppeling.core.models import Invoice, InvoiceLine, LineKind, Party, PaymentStatus, VatRegime
from koppeling.core.money import round_cents

BASE = "http://factuursturen.sim/api/v1"
#: where the link-level tests mount the simulator (the connection adds /api/v1)
BOOKS_URL = "http://factuursturen.sim"

__all__ = ["BOOKS_URL", "Clock"]
NOON = 1_767_268_800.0  # 2026-01-01 12:00:00 UTC

#: the simulator's account: rates 21, 9 and 0; category 1 "Omzet webwinkel" (8000), 2 (8100)
SETTINGS = FactuursturenSettings(
    vat_rates={"21": {"category": 1}, "9": {"category": 1}, "0": {"category": 1}}
)


class FakeClock:
    def __init__(self, start: float = NOON) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def missing_params(outcome: Outcome) -> set[str]:
    """The placeholders of the code's registered text and suggestion that ``outcome`` leaves empty."""
    text = text_of(outcome.code)
    assert text is not None, f"no text registered for {outcome.code!r}"
    return set(re.findall(r"%\((\w+)\)s", text.text + text.suggestion)) - set(outcome.params)


def make_target(
    sim: FactuursturenSimulator, credentials: dict | None = None, *, clock: Any = None
) -> FactuursturenTarget:
    http = httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi))
    config = ConnectionConfig("factuursturen", BASE, credentials or sim.valid_credentials())
    return FactuursturenTarget(config, http, clock=clock)


def line(
    kind: LineKind = LineKind.PRODUCT,
    description: str = "T-shirt",
    quantity: str = "1",
    unit: str = "10.00",
    rate: str = "21",
) -> InvoiceLine:
    q, u, r = Decimal(quantity), Decimal(unit), Decimal(rate)
    total_ex = round_cents(q * u)
    return InvoiceLine(kind, description, q, u, r, total_ex, round_cents(total_ex * r / 100))


def party(**changes: str) -> Party:
    values = {
        "name": "Jan Jansen",
        "email": "jan@example.nl",
        "street": "Dorpsstraat 1",
        "postal_code": "1234 AB",
        "city": "Utrecht",
        "country_code": "NL",
    }
    values.update(changes)
    return Party(**values)


def invoice(reference: str = "WA1001", lines: list[InvoiceLine] | None = None, **kwargs: Any) -> Invoice:
    return Invoice(
        reference=reference,
        description=f"Bestelling {reference.removeprefix('WA')}",
        issue_date=kwargs.pop("issue_date", dt.date(2026, 1, 15)),
        regime=kwargs.pop("regime", VatRegime.DOMESTIC),
        customer=kwargs.pop("customer", None) or party(),
        lines=lines if lines is not None else [line(), line(LineKind.SHIPPING, "Verzending", unit="4.95")],
        payment_status=kwargs.pop("payment_status", PaymentStatus.PAID),
        payment_method=kwargs.pop("payment_method", "ideal"),
        **kwargs,
    )
