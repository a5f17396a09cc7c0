"""The optional outbound alert webhook: once per problem, signed, retried with a pause, then given
up in the activity log; never to a plain-http public address."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from koppeling.connectors import http as kh
from koppeling.sync import alert_webhook
from koppeling.sync.alerts import open_alert, resend_unnotified
from koppeling.sync.models import ActivityEvent, Alert, AlertKind

pytestmark = pytest.mark.django_db

HOOK = "http://alerts.sim/hook"


class Receiver:
    """A webhook receiver: answers ``status`` and keeps each request (headers and body)."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.got: list[tuple[dict[str, str], bytes]] = []

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["Content-Type"] = environ.get("CONTENT_TYPE", "")
        self.got.append((headers, body))
        start_response(f"{self.status} X", [("Content-Type", "text/plain")])
        return [b"ok"]


@pytest.fixture
def receiver():
    app = Receiver()
    kh.mount_wsgi("http://alerts.sim", app)
    yield app
    kh.unmount("http://alerts.sim")


@pytest.fixture
def hooked(link):
    org = link.organisation
    org.alert_webhook = {"url": HOOK, "secret": "whsec_test"}
    org.save()
    return link


def _open(link, django_capture_on_commit_callbacks, kind=AlertKind.AUTH) -> Alert | None:
    with django_capture_on_commit_callbacks(execute=True):
        return open_alert(link, kind, "auth_refused", {"system": "Acumulus", "detail": "401"})


def test_an_alert_is_posted_once_signed_with_its_code_and_texts(
    hooked, receiver, django_capture_on_commit_callbacks, mailoutbox
):
    # when an alert opens, and the same problem is reported again
    alert = _open(hooked, django_capture_on_commit_callbacks)
    assert _open(hooked, django_capture_on_commit_callbacks) is None
    # then the webhook got one post, besides the one e-mail
    assert len(receiver.got) == 1 and len(mailoutbox) == 1
    headers, body = receiver.got[0]
    expected = alert_webhook.signature("whsec_test", headers["X-Koppeling-Timestamp"], body)
    assert headers["X-Koppeling-Signature"] == expected and headers["X-Koppeling-Event"] == "alert.opened"
    assert headers["Content-Type"] == "application/json"
    document = json.loads(body)
    assert (document["id"], document["kind"], document["code"]) == (alert.pk, "auth", "auth_refused")
    assert document["params"] == {"system": "Acumulus", "detail": "401"} and document["paused"] is True
    assert hooked.name in document["text"] and "gepauzeerd" in document["text"]
    assert "paused" in document["text_en"]
    alert.refresh_from_db()
    assert alert.webhook_notified_at is not None and alert.webhook_attempts == 1


def test_a_refusing_receiver_is_tried_again_after_a_pause_then_given_up(
    hooked, receiver, django_capture_on_commit_callbacks
):
    receiver.status = 503
    alert = _open(hooked, django_capture_on_commit_callbacks)
    alert.refresh_from_db()
    assert alert.webhook_notified_at is None and alert.webhook_attempts == 1
    # within the pause nothing is sent again
    resend_unnotified()
    assert len(receiver.got) == 1
    # after it, again (and the pause grows)
    later = alert.webhook_tried_at + dt.timedelta(minutes=1, seconds=1)
    assert alert_webhook.deliver_due(later) == 0 and len(receiver.got) == 2
    assert alert_webhook.deliver_due(later + dt.timedelta(minutes=1)) == 0 and len(receiver.got) == 2
    # until the receiver takes it
    receiver.status = 204
    assert alert_webhook.deliver_due(later + dt.timedelta(minutes=3)) == 1 and len(receiver.got) == 3
    assert alert_webhook.deliver_due(later + dt.timedelta(hours=3)) == 0 and len(receiver.got) == 3


def test_after_the_last_try_the_activity_log_says_so(hooked, receiver, django_capture_on_commit_callbacks):
    receiver.status = 500
    alert = _open(hooked, django_capture_on_commit_callbacks)
    now = timezone.now()
    for attempt in range(2, alert_webhook.MAX_ATTEMPTS + 3):
        alert_webhook.deliver_due(now + dt.timedelta(hours=attempt))
    alert.refresh_from_db()
    assert alert.webhook_attempts == alert_webhook.MAX_ATTEMPTS == len(receiver.got)
    (event,) = ActivityEvent.objects.filter(code="alert_webhook_failed")
    assert event.params["host"] == "alerts.sim" and event.params["detail"] == "HTTP 500"


def test_a_plain_http_public_address_is_never_posted_to(link, django_capture_on_commit_callbacks):
    org = link.organisation
    org.alert_webhook = {"url": "http://hooks.example.com/x", "secret": "s"}  # stored behind the form's back
    org.save()
    sent = []
    kh.mount("http://hooks.example.com", _Recording(sent))
    try:
        alert = _open(link, django_capture_on_commit_callbacks)
    finally:
        kh.unmount("http://hooks.example.com")
    alert.refresh_from_db()
    assert sent == [] and alert.webhook_notified_at is None


class _Recording:
    """A transport that records and answers 200 (it must never be reached)."""

    def __init__(self, sent: list) -> None:
        self.sent = sent

    def handle_request(self, request):
        import httpx

        self.sent.append(request)
        return httpx.Response(200)

    def close(self) -> None:
        pass


def test_the_webhook_address_and_secret_are_sealed_at_rest(hooked):
    from koppeling.sync.models import Organisation

    raw = Organisation.objects.filter(pk=hooked.organisation_id).values_list(
        "alert_webhook_encrypted", flat=True
    )
    assert "alerts.sim" not in raw[0] and "whsec_test" not in raw[0]
    assert Organisation.objects.get(pk=hooked.organisation_id).alert_webhook["url"] == HOOK


def test_a_test_send_is_signed_and_says_whether_it_was_taken(hooked, receiver):
    assert alert_webhook.send_test(hooked.organisation, "anna") == ""
    headers, body = receiver.got[0]
    assert headers["X-Koppeling-Event"] == "test" and "anna" in json.loads(body)["text"]
    receiver.status = 404
    assert alert_webhook.send_test(hooked.organisation, "anna") == "HTTP 404"
