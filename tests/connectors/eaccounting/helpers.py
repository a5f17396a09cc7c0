"""Shared builders for the eAccounting tests: a connector on a simulator, orders added on demand."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping
from decimal import Decimal

import httpx

from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.eaccounting.client import EAccountingConnector
from koppeling.connectors.eaccounting.simulator import EAccountingSimulator

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class LockedStore:
    """A connection's credentials behind one lock: what ``sync.connections.ConnectionCredentials``
    does with a row lock (that one is tested on PostgreSQL elsewhere)."""

    def __init__(self, credentials: Mapping[str, str]) -> None:
        self.credentials = dict(credentials)
        self.lock = threading.Lock()
        self.writes = 0

    def update(self, change: Callable[[Mapping[str, str]], Mapping[str, str] | None]) -> Mapping[str, str]:
        with self.lock:
            new = change(dict(self.credentials))
            if new is not None and dict(new) != self.credentials:
                self.credentials = dict(new)
                self.writes += 1
            return dict(self.credentials)


def credentials(sim: EAccountingSimulator, **changes: str) -> dict[str, str]:
    """Fresh credentials as a connection stores them (text values; expiry as epoch seconds)."""
    issued = sim.valid_credentials()
    creds = {k: str(v) for k, v in issued.items() if k not in ("expires_in", "token_type")}
    creds["access_token_expires_at"] = str(int(sim.clock() + int(issued["expires_in"])))
    creds.update(changes)
    return creds


def connector(
    sim: EAccountingSimulator,
    creds: Mapping[str, str] | None = None,
    *,
    store=None,
    clock: Callable[[], float] | None = None,
    **options,
) -> EAccountingConnector:
    http = httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi), timeout=5)
    config = ConnectionConfig(
        "eaccounting", "http://eaccounting.test", dict(creds or credentials(sim)), options
    )
    return EAccountingConnector(config, http, credential_store=store, clock=clock or sim.clock)


_rows = itertools.count()


def add_orders(sim: EAccountingSimulator, count: int, status: int = 2, **head) -> list[dict]:
    """``count`` orders for the company's customers and active articles (1-3 rows each)."""
    customers = list(sim.books.customers)
    articles = [a for a, rec in sim.books.articles.items() if rec["IsActive"]]
    made = []
    for i in range(count):
        n = next(_rows)
        rows = [
            {
                "LineNumber": j + 1,
                "ArticleId": articles[(n + j) % len(articles)],
                "Quantity": Decimal(1 + (n + j) % 3),
                "IsTextRow": False,
                "IsWorkCost": False,
                "EligibleForReverseChargeOnVat": False,
            }
            for j in range(1 + n % 3)
        ]
        body = {
            "CustomerId": customers[n % len(customers)],
            "CurrencyCode": "EUR",
            "EuThirdParty": False,
            "OrderDate": "2026-02-10T00:00:00",
            "Status": status,
            "RotReducedInvoicingType": 0,
            "ReverseChargeOnConstructionServices": False,
            "Rows": rows,
            **head,
        }
        made.append(sim.books.save_order(body))
    return made
