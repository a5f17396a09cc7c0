"""An organisation's settings page: activity retention and the alert webhook (owners change them,
everyone sees them, another organisation's page does not exist)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from tests.sync.test_alert_webhook import Receiver
from tests.web.conftest import PASSWORD, member_of

from koppeling.connectors import http as kh
from koppeling.sync.models import ActivityEvent, Organisation, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    return Organisation.objects.create(name="De Molen", slug="de-molen")


@pytest.fixture
def owner(client, django_user_model, org):
    member_of(django_user_model, org, "anna", Role.OWNER)
    client.login(username="anna", password=PASSWORD)
    return client


def url(org) -> str:
    return reverse("accounts:org_settings", args=[org.pk])


def test_owner_sets_retention_and_a_webhook_and_it_is_logged(owner, org):
    response = owner.post(
        url(org), {"retention_days": "14", "webhook_url": "https://hooks.slack.com/services/T/B/x"}
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.activity_retention_days == 14 and org.retention_days == 14
    hook = org.alert_webhook
    assert hook["url"] == "https://hooks.slack.com/services/T/B/x" and hook["secret"].startswith("whsec_")
    event = ActivityEvent.objects.get(organisation=org, code="organisation_settings_changed")
    assert event.params == {"user": "anna", "fields": "retention_days, webhook_url"}
    page = owner.get(url(org)).content.decode()
    assert hook["secret"] in page and 'value="14"' in page


def test_a_plain_http_or_out_of_range_value_is_refused_on_its_field(owner, org):
    response = owner.post(url(org), {"retention_days": "0", "webhook_url": "http://hooks.example.com/x"})
    assert response.status_code == 422
    form = response.context["form"]
    assert set(form.errors) == {"retention_days", "webhook_url"}
    assert "https" in form.errors["webhook_url"][0]
    org.refresh_from_db()
    assert org.activity_retention_days is None and org.alert_webhook == {}


def test_a_new_secret_replaces_the_old_and_a_test_reaches_the_receiver(owner, org):
    receiver = Receiver()
    kh.mount_wsgi("http://alerts.sim", receiver)
    try:
        owner.post(url(org), {"webhook_url": "http://alerts.sim/in"})
        first = Organisation.objects.get(pk=org.pk).alert_webhook["secret"]
        owner.post(url(org), {"action": "new_secret"})
        second = Organisation.objects.get(pk=org.pk).alert_webhook["secret"]
        assert second != first
        response = owner.post(url(org), {"action": "test"}, follow=True)
    finally:
        kh.unmount("http://alerts.sim")
    assert len(receiver.got) == 1
    assert [m.level_tag for m in response.context["messages"]][-1] == "success"
    headers, _body = receiver.got[0]
    assert headers["X-Koppeling-Event"] == "test"


def test_a_reader_sees_the_host_only_and_may_not_change(client, django_user_model, org):
    org.alert_webhook = {"url": "https://hooks.example.com/secret-path", "secret": "whsec_x"}
    org.save()
    member_of(django_user_model, org, "boekhouder", Role.READ_ONLY)
    client.login(username="boekhouder", password=PASSWORD)
    page = client.get(url(org)).content.decode()
    assert "hooks.example.com" in page and "secret-path" not in page and "whsec_x" not in page
    assert client.post(url(org), {"retention_days": "3"}).status_code == 403


def test_another_organisations_settings_do_not_exist(owner):
    other = Organisation.objects.create(name="Ander", slug="ander")
    assert owner.get(url(other)).status_code == 404
