"""The first web pages: sign in, links with counts, failed orders with their reason, one-click fixes."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from koppeling.sync.engine import Engine
from koppeling.sync.models import Organisation, RecordState, SyncRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(django_user_model, link):
    user = django_user_model.objects.create_user("eigenaar", password="pw-12345678")
    link.organisation.members.add(user)
    return user


def test_links_page_requires_sign_in(client):
    response = client.get(reverse("web:links"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_sign_in_and_see_link_counts_and_failed_orders(client, member, link, seeded_shop):
    seeded_shop.malform_next("bad_record")
    Engine(link).run()
    assert client.login(username="eigenaar", password="pw-12345678")
    response = client.get(reverse("web:links"))
    html = response.content.decode()
    pushed = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).count()
    assert response.status_code == 200
    assert link.name in html
    assert f'<td class="num pushed">{pushed}</td>' in html
    failed = SyncRecord.objects.get(link=link, state=RecordState.FAILED)
    assert f'data-order="{failed.source_number}"' in html
    from koppeling.sync.outcomes import render

    with translation.override("nl"):
        shown = render(failed.error_code, failed.params).text
    assert escape(shown) in html  # the reason, rendered in the reader's language (Dutch by default)


def test_other_organisations_links_are_invisible(client, django_user_model, link):
    outsider = django_user_model.objects.create_user("ander", password="pw-12345678")
    Organisation.objects.create(name="Other", slug="other").members.add(outsider)
    client.login(username="ander", password="pw-12345678")
    assert link.name not in client.get(reverse("web:links")).content.decode()
    assert client.get(reverse("web:link", args=[link.pk])).status_code == 404


def test_verwerk_requeues_failed_order_with_priority(client, member, link):
    from unittest import mock

    from koppeling.sync.tasks import push_record_now

    Engine(link).run()
    record = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).first()
    SyncRecord.objects.filter(pk=record.pk).update(state=RecordState.FAILED, reason_code="rule")
    client.login(username="eigenaar", password="pw-12345678")
    with mock.patch("koppeling.web.views.enqueue_on_commit") as enqueue:
        response = client.post(reverse("web:record_retry", args=[record.pk]))
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.state == RecordState.PENDING and record.priority == 10
    # the priority push of exactly this order is enqueued (on commit, see test_tasks)
    enqueue.assert_called_once_with(push_record_now, record.flow_id, record.source_id, priority=10)


def test_link_detail_in_dutch_and_english(client, member, link):
    Engine(link).run()
    client.login(username="eigenaar", password="pw-12345678")
    page = client.get(reverse("web:link", args=[link.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Recent runs" in page.content.decode()


def test_pages_speak_dutch_by_default(client, member):
    client.login(username="eigenaar", password="pw-12345678")
    html = client.get(reverse("web:links"), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Koppelingen" in html
    assert "Mislukte orders" in html


def test_needs_review_is_pushed_again_only_with_confirmation(client, member, link, books_sim):
    books_sim.accept_then_fail_next(502)
    Engine(link).run()
    record = SyncRecord.objects.get(link=link, state=RecordState.NEEDS_REVIEW)
    client.login(username="eigenaar", password="pw-12345678")
    html = client.get(reverse("web:links")).content.decode()
    assert "push again" in html.lower() or "opnieuw" in html.lower()
    client.post(reverse("web:record_retry", args=[record.pk]))
    record.refresh_from_db()
    assert record.state == RecordState.NEEDS_REVIEW  # a plain Verwerk does not re-push it
    client.post(reverse("web:record_booked", args=[record.pk]), {"target_number": "20260042"})
    record.refresh_from_db()
    assert record.state == RecordState.PUSHED and record.target_number == "20260042"


def test_actions_on_other_organisations_records_are_404(client, django_user_model, link):
    Engine(link).run()
    record = SyncRecord.objects.filter(link=link).first()
    outsider = django_user_model.objects.create_user("ander", password="pw-12345678")
    Organisation.objects.create(name="Other", slug="other").members.add(outsider)
    client.login(username="ander", password="pw-12345678")
    for name, args in (
        ("web:record_retry", [record.pk]),
        ("web:record_booked", [record.pk]),
        ("web:link_sync", [link.pk]),
        ("web:link_resume", [link.pk]),
    ):
        assert client.post(reverse(name, args=args), {"target_number": "1"}).status_code == 404


def test_actions_require_csrf_token(member, link):
    from django.test import Client

    Engine(link).run()
    record = SyncRecord.objects.filter(link=link).first()
    strict = Client(enforce_csrf_checks=True)
    strict.login(username="eigenaar", password="pw-12345678")
    assert strict.post(reverse("web:record_retry", args=[record.pk])).status_code == 403


def test_next_parameter_cannot_redirect_off_site(client, member, link):
    Engine(link).run()
    record = SyncRecord.objects.filter(link=link).first()
    client.login(username="eigenaar", password="pw-12345678")
    response = client.post(reverse("web:record_retry", args=[record.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("web:links")
