"""Review: both choices explained; "Mark as booked" checks the number in the target; "push again"
only with the duplicate risk confirmed; read-only members and other organisations cannot act."""

from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

import pytest
from django.urls import reverse
from tests.web.conftest import PASSWORD

from koppeling.connectors.base import Findability, PushResult
from koppeling.connectors.errors import ConnectorError
from koppeling.sync.models import ActivityEvent, RecordState
from koppeling.sync.tasks import push_record_now
from koppeling.web.pages import review

pytestmark = pytest.mark.django_db


def _entry(books_sim, record):
    (entry,) = books_sim.entries_with_description_containing(record.reference)
    return entry


def test_review_page_explains_both_choices_and_the_duplicate_risk(signed_in, in_review):
    html = signed_in.get(reverse("pages:review"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'id="record-{in_review.pk}"' in html and in_review.reference in html
    assert "It is in Acumulus: mark as booked" in html and "It is not in Acumulus: push again" in html
    assert "booked twice" in html and "makes a duplicate invoice" in html
    assert html.count("required> I") >= 2  # both confirmations are required fields


def test_the_review_list_exports_to_check_every_order_at_once(signed_in, in_review):
    """A bookkeeper checks a batch of "maybe sent" orders in the target from one list: the page
    links to Rapportage's CSV of exactly the rows waiting for review."""
    html = signed_in.get(reverse("pages:review")).content.decode()
    assert 'id="review-csv"' in html and "state=needs_review" in html
    csv = b"".join(
        signed_in.get(reverse("pages:report_csv"), {"state": "needs_review"}).streaming_content
    ).decode()
    lines = [line for line in csv.splitlines()[1:] if line.strip()]
    assert len(lines) == 1 and in_review.source_number in lines[0]


def test_mark_as_booked_with_the_entry_found_in_the_target(signed_in, in_review, books_sim):
    entry = _entry(books_sim, in_review)
    response = signed_in.post(
        reverse("pages:review_booked", args=[in_review.pk]), {"target_number": entry.entryid}
    )
    assert response.status_code == 302
    in_review.refresh_from_db()
    assert in_review.state == RecordState.PUSHED and in_review.target_number == entry.invoicenumber
    assert ActivityEvent.objects.filter(record=in_review, code="marked_booked").exists()


def test_a_number_the_target_cannot_confirm_needs_the_persons_own_check(signed_in, in_review):
    url = reverse("pages:review_booked", args=[in_review.pk])
    refused = signed_in.post(url, {"target_number": "20269999"}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    in_review.refresh_from_db()
    assert in_review.state == RecordState.NEEDS_REVIEW
    assert "cannot be searched by invoice number" in refused.content.decode()
    signed_in.post(url, {"target_number": "20269999", "checked_myself": "1"})
    in_review.refresh_from_db()
    assert in_review.state == RecordState.PUSHED and in_review.target_number == "20269999"


def test_push_again_only_with_both_confirmations(signed_in, in_review):
    url = reverse("pages:review_push", args=[in_review.pk])
    with mock.patch("koppeling.web.pages.review.enqueue_on_commit") as enqueue:
        signed_in.post(url, {"confirm_not_booked": "1"})
        in_review.refresh_from_db()
        assert in_review.state == RecordState.NEEDS_REVIEW and not enqueue.called
        signed_in.post(url, {"confirm_not_booked": "1", "accept_duplicate_risk": "1"})
    in_review.refresh_from_db()
    assert in_review.state == RecordState.PENDING
    enqueue.assert_called_once_with(push_record_now, in_review.flow_id, in_review.source_id, priority=10)


def test_read_only_and_other_organisations_cannot_resolve_a_review(client, reader, outsider, in_review):
    data = {
        "target_number": "1",
        "checked_myself": "1",
        "confirm_not_booked": "1",
        "accept_duplicate_risk": "1",
    }
    client.login(username="boekhouder", password=PASSWORD)
    page = client.get(reverse("pages:review")).content.decode()
    assert f'id="record-{in_review.pk}"' in page and '<form method="post"' not in page.split("<main")[1]
    assert client.post(reverse("pages:review_booked", args=[in_review.pk]), data).status_code == 403
    assert client.post(reverse("pages:review_push", args=[in_review.pk]), data).status_code == 403
    client.login(username="ander", password=PASSWORD)
    assert client.get(reverse("pages:review")).context["pager"].count == 0
    assert client.post(reverse("pages:review_booked", args=[in_review.pk]), data).status_code == 404
    in_review.refresh_from_db()
    assert in_review.state == RecordState.NEEDS_REVIEW


class _Runner:
    """A target searchable by our reference, holding ``found`` (or nothing)."""

    def __init__(self, found=None, error=None):
        self.target = SimpleNamespace(findable=Findability.BY_REFERENCE)
        self.kind = SimpleNamespace(find=self._find)
        self.found, self.error, self.closed = found, error, False

    def _find(self, target, record):
        if self.error:
            raise self.error
        return self.found

    def close(self):
        self.closed = True


@pytest.mark.parametrize(
    ("found", "given", "result"),
    [
        (PushResult("77", number="2026-0042"), "2026-0042", review.FOUND),
        (PushResult("77", number="2026-0042"), "77", review.FOUND),
        (PushResult("77", number="2026-0042"), "2026-0041", review.ELSEWHERE),
        (None, "2026-0042", review.MISSING),
    ],
)
def test_a_searchable_target_decides_by_our_reference(in_review, found, given, result):
    runner = _Runner(found)
    check = review.check_booking(in_review, given, lambda flow: runner)
    assert check.result == result and runner.closed
    if result == review.ELSEWHERE:
        assert check.number == "2026-0042"


def test_a_target_that_cannot_be_asked_leaves_it_to_the_person(in_review):
    runner = _Runner(error=ConnectorError("unreachable", {}))
    assert review.check_booking(in_review, "1", lambda flow: runner).result == review.UNKNOWN
