"""Overview and the link page: counts per link and flow, status, the chart, Run now, the legacy
action URLs (Verwerk, Mark as booked), Dutch by default."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from tests.web.conftest import PASSWORD

from koppeling.sync.engine import Engine
from koppeling.sync.models import Alert, Flow, Link, LinkStatus, RecordState, SyncRecord
from koppeling.sync.outcomes import render

pytestmark = pytest.mark.django_db


def test_pages_require_sign_in(client):
    for name in ("pages:overview", "web:links", "pages:report", "pages:failures"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert reverse("login") in response["Location"]


def test_overview_counts_per_link_and_flow_and_failed_orders(signed_in, link, seeded_shop):
    seeded_shop.malform_next("bad_record")
    Engine(link).run()
    html = signed_in.get(reverse("pages:overview")).content.decode()
    flow = link.flows.get()
    pushed = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).count()
    today = SyncRecord.objects.filter(
        link=link, state=RecordState.PUSHED, pushed_at__date=timezone.localdate()
    ).count()
    assert pushed > 0 and today == pushed  # pushed just now
    assert f'data-link="{link.pk}"' in html and f'data-flow="{flow.pk}"' in html
    assert f'class="num pushed">{pushed}</td>' in html
    assert f'class="num today">{today}</td>' in html
    failed = SyncRecord.objects.get(link=link, state=RecordState.FAILED)
    assert f'data-order="{failed.source_number}"' in html
    with translation.override("nl"):
        shown = render(failed.error_code, failed.params).text
    assert escape(shown) in html  # in the reader's language (Dutch by default)
    assert '<strong id="n-failed">1</strong>' in html
    assert 'class="status running"' in html


def test_overview_chart_has_booked_orders_per_day(signed_in, link):
    Engine(link).run()
    response = signed_in.get(reverse("pages:overview"))
    chart = response.context["chart"]
    assert len(chart["labels"]) == 30 and chart["labels"][-1] == timezone.localdate().isoformat()
    pushed = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).count()
    assert chart["values"][-1] == pushed and sum(chart["values"][:-1]) == 0
    html = response.content.decode()
    assert 'id="chart-data"' in html and "data-chart=" in html  # Chart.js reads it (no inline code)
    data = json.loads(html.split('id="chart-data" type="application/json">')[1].split("</script>")[0])
    assert data == chart


def test_flow_status_running_paused_failing_and_rate_limit_eta(signed_in, link):
    Engine(link).run()
    flow = link.flows.get()
    status = lambda: signed_in.get(reverse("pages:overview")).context["cards"][0]["flows"][0]  # noqa: E731
    assert status()["status"] == "running"
    Alert.objects.create(link=link, kind="unreachable", code="alert_unreachable", params={"runs": 3})
    assert status()["status"] == "failing"
    Alert.objects.update(closed_at=timezone.now())
    later = timezone.now() + timezone.timedelta(minutes=30)
    Flow.objects.filter(pk=flow.pk).update(waiting_until=later, backlog=12, backlog_eta=later)
    shown = status()
    assert shown["waiting_until"] == later and shown["next_run"] == later
    html = signed_in.get(reverse("pages:overview"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "12 waiting for the rate limit" in html
    Link.objects.filter(pk=link.pk).update(status=LinkStatus.PAUSED)
    assert status()["status"] == "paused"


def test_overview_pages_links(signed_in, link, seeded_shop, books_sim, owner):
    from tests.conftest import make_link

    for i in range(27):
        make_link(seeded_shop, books_sim, name=f"Shop {i:02d}", org=link.organisation)
    first = signed_in.get(reverse("pages:overview"))
    assert len(first.context["cards"]) == 25 and first.context["pager"].pages == 2
    second = signed_in.get(reverse("pages:overview") + "?page=2")
    assert len(second.context["cards"]) == 3
    found = signed_in.get(reverse("pages:overview") + "?q=Shop 07")
    assert [c["link"].name for c in found.context["cards"]] == ["Shop 07"]


def test_other_organisations_links_are_invisible(client, outsider, link):
    Engine(link).run()
    client.login(username="ander", password=PASSWORD)
    html = client.get(reverse("pages:overview")).content.decode()
    assert link.name not in html
    assert client.get(reverse("web:link", args=[link.pk])).status_code == 404


def test_run_now_and_resume_need_a_member(
    client, signed_in, reader, link, django_capture_on_commit_callbacks
):
    with mock.patch("koppeling.web.views.sync_link") as run, django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(reverse("web:link_sync", args=[link.pk]))
    assert response.status_code == 302
    run.assert_called_once_with(link.pk, "manual")
    client.logout()
    client.login(username="boekhouder", password=PASSWORD)
    assert client.post(reverse("web:link_sync", args=[link.pk])).status_code == 403
    assert client.post(reverse("web:link_resume", args=[link.pk])).status_code == 403
    assert "Run now" not in client.get(reverse("pages:overview"), HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_verwerk_from_the_overview_requeues_with_priority(signed_in, link):
    from koppeling.sync.tasks import push_record_now

    Engine(link).run()
    record = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).first()
    SyncRecord.objects.filter(pk=record.pk).update(state=RecordState.FAILED, reason_code="rule")
    with mock.patch("koppeling.web.pages.failures.enqueue_on_commit") as enqueue:
        response = signed_in.post(reverse("web:record_retry", args=[record.pk]))
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.state == RecordState.PENDING and record.priority == 10
    enqueue.assert_called_once_with(push_record_now, record.flow_id, record.source_id, priority=10)


def test_legacy_verwerk_never_pushes_a_record_in_review(signed_in, in_review):
    response = signed_in.post(reverse("web:record_retry", args=[in_review.pk]))
    assert response["Location"] == reverse("pages:review")
    in_review.refresh_from_db()
    assert in_review.state == RecordState.NEEDS_REVIEW


def test_link_detail_in_dutch_and_english(signed_in, link):
    Engine(link).run()
    page = signed_in.get(reverse("web:link", args=[link.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Recent runs" in page.content.decode()
    assert page.context["card"]["flows"][0]["counts"]["pushed"] > 0


def test_pages_speak_dutch_by_default(signed_in):
    html = signed_in.get(reverse("pages:overview"), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert '<html lang="nl">' in html
    assert "Koppelingen" in html and "Mislukte orders" in html


def test_actions_require_csrf_token(owner, link):
    from django.test import Client

    Engine(link).run()
    record = SyncRecord.objects.filter(link=link).first()
    strict = Client(enforce_csrf_checks=True)
    strict.login(username="eigenaar", password=PASSWORD)
    assert strict.post(reverse("web:record_retry", args=[record.pk])).status_code == 403
    assert strict.post(reverse("pages:failure_retry", args=[record.pk])).status_code == 403


def test_next_parameter_cannot_redirect_off_site(signed_in, link):
    Engine(link).run()
    record = SyncRecord.objects.filter(link=link).first()
    response = signed_in.post(
        reverse("web:record_retry", args=[record.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("pages:overview")


def test_no_inline_script_or_handler_in_any_page(signed_in, link, failed_icp):
    """A strict Content-Security-Policy (no 'unsafe-inline') must not break a page."""
    import re

    for name in ("pages:overview", "pages:report", "pages:failures", "pages:review", "pages:activity"):
        html = signed_in.get(reverse(name)).content.decode()
        scripts = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)
        assert scripts == [], (name, scripts)
        assert not re.search(r"\son[a-z]+=", html), name
        assert "style=" not in html, name
