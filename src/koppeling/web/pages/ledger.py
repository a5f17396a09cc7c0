"""The ledger as the dashboard reads it: filters, totals, and what a booked row shows.

Rapportage, its exports and the benchmark use these same functions, so what is measured is what
is served. The ledger row keeps what was sent in ``sent`` (totals, customer, currency, VAT regime;
``country``, ``url`` and ``regime_reason`` when the runtime stores them); everything shown is
derived from it here, in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.fields.json import KT
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from koppeling.core.models import VatRegime
from koppeling.sync import ledger_totals
from koppeling.sync.models import ReconcileStatus, RecordState, SyncRecord
from koppeling.sync.outcomes import render

from ..access import organisations_for
from .common import parse_date, parse_int

#: the VAT regimes, each with what it means for the bookkeeper (shown beside the regime)
REGIMES: dict[str, tuple[Any, Any]] = {
    VatRegime.DOMESTIC: (_("Domestic"), _("Customer in the shop's own country: the shop's own VAT rates.")),
    VatRegime.REVERSE_CHARGE: (
        _("Reverse charge"),
        _("Domestic business customer; the VAT is reverse-charged (verlegd) to them."),
    ),
    VatRegime.EU_B2B: (
        _("Intra-community supply (ICP)"),
        _("EU business customer with a valid VAT number: 0% VAT, to be reported in the ICP return."),
    ),
    VatRegime.EU_B2C_OSS: (
        _("OSS distance sale"),
        _("EU consumer abroad: VAT of the customer's country, declared through the OSS return."),
    ),
    VatRegime.EXPORT: (_("Export"), _("Customer outside the EU VAT area: 0% VAT (export).")),
    VatRegime.MARGIN: (_("Margin scheme"), _("Second-hand goods: VAT on the margin only.")),
}

#: the states Rapportage filters on (booked is the default: the report of what went to the books)
STATES = (
    ("pushed", _("Booked")),
    ("all", _("All orders")),
    (RecordState.PENDING, _("Waiting")),
    (RecordState.FAILED, _("Failed")),
    (RecordState.NEEDS_REVIEW, _("Needs review")),
    (RecordState.SKIPPED, _("Skipped")),
    (RecordState.IGNORED, _("Ignored")),
)
READ_BACK = (
    (ReconcileStatus.OK, _("Matches")),
    (ReconcileStatus.MISMATCH, _("Differs")),
    (ReconcileStatus.UNAVAILABLE, _("Could not be read back")),
    ("none", _("Not checked yet")),
)
_STATE_VALUES = {value for value, _label in STATES}
_READ_BACK_VALUES = {value for value, _label in READ_BACK}


@dataclass
class ReportFilter:
    """Rapportage's filters, parsed from the query string (a bad value is no filter, not an error)."""

    q: str = ""
    state: str = RecordState.PUSHED
    read_back: str = ""
    start: Any = None
    end: Any = None
    country: str = ""
    regime: str = ""
    link: int | None = None
    #: part of a link's name (the filter of a firm with more links than a list can hold)
    link_name: str = ""
    problems: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, params: QueryDict) -> ReportFilter:
        state = params.get("state") or RecordState.PUSHED
        read_back = params.get("read_back", "")
        regime = params.get("regime", "")
        found = cls(
            q=params.get("q", "").strip()[:100],
            state=state if state in _STATE_VALUES else RecordState.PUSHED,
            read_back=read_back if read_back in _READ_BACK_VALUES else "",
            start=parse_date(params.get("start")),
            end=parse_date(params.get("end")),
            country=params.get("country", "").strip().upper()[:2],
            regime=regime if regime in REGIMES else "",
            link=parse_int(params.get("link")),
            link_name=params.get("link_name", "").strip()[:100],
        )
        for name in ("start", "end"):
            if params.get(name) and getattr(found, name) is None:
                found.problems.append(name)
        return found

    def apply(self, rows: QuerySet[SyncRecord]) -> QuerySet[SyncRecord]:
        rows = rows.filter(object_type__in=("order", "credit_order"))
        if self.state != "all":
            rows = rows.filter(state=self.state)
        if self.read_back:
            rows = rows.filter(reconcile_status="" if self.read_back == "none" else self.read_back)
        if self.start:
            rows = rows.filter(order_date__gte=self.start)
        if self.end:
            rows = rows.filter(order_date__lte=self.end)
        if self.country:
            rows = rows.filter(sent__country=self.country)
        if self.regime:
            rows = rows.filter(sent__regime=self.regime)
        if self.link:
            rows = rows.filter(link_id=self.link)
        elif self.link_name:
            rows = rows.filter(link__name__icontains=self.link_name)
        if self.q:
            rows = rows.filter(
                Q(source_number=self.q)
                | Q(reference__iexact=self.q)
                | Q(target_number=self.q)
                | Q(sent__customer_name__icontains=self.q)
                | Q(sent__customer_email__iexact=self.q)
            )
        return rows

    @property
    def sort_field(self) -> str:
        """Booked rows newest booking first; the others by their last change."""
        return "pushed_at" if self.state == RecordState.PUSHED else "updated_at"

    def ordered(self, rows: QuerySet[SyncRecord]) -> QuerySet[SyncRecord]:
        return rows.order_by(f"-{self.sort_field}", "-id")

    def from_totals(self) -> bool:
        """The kept totals answer this filter (link and search filters need the rows)."""
        return not (self.link or self.link_name or self.q)

    def totals_where(self) -> Q:
        """The filter on the totals' key (``sync.ledger_totals``), the dates aside."""
        where = Q(object_type__in=("order", "credit_order"))
        if self.state != "all":
            where &= Q(state=self.state)
        if self.read_back:
            where &= Q(reconcile_status="" if self.read_back == "none" else self.read_back)
        if self.country:
            where &= Q(country=self.country)
        if self.regime:
            where &= Q(regime=self.regime)
        return where


def kept_totals(
    user, where: Q, *, start: Any = None, end: Any = None, group: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """``n`` and ``amount`` per ``group`` over the user's organisations, order days ``start`` ..
    ``end`` (either open), from the totals the database keeps (``sync.ledger_totals``)."""
    return ledger_totals.totals_query(
        organisations_for(user).values("pk"),
        where=where,
        parts=ledger_totals.grains_for(start, end),
        days=None if start is None and end is None else (start, end),
        group=group,
    )


def filter_totals(user, flt: ReportFilter, rows: QuerySet[SyncRecord]) -> tuple[int, list[dict[str, Any]]]:
    """``totals`` of the filter: from the totals the database keeps where they answer it (exact,
    a few thousand rows at most read), else counted from the ``rows``."""
    if not flt.from_totals():
        return totals(rows)
    found = kept_totals(user, flt.totals_where(), start=flt.start, end=flt.end, group=("currency",))
    per_currency = [
        {"currency": row["currency"], "n": row["n"], "total_inc": row["amount"]}
        for row in sorted(found, key=lambda row: row["currency"])
    ]
    return sum(row["n"] for row in per_currency), per_currency


def totals(rows: QuerySet[SyncRecord]) -> tuple[int, list[dict[str, Any]]]:
    """How many rows, and the amounts (incl. VAT) per currency: one pass over the filtered rows."""
    per_currency = list(
        rows.order_by()
        .values(currency=KT("sent__currency"))
        .annotate(n=Count("id"), total_inc=Sum("amount_inc"))
        .order_by("currency")
    )
    count = sum(row["n"] for row in per_currency)
    for row in per_currency:
        row["currency"] = row["currency"] or ""
    return count, per_currency


# -- one row as shown ---------------------------------------------------------------------------------


def amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except (InvalidOperation, ValueError):
        return None


def regime_of(record: SyncRecord) -> tuple[str, str, str]:
    """(code, label, explanation) of the row's VAT regime, in the reader's language."""
    sent = record.sent if isinstance(record.sent, dict) else {}
    code = str(sent.get("regime", ""))
    label, meaning = REGIMES.get(code, (code, ""))
    reason = sent.get("regime_reason")
    if isinstance(reason, dict) and reason.get("code"):
        meaning = render(str(reason["code"]), reason.get("params") or {}).text
    return code, str(label), str(meaning)


def booked_row(record: SyncRecord) -> dict[str, Any]:
    """What Rapportage and the exports show of one ledger row."""
    sent = record.sent if isinstance(record.sent, dict) else {}
    total_ex, total_inc = amount(sent.get("total_ex")), amount(sent.get("total_inc"))
    if total_inc is None:
        total_inc = record.amount_inc
    vat = total_inc - total_ex if total_inc is not None and total_ex is not None else None
    regime, regime_label, regime_text = regime_of(record)
    url = str(sent.get("url", ""))
    return {
        "record": record,
        "number": record.source_number or record.source_id,
        "date": record.order_date,
        "customer": str(sent.get("customer_name", "")),
        "country": str(sent.get("country", "")),
        "currency": str(sent.get("currency", "")),
        "total_ex": total_ex,
        "vat": vat,
        "total_inc": total_inc,
        "regime": regime,
        "regime_label": regime_label,
        "regime_text": regime_text,
        "target_number": record.target_number or record.target_id,
        "target_url": url if url.startswith(("https://", "http://")) else "",
        "booked_at": record.pushed_at,
        "read_back": record.reconcile_status,
        "read_back_label": str(ReconcileStatus(record.reconcile_status).label)
        if record.reconcile_status in ReconcileStatus.values
        else record.reconcile_status,
    }
