"""A flow's generic settings, per kind, validated with located errors and versioned.

The target system's own settings (ledger accounts, cost centers, debtors …) are not here: each
target connector declares them (``Connector.settings_model``); this module validates both and
says where a problem is (``statuses.2``, ``accounts.paypal``), every problem at once.

Stored JSON carries a ``version``; :func:`migrate` upgrades one step at a time and refuses a
version it does not know (dlt's state migrations).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from koppeling.core.invoicing import InvoiceSettings
from koppeling.core.models import Order, PaymentStatus
from koppeling.core.products import PRODUCT_FIELDS, StockCalculation
from koppeling.core.totals import TotalsMethod

from .models import ReasonCode

__all__ = [
    "SETTINGS_VERSION",
    "BatchFlowSettings",
    "Condition",
    "CustomerFlowSettings",
    "FlowSettings",
    "OrderFlowSettings",
    "ProductFlowSettings",
    "SettingsError",
    "StockFlowSettings",
    "migrate",
    "validate",
]

SETTINGS_VERSION = 2
M = TypeVar("M", bound=BaseModel)


class SettingsError(ValueError):
    """Every problem of a settings document, by location (``field.sub``) -> message."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


class FlowSettings(BaseModel):
    """What every flow has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = SETTINGS_VERSION
    #: the incremental fetch re-reads this much before the cursor, to catch late writes
    overlap_minutes: int = Field(15, ge=0, le=24 * 60)
    #: the daily sweep re-reads what changed in the last N days
    sweep_days: int = Field(30, ge=1, le=3660)
    #: temporary failures of one record before it stops and waits for a person
    max_attempts: int = Field(8, ge=1, le=100)


@dataclass(frozen=True, slots=True)
class Condition:
    """One import condition checked against one record: what it had, what the flow wants.

    ``reason`` is the ``ReasonCode`` a record gets when the condition is not met; the same list
    decides (the first unmet condition is the skip reason) and explains ("where is my order?").
    """

    reason: str
    met: bool
    value: Any
    wanted: Any


def _str_list(value: Any) -> Any:
    if isinstance(value, str):
        return [v.strip() for v in value.replace(";", ",").split(",") if v.strip()]
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value]
    return value


class OrderSelection(FlowSettings):
    """Which orders go: the seed's "tot in detail" import conditions and the start point."""

    #: source status ids to import (empty: none — the owner must choose)
    statuses: tuple[str, ...] = ()
    #: payment methods to import (empty: all)
    payment_methods: tuple[str, ...] = ()
    #: delivery countries to import (ISO codes; empty: all)
    countries: tuple[str, ...] = ()
    #: orders placed before this date are never imported (the start point)
    from_date: dt.date | None = None
    #: orders with a lower (numeric) order number are never imported (the other start point)
    from_number: int | None = Field(None, ge=0)
    #: order currencies to import (empty: all — an order in another currency than the target
    #: books in is converted at the ECB rate of its date, stated on the invoice)
    currencies: tuple[str, ...] = ()

    @field_validator("statuses", "payment_methods", "countries", "currencies", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _str_list(value)

    @field_validator("countries", "currencies")
    @classmethod
    def _codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.upper() for v in value)

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if len(code) != 2 or not code.isalpha():
                raise ValueError(f"{code!r} is not a two-letter country code")
        return value

    def skip_reason(self, order: Order) -> str:
        """Why this order is not imported, as a ``ReasonCode`` value; "" when it is."""
        for condition in self.conditions(order):
            if not condition.met:
                return condition.reason
        return ""

    def conditions(self, order: Order) -> Iterator[Condition]:
        """Each condition in the order they are checked (lazily: deciding stops at the first
        unmet one). Conditions the owner left open (all payment methods …) are not listed."""
        if self.from_date:
            yield Condition(
                ReasonCode.BEFORE_START_DATE, order.date >= self.from_date, order.date, self.from_date
            )
        if self.from_number is not None and order.number.isdigit():
            met = int(order.number) >= self.from_number
            yield Condition(ReasonCode.BEFORE_START_NUMBER, met, order.number, self.from_number)
        yield Condition(
            ReasonCode.STATUS_NOT_SELECTED, order.status in self.statuses, order.status, self.statuses
        )
        if self.payment_methods:
            met = order.payment_method in self.payment_methods
            yield Condition(
                ReasonCode.PAYMENT_METHOD_NOT_SELECTED, met, order.payment_method, self.payment_methods
            )
        if self.countries:
            country = order.country_code.upper()
            yield Condition(
                ReasonCode.COUNTRY_NOT_SELECTED, country in self.countries, country, self.countries
            )
        if self.currencies:
            currency = order.currency.upper()
            met = currency in self.currencies
            yield Condition(ReasonCode.CURRENCY_NOT_SUPPORTED, met, currency, self.currencies)


class OrderFlowSettings(OrderSelection):
    """Orders → invoices (and credit orders → credit notes): selection plus the invoice rules."""

    #: put before the shop's order number (WA1001 / WB1001): unique per shop
    order_prefix: str = Field("", max_length=20)
    description_template: str = Field("Bestelling {number}", max_length=200)
    #: "paid", "due" or "from_order"
    payment_status: Literal["paid", "due", "from_order"] = "from_order"
    seller_country: str = Field("NL", min_length=2, max_length=2)
    #: the shop's own VAT number: VIES is asked with it, so every answer has a consultation number
    seller_vat_number: str = Field("", max_length=20)
    oss_registered: bool = True
    #: destination VAT (OSS) even below the EUR 10,000 threshold
    oss_opt_in: bool = False
    #: distance sales (excl. VAT) this year made outside koppeling; set, the threshold is watched
    #: from the ledger (else ``oss_registered`` decides whether destination VAT applies)
    oss_sales_before: Decimal | None = Field(None, ge=0, le=Decimal("100000000"))
    #: the calendar year that figure is for: it counts as that year's (and next year as last
    #: year's, for the last-year rule), never again; empty: each order's own year (enter it anew
    #: each January)
    oss_sales_year: int | None = Field(None, ge=2021, le=2100)
    #: seller rate → VAT category of the goods for destination rates ("9": "books")
    category_by_rate: dict[str, str] = Field(default_factory=dict)
    strict_icp: bool = False
    #: VIES cannot answer: hold the 0 % sale until it can (default) or book it on the format check
    vies_unavailable: Literal["hold", "book"] = "hold"
    #: shipping and fees without a rate: split over the goods' rates, or all at the highest
    fee_allocation: Literal["proportional", "highest"] = "proportional"
    voucher_kind: Literal["multi_purpose", "single_purpose"] = "multi_purpose"
    #: margin-scheme goods: hold for a person, or book under the target's margin VAT type
    margin_scheme: Literal["hold", "target"] = "hold"
    payment_terms_days: int | None = Field(None, ge=0, le=365)
    #: UNTDID 4461 payment means code for e-invoices ("58" SEPA credit transfer, "48" card)
    payment_means: str = Field("", max_length=4)
    #: a booked total may differ this much from what was sent before reconciliation reports it
    reconcile_tolerance: Decimal = Field(Decimal("0.00"), ge=0, le=100)
    #: what stays after delivery: "standard" (contents, for read-back and the dashboard) or
    #: "minimal" (number, date, batch); None: the target's default (sync.privacy)
    privacy: Literal["standard", "minimal"] | None = None
    #: warning codes that hold the order for a person instead of booking it with the warning noted
    #: (e.g. "vat_regime_fallback"); Verwerk then books it as it is
    hold_on: tuple[str, ...] = ()

    @field_validator("hold_on", mode="before")
    @classmethod
    def _hold_list(cls, value: Any) -> Any:
        return _str_list(value)

    @field_validator("seller_country")
    @classmethod
    def _seller(cls, value: str) -> str:
        return value.upper()

    @field_validator("description_template")
    @classmethod
    def _template(cls, value: str) -> str:
        if "{number}" not in value:
            raise ValueError("must contain {number}: the order number goes in the description")
        return value

    def invoice_settings(
        self,
        order: Order,
        *,
        totals_method: TotalsMethod | None = None,
        booking_currencies: tuple[str, ...] = ("EUR",),
    ) -> InvoiceSettings:
        """Core's settings for ``order``: the flow's choices and the target's facts (how it totals
        an invoice, which currencies it books in; ``"*"``: any)."""
        status = {"paid": PaymentStatus.PAID, "due": PaymentStatus.DUE}.get(self.payment_status)
        currencies = (order.currency.upper(),) if "*" in booking_currencies else booking_currencies
        return InvoiceSettings(
            seller_country=self.seller_country,
            oss_registered=self.oss_registered,
            reference_prefix=self.order_prefix,
            description_template=self.description_template,
            payment_status=status,
            strict_icp=self.strict_icp,
            totals_method=totals_method,
            fee_allocation=self.fee_allocation,
            voucher_kind=self.voucher_kind,
            margin_scheme=self.margin_scheme,
            vies_unavailable=self.vies_unavailable,
            oss_opt_in=self.oss_opt_in,
            category_by_rate=dict(self.category_by_rate),
            booking_currencies=currencies,
            payment_means=self.payment_means,
            payment_terms_days=self.payment_terms_days,
        )

    def reference(self, number: str) -> str:
        return f"{self.order_prefix}{number}"


class BatchFlowSettings(OrderFlowSettings):
    """Orders → one batch document per day, delivered once the day is over."""

    period: Literal["day"] = "day"
    #: local time from which the previous day's batch is delivered
    deliver_at: dt.time = dt.time(6, 0)


class ProductFlowSettings(FlowSettings):
    """Articles: created when new; updated only with the "update" box ticked, never the protected fields."""

    update_existing: bool = False
    #: fields written when an article is created but never overwritten by an update
    protected_fields: tuple[str, ...] = ()
    only_active: bool = True
    #: custom filters: field -> value the article must have (e.g. {"unit": "stuk"})
    filters: dict[str, str] = Field(default_factory=dict)

    @field_validator("protected_fields", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _str_list(value)

    @field_validator("protected_fields")
    @classmethod
    def _known_fields(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [f for f in value if f not in PRODUCT_FIELDS]
        if unknown:
            raise ValueError(
                f"unknown product field(s) {', '.join(unknown)}; known: {', '.join(PRODUCT_FIELDS)}"
            )
        return value

    @model_validator(mode="after")
    def _filters_known(self) -> ProductFlowSettings:
        unknown = [f for f in self.filters if f not in PRODUCT_FIELDS]
        if unknown:
            raise ValueError(f"filters on unknown product field(s): {', '.join(unknown)}")
        return self


class StockFlowSettings(FlowSettings):
    """Stock: available (on hand minus sales reservations) to the target."""

    #: "from_source": managed as the source says; "always"/"never": override
    managed: Literal["from_source", "always", "never"] = "from_source"
    #: which figure goes: on hand, available (minus sales reservations), or available plus incoming
    calculation: StockCalculation = StockCalculation.AVAILABLE


class CustomerFlowSettings(FlowSettings):
    """Customers: matched on e-mail; created when unknown, updated only when allowed."""

    update_existing: bool = True


def migrate(data: Mapping[str, Any]) -> dict[str, Any]:
    """Upgrade stored settings to ``SETTINGS_VERSION``, one step at a time.

    Version 1 was the settings of a whole link: the target's part (``accounts``, ``cost_centers``)
    moved to the flow's target settings (see :func:`split_v1`).
    """
    upgraded = dict(data)
    version = int(upgraded.get("version", 1) or 1)
    if version > SETTINGS_VERSION:
        raise SettingsError({"version": f"version {version} is newer than this koppeling knows"})
    if version == 1:
        upgraded, _ = split_v1(upgraded)
        version = 2
    upgraded["version"] = version
    return upgraded


#: the keys of a version-1 link's settings that belong to the (Acumulus) target
V1_TARGET_KEYS = ("accounts", "cost_centers")


def split_v1(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Version-1 link settings -> (generic flow settings v2, target settings)."""
    generic = {k: v for k, v in data.items() if k not in V1_TARGET_KEYS}
    target = {k: data[k] for k in V1_TARGET_KEYS if k in data}
    generic["version"] = SETTINGS_VERSION
    return generic, target


def validate(model: type[M], data: Mapping[str, Any] | None, *, where: str = "") -> M:
    """Build ``model`` from ``data``; every problem at once, located, in a ``SettingsError``."""
    try:
        return model.model_validate(dict(data or {}))
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for error in exc.errors():
            location = ".".join(str(part) for part in error["loc"]) or "(settings)"
            key = f"{where}.{location}" if where else location
            message = str(error["msg"]).removeprefix("Value error, ")
            problems[key] = message if key not in problems else f"{problems[key]}; {message}"
        raise SettingsError(problems) from None
