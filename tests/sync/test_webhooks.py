"""Webhooks in, end to end: Lightspeed simulator → POST /hooks/<token>/ → the priority path →
an invoice in Acumulus; refused bodies never reach the queue; duplicates do nothing; the
watchdog puts dropped and disabled subscriptions right and alerts; the scan catches the rest."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

import httpx
import hypothesis
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import strategies as st
from tests.conftest import BOOKS_URL, TARGET_SETTINGS

from koppeling.connectors import http as kh
from koppeling.connectors.errors import ConnectorError
from koppeling.connectors.lightspeed.client import LightspeedSource
from koppeling.connectors.lightspeed.simulator import LightspeedSimulator
from koppeling.connectors.lightspeed.webhooks import sign_webhook
from koppeling.connectors.webhooks import WebhookEvent as VerifiedEvent
from koppeling.sync import tasks, webhooks
from koppeling.sync.models import (
    ActivityEvent,
    Alert,
    Connection,
    Flow,
    Link,
    LinkStatus,
    Organisation,
    RecordState,
    Run,
    RunKind,
    SyncRecord,
)
from koppeling.sync.webhook_models import SubscriptionStatus, WebhookEvent, WebhookSubscription

pytestmark = pytest.mark.django_db  # (the real URL conf: /hooks/ is part of it)


LS_URL = "http://lightspeed-hooks.sim"
PUBLIC = "https://koppeling.test"
SELECTED = "paid/processing_awaiting_shipment"


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.KOPPELING = {**settings.KOPPELING, "PUBLIC_URL": PUBLIC}


@pytest.fixture
def immediate():
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = False


@pytest.fixture
def shop():
    sim = LightspeedSimulator()
    sim.seed(8, seed=13, start=timezone.now() - dt.timedelta(days=1), days=1)
    kh.mount_wsgi(LS_URL, sim.wsgi)
    yield sim
    kh.unmount(LS_URL)


@pytest.fixture
def flow(shop, books_sim) -> Flow:
    org = Organisation.objects.create(slug="hooks", name="Hooks", notify_email="owner@hooks.test")
    source = Connection(organisation=org, name="Lightspeed", system="lightspeed", base_url=LS_URL)
    source.credentials = {"api_key": shop.api_key, "api_secret": shop.api_secret}
    source.save()
    target = Connection(organisation=org, name="Acumulus", system="acumulus", base_url=BOOKS_URL)
    target.credentials = books_sim.valid_credentials()
    target.save()
    link = Link.objects.create(organisation=org, name="Shop → books", source=source, target=target)
    return Flow.objects.create(
        link=link,
        kind="orders_to_invoices",
        source=source,
        target=target,
        settings={"version": 2, "statuses": [SELECTED]},
        target_settings=dict(TARGET_SETTINGS),
    )


@pytest.fixture
def sub(flow) -> WebhookSubscription:
    return webhooks.enable(flow)


def _unpaid(shop: LightspeedSimulator) -> list[int]:
    return [i for i in shop.order_ids() if shop.order(i)["paymentStatus"] != "paid"]


def _pay(shop: LightspeedSimulator, oid: int) -> None:
    shop.set_status(oid, "processing_awaiting_shipment", payment_status="paid")


def _post(client, token: str, delivery) -> tuple[int, str]:
    response = client.post(
        f"/hooks/{token}/",
        data=delivery.body,
        content_type=delivery.headers["Content-Type"],
        headers={k: v for k, v in delivery.headers.items() if k != "Content-Type"},
    )
    return response.status_code, response.json()["outcome"]


@contextlib.contextmanager
def _local(sub: WebhookSubscription) -> Iterator[httpx.Client]:
    """The shop's deliveries go to this Django, in-process (the public address is not reachable);
    like the test client, the handler keeps the test's database connection open."""
    app = WSGIHandler()

    def to_django(request: httpx.Request) -> httpx.Request:
        request.url = request.url.copy_with(scheme="http", host="testserver", port=None)
        request.headers["Host"] = "testserver"

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with httpx.Client(
            transport=httpx.WSGITransport(app=app), event_hooks={"request": [to_django]}
        ) as http:
            yield http
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# -- registration ----------------------------------------------------------------------------------


def test_enable_registers_one_webhook_at_the_flow_address(flow, shop, sub):
    (hook,) = shop.webhooks.values()
    assert hook["address"] == f"{PUBLIC}/hooks/{sub.token}/" == sub.address
    assert str(hook["id"]) == sub.remote_id and sub.status == SubscriptionStatus.ACTIVE
    assert len(sub.token) >= 43
    webhooks.enable(flow)  # again: the old one is replaced, not doubled
    assert len(shop.webhooks) == 1
    assert ActivityEvent.objects.filter(code=webhooks.WebhookCode.REGISTERED).exists()


def test_enable_without_a_public_address_is_a_coded_error(flow, settings):
    settings.KOPPELING = {**settings.KOPPELING, "PUBLIC_URL": ""}
    with pytest.raises(webhooks.WebhookSetupError) as caught:
        webhooks.enable(flow)
    assert caught.value.code == webhooks.WebhookCode.NO_PUBLIC_URL


def test_a_source_without_webhooks_cannot_enable_them(link):
    with pytest.raises(webhooks.WebhookSetupError) as caught:
        webhooks.enable(link.flows.get())
    assert caught.value.code == webhooks.WebhookCode.UNSUPPORTED


def test_disable_removes_it_at_the_shop_and_refuses_deliveries(client, flow, shop, sub):
    delivery = shop.webhook_delivery(int(sub.remote_id), shop.order_ids()[0])
    webhooks.disable(flow)
    assert shop.webhooks == {}
    assert _post(client, sub.token, delivery) == (404, "unknown")


# -- receiving -------------------------------------------------------------------------------------


def test_a_paid_order_becomes_an_invoice_through_the_endpoint(
    flow, shop, books_sim, sub, immediate, django_capture_on_commit_callbacks
):
    oid = _unpaid(shop)[0]
    _pay(shop, oid)
    with django_capture_on_commit_callbacks(execute=True), _local(sub) as http:
        results = shop.deliver(http)
    assert [status for _, status in results] == [200, 200]  # "updated" and "paid": one event
    assert Run.objects.filter(flow=flow, kind=RunKind.ORDER).count() == 1  # Verwerk's path, once
    record = SyncRecord.objects.get(flow=flow, source_id=str(oid))
    assert record.state == RecordState.PUSHED and len(books_sim.invoices) == 1
    event = WebhookEvent.objects.get(flow=flow)
    assert event.order_ids == [str(oid)] and event.duplicates == 1 and event.queued
    assert WebhookSubscription.objects.get(pk=sub.pk).last_event_at is not None


def test_duplicates_and_replays_are_answered_200_and_do_nothing(
    client, flow, shop, books_sim, sub, immediate, django_capture_on_commit_callbacks
):
    oid = _unpaid(shop)[0]
    _pay(shop, oid)
    delivery = shop.outbox[0]
    with django_capture_on_commit_callbacks(execute=True):
        answers = [_post(client, sub.token, delivery) for _ in range(3)]
    assert answers == [(200, "queued"), (200, "duplicate"), (200, "duplicate")]
    assert Run.objects.filter(flow=flow, kind=RunKind.ORDER).count() == 1
    assert len(books_sim.invoices) == 1
    assert WebhookEvent.objects.get(flow=flow).duplicates == 2


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (lambda h, b: ({k: v for k, v in h.items() if k != "X-Signature"}, b), (401, "signature")),
        (lambda h, b: ({**h, "X-Signature": "f" * 32}, b), (401, "signature")),
        (lambda h, b: (h, b.replace(b"ORD", b"XRD")), (401, "signature")),
        (lambda h, b: ({**h, "X-Signature": sign_webhook(b"<html>", "x")}, b"<html>"), (401, "signature")),
    ],
)
def test_unsigned_or_missigned_deliveries_are_401_and_never_queue(
    client, flow, shop, sub, spoil, expected, django_capture_on_commit_callbacks
):
    delivery = shop.webhook_delivery(int(sub.remote_id), shop.order_ids()[0])
    headers, body = spoil(dict(delivery.headers), delivery.body)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(
            f"/hooks/{sub.token}/",
            data=body,
            content_type="application/json",
            headers={k: v for k, v in headers.items() if k != "Content-Type"},
        )
    assert (response.status_code, response.json()["outcome"]) == expected
    assert queued == [] and not WebhookEvent.objects.exists()
    assert b"Traceback" not in response.content


def test_a_signed_body_that_cannot_be_read_is_400(client, shop, sub, django_capture_on_commit_callbacks):
    body = b"<html>not an order</html>"
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(
            f"/hooks/{sub.token}/",
            data=body,
            content_type="text/html",
            headers={"X-Signature": sign_webhook(body, shop.api_secret)},
        )
    assert (response.status_code, response.json()) == (400, {"outcome": "malformed"})
    assert queued == [] and not WebhookEvent.objects.exists()


def test_unknown_token_wrong_method_and_oversized_bodies(client, shop, sub, settings):
    delivery = shop.webhook_delivery(int(sub.remote_id), shop.order_ids()[0])
    assert _post(client, "x" * 43, delivery) == (404, "unknown")
    assert client.get(f"/hooks/{sub.token}/").status_code == 405
    settings.KOPPELING = {**settings.KOPPELING, "WEBHOOK_MAX_BODY_BYTES": 100}
    assert _post(client, sub.token, delivery) == (413, "too_large")
    assert not WebhookEvent.objects.exists()


def test_a_fault_inside_koppeling_is_503_without_a_traceback(client, shop, sub, monkeypatch):
    delivery = shop.webhook_delivery(int(sub.remote_id), shop.order_ids()[0])

    def broken(*args, **kwargs):
        raise RuntimeError("database is gone")

    monkeypatch.setattr(webhooks, "_record", broken)
    status, outcome = _post(client, sub.token, delivery)
    assert (status, outcome) == (503, "unavailable")


def test_a_paused_link_records_the_event_but_queues_nothing(
    client, flow, shop, sub, django_capture_on_commit_callbacks
):
    Link.objects.filter(pk=flow.link_id).update(status=LinkStatus.PAUSED)
    delivery = shop.webhook_delivery(int(sub.remote_id), shop.order_ids()[0])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert _post(client, sub.token, delivery) == (200, "paused")
    assert queued == [] and not WebhookEvent.objects.get().queued


def test_a_signed_timestamp_outside_the_window_is_refused(client, shop, sub, monkeypatch):
    """Lightspeed signs no delivery time; a vendor that does gets the window (generic part)."""
    now = timezone.now()

    def signed(at):
        return classmethod(lambda cls, h, b, s: VerifiedEvent("e-" + at.isoformat(), ("1",), "orders", at))

    delivery = shop.webhook_delivery(int(sub.remote_id), shop.order_ids()[0])
    monkeypatch.setattr(LightspeedSource, "verify_webhook", signed(now - dt.timedelta(minutes=6)))
    assert _post(client, sub.token, delivery) == (400, "stale")
    monkeypatch.setattr(LightspeedSource, "verify_webhook", signed(now + dt.timedelta(minutes=6)))
    assert _post(client, sub.token, delivery) == (400, "stale")
    monkeypatch.setattr(LightspeedSource, "verify_webhook", signed(now - dt.timedelta(minutes=1)))
    assert _post(client, sub.token, delivery) == (200, "queued")
    assert WebhookEvent.objects.count() == 1


# -- the watchdog ------------------------------------------------------------------------------------


def _check(sub: WebhookSubscription) -> str:
    return webhooks.check_subscription(
        WebhookSubscription.objects.select_related("flow__link").get(pk=sub.pk)
    )


def test_a_healthy_subscription_is_ok_and_needs_no_alert(flow, sub, mailoutbox):
    assert _check(sub) == "ok"
    assert not Alert.objects.exists() and mailoutbox == []


def test_a_dropped_webhook_is_registered_again_with_one_alert_then_closed(
    flow, shop, sub, mailoutbox, immediate, django_capture_on_commit_callbacks
):
    shop.drop_webhook(int(sub.remote_id))
    missed = _unpaid(shop)[0]
    _pay(shop, missed)  # while the shop sends nothing
    assert shop.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        assert _check(sub) == "reregistered"
    # caught up at once: an incremental run was queued with the repair
    assert SyncRecord.objects.get(flow=flow, source_id=str(missed)).state == RecordState.PUSHED
    (hook,) = shop.webhooks.values()
    again = WebhookSubscription.objects.get(pk=sub.pk)
    assert hook["address"] == sub.address and again.remote_id == str(hook["id"]) != sub.remote_id
    assert again.reregistered == 1 and again.status == SubscriptionStatus.ACTIVE
    alert = Alert.objects.get(link=flow.link, kind=webhooks.WEBHOOK_ALERT, closed_at__isnull=True)
    assert alert.code == webhooks.WebhookCode.REREGISTERED and not alert.paused
    assert len(mailoutbox) == 1 and "Lightspeed" in mailoutbox[0].body
    assert Link.objects.get(pk=flow.link_id).status == LinkStatus.ACTIVE  # the link keeps running
    assert _check(again) == "ok"
    assert not Alert.objects.filter(closed_at__isnull=True).exists()


def test_a_webhook_disabled_after_failures_is_turned_on_again(flow, shop, sub):
    shop.disable_after = 2
    shop.edit_order(shop.order_ids()[0], memo="a")
    shop.edit_order(shop.order_ids()[0], memo="b")
    failing = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(502)))
    shop.deliver(failing)
    assert shop.webhooks[int(sub.remote_id)]["isActive"] is False
    assert _check(sub) == "reactivated"
    assert shop.webhooks[int(sub.remote_id)]["isActive"] is True
    assert Alert.objects.get(kind=webhooks.WEBHOOK_ALERT).code == webhooks.WebhookCode.REACTIVATED


def test_a_double_registration_is_cleaned_up(flow, shop, sub):
    shop.webhooks[999] = {**shop.webhooks[int(sub.remote_id)], "id": 999}
    assert _check(sub) == "ok"
    assert list(shop.webhooks) == [int(sub.remote_id)]


def test_when_the_api_refuses_the_subscription_is_lost_and_alerted(
    flow, shop, sub, mailoutbox, django_capture_on_commit_callbacks
):
    shop.drop_webhook(int(sub.remote_id))
    shop.fail_next(503, times=1)
    assert _check(sub) == "unreachable"  # a passing failure: no alert, checked again next time
    assert not Alert.objects.exists()
    shop.fail_next(403, times=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert _check(sub) == "lost"
    lost = WebhookSubscription.objects.get(pk=sub.pk)
    assert lost.status == SubscriptionStatus.LOST and lost.problem_code == webhooks.WebhookCode.LOST
    alert = Alert.objects.get(kind=webhooks.WEBHOOK_ALERT)
    assert alert.params["first"]["code"] and shop.api_secret not in str(alert.params)
    assert len(mailoutbox) == 1
    assert _check(lost) == "reregistered"  # the next check puts it right


def test_watch_due_checks_only_what_is_due(flow, shop, sub):
    now = timezone.now()
    assert webhooks.watch_due(now) == {}  # just registered: checked_at is now
    later = now + dt.timedelta(minutes=16)
    shop.drop_webhook(int(sub.remote_id))
    assert webhooks.watch_due(later) == {"reregistered": 1}
    assert webhooks.watch_due(later + dt.timedelta(minutes=1)) == {}


# -- the reconciliation scan -------------------------------------------------------------------------


def test_the_scan_runs_flows_with_webhooks_every_15_minutes(flow, shop, books_sim, sub, immediate):
    oid = _unpaid(shop)[0]
    _pay(shop, oid)
    shop.outbox.clear()  # the delivery is lost
    now = timezone.now()
    assert webhooks.scan_due(now) == [flow.pk]  # never run yet
    assert SyncRecord.objects.get(flow=flow, source_id=str(oid)).state == RecordState.PUSHED
    assert webhooks.scan_due(now + dt.timedelta(minutes=5)) == []
    assert webhooks.scan_due(now + dt.timedelta(minutes=16)) == [flow.pk]


def test_the_scan_leaves_paused_flows_and_flows_without_webhooks_alone(link, flow, sub):
    Link.objects.filter(pk=flow.link_id).update(status=LinkStatus.PAUSED)
    assert webhooks.scan_due() == []


def test_the_upkeep_task_scans_and_watches(flow, sub, immediate, monkeypatch):
    seen = []
    monkeypatch.setattr(tasks, "sync_flow", lambda flow_id, kind: seen.append((flow_id, kind)))
    result = tasks.webhook_upkeep.call_local()
    assert result == {"scanned": 1, "checked": {}} and seen == [(flow.pk, "scheduled")]


def test_old_events_are_purged(flow, sub):
    WebhookEvent.objects.create(flow=flow, event_id="old", received_at=timezone.now() - dt.timedelta(days=60))
    WebhookEvent.objects.create(flow=flow, event_id="new")
    assert tasks.purge_webhook_events.call_local() == 1
    assert list(WebhookEvent.objects.values_list("event_id", flat=True)) == ["new"]


def test_a_refused_registration_leaves_it_lost_for_the_watchdog(flow, shop):
    shop.fail_next(401)
    with pytest.raises(ConnectorError):
        webhooks.enable(flow)
    sub = WebhookSubscription.objects.get(flow=flow)
    assert sub.status == SubscriptionStatus.LOST and sub.address.endswith(f"/hooks/{sub.token}/")
    assert sub.problem_params["first"]["code"] and not Alert.objects.exists()  # the person saw it
    assert _check(sub) == "registered" and len(shop.webhooks) == 1
    assert WebhookSubscription.objects.get(pk=sub.pk).status == SubscriptionStatus.ACTIVE
    assert not Alert.objects.exists()


def test_no_public_address_leaves_no_subscription_behind(flow, settings):
    settings.KOPPELING = {**settings.KOPPELING, "PUBLIC_URL": ""}
    with pytest.raises(webhooks.WebhookSetupError):
        webhooks.enable(flow)
    assert not WebhookSubscription.objects.exists()


@hypothesis.settings(
    max_examples=25, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(body=st.binary(max_size=400), signature=st.text(max_size=40), sign=st.booleans())
def test_no_body_makes_the_endpoint_fail_or_queue_unsigned_work(client, shop, sub, body, signature, sign):
    headers = {"X-Signature": sign_webhook(body, shop.api_secret) if sign else signature}
    response = client.post(
        f"/hooks/{sub.token}/", data=body, content_type="application/json", headers=headers
    )
    assert response.status_code in ((200, 400) if sign else (401,))
    assert set(response.json()) == {"outcome"}


def test_refusals_do_not_write_the_token_to_the_log(client, shop, sub, caplog):
    delivery = shop.webhook_delivery(int(sub.remote_id), shop.order_ids()[0])
    with caplog.at_level("DEBUG"):
        client.post(f"/hooks/{sub.token}/", data=delivery.body, content_type="application/json")
        _post(client, sub.token[:-1] + "x", delivery)
    assert caplog.records and sub.token[:20] not in caplog.text


def test_the_cli_turns_a_flow_webhook_on_shows_it_and_turns_it_off(flow, shop, capsys):
    """`koppeling webhooks LINK --on/--off`: registration at the shop, never the token on screen."""
    import argparse

    from django.utils import translation

    from koppeling.cli_webhooks import cmd_webhooks

    def run(**flags):
        args = {"link": str(flow.link.pk), "flow": "orders_to_invoices", "on": False, "off": False}
        with translation.override("en"):
            return cmd_webhooks(argparse.Namespace(public_url=None, **{**args, **flags}))

    assert run() == 0 and "no webhook" in capsys.readouterr().out
    assert run(on=True) == 0
    shown = capsys.readouterr().out
    sub = WebhookSubscription.objects.get(flow=flow)
    assert "Active" in shown and sub.token not in shown and len(shop.webhooks) == 1
    assert run(off=True) == 0 and "Off" in capsys.readouterr().out and not shop.webhooks
    # without koppeling's public address it says so, with a code's text, exit 2
    from django.conf import settings

    settings.KOPPELING = {**settings.KOPPELING, "PUBLIC_URL": ""}
    assert run(on=True) == 2


def test_the_configuratie_page_turns_the_webhook_on_and_off(flow, shop, client, django_user_model):
    """The same switch on the flow's Configuratie page, for a member; a read-only member cannot."""
    from django.urls import reverse

    from koppeling.sync.models import Membership, Role

    member = django_user_model.objects.create_user("lid", password="een-lang-wachtwoord-1")
    Membership.objects.create(organisation=flow.link.organisation, user=member, role=Role.MEMBER)
    reader = django_user_model.objects.create_user("lezer", password="een-lang-wachtwoord-2")
    Membership.objects.create(organisation=flow.link.organisation, user=reader, role=Role.READ_ONLY)
    page = reverse("pages:config", args=[flow.pk])
    switch = reverse("pages:config_webhook", args=[flow.pk])
    client.force_login(reader)
    assert 'id="webhooks"' in client.get(page).content.decode()
    assert client.post(switch, {"on": "1"}).status_code == 403 and not shop.webhooks
    client.force_login(member)
    assert client.post(switch, {"on": "1"}).status_code == 302
    assert len(shop.webhooks) == 1 and WebhookSubscription.objects.get(flow=flow).status == "active"
    assert client.post(switch, {"on": "0"}).status_code == 302
    assert not shop.webhooks and WebhookSubscription.objects.get(flow=flow).status == "off"
