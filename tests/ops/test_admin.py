"""The admin (issue 13): for operators (superusers) only, the ledger read-only there, and a
connection's new address takes its credentials again."""

from __future__ import annotations

import pytest

from koppeling.sync.engine import Engine
from koppeling.sync.models import Connection, Link, Organisation, SyncRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(django_user_model, client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the messages checked below are the English ones
    return django_user_model.objects.create_superuser("operator", "op@example.test", "an-operator-password")


def test_staff_of_an_organisation_cannot_open_the_admin(client, django_user_model, link):
    staff = django_user_model.objects.create_user("staff", password="a-staff-password", is_staff=True)
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    response = client.get(f"/admin/sync/connection/{link.target_id}/change/")
    assert response.status_code == 302


def test_an_operator_sees_the_ledger_but_cannot_change_or_delete_it(client, operator, link):
    Engine(link).run()
    record = SyncRecord.objects.first()
    client.force_login(operator)
    assert client.get("/admin/").status_code == 200
    page = client.get(f"/admin/sync/syncrecord/{record.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(f"/admin/sync/syncrecord/{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/sync/syncrecord/add/").status_code == 403
    assert SyncRecord.objects.filter(pk=record.pk).exists()


def _connection_form(conn: Connection, **changes) -> dict:
    data = {
        "organisation": conn.organisation_id,
        "name": conn.name,
        "system": conn.system,
        "base_url": conn.base_url,
        "options": "{}",
        "credentials_json": "",
    }
    return data | changes


def test_a_new_address_in_the_admin_needs_the_credentials_again(client, operator, link, books_sim):
    client.force_login(operator)
    books = link.target
    url = f"/admin/sync/connection/{books.pk}/change/"
    response = client.post(url, _connection_form(books, base_url="https://attacker.example.org"))
    assert response.status_code == 200  # the form again, with the error
    assert b"enter the credentials again" in response.content
    assert Connection.objects.get(pk=books.pk).base_url == books.base_url
    entered = '{"contractcode": "9", "username": "u2", "password": "p2"}'
    response = client.post(
        url, _connection_form(books, base_url="https://books.example.org", credentials_json=entered)
    )
    assert response.status_code == 302
    moved = Connection.objects.get(pk=books.pk)
    assert moved.credentials == {"contractcode": "9", "username": "u2", "password": "p2"}
    assert moved.bound_origin() == "https://books.example.org"


def test_plain_http_to_a_real_system_is_refused_in_the_admin(client, operator, link):
    client.force_login(operator)
    books = link.target
    entered = '{"contractcode": "9", "username": "u2", "password": "p2"}'
    response = client.post(
        f"/admin/sync/connection/{books.pk}/change/",
        _connection_form(books, base_url="http://api.sielsystems.nl", credentials_json=entered),
    )
    assert response.status_code == 200 and b"plain http" in response.content


def test_a_link_on_another_organisations_connections_is_refused_in_the_admin(client, operator, link):
    client.force_login(operator)
    other = Organisation.objects.create(name="B", slug="b")
    response = client.post(
        "/admin/sync/link/add/",
        {
            "organisation": other.pk,
            "name": "B's link on A's connections",
            "source": link.source_id,
            "target": link.target_id,
            "status": "active",
            "paused_code": "",
            "paused_params": "{}",
            "created_at_0": "2026-12-03",
            "created_at_1": "10:00:00",
            "flows-TOTAL_FORMS": "0",
            "flows-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert not Link.objects.filter(organisation=other).exists()


def test_an_operator_sees_the_webhook_tables_read_only_with_the_token_masked(client, operator, link):
    from koppeling.sync.models import Flow, WebhookEvent, WebhookSubscription

    flow = Flow.objects.get(link=link)
    sub = WebhookSubscription.objects.create(flow=flow, remote_id="wh-1")
    event = WebhookEvent.objects.create(flow=flow, event_id="evt-1", topic="orders")
    client.force_login(operator)
    listing = client.get("/admin/sync/webhooksubscription/").content.decode()
    assert "wh-1" in listing and sub.token not in listing
    page = client.get(f"/admin/sync/webhooksubscription/{sub.pk}/change/")
    assert page.status_code == 200 and sub.token not in page.content.decode()
    assert b'name="_save"' not in page.content
    assert "evt-1" in client.get("/admin/sync/webhookevent/").content.decode()
    assert client.post(f"/admin/sync/webhookevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/sync/webhooksubscription/add/").status_code == 403
