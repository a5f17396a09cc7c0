"""Rapportage: which orders were booked when, as what, under which VAT regime; with CSV and Excel.

The seed's "Dashboard >> Rapportage". One filter feeds the page, its totals and both exports; the
totals come from those the database keeps (``sync.ledger_totals``) where they answer the filter,
and pages follow the sort key (``common.keyset_page``). Exported cells that a spreadsheet would
run as a formula (a customer named "=HYPERLINK…") are written as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from koppeling.sync.outcomes import render_list

from ..access import records_for
from .common import keyset_page, link_filter, query_without
from .ledger import READ_BACK, REGIMES, STATES, ReportFilter, booked_row, filter_totals

EXPORT_CHUNK = 2000


def _rows(request: HttpRequest, flt: ReportFilter):
    return flt.apply(records_for(request.user))


@login_required
def report(request: HttpRequest) -> HttpResponse:
    flt = ReportFilter.from_query(request.GET)
    rows = _rows(request, flt)
    count, per_currency = filter_totals(request.user, flt, rows)
    page, shown = keyset_page(request, rows.select_related("link"), count, flt.sort_field)
    context = {
        "filter": flt,
        "rows": [booked_row(r) for r in shown],
        "count": count,
        "per_currency": per_currency,
        "pager": page,
        "query": query_without(request.GET, "page"),
        "links": link_filter(request),
        "states": STATES,
        "read_back_choices": READ_BACK,
        "regimes": [(code, label) for code, (label, _text) in REGIMES.items()],
    }
    return render(request, "web/pages/report.html", context)


def _headers() -> list[str]:
    return [
        _("Order"),
        _("Order date"),
        _("Link"),
        _("Customer"),
        _("Country"),
        _("Currency"),
        _("Excl. VAT"),
        _("VAT"),
        _("Incl. VAT"),
        _("VAT regime"),
        _("State"),
        _("Invoice number"),
        _("Booked at"),
        _("Read back"),
        _("Warnings"),
    ]


def _cells(record) -> list:
    row = booked_row(record)
    booked = timezone.localtime(row["booked_at"]).strftime("%Y-%m-%d %H:%M") if row["booked_at"] else ""
    return [
        row["number"],
        row["date"].isoformat() if row["date"] else "",
        record.link.name,
        row["customer"],
        row["country"],
        row["currency"],
        row["total_ex"],
        row["vat"],
        row["total_inc"],
        row["regime_label"],
        record.get_state_display(),
        row["target_number"],
        booked,
        row["read_back_label"],
        "; ".join(w.text for w in render_list(record.warnings)),
    ]


def _export_rows(request: HttpRequest) -> Iterator[list]:
    flt = ReportFilter.from_query(request.GET)
    rows = flt.ordered(_rows(request, flt)).select_related("link")
    for record in rows.iterator(chunk_size=EXPORT_CHUNK):
        yield _cells(record)


def _text_safe(value) -> object:
    """A cell a spreadsheet must not evaluate: leading = + - @ (and tab/CR) become text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def _filename(extension: str) -> str:
    return f"rapportage-{timezone.localdate().isoformat()}.{extension}"


@login_required
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    writer = csv.writer(_Echo(), delimiter=";")

    def lines() -> Iterator[str]:
        yield "\ufeff"  # so Excel opens UTF-8 with the accents intact
        yield writer.writerow(_headers())
        for cells in _export_rows(request):
            yield writer.writerow(["" if c is None else _text_safe(c) for c in cells])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


@login_required
def export_xlsx(request: HttpRequest) -> HttpResponse:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Booked orders"))
    sheet.append(_headers())
    for cells in _export_rows(request):
        sheet.append([_text_safe(c) for c in cells])
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename("xlsx")}"'
    return response
