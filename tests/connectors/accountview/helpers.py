"""Shared builders for the AccountView tests: a connector on a simulator, slow documents, settings."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import httpx

from koppeling.connectors.accountview.client import AccountViewConnector
from koppeling.connectors.accountview.settings import AccountViewSettings
from koppeling.connectors.accountview.simulator import AccountViewSimulator
from koppeling.connectors.base import ConnectionConfig

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
OPTIONS = {"timezone": "UTC"}  # the simulator writes its date-times in UTC


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class LockedStore:
    """A connection's credentials behind one lock (the runtime's row-locked store in small)."""

    def __init__(self, credentials: Mapping[str, str]) -> None:
        self.credentials = dict(credentials)
        self.lock = threading.Lock()

    def update(self, change: Callable[[Mapping[str, str]], Mapping[str, str] | None]) -> Mapping[str, str]:
        with self.lock:
            new = change(dict(self.credentials))
            if new is not None:
                self.credentials = dict(new)
            return dict(self.credentials)


def credentials(sim: AccountViewSimulator, user: str = "koppeling", **changes: str) -> dict[str, str]:
    issued = sim.valid_credentials(user)
    creds = {k: str(v) for k, v in issued.items() if k not in ("expires_in", "token_type")}
    creds["access_token_expires_at"] = str(int(sim.clock() + int(issued["expires_in"])))
    creds.update(changes)
    return creds


def connector(
    sim: AccountViewSimulator,
    creds: Mapping[str, str] | None = None,
    *,
    store=None,
    clock: Callable[[], float] | None = None,
    **options: Any,
) -> AccountViewConnector:
    http = httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi), timeout=5)
    config = ConnectionConfig(
        "accountview",
        "http://accountview.test/api/v3",
        dict(creds or credentials(sim)),
        {**OPTIONS, **options},
    )
    return AccountViewConnector(config, http, credential_store=store, clock=clock or sim.clock)


def add_article(sim: AccountViewSimulator, code: str, description: str, **values: Any) -> None:
    """An article in the administration (as if someone created it in AccountView)."""
    base = dict(sim.company.articles["SKU-1001"])
    base.update(
        ART_CODE=code, ART_DESC1=description, EAN_CODE=None, QTY_TECH=Decimal(0), QTY_BESTEL=Decimal(0)
    )
    base.update(values)
    sim.company.articles[code] = base
    sim.company.refresh_stock()


def order_settings(**changes: Any) -> AccountViewSettings:
    """Sales orders: shipping and product lines without SKU go to articles that exist."""
    values: dict[str, Any] = {
        "document_type": "sales_order",
        "shipping_costs": {"article": "VERZEND", "account": "8100"},
        "products_without_sku": {"article": "SKU-1001"},
        "vat_codes": {"21": "1", "9": "2", "0": "0"},
    }
    values.update(changes)
    return AccountViewSettings.model_validate(values)


def invoice_settings(**changes: Any) -> AccountViewSettings:
    values: dict[str, Any] = {
        "document_type": "sales_invoice",
        "shipping_costs": {"account": "8100"},
        "vat_codes": {"21": "1", "9": "2", "0": "0"},
        "revenue_accounts": {"*": "8000", "*:9": "8010", "*:0": "8020"},
    }
    values.update(changes)
    return AccountViewSettings.model_validate(values)


def slow_documents(app: Callable[..., Any], delay: float) -> Callable[..., Any]:
    """The simulator, answering a sales order or journal page POST only ``delay`` seconds after it
    stored it (the booking happens; the answer comes too late)."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]):
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(raw)
        result = list(app(environ, start_response))
        if environ.get("REQUEST_METHOD") == "POST" and raw:
            body = json.loads(raw)
            if str(body.get("BusinessObject", "")).upper() in ("SO1", "DJ2"):
                time.sleep(delay)
        return result

    return wrapped
