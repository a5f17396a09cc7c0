"""Configuratie: every setting a form field with live choices; bad values refused where they are;
a change logged with who and what; a changed condition takes up the orders it skipped; credentials
replaced field by field, checked before they are kept."""

from __future__ import annotations

from html.parser import HTMLParser
from unittest import mock

import pytest
from django.urls import reverse
from tests.web.conftest import PASSWORD

from koppeling.sync.engine import Engine
from koppeling.sync.models import ActivityEvent, RecordState, SyncRecord
from koppeling.sync.tasks import push_record_now, run_flow
from koppeling.web.setup.codes import SetupCode

pytestmark = pytest.mark.django_db


class FormReader(HTMLParser):
    """What a browser would post for the form ``form_id``, as the page shows it."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.data = form_id, False, []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.data.append((a["name"], a.get("value", "on")))
            elif kind != "submit":
                self.data.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select, self._options = a.get("name"), []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.data.append((self._textarea, ""))

    def handle_data(self, data):
        if self._textarea is not None:
            name, text = self.data[-1]
            self.data[-1] = (name, text + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [v for v, _ in self._options[:1]]
            self.data += [(self._select, v) for v in chosen]
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_data(html: str, form_id: str = "settings-form") -> dict[str, list[str]]:
    reader = FormReader(form_id)
    reader.feed(html)
    out: dict[str, list[str]] = {}
    for name, value in reader.data:
        out.setdefault(name, []).append(value)
    return out


@pytest.fixture
def flow(link):
    return link.flows.get()


def page(client, flow, **extra) -> str:
    response = client.get(reverse("pages:config", args=[flow.pk]), **extra)
    assert response.status_code == 200
    return response.content.decode()


def test_every_setting_is_a_field_with_the_systems_choices(signed_in, flow):
    html = page(signed_in, flow, HTTP_ACCEPT_LANGUAGE="en")
    assert 'name="s-statuses"' in html and 'name="s-order_prefix"' in html
    assert 'name="t-accounts-rows"' in html and 'name="schedule_minutes"' in html
    statuses = form_data(html)["s-statuses"]
    assert sorted(statuses) == ["3", "6", "7"]  # ticked as stored, out of the shop's own list
    assert html.count('name="s-statuses"') > 3  # the shop's other statuses are offered too
    assert "<select" in html and "t-accounts-0-value" in html  # an account: a drop-down of Acumulus's


def test_reverse_to_config_from_overview_and_link(signed_in, link, flow):
    assert (
        reverse("pages:config_link", args=[link.pk])
        in signed_in.get(reverse("pages:overview")).content.decode()
    )
    assert signed_in.get(reverse("pages:config_link", args=[link.pk])).url == reverse(
        "pages:config", args=[flow.pk]
    )
    assert signed_in.get(reverse("pages:config_index")).url == reverse("pages:config", args=[flow.pk])


def test_bad_values_are_refused_next_to_their_field_and_nothing_is_saved(signed_in, flow):
    data = form_data(page(signed_in, flow))
    data["s-order_prefix"] = ["X" * 30]
    data["schedule_minutes"] = ["1"]
    data["t-accounts-0-value"] = ["999"]  # not an account of this Acumulus
    before = (dict(flow.settings), dict(flow.target_settings), flow.schedule_minutes)
    response = signed_in.post(reverse("pages:config", args=[flow.pk]), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="s-order_prefix-error"' in html and "At most 20 characters" in html
    assert 'id="schedule-error"' in html
    assert "999 is not one of the choices" in html
    flow.refresh_from_db()
    assert (flow.settings, flow.target_settings, flow.schedule_minutes) == before
    assert not ActivityEvent.objects.filter(code=SetupCode.FLOW_SETTINGS_CHANGED).exists()


def test_a_change_is_logged_with_who_and_what(signed_in, owner, flow):
    data = form_data(page(signed_in, flow))
    data["s-order_prefix"] = ["WB"]
    data["schedule_minutes"] = ["30"]
    response = signed_in.post(reverse("pages:config", args=[flow.pk]), data)
    assert response.status_code == 302
    flow.refresh_from_db()
    assert flow.settings["order_prefix"] == "WB" and flow.settings["statuses"] == ["3", "6", "7"]
    assert flow.schedule_minutes == 30 and flow.target_settings["accounts"] == {"paypal": "2", "*": "1"}
    event = ActivityEvent.objects.get(code=SetupCode.FLOW_SETTINGS_CHANGED)
    assert event.params["user"] == owner.username
    assert event.payload["changed"]["order_prefix"] == {"old": "WA", "new": "WB"}
    assert set(event.payload["changed"]) == {"order_prefix", "schedule_minutes"}
    again = page(signed_in, flow, HTTP_ACCEPT_LANGUAGE="en")
    assert f"{owner.username} changed the settings of" in again  # shown under Changes
    unchanged = signed_in.post(reverse("pages:config", args=[flow.pk]), form_data(again))
    assert unchanged.status_code == 302
    assert ActivityEvent.objects.filter(code=SetupCode.FLOW_SETTINGS_CHANGED).count() == 1


def test_a_changed_condition_takes_up_the_orders_it_skipped(signed_in, link, flow):
    Engine(link).run()
    skipped = SyncRecord.objects.filter(
        flow=flow, state=RecordState.SKIPPED, reason_code="status_not_selected"
    )
    statuses = set(skipped.values_list("source_status", flat=True))
    assert skipped.exists() and statuses
    data = form_data(page(signed_in, flow))
    data["s-statuses"] = sorted({*data["s-statuses"], *statuses})
    with mock.patch("koppeling.web.pages.config.enqueue_on_commit") as enqueue:
        signed_in.post(reverse("pages:config", args=[flow.pk]), data)
    ids = sorted(call.args[2] for call in enqueue.call_args_list)
    assert ids == sorted(skipped.values_list("source_id", flat=True))
    assert all(call.args[:2] == (push_record_now, flow.pk) for call in enqueue.call_args_list)
    event = ActivityEvent.objects.get(code=SetupCode.SKIPPED_REEVALUATED)
    assert event.params["count"] == len(ids)
    for source_id in ids:  # what the queued tasks do: read again with the new settings
        run_flow(flow.pk, "order", source_id)
    assert not SyncRecord.objects.filter(
        flow=flow, state=RecordState.SKIPPED, reason_code="status_not_selected"
    ).exists()


def test_credentials_are_replaced_field_by_field_and_checked_first(signed_in, link, flow):
    target = link.target
    stored = dict(target.credentials)
    url = reverse("pages:config_credentials", args=[flow.pk, "target"])
    html = page(signed_in, flow)
    assert stored["password"] not in html  # a secret is never shown back
    post = {k: v[0] for k, v in form_data(html, "credentials-form-target").items()}
    assert post["target-password"] == "" and post["target-base_url"] == target.base_url
    assert signed_in.post(url, post).status_code == 302  # secrets left blank: kept
    target.refresh_from_db()
    assert target.credentials == stored
    wrong = {**post, "target-password": "not-the-password"}
    response = signed_in.post(url, wrong, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422 and "not-the-password" not in response.content.decode()
    target.refresh_from_db()
    assert target.credentials == stored


def test_a_read_only_member_looks_but_cannot_change(client, reader, flow):
    client.login(username=reader.username, password=PASSWORD)
    html = page(client, flow)
    assert 'id="read-only-note"' in html and "disabled" in html and 'id="save-settings"' not in html
    data = form_data(html)
    data["s-order_prefix"] = ["ZZ"]
    assert client.post(reverse("pages:config", args=[flow.pk]), data).status_code == 403
    flow.refresh_from_db()
    assert flow.settings["order_prefix"] == "WA"


def test_alert_recipient_is_validated_and_logged(signed_in, link, flow):
    url = reverse("pages:config_recipients", args=[flow.pk])
    bad = signed_in.post(url, {"notify_email": "not an address"})
    assert bad.status_code == 422 and 'id="notify-error"' in bad.content.decode()
    assert signed_in.post(url, {"notify_email": "boekhouding@acme.test"}).status_code == 302
    link.organisation.refresh_from_db()
    assert link.organisation.notify_email == "boekhouding@acme.test"
    assert ActivityEvent.objects.filter(code=SetupCode.RECIPIENTS_CHANGED).exists()
