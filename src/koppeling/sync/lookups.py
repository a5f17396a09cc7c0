"""What the runtime looks up for core before an order becomes a document (core does no I/O).

``core.facts.InvoiceFacts`` carries them into ``order_to_invoice``:

- **VIES** — for an EU business customer in another member state with a VAT number: the answer
  cached in ``VatCheck`` until its ``valid_until``, else VIES is asked (the shop's own VAT number
  as requester, so the answer carries a consultation number). Without a VIES proof core never
  books a 0 % intra-community supply; an unavailable VIES makes the record wait and try again.
- **OSS** — only when the owner entered the distance sales made outside koppeling
  (``oss_sales_before``): the distance sales booked through every link of the organisation, per
  calendar year, from the ledger, plus that figure and the sales of this run so far. Without the
  figure the flow's ``oss_registered`` decides, as before.
- **Exchange rate** — for an order not in euros: the ECB reference rate of its date from
  ``ExchangeRateDay`` (a daily task fetches them), else the shipped fallback snapshot (dated; core
  states the rate and its date on the invoice).
- **Original invoice** — for a credit order: the invoice the link booked for the credited order.

One ``Lookups`` per run: its caches live as long as the run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings as django_settings
from django.db.models import DecimalField, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.errors import ConnectorError
from koppeling.core import vat
from koppeling.core.exchange import ExchangeRateError, ExchangeRateTable, load_fallback
from koppeling.core.facts import (
    ExchangeRate,
    InvoiceFacts,
    OriginalInvoice,
    OssPosition,
    VatCheckStatus,
    VatNumberCheck,
    compact_vat_number,
)
from koppeling.core.models import Invoice, Order, VatRegime
from koppeling.core.oss import DistanceSales, oss_status, starting_figures

from .models import ExchangeRateDay, Flow, RecordState, SyncRecord, VatCheck

__all__ = [
    "DISTANCE_KEY",
    "Lookups",
    "VatChecks",
    "booked_distance_sales",
    "distance_sale_ex",
    "refresh_exchange_rates",
    "sale_ex",
]

log = logging.getLogger(__name__)

#: the key of a pushed row's ``sent`` that holds its distance-sale amount excl. VAT (for OSS)
DISTANCE_KEY = "distance_sale_ex"


class Lookups:
    """The facts for the orders of one run of one flow."""

    def __init__(
        self,
        flow: Flow,
        settings: Any,
        now: Callable[[], dt.datetime],
        vies_factory: Callable[[str], Any] | None = None,
    ) -> None:
        self.flow = flow
        self.settings = settings
        self.now = now
        requester = str(getattr(settings, "seller_vat_number", "") or "")
        self.vat_checks = VatChecks(requester, now, vies_factory)
        self._rates: ExchangeRateTable | None = None
        self._oss_sales: DistanceSales | None = None

    def facts(self, order: Order) -> InvoiceFacts:
        return InvoiceFacts(
            vat_check=self.vat_check(order),
            oss=self.oss(order),
            exchange_rate=self.exchange_rate(order),
            original=self.original(order),
        )

    # -- VIES ----------------------------------------------------------------------------------------

    def vat_check(self, order: Order) -> VatNumberCheck | None:
        customer = order.customer
        seller = str(getattr(self.settings, "seller_country", "NL")).upper()
        country = (order.delivery or customer).country_code.upper() or customer.country_code.upper()
        if not customer.vat_number or not vat.is_eu(country, order.date) or country == seller:
            return None
        return self.vat_checks.check(customer.vat_number)

    def close(self) -> None:
        self.vat_checks.close()

    # -- OSS -------------------------------------------------------------------------------------------

    def oss(self, order: Order) -> OssPosition | None:
        before = getattr(self.settings, "oss_sales_before", None)
        if before is None:
            return None
        if self._oss_sales is None:
            self._oss_sales = booked_distance_sales(self.flow)
        figure = starting_figures(before, getattr(self.settings, "oss_sales_year", None), order.date.year)
        totals = self._oss_sales.totals_for(order.date)  # by the sale's date, not by booking order
        return oss_status(totals, figure, year=order.date.year, sale_amount=sale_ex(order))

    def prepared(self, invoice: Invoice, order: Order) -> None:
        """Count a distance sale of this run at once (the next order of the run sees it)."""
        amount = distance_sale_ex(invoice, str(getattr(self.settings, "seller_country", "NL")))
        if amount is not None and self._oss_sales is not None:
            self._oss_sales.add(order.date, amount)

    # -- exchange rates ------------------------------------------------------------------------------

    def exchange_rate(self, order: Order) -> ExchangeRate | None:
        currency = order.currency.upper()
        if currency == "EUR":
            return None
        on = order.supply_date or order.date
        row = (
            ExchangeRateDay.objects.filter(
                currency=currency, date__lte=on, date__gte=on - dt.timedelta(days=7)
            )
            .order_by("-date")
            .first()
        )
        if row is not None:
            return ExchangeRate(currency, row.rate, row.date, row.source)
        if self._rates is None:
            self._rates = load_fallback()
        try:
            return self._rates.rate(currency, on)
        except ExchangeRateError:
            return None  # core stops the order: no rate known for its date

    # -- credit notes ----------------------------------------------------------------------------------

    def original(self, order: Order) -> OriginalInvoice | None:
        if not order.is_credit or not order.credited_number:
            return None
        booked = (
            SyncRecord.objects.filter(
                link_id=self.flow.link_id,
                object_type="order",
                source_number=order.credited_number,
                state=RecordState.PUSHED,
            )
            .exclude(target_number="", target_id="")
            .first()
        )
        if booked is None or booked.order_date is None:
            return None
        number = booked.target_number or booked.target_id
        return OriginalInvoice(number, booked.order_date, supply_date=booked.order_date)


class VatChecks:
    """VIES answers through the ``VatCheck`` cache (shared by every link and the file converter):
    a cached answer until its ``valid_until``, else VIES is asked once per number per run."""

    def __init__(
        self,
        requester: str = "",
        now: Callable[[], dt.datetime] | None = None,
        vies_factory: Callable[[str], Any] | None = None,
    ) -> None:
        self.requester = requester
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self._factory = vies_factory or _vies_checker
        self._vies: Any = None
        self._seen: dict[str, VatNumberCheck] = {}

    def check(self, number: str) -> VatNumberCheck:
        """VIES's answer about ``number`` (``VatNumberCheck``; unavailable is an answer too)."""
        compact = compact_vat_number(number)
        if compact not in self._seen:
            self._seen[compact] = self._cached(compact) or self._ask(compact)
        return self._seen[compact]

    __call__ = check

    def _cached(self, number: str) -> VatNumberCheck | None:
        row = VatCheck.objects.filter(vat_number=number).first()
        if row is None or (row.valid_until is not None and row.valid_until <= self.now()):
            return None
        return VatNumberCheck(
            row.vat_number,
            VatCheckStatus(row.status),
            row.checked_at,
            consultation_number=row.consultation_number,
            source=row.source,
            name=row.name,
            address=row.address,
            valid_until=row.valid_until,
            detail=row.detail,
        )

    def _ask(self, number: str) -> VatNumberCheck:
        if self._vies is None:
            self._vies = self._factory(self.requester)
        try:
            check = self._vies.check_number(number, now=self.now())
        except ConnectorError as exc:  # e.g. the shop's own number refused as requester
            log.warning("VIES check of %s failed: %s", number, exc.code)
            return VatNumberCheck(number, VatCheckStatus.UNAVAILABLE, self.now(), detail=str(exc.code)[:80])
        VatCheck.objects.update_or_create(
            vat_number=check.vat_number[:20],
            defaults={
                "status": str(check.status),
                "checked_at": check.checked_at,
                "consultation_number": check.consultation_number[:40],
                "source": check.source[:40],
                "name": check.name[:200],
                "address": check.address[:500],
                "valid_until": check.valid_until,
                "detail": check.detail[:80],
            },
        )
        return check

    def close(self) -> None:
        if self._vies is not None:
            self._vies.close()


def sale_ex(order: Order) -> Decimal:
    """The order's amount excl. VAT, before it is invoiced (the threshold counts sales excl. VAT):
    the shop's VAT total taken off where it gives one, else each line's own excl. amount, or its
    incl. amount at its rate; a line with neither rate nor excl. price counts in full (never less)."""
    if order.total_vat is not None:
        return order.total_inc - order.total_vat
    total = Decimal(0)
    for line in order.lines:
        if line.total_ex is not None:
            total += line.total_ex
        elif line.unit_price_ex is not None:
            total += line.unit_price_ex * line.quantity
        else:
            inc = (
                line.total_inc
                if line.total_inc is not None
                else (line.unit_price_inc or Decimal(0)) * line.quantity
            )
            total += inc / (1 + line.vat_rate / 100) if line.vat_rate is not None else inc
    return total


def distance_sale_ex(invoice: Invoice, seller_country: str) -> Decimal | None:
    """The amount excl. VAT of a distance sale (goods to a consumer in another member state,
    taxed there under OSS or here below the threshold); None for any other sale."""
    country = (invoice.delivery_country or invoice.customer.country_code or "").upper()
    if invoice.regime not in (VatRegime.EU_B2C_OSS, VatRegime.DOMESTIC):
        return None
    if not country or country == seller_country.upper() or not vat.is_eu(country, invoice.issue_date):
        return None
    return invoice.total_ex


def booked_distance_sales(flow: Flow) -> DistanceSales:
    """Distance sales booked through every link of the organisation, per day of sale: this year and
    the two before (a sale decides by its own year and the one before it, and a backfill may
    book last year's orders)."""
    this_year = dt.date.today().year
    amount = Cast(KT(f"sent__{DISTANCE_KEY}"), DecimalField(max_digits=18, decimal_places=2))
    rows = (
        SyncRecord.objects.filter(
            link__organisation_id=flow.link.organisation_id,
            state=RecordState.PUSHED,
            order_date__gte=dt.date(this_year - 2, 1, 1),
            sent__has_key=DISTANCE_KEY,
        )
        .values("order_date")
        .annotate(total=Sum(amount))
        .order_by()
        .values_list("order_date", "total")
    )  # summed by the database: one row per day at most, not one per sale
    return DistanceSales({day: Decimal(total or 0) for day, total in rows})


def _vies_checker(requester: str) -> Any:
    from koppeling.connectors.vies.client import ViesChecker

    options = django_settings.KOPPELING
    config = ConnectionConfig(
        system="vies",
        base_url=str(options.get("VIES_URL", "") or ""),
        credentials={"requester_vat_number": requester},
    )
    return ViesChecker(config)


def refresh_exchange_rates(which: str = "90d", http: Any = None) -> int:
    """Fetch the ECB's rates and store the days not stored yet; returns how many were added."""
    from koppeling.connectors.ecb.client import EcbRates

    config = ConnectionConfig(
        system="ecb", base_url=str(django_settings.KOPPELING.get("ECB_URL", "") or ""), credentials={}
    )
    client = EcbRates(config, http)
    try:
        table = client.fetch(which)
    finally:
        client.close()
    doc = table.as_json()
    known = set(ExchangeRateDay.objects.values_list("currency", "date"))
    rows = []
    for day, by_currency in dict(doc["rates"]).items():  # type: ignore[call-overload]
        on = dt.date.fromisoformat(day)
        for currency, rate in by_currency.items():
            if (currency, on) not in known:
                rows.append(
                    ExchangeRateDay(currency=currency, date=on, rate=Decimal(rate), source=table.source)
                )
    ExchangeRateDay.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
