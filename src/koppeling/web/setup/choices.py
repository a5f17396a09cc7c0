"""The drop-downs' contents, fetched live from the two systems of a link.

The shop gives its order statuses (and payment methods, where it lists them; else the methods of
its recent orders are suggested), the accounting package its accounts, cost centers, VAT rates
and categories — whatever the connector offers. A system that cannot answer leaves a text field
and a located note instead of a broken page. Answers are kept for a few minutes per connection
(the Configuratie page is opened more often than accounts change).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from koppeling.connectors.base import Capability, Connector
from koppeling.connectors.errors import ConnectorError
from koppeling.sync.connections import build_connector
from koppeling.sync.models import Connection
from koppeling.sync.outcomes import Rendered, render
from koppeling.sync.redact import Redactor

from .codes import SetupCode
from .labels import STRICT_PICKLISTS
from .schema import Picklists

CACHE_SECONDS = 300
#: recent orders read to suggest payment methods when the shop has no list of them
SAMPLE_ORDERS = 200
SAMPLE_DAYS = 60


@dataclass
class Fetched:
    """What one system gave: named lists of ``(value, label)``, and what it could not give."""

    lists: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    problems: list[Rendered] = field(default_factory=list)


def _ask(
    out: Fetched, connector: Connector, name: str, what: str, call: Callable[[], list[tuple[str, str]]]
) -> None:
    try:
        out.lists[name] = call()
    except ConnectorError as exc:
        params = Redactor(connector.secrets()).params(exc.params)
        detail = render(exc.code, params).text
        out.problems.append(
            render(
                SetupCode.PICKLIST_UNAVAILABLE, {"system": connector.label, "what": what, "detail": detail}
            )
        )


def _pairs(items: list[dict[str, Any]], value: str, *labels: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        key = str(item.get(value, "")).strip()
        if not key:
            continue
        text = " ".join(str(item.get(name, "")).strip() for name in labels if str(item.get(name, "")).strip())
        out.append((key, text or key))
    return out


def _rate(value: Any) -> str:
    from decimal import Decimal, InvalidOperation

    try:
        return format(Decimal(str(value)).normalize(), "f")
    except (InvalidOperation, ValueError):
        return str(value)


def from_source(connector: Connector) -> Fetched:
    out = Fetched()
    capabilities = connector.capabilities()
    if Capability.READS_ORDERS in capabilities:
        _ask(
            out,
            connector,
            "statuses",
            "order statuses",
            lambda: [(s.id, s.label or s.id) for s in connector.statuses()],
        )
        listing = getattr(connector, "payment_methods", None)
        if callable(listing):
            _ask(
                out,
                connector,
                "payment_methods",
                "payment methods",
                lambda: [(str(m), str(m)) for m in listing()],
            )
        else:
            _ask(out, connector, "payment_methods", "payment methods", lambda: _recent_methods(connector))
    return out


def _recent_methods(connector: Any) -> list[tuple[str, str]]:
    since = timezone.now() - dt.timedelta(days=SAMPLE_DAYS)
    seen: dict[str, None] = {}
    for record in itertools.islice(connector.fetch_changed(since, until=timezone.now()), SAMPLE_ORDERS):
        method = getattr(record.item, "payment_method", "") if record.item is not None else ""
        if method:
            seen.setdefault(str(method), None)
    return [(m, m) for m in sorted(seen)]


def from_target(connector: Any) -> Fetched:
    out = Fetched()
    if callable(getattr(connector, "accounts", None)):
        _ask(
            out,
            connector,
            "accounts",
            "accounts",
            lambda: _pairs(connector.accounts(), "accountid", "accountnumber", "accountdescription"),
        )
    if callable(getattr(connector, "cost_centers", None)):
        _ask(
            out,
            connector,
            "cost_centers",
            "cost centers",
            lambda: _pairs(connector.cost_centers(), "costcenterid", "costcentername"),
        )
    if callable(getattr(connector, "categories", None)):
        _ask(
            out,
            connector,
            "categories",
            "categories",
            lambda: _pairs(connector.categories(), "id", "name", "ledger"),
        )
    if callable(getattr(connector, "taxes", None)):
        _ask(
            out,
            connector,
            "taxes",
            "VAT rates",
            lambda: [
                (_rate(t.get("percentage")), f"{_rate(t.get('percentage'))}%")
                for t in connector.taxes()
                if t.get("percentage") is not None
            ],
        )
    elif callable(getattr(connector, "vat_info", None)):
        _ask(
            out,
            connector,
            "taxes",
            "VAT rates",
            lambda: [
                (_rate(r), f"{_rate(r)}% ({kind})")
                for kind, r in connector.vat_info("NL", timezone.localdate())
            ],
        )
    return out


def _key(connection: Connection) -> str:
    updated = connection.updated_at.isoformat() if connection.updated_at else ""
    stamp = f"{connection.pk}|{connection.system}|{connection.base_url}|{updated}"
    return "koppeling-picklists-" + hashlib.sha256(stamp.encode()).hexdigest()[:24]


def fetch(connection: Connection, role: str, *, fresh: bool = False) -> Fetched:
    """The lists one connection gives as a ``role`` ("source" or "target"), cached briefly."""
    key = f"{_key(connection)}-{role}"
    if not fresh and connection.pk:
        hit = cache.get(key)
        if hit is not None:
            return Fetched(lists=hit, problems=[])
    connector = build_connector(connection)
    try:
        got = from_source(connector) if role == "source" else from_target(connector)
    finally:
        connector.close()
    if connection.pk and not got.problems:
        cache.set(key, got.lists, CACHE_SECONDS)
    return got


def forget(connection: Connection) -> None:
    for role in ("source", "target"):
        cache.delete(f"{_key(connection)}-{role}")


def vat_rate_keys(target: Fetched) -> list[tuple[str, str]]:
    """VAT rates suggested as mapping keys: the target's, else the Dutch ones."""
    rates = target.lists.get("taxes") or [("21", "21%"), ("9", "9%"), ("0", "0%")]
    return [(value, label) for value, label in rates]


def picklists(source: Fetched, target: Fetched) -> tuple[Picklists, Picklists]:
    """``(generic, target)`` picklists of a flow's two settings documents."""
    methods = source.lists.get("payment_methods", [])
    star = [("*", "* (every other)")]
    generic = Picklists(
        values={
            k: v
            for k, v in {"statuses": source.lists.get("statuses"), "payment_methods": methods}.items()
            if v
        },
        keys={"category_by_rate": vat_rate_keys(target)},
    )
    generic.strict = frozenset(k for k in generic.values if k in STRICT_PICKLISTS)
    values = {
        "accounts": target.lists.get("accounts"),
        "cost_centers": target.lists.get("cost_centers"),
        "vat_rates.category": target.lists.get("categories"),
        "vat_rates.tax_rate": target.lists.get("taxes"),
    }
    target_lists = Picklists(
        values={k: v for k, v in values.items() if v},
        keys={
            "accounts": [*star, *methods],
            "payment_method_debtors": [*star, *methods],
            "payment_codes": [*star, *methods],
            "payment_methods": [*star, *methods],
            "cost_centers": star,
            "vat_rates": vat_rate_keys(target),
            "vat_categories": vat_rate_keys(target),
            "codings": [*star, *vat_rate_keys(target)],
            "vat_codes": [*star, *vat_rate_keys(target)],
        },
    )
    strict = {"accounts": "accounts", "cost_centers": "cost_centers", "vat_rates.category": "categories"}
    target_lists.strict = frozenset(
        k for k, name in strict.items() if k in target_lists.values and name in STRICT_PICKLISTS
    )
    return generic, target_lists
