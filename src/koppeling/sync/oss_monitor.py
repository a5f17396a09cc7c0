"""The OSS monitor: an organisation's EU distance sales against the EUR 10,000 threshold.

What the dashboard's OSS page shows, computed the way the runtime decides (``sync.lookups`` and
``core.oss``): the distance sales excl. VAT of this and last calendar year from the ledger (pushed
rows whose ``sent`` carries ``DISTANCE_KEY``, every link of the organisation), per destination
country, plus the starting figure the owner entered (``oss_sales_before``: distance sales made
outside koppeling, for the calendar year ``oss_sales_year`` — next year it counts as last year's —
or, without a year, for every year, as the runtime reads it). Past the threshold the customer's
country's VAT applies (OSS) from the sale that crosses it on; when last year's total exceeded it,
all of this year is past it.

**Several order flows.** The starting figure is a setting of each order flow, but what it states
is one fact about the organisation (its sales outside koppeling), and the ledger part is already
organisation-wide. The monitor takes the **largest** figure entered, not the sum: an owner with two
shops enters the same outside sales in both flows, and summing would count them twice. The largest
is also the figure of the flow the runtime switches first, so the page never says "below" while a
flow already books destination VAT. When the flows' figures differ the page lists each one.

One query reads only the rows and fields it needs (the amount and country as text from the JSON),
so the running total is added up in ``Decimal`` in Python, in the order the law counts sales: order
date, then the time the ledger booked it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models.fields.json import KT

from koppeling.core.oss import OSS_THRESHOLD, starting_figures

from .flow_settings import OrderFlowSettings, SettingsError, migrate, validate
from .flowkinds import KINDS
from .lookups import DISTANCE_KEY
from .models import Flow, RecordState, SyncRecord

__all__ = ["CountryLine", "CrossingSale", "FlowFigure", "OssMonitor", "oss_monitor"]

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class CountryLine:
    """Distance sales to one destination country, excl. VAT."""

    country: str
    this_year: Decimal = ZERO
    last_year: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class CrossingSale:
    """The first pushed sale whose running total this year (with the starting figure) exceeded the
    threshold: from it on destination VAT applies."""

    record_id: int
    number: str
    order_date: dt.date
    link_id: int
    amount: Decimal
    running_total: Decimal


@dataclass(frozen=True, slots=True)
class FlowFigure:
    """One order flow's OSS settings, as the runtime reads them."""

    flow_id: int
    link_name: str
    starting_figure: Decimal | None
    oss_registered: bool
    oss_opt_in: bool
    seller_country: str
    #: the year the figure is for (None: each order's own year, as the runtime reads it)
    figure_year: int | None = None

    def figure_in(self, year: int, this_year: int) -> Decimal | None:
        """The figure as it counts in ``year`` when the sales being decided are ``this_year``'s
        (``core.oss.starting_figures``, as the runtime counts it)."""
        if self.starting_figure is None:
            return None
        return starting_figures(self.starting_figure, self.figure_year, this_year).get(year)


@dataclass(frozen=True, slots=True)
class OssMonitor:
    """An organisation's position against the threshold on ``today``; amounts excl. VAT."""

    year: int
    threshold: Decimal
    flows: tuple[FlowFigure, ...]
    booked_this_year: Decimal
    booked_last_year: Decimal
    countries: tuple[CountryLine, ...]
    crossing: CrossingSale | None

    @property
    def watched(self) -> bool:
        """The runtime watches the threshold only for flows with a starting figure."""
        return any(f.starting_figure is not None for f in self.flows)

    @property
    def starting_figure(self) -> Decimal:
        """The largest figure entered for this year (see the module's note on several flows)."""
        return _largest(self.flows, self.year, self.year)

    @property
    def starting_figure_last_year(self) -> Decimal:
        """A figure entered for last year counts there (the last-year rule), not this year."""
        return _largest(self.flows, self.year - 1, self.year)

    @property
    def figures_differ(self) -> bool:
        return len({f.starting_figure for f in self.flows}) > 1

    @property
    def this_year_total(self) -> Decimal:
        return self.booked_this_year + self.starting_figure

    @property
    def last_year_total(self) -> Decimal:
        return self.booked_last_year + self.starting_figure_last_year

    @property
    def last_year_above(self) -> bool:
        return self.last_year_total > self.threshold

    @property
    def past_threshold(self) -> bool:
        """Destination VAT applies: last year above, or this year crossed (once crossed, a later
        credit note does not bring the seller back below it for the rest of the year)."""
        return (
            self.last_year_above
            or self.crossing is not None
            or self.starting_figure > self.threshold
            or self.this_year_total > self.threshold
        )

    @property
    def crossed_before_ledger(self) -> bool:
        """The starting figure alone exceeded the threshold: no booked sale crossed it."""
        return not self.last_year_above and self.starting_figure > self.threshold

    @property
    def headroom(self) -> Decimal:
        """What may still be sold this year at the seller's own VAT (0 once past)."""
        return ZERO if self.past_threshold else max(ZERO, self.threshold - self.this_year_total)

    @property
    def meter_value(self) -> Decimal:
        """This year's total for the gauge, kept between 0 and the threshold."""
        return min(max(self.this_year_total, ZERO), self.threshold)

    @property
    def percent(self) -> int:
        return int(self.meter_value * 100 / self.threshold) if self.threshold else 100

    @property
    def seller_country(self) -> str:
        """Whose VAT applies below the threshold (the first order flow's; NL without one)."""
        return self.flows[0].seller_country if self.flows else "NL"

    @property
    def opted_in(self) -> bool:
        return any(f.oss_opt_in for f in self.flows)

    @property
    def unregistered_flows(self) -> tuple[FlowFigure, ...]:
        """Watched flows not registered for OSS while past the threshold: the runtime holds their
        EU consumer orders (``oss_not_registered``) until the owner registers."""
        if not self.past_threshold:
            return ()
        return tuple(f for f in self.flows if f.starting_figure is not None and not f.oss_registered)


def _largest(flows: tuple[FlowFigure, ...], year: int, this_year: int) -> Decimal:
    """The largest figure counting in ``year`` (see the module's note on several flows)."""
    return max((f for flow in flows if (f := flow.figure_in(year, this_year)) is not None), default=ZERO)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _order_kinds() -> list[str]:
    return [name for name, kind in KINDS.items() if issubclass(kind.settings_model, OrderFlowSettings)]


def _figure(flow: Flow) -> FlowFigure:
    """The flow's OSS settings; a stored document the model refuses is read key by key (the page
    must still show the figures that the runtime will refuse until they are fixed)."""
    defaults = OrderFlowSettings.model_fields
    try:
        settings = validate(OrderFlowSettings, migrate(flow.settings or {}))
        before, registered = settings.oss_sales_before, settings.oss_registered
        opt_in, country, figure_year = settings.oss_opt_in, settings.seller_country, settings.oss_sales_year
    except SettingsError:
        raw = flow.settings or {}
        before = _decimal(raw.get("oss_sales_before"))
        registered = bool(raw.get("oss_registered", defaults["oss_registered"].default))
        opt_in = bool(raw.get("oss_opt_in", defaults["oss_opt_in"].default))
        country = str(raw.get("seller_country") or defaults["seller_country"].default)
        figure_year = raw.get("oss_sales_year") if isinstance(raw.get("oss_sales_year"), int) else None
    before = Decimal(before) if before is not None else None
    return FlowFigure(flow.pk, flow.link.name, before, registered, opt_in, country.upper(), figure_year)


def flow_figures(organisation_id: int) -> tuple[FlowFigure, ...]:
    flows = (
        Flow.objects.filter(link__organisation_id=organisation_id, kind__in=_order_kinds())
        .select_related("link")
        .order_by("link__name", "pk")
    )
    return tuple(_figure(flow) for flow in flows)


def distance_rows(organisation_id: int, year: int):
    """(pk, number, order date, link, country, amount text) of the distance sales of ``year`` and
    the year before, in the order they count: order date, then when they were pushed."""
    return (
        SyncRecord.objects.filter(
            link__organisation_id=organisation_id,
            state=RecordState.PUSHED,
            order_date__year__gte=year - 1,
            order_date__year__lte=year,
            sent__has_key=DISTANCE_KEY,
        )
        .annotate(oss_country=KT("sent__country"), oss_amount=KT(f"sent__{DISTANCE_KEY}"))
        .order_by("order_date", "pushed_at", "pk")
        .values_list("pk", "source_number", "order_date", "link_id", "oss_country", "oss_amount")
    )


def oss_monitor(organisation_id: int, today: dt.date | None = None) -> OssMonitor:
    """The organisation's OSS position on ``today`` (the site's date by default)."""
    if today is None:
        from django.utils import timezone

        today = timezone.localdate()
    year = today.year
    flows = flow_figures(organisation_id)
    start = _largest(flows, year, year)
    per_country: dict[str, list[Decimal]] = {}
    booked = {year: ZERO, year - 1: ZERO}
    running = start
    crossing: CrossingSale | None = None
    for pk, number, order_date, link_id, country, text in distance_rows(organisation_id, year):
        amount = _decimal(text) or ZERO
        line = per_country.setdefault((country or "").upper(), [ZERO, ZERO])
        line[0 if order_date.year == year else 1] += amount
        booked[order_date.year] += amount
        if order_date.year != year:
            continue
        running += amount
        if crossing is None and start <= OSS_THRESHOLD < running:
            crossing = CrossingSale(pk, number, order_date, link_id, amount, running)
    monitor = OssMonitor(year, OSS_THRESHOLD, flows, booked[year], booked[year - 1], (), None)
    if monitor.last_year_above:
        crossing = None  # all of this year is past the threshold: no sale crossed it
    countries = tuple(
        CountryLine(country, this, last)
        for country, (this, last) in sorted(per_country.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    )
    return dataclasses.replace(monitor, countries=countries, crossing=crossing)
