"""The dashboard's totals come from those the database keeps and say what the ledger says;
Rapportage and Fouten page by the sort key, every row once, ties included."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from koppeling.sync import ledger_totals
from koppeling.sync.models import RecordState, SyncRecord
from koppeling.web.pages.ledger import ReportFilter, totals

pytestmark = pytest.mark.django_db

SENT = (
    {"country": "NL", "regime": "domestic", "currency": "EUR"},
    {"country": "BE", "regime": "eu_b2b", "currency": "EUR"},
    {"country": "US", "regime": "export", "currency": "USD"},
)


@pytest.fixture
def ledger(link):
    """130 booked rows (ties in ``pushed_at`` in threes), 20 failed, over four months."""
    flow = link.flows.get()
    now = timezone.now().replace(microsecond=0)
    rows = [
        SyncRecord(
            link=link,
            flow=flow,
            source_id=f"b{i}",
            source_number=str(70000 + i),
            state=RecordState.PUSHED,
            order_date=timezone.localdate() - dt.timedelta(days=i),
            pushed_at=now - dt.timedelta(hours=i // 3),
            reconcile_status="ok" if i % 4 else "mismatch",
            amount_inc=Decimal(1000 + i) / 100,
            sent={**SENT[i % 3], "total_inc": str(Decimal(1000 + i) / 100)},
        )
        for i in range(130)
    ]
    rows += [
        SyncRecord(
            link=link,
            flow=flow,
            source_id=f"f{i}",
            source_number=str(80000 + i),
            state=RecordState.FAILED,
            error_code="rule" if i % 2 else "target_rejected",
            updated_at=now - dt.timedelta(minutes=i // 2),
        )
        for i in range(20)
    ]
    SyncRecord.objects.bulk_create(rows)
    return link


QUERIES = (
    {},
    {"regime": "domestic"},
    {"state": "all", "country": "be"},
    {"start": (dt.date.today() - dt.timedelta(days=45)).isoformat(), "regime": "export"},
    {"start": (dt.date.today() - dt.timedelta(days=100)).isoformat(), "end": dt.date.today().isoformat()},
    {"read_back": "mismatch", "end": (dt.date.today() - dt.timedelta(days=10)).isoformat()},
    {"state": "failed"},
    {"q": "70003"},  # a search: counted from the rows
)


@pytest.mark.parametrize("query", QUERIES)
def test_rapportage_totals_are_the_ledgers(signed_in, ledger, owner, query):
    if query is QUERIES[3]:
        ledger_totals.compact()  # folded or waiting: the same answer
    context = signed_in.get(reverse("pages:report"), query).context
    flt = ReportFilter.from_query(_querydict(query))
    count, per_currency = totals(flt.apply(SyncRecord.objects.filter(link__organisation=ledger.organisation)))
    assert context["count"] == count
    assert [(t["currency"], t["n"], t["total_inc"] or 0) for t in context["per_currency"]] == [
        (t["currency"], t["n"], t["total_inc"] or 0) for t in per_currency
    ]
    assert context["pager"].count == count


def _querydict(query):
    from django.http import QueryDict

    found = QueryDict(mutable=True)
    found.update(query)
    return found


def _walk(client, url, query, direction="next"):
    """Follow the pager's links from the first page to the last, then back to the first."""
    response = client.get(url, query)
    pages = [response.context]
    while pages[-1]["pager"].next_query:
        pages.append(client.get(f"{url}?{pages[-1]['pager'].next_query}").context)
    back = [pages[-1]]
    while back[-1]["pager"].previous_query:
        back.append(client.get(f"{url}?{back[-1]['pager'].previous_query}").context)
    return pages, back


def test_rapportage_pages_by_the_sort_key_every_row_once(signed_in, ledger):
    url = reverse("pages:report")
    pages, back = _walk(signed_in, url, {})
    numbers = [r["number"] for page in pages for r in page["rows"]]
    expected = [
        r.source_number
        for r in SyncRecord.objects.filter(state=RecordState.PUSHED).order_by("-pushed_at", "-id")
    ]
    assert numbers == expected and len(set(numbers)) == 130
    assert [p["pager"].page for p in pages] == [1, 2, 3]
    assert "after=" in pages[0]["pager"].next_query and "page=2" in pages[0]["pager"].next_query
    assert [p["pager"].page for p in back] == [3, 2, 1]
    assert [r["number"] for r in back[-1]["rows"]] == numbers[:50]
    # a cursor that cannot be read is no cursor: the page by its number
    assert signed_in.get(url, {"after": "nonsense", "page": 2}).context["pager"].page == 2


def test_fouten_counts_and_reasons_from_the_totals(signed_in, ledger):
    context = signed_in.get(reverse("pages:failures")).context
    assert context["pager"].count == 20
    assert {(r["code"], r["n"]) for r in context["reasons"]} == {("rule", 10), ("target_rejected", 10)}
    assert signed_in.get(reverse("pages:failures"), {"reason": "rule"}).context["pager"].count == 10
    SyncRecord.objects.filter(source_id="f1").update(state=RecordState.PENDING)
    assert signed_in.get(reverse("pages:failures"), {"reason": "rule"}).context["pager"].count == 9
    pages, _back = _walk(signed_in, reverse("pages:failures"), {})
    assert len(pages) == 1 and len(pages[0]["rows"]) == 19


def test_overview_chart_and_open_counts_from_the_totals(signed_in, ledger):
    SyncRecord.objects.filter(source_id="f0").update(state=RecordState.NEEDS_REVIEW)
    context = signed_in.get(reverse("pages:overview")).context
    assert (context["n_failed"], context["n_review"]) == (19, 1)
    chart = dict(zip(context["chart"]["labels"], context["chart"]["values"], strict=True))
    pushed = SyncRecord.objects.filter(state=RecordState.PUSHED)
    direct = {}
    for record in pushed:
        day = timezone.localdate(record.pushed_at).isoformat()
        if day in chart:
            direct[day] = direct.get(day, 0) + 1
    assert {day: n for day, n in chart.items() if n} == direct and sum(direct.values()) > 0


def test_the_compaction_is_a_periodic_task(ledger):
    from huey.contrib.djhuey import HUEY

    from koppeling.sync import tasks
    from koppeling.sync.totals_models import LedgerTotalDelta

    names = {getattr(task, "name", task.__name__) for task in HUEY._registry._periodic_tasks}
    assert "compact_ledger_totals" in names
    assert LedgerTotalDelta.objects.exists()
    assert tasks.compact_ledger_totals.call_local() > 0
    assert not LedgerTotalDelta.objects.exists()
