"""Fouten: reason and suggestion in the reader's language; Verwerk (one, a selection, all);
ignore with a reason; the row follows the order (htmx) until it is booked."""

from __future__ import annotations

from unittest import mock

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from tests.web.conftest import PASSWORD, add_vat_number, icp_order

from koppeling.sync.engine import Engine
from koppeling.sync.models import ActivityEvent, RecordState, SyncRecord
from koppeling.sync.outcomes import render
from koppeling.sync.tasks import push_record_now

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_failed_order_shows_reason_and_suggestion_in_dutch_and_english(signed_in, failed_icp):
    nl = signed_in.get(reverse("pages:failures"), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    with translation.override("nl"):
        shown = render(failed_icp.error_code, failed_icp.params)
    assert f'data-order="{failed_icp.source_number}"' in nl
    assert shown.suggestion and shown.text in nl and shown.suggestion in nl
    assert "btw-nummer" in shown.suggestion
    en = signed_in.get(reverse("pages:failures"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert escape("add the customer's VAT number in the shop") in en


def test_verwerk_books_the_order_after_the_fix_and_the_row_follows(signed_in, failed_icp, seeded_shop, link):
    add_vat_number(seeded_shop, int(failed_icp.source_number))
    url = reverse("pages:failure_retry", args=[failed_icp.pk])
    with mock.patch("koppeling.web.pages.failures.enqueue_on_commit") as enqueue:
        row = signed_in.post(url, **HTMX)
    enqueue.assert_called_once_with(push_record_now, failed_icp.flow_id, failed_icp.source_id, priority=10)
    html = row.content.decode()
    assert row.status_code == 200 and "<html" not in html  # a row, swapped in place
    assert 'data-state="pending"' in html and 'hx-trigger="every 2s"' in html
    # the worker runs the priority push; the row, asked again, says it is booked
    Engine(link).run(kind="order", order_number=failed_icp.source_id)
    again = signed_in.get(reverse("pages:failure_row", args=[failed_icp.pk]), **HTMX).content.decode()
    failed_icp.refresh_from_db()
    assert failed_icp.state == RecordState.PUSHED
    assert 'data-state="pushed"' in again and failed_icp.target_number in again and "hx-trigger" not in again
    report = signed_in.get(reverse("pages:report"), {"q": failed_icp.source_number})
    assert [r["number"] for r in report.context["rows"]] == [failed_icp.source_number]
    assert ActivityEvent.objects.filter(record=failed_icp, code="retry_requested").exists()


def test_verwerk_without_htmx_redirects_with_a_message(signed_in, failed_icp):
    with mock.patch("koppeling.web.pages.failures.enqueue_on_commit"):
        response = signed_in.post(reverse("pages:failure_retry", args=[failed_icp.pk]), follow=True)
    assert "voorrang" in response.content.decode()
    assert signed_in.get(reverse("pages:failures")).context["in_progress"][0].pk == failed_icp.pk


def test_retry_selected_and_retry_all(signed_in, link, seeded_shop):
    numbers = [icp_order(seeded_shop) for _ in range(3)]
    Engine(link).run()
    failed = list(SyncRecord.objects.filter(link=link, state=RecordState.FAILED).order_by("pk"))
    assert {f.source_number for f in failed} == {str(n) for n in numbers}
    with mock.patch("koppeling.web.pages.failures.enqueue_on_commit") as enqueue:
        signed_in.post(reverse("pages:failures_retry"), {"ids": [failed[0].pk, "junk"]})
        assert enqueue.call_count == 1
        signed_in.post(reverse("pages:failures_retry"), {"all": "1"})
        assert enqueue.call_count == 3
    states = set(SyncRecord.objects.filter(pk__in=[f.pk for f in failed]).values_list("state", flat=True))
    assert states == {RecordState.PENDING}


def test_ignore_needs_a_reason_and_can_be_undone(signed_in, failed_icp):
    url = reverse("pages:failure_ignore", args=[failed_icp.pk])
    empty = signed_in.post(url, {"why": "  "}, **HTMX)
    failed_icp.refresh_from_db()
    assert failed_icp.state == RecordState.FAILED and 'data-state="failed"' in empty.content.decode()
    row = signed_in.post(url, {"why": "booked by hand"}, **HTMX).content.decode()
    failed_icp.refresh_from_db()
    assert failed_icp.state == RecordState.IGNORED and failed_icp.params["why"] == "booked by hand"
    assert "booked by hand" in row and 'data-state="ignored"' in row
    assert signed_in.get(reverse("pages:failures")).context["pager"].count == 0
    with mock.patch("koppeling.web.pages.failures.enqueue_on_commit"):
        signed_in.post(reverse("pages:failure_unignore", args=[failed_icp.pk]), **HTMX)
    failed_icp.refresh_from_db()
    assert failed_icp.state == RecordState.PENDING


def test_failures_filter_by_reason_link_and_number(signed_in, failed_icp, link):
    get = lambda **q: signed_in.get(reverse("pages:failures"), q).context  # noqa: E731
    assert get(reason=failed_icp.error_code)["pager"].count == 1
    assert get(reason="nothing_like_it")["pager"].count == 0
    assert get(q=failed_icp.source_number)["pager"].count == 1
    assert get(link=link.pk)["pager"].count == 1 and get(link=link.pk + 999)["pager"].count == 0
    reasons = get()["reasons"]
    assert reasons[0]["code"] == failed_icp.error_code and reasons[0]["n"] == 1


def test_read_only_member_sees_failures_but_no_buttons_and_cannot_post(client, reader, failed_icp):
    client.login(username="boekhouder", password=PASSWORD)
    html = client.get(reverse("pages:failures"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'data-order="{failed_icp.source_number}"' in html
    assert "<form" not in html.split('id="failures"')[1]  # no button in any row
    assert 'name="ids"' not in html and 'id="retry-all"' not in html
    for name in ("pages:failure_retry", "pages:failure_ignore", "pages:failure_unignore"):
        assert client.post(reverse(name, args=[failed_icp.pk]), {"why": "x"}).status_code == 403
    assert client.post(reverse("pages:failures_retry"), {"all": "1"}).status_code == 403
    failed_icp.refresh_from_db()
    assert failed_icp.state == RecordState.FAILED


def test_another_organisation_cannot_touch_the_failures(client, outsider, failed_icp):
    client.login(username="ander", password=PASSWORD)
    assert client.get(reverse("pages:failures")).context["pager"].count == 0
    assert client.get(reverse("pages:failure_row", args=[failed_icp.pk])).status_code == 404
    assert client.post(reverse("pages:failure_retry", args=[failed_icp.pk])).status_code == 404
    with mock.patch("koppeling.web.pages.failures.enqueue_on_commit") as enqueue:
        client.post(reverse("pages:failures_retry"), {"ids": [failed_icp.pk]})
    enqueue.assert_not_called()
    failed_icp.refresh_from_db()
    assert failed_icp.state == RecordState.FAILED
