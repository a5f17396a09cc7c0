"""The data migration: a first-landing link becomes one orders → invoices flow, nothing lost."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("sync", "0001_initial")]
AFTER = [("sync", "0004_flows_complete")]


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture(autouse=True)
def back_to_the_latest_schema():
    """Each test leaves the database as the other tests expect it: fully migrated."""
    yield
    _migrate(_latest())


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def test_a_link_of_the_first_landing_becomes_one_flow_with_its_ledger_cursor_and_texts():
    old = _migrate(BEFORE)
    try:
        org = old.get_model("sync", "Organisation").objects.create(name="Oud", slug="oud")
        conn = old.get_model("sync", "Connection")
        shop = conn.objects.create(organisation=org, name="shop", system="mijnwebwinkel")
        books = conn.objects.create(organisation=org, name="books", system="acumulus")
        link = old.get_model("sync", "Link").objects.create(
            organisation=org,
            name="oud",
            source=shop,
            target=books,
            schedule_minutes=30,
            paused_reason="token refused",
            settings={"version": 1, "statuses": ["3"], "accounts": {"*": "1"}, "cost_centers": {"*": "2"}},
        )
        records = old.get_model("sync", "SyncRecord").objects
        records.create(link=link, source_id="1001", state="pushed", target_number="2026001")
        records.create(
            link=link, source_id="1002", state="failed", message="VAT missing", suggestion="Set it"
        )
        records.create(
            link=link,
            source_id="1003",
            state="skipped",
            reason_code="status_not_selected",
            message="Orderstatus niet geselecteerd",
        )
        old.get_model("sync", "Cursor").objects.create(
            link=link, stream="orders", state={"version": 1, "last_value": "2026-11-01T10:00:00+00:00"}
        )
        old.get_model("sync", "Run").objects.create(link=link, status="failed", error="boom")
        old.get_model("sync", "ActivityEvent").objects.create(
            organisation=org, link=link, code="pushed", message="Order 1001 booked"
        )
        old.get_model("sync", "Alert").objects.create(link=link, kind="auth", message="token refused")
    finally:
        new = _migrate(AFTER)
    flow = new.get_model("sync", "Flow").objects.get()
    assert flow.kind == "orders_to_invoices" and flow.schedule_minutes == 30
    assert flow.settings == {"version": 2, "statuses": ["3"]}
    assert flow.target_settings == {"version": 1, "accounts": {"*": "1"}, "cost_centers": {"*": "2"}}
    rows = {r.source_id: r for r in new.get_model("sync", "SyncRecord").objects.all()}
    assert {r.flow_id for r in rows.values()} == {flow.pk}
    assert rows["1001"].state == "pushed" and rows["1001"].target_number == "2026001"
    assert rows["1002"].error_code == "legacy_text"
    assert rows["1002"].params == {"text": "VAT missing", "suggestion": "Set it"}
    assert rows["1003"].params == {} and rows["1003"].reason_code == "status_not_selected"
    cursor = new.get_model("sync", "Cursor").objects.get()
    assert cursor.flow_id == flow.pk and cursor.stream == "changed"
    assert cursor.state["last_value"] == "2026-11-01T10:00:00+00:00"
    run = new.get_model("sync", "Run").objects.get()
    assert run.flow_id == flow.pk and run.error_params == {"text": "boom"}
    event = new.get_model("sync", "ActivityEvent").objects.get()
    assert event.code == "legacy_text" and event.params == {"text": "Order 1001 booked", "code": "pushed"}
    alert = new.get_model("sync", "Alert").objects.get()
    assert alert.paused and alert.params == {"text": "token refused"}
    link = new.get_model("sync", "Link").objects.get()
    assert link.paused_code == "legacy_text"


def test_members_of_the_first_landing_become_owners():
    old = _migrate([("sync", "0005_backfills")])
    try:
        user = old.get_model("auth", "User").objects.create(username="piet")
        org = old.get_model("sync", "Organisation").objects.create(name="Oud", slug="oud-2")
        org.members.add(user)
    finally:
        new = _migrate([("sync", "0006_memberships_and_vat_checks")])
    (membership,) = new.get_model("sync", "Membership").objects.all()
    assert (membership.user_id, membership.organisation_id, membership.role) == (user.pk, org.pk, "owner")
    members = new.get_model("sync", "Organisation").objects.get(pk=org.pk).members.all()
    assert [m.pk for m in members] == [user.pk]
