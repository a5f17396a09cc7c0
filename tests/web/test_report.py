"""Rapportage: booked orders with totals, regime and read-back; search, filters, paging, exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.web.conftest import PASSWORD, icp_order

from koppeling.sync.engine import Engine
from koppeling.sync.models import RecordState, SyncRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(link, seeded_shop):
    icp_order(seeded_shop, vat_number="BE1835477055")
    Engine(link).run()
    return list(SyncRecord.objects.filter(link=link, state=RecordState.PUSHED))


def test_report_lists_booked_orders_with_totals_regime_and_invoice(signed_in, booked):
    response = signed_in.get(reverse("pages:report"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    rows = response.context["rows"]
    assert response.context["count"] == len(booked) == len(rows)
    assert {r["number"] for r in rows} == {b.source_number for b in booked}
    totals = {t["currency"]: t["total_inc"] for t in response.context["per_currency"]}
    assert totals == {"EUR": sum(b.amount_inc for b in booked)}
    icp = next(r for r in rows if r["customer"] == "Bouchat PLC")
    assert icp["regime"] == "eu_b2b" and icp["vat"] == Decimal("0.00")
    assert "ICP" in icp["regime_label"] and "VAT number" in icp["regime_text"]
    assert icp["target_number"] == icp["record"].target_number != ""
    html = response.content.decode()
    assert f'data-order="{icp["number"]}"' in html and icp["regime_text"] in html


def test_report_links_the_invoice_where_the_target_gave_a_url(signed_in, booked):
    record = booked[0]
    SyncRecord.objects.filter(pk=record.pk).update(sent={**record.sent, "url": "https://books.example/inv/1"})
    SyncRecord.objects.filter(pk=booked[1].pk).update(sent={**booked[1].sent, "url": "javascript:alert(1)"})
    html = signed_in.get(reverse("pages:report")).content.decode()
    assert 'href="https://books.example/inv/1"' in html
    assert "javascript:" not in html


def test_report_filters_search_and_read_back(signed_in, booked, link):
    # the Belgian business order the fixture adds; the seeded shop may hold other ICP orders too
    # (which of its random orders are paid by now depends on the day the suite runs)
    icp = next(b for b in booked if b.sent.get("customer_name") == "Bouchat PLC")
    intra = {b.source_number for b in booked if b.sent.get("regime") == "eu_b2b"}
    get = lambda **q: signed_in.get(reverse("pages:report"), q).context  # noqa: E731
    assert icp.source_number in intra
    assert {r["number"] for r in get(regime="eu_b2b")["rows"]} == intra
    assert (
        get(regime="domestic")["count"]
        == len(booked) - len(intra) - get(regime="eu_b2c_oss")["count"] - get(regime="export")["count"]
    )
    assert [r["number"] for r in get(q=icp.source_number)["rows"]] == [icp.source_number]
    assert [r["number"] for r in get(q="bouchat")["rows"]] == [icp.source_number]
    assert [r["number"] for r in get(q=icp.target_number)["rows"]] == [icp.source_number]
    # the country each booking's VAT was decided for (kept with what was sent)
    belgian = {b.source_number for b in booked if b.sent.get("country") == "BE"}
    assert icp.source_number in belgian
    assert {r["number"] for r in get(country="be")["rows"]} == belgian
    SyncRecord.objects.filter(pk=icp.pk).update(reconcile_status="mismatch")
    assert [r["number"] for r in get(read_back="mismatch")["rows"]] == [icp.source_number]
    assert get(read_back="none")["count"] + 1 == len(booked) - get(read_back="ok")["count"]


def test_report_filters_by_date_and_state(signed_in, booked, link):
    get = lambda **q: signed_in.get(reverse("pages:report"), q).context  # noqa: E731
    today = timezone.localdate()
    old = booked[0]
    SyncRecord.objects.filter(pk=old.pk).update(order_date=today - dt.timedelta(days=40))
    recent = get(start=(today - dt.timedelta(days=10)).isoformat())
    assert recent["count"] == len(booked) - 1
    assert get(end=(today - dt.timedelta(days=30)).isoformat())["count"] == 1
    skipped = SyncRecord.objects.filter(link=link, state=RecordState.SKIPPED).count()
    assert skipped and get(state="skipped")["count"] == skipped
    assert get(state="all")["count"] == SyncRecord.objects.filter(link=link).count()
    bad = get(start="31-12-2026", state="nonsense")  # a bad value is no filter, and said so
    assert bad["count"] == len(booked) and bad["filter"].problems == ["start"]


def test_report_pages_50_at_a_time(signed_in, link):
    Engine(link).run()
    flow = link.flows.get()
    now = timezone.now()
    SyncRecord.objects.bulk_create(
        SyncRecord(
            link=link,
            flow=flow,
            source_id=f"x{i}",
            source_number=str(90000 + i),
            state=RecordState.PUSHED,
            pushed_at=now - dt.timedelta(minutes=i),
            amount_inc=Decimal("10.00"),
            sent={"currency": "EUR", "total_inc": "10.00", "total_ex": "8.26", "regime": "domestic"},
        )
        for i in range(120)
    )
    total = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).count()
    first = signed_in.get(reverse("pages:report"))
    assert len(first.context["rows"]) == 50 and first.context["pager"].pages == -(-total // 50)
    last = signed_in.get(reverse("pages:report"), {"page": 3, "regime": "domestic"})
    assert last.context["pager"].page == 3
    # the links carry the sort key of the row they continue from (keyset), and the page number
    previous = last.context["pager"].previous_query
    assert previous.startswith("regime=domestic&before=") and previous.endswith("&page=2")
    assert f'href="?{previous.replace("&", "&amp;")}"' in last.content.decode()
    second = signed_in.get(reverse("pages:report") + "?" + previous)
    by_offset = signed_in.get(reverse("pages:report"), {"page": 2, "regime": "domestic"})
    assert second.context["pager"].page == 2
    assert [r["number"] for r in second.context["rows"]] == [r["number"] for r in by_offset.context["rows"]]
    beyond = signed_in.get(reverse("pages:report"), {"page": 999})
    assert beyond.context["pager"].page == first.context["pager"].pages  # clamped, not an error


def test_csv_export_has_the_filtered_rows_and_safe_cells(signed_in, booked):
    icp = next(b for b in booked if b.sent.get("customer_name") == "Bouchat PLC")
    SyncRecord.objects.filter(pk=icp.pk).update(sent={**icp.sent, "customer_name": "=HYPERLINK(1)"})
    response = signed_in.get(reverse("pages:report_csv"), {"q": icp.source_number}, HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["Order", "Order date", "Link"]
    assert len(rows) == 2 and rows[1][0] == icp.source_number
    assert rows[1][3] == "'=HYPERLINK(1)"  # not a formula in the spreadsheet
    assert rows[1][11] == icp.target_number


def test_excel_export_has_numbers_as_numbers(signed_in, booked):
    from openpyxl import load_workbook

    response = signed_in.get(reverse("pages:report_xlsx"), HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][0] == "Order" and len(rows) == len(booked) + 1
    assert sum(Decimal(str(r[8])) for r in rows[1:]) == sum(b.amount_inc for b in booked)


def test_report_and_exports_show_only_the_users_organisation(client, outsider, booked):
    client.login(username="ander", password=PASSWORD)
    assert client.get(reverse("pages:report")).context["count"] == 0
    text = b"".join(client.get(reverse("pages:report_csv")).streaming_content).decode("utf-8-sig")
    assert len(text.strip().splitlines()) == 1  # the header only


def test_read_only_member_sees_the_report(client, reader, booked):
    client.login(username="boekhouder", password=PASSWORD)
    assert client.get(reverse("pages:report")).context["count"] == len(booked)
