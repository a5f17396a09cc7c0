"""A link's settings, validated: import conditions and mapping, the seed's "tot in detail".

Stored as JSON on ``Link.settings`` (versioned by ``version``); read through ``LinkSettings``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from koppeling.core.invoicing import InvoiceSettings
from koppeling.core.models import Order, PaymentStatus
from koppeling.mapping.tables import lookup

SETTINGS_VERSION = 1


class SettingsError(ValueError):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class LinkSettings:
    """Which orders go, and where they land."""

    #: source status ids to import (empty: none — the owner must choose; the demo selects paid ones)
    statuses: tuple[str, ...] = ()
    #: payment methods to import (empty: all)
    payment_methods: tuple[str, ...] = ()
    #: customer countries to import (ISO codes; empty: all)
    countries: tuple[str, ...] = ()
    #: orders placed before this date are never imported
    from_date: dt.date | None = None
    #: payment method -> target account id ("*" = default)
    accounts: dict[str, str] = field(default_factory=dict)
    #: shop -> target cost center id ("*" = default)
    cost_centers: dict[str, str] = field(default_factory=dict)
    #: prefix put before the shop's order number (WA0001 / WB0001)
    order_prefix: str = ""
    #: "paid", "due" or "from_order"
    payment_status: str = "from_order"
    seller_country: str = "NL"
    oss_registered: bool = True
    strict_icp: bool = False
    description_template: str = "Bestelling {number}"
    #: the incremental fetch re-reads this much before the cursor, to catch late writes
    overlap_minutes: int = 15
    #: the reconciliation sweep re-reads orders placed in the last N days
    sweep_days: int = 30
    max_attempts: int = 8
    currencies: tuple[str, ...] = ("EUR",)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkSettings:
        problems: dict[str, str] = {}
        known = set(cls.__dataclass_fields__) | {"version"}
        for key in data:
            if key not in known:
                problems[key] = "unknown setting"

        def str_list(key: str) -> tuple[str, ...]:
            value = data.get(key, [])
            if isinstance(value, str):
                value = [v for v in value.replace(";", ",").split(",") if v.strip()]
            if not isinstance(value, list | tuple):
                problems[key] = "expected a list"
                return ()
            return tuple(str(v).strip() for v in value)

        def str_map(key: str) -> dict[str, str]:
            value = data.get(key, {})
            if not isinstance(value, dict):
                problems[key] = "expected a table of value -> id"
                return {}
            return {str(k): str(v) for k, v in value.items()}

        from_date = None
        if data.get("from_date"):
            try:
                from_date = dt.date.fromisoformat(str(data["from_date"]))
            except ValueError:
                problems["from_date"] = f"{data['from_date']!r} is not a date (YYYY-MM-DD)"
        payment_status = str(data.get("payment_status", "from_order"))
        if payment_status not in {"paid", "due", "from_order"}:
            problems["payment_status"] = "expected paid, due or from_order"
        ints = {}
        for key, default, low in (("overlap_minutes", 15, 0), ("sweep_days", 30, 1), ("max_attempts", 8, 1)):
            try:
                ints[key] = int(data.get(key, default))
                if ints[key] < low:
                    raise ValueError
            except (TypeError, ValueError):
                problems[key] = f"expected a whole number >= {low}"
                ints[key] = default
        countries = tuple(c.upper() for c in str_list("countries"))
        for c in countries:
            if len(c) != 2 or not c.isalpha():
                problems["countries"] = f"{c!r} is not a two-letter country code"
        result = cls(
            statuses=str_list("statuses"),
            payment_methods=str_list("payment_methods"),
            countries=countries,
            from_date=from_date,
            accounts=str_map("accounts"),
            cost_centers=str_map("cost_centers"),
            order_prefix=str(data.get("order_prefix", "")),
            payment_status=payment_status,
            seller_country=str(data.get("seller_country", "NL")).upper(),
            oss_registered=bool(data.get("oss_registered", True)),
            strict_icp=bool(data.get("strict_icp", False)),
            description_template=str(data.get("description_template", "Bestelling {number}")),
            currencies=tuple(c.upper() for c in str_list("currencies")) or ("EUR",),
            **ints,
        )
        if "{number}" not in result.description_template:
            problems["description_template"] = (
                "must contain {number}: the order number goes in the description"
            )
        if problems:
            raise SettingsError(problems)
        return result

    def skip_reason(self, order: Order) -> str:
        """Why this order is not imported, as a ReasonCode value; "" when it is."""
        if self.from_date and order.date < self.from_date:
            return "before_start_date"
        if order.status not in self.statuses:
            return "status_not_selected"
        if self.payment_methods and order.payment_method not in self.payment_methods:
            return "payment_method_not_selected"
        if self.countries and order.customer.country_code.upper() not in self.countries:
            return "country_not_selected"
        if order.currency.upper() not in self.currencies:
            return "currency_not_supported"
        return ""

    def invoice_settings(self, order: Order) -> InvoiceSettings:
        status = {"paid": PaymentStatus.PAID, "due": PaymentStatus.DUE}.get(self.payment_status)
        return InvoiceSettings(
            seller_country=self.seller_country,
            oss_registered=self.oss_registered,
            reference_prefix=self.order_prefix,
            description_template=self.description_template,
            account=lookup(self.accounts, order.payment_method),
            cost_center=lookup(self.cost_centers, order.shop),
            payment_status=status,
            strict_icp=self.strict_icp,
        )

    def reference(self, number: str) -> str:
        return f"{self.order_prefix}{number}"
