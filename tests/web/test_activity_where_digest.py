"""Activity log (filters, redaction, retention), Waar is mijn bestelling? and the daily digest."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from tests.web.conftest import PASSWORD

from koppeling.sync.engine import Engine
from koppeling.sync.models import ActivityEvent, RecordState, SyncRecord
from koppeling.web.pages import digest

pytestmark = pytest.mark.django_db


def test_activity_log_filters_and_shows_retention(signed_in, failed_icp, link, settings):
    settings.KOPPELING = {**settings.KOPPELING, "ACTIVITY_RETENTION_DAYS": 14}
    response = signed_in.get(reverse("pages:activity"), HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 200 and "kept 14 days" in page
    total = response.context["pager"].count
    assert total == ActivityEvent.objects.filter(organisation=link.organisation).count() > 0
    errors = signed_in.get(reverse("pages:activity"), {"level": "error"}).context["pager"].count
    assert errors == ActivityEvent.objects.filter(organisation=link.organisation, level="error").count()
    pushed = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).first()
    one = signed_in.get(reverse("pages:activity"), {"q": pushed.source_number}).context["items"]
    assert one and all(
        i["event"].record_id == pushed.pk or i["event"].params.get("number") == pushed.source_number
        for i in one
    )
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert signed_in.get(reverse("pages:activity"), {"start": tomorrow}).context["pager"].count == 0


def test_activity_payloads_are_redacted(signed_in, link):
    secret = link.target.credentials["password"]
    ActivityEvent.objects.create(
        organisation=link.organisation,
        link=link,
        code="pushed",
        params={"number": "1"},
        payload={"request": {"password": "x", "note": f"echoed {secret}"}, "api_token": "abc123"},
    )
    page = signed_in.get(reverse("pages:activity")).content.decode()
    assert secret not in page and "abc123" not in page
    shown = html.unescape(page)  # the payload is HTML-escaped JSON in a <pre>
    assert secret not in shown and "echoed ***" in shown and '"api_token": "***"' in shown


def test_activity_of_another_organisation_is_invisible(client, outsider, failed_icp):
    client.login(username="ander", password=PASSWORD)
    assert client.get(reverse("pages:activity")).context["pager"].count == 0


def test_where_is_my_order_tells_the_whole_story(signed_in, failed_icp, link):
    response = signed_in.get(
        reverse("pages:where"), {"q": failed_icp.source_number}, HTTP_ACCEPT_LANGUAGE="en"
    )
    (story,) = response.context["stories"]
    assert story["record"].pk == failed_icp.pk and story["link"] == link
    assert story["steps"][0]["text"].startswith("Fetched from the shop")
    assert "VAT number" in story["verdict"]["text"] and story["verdict"]["suggestion"]
    assert story["conditions"] and all(c["met"] for c in story["conditions"])  # its status is selected
    assert reverse("pages:failures") in response.content.decode()


def test_where_is_my_order_for_an_order_not_fetched_yet_and_unknown(signed_in, link, seeded_shop):
    Engine(link).run()
    missing = signed_in.get(reverse("pages:where"), {"q": "999999"}, HTTP_ACCEPT_LANGUAGE="en")
    (story,) = missing.context["stories"]
    assert story["record"] is None and "does not know an order 999999" in story["verdict"]["text"]


def test_where_is_my_order_never_asks_another_organisations_links(client, outsider, failed_icp):
    client.login(username="ander", password=PASSWORD)
    response = client.get(reverse("pages:where"), {"q": failed_icp.source_number})
    assert response.context["stories"] == []
    assert client.get(reverse("pages:where"), {"q": "1", "link": failed_icp.link_id}).context["stories"] == []


def test_daily_digest_mails_new_failures_once_per_organisation(failed_icp, link):
    link.organisation.notify_email = "boekhouding@acme.test"
    link.organisation.save()
    assert digest.send_failure_digests() == 1
    (message,) = mail.outbox
    assert message.to == ["boekhouding@acme.test"] and "1" in message.subject
    assert failed_icp.source_number in message.body and "btw-nummer" in message.body
    assert "— English —" in message.body and "/fouten/" in message.body
    assert digest.send_failure_digests() == 0  # nothing new since the last digest
    assert ActivityEvent.objects.filter(organisation=link.organisation, code=digest.DIGEST_SENT).count() == 1


def test_digest_waits_for_new_failures_and_skips_quiet_organisations(link, owner):
    Engine(link).run()
    assert not SyncRecord.objects.filter(state=RecordState.FAILED).exists()
    assert digest.send_failure_digests() == 0 and mail.outbox == []
