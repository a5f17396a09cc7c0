"""Tenancy in the models (issue 13): a link and its connections belong to one organisation, the
credentials belong to the address they were entered for, the same shop is not booked twice, and
credentials go only over https to a real system."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import translation
from tests.conftest import make_link

from koppeling.connectors import http as kh
from koppeling.connectors.errors import AuthError
from koppeling.sync.connections import base_url_problem, build_connector, origin
from koppeling.sync.models import Connection, Flow, Link, Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_org(db):
    return Organisation.objects.create(name="Other", slug="other")


def _connection(org, name="x", system="acumulus", base_url="http://acumulus.sim", **credentials):
    conn = Connection(organisation=org, name=name, system=system, base_url=base_url)
    conn.credentials = credentials or {"contractcode": "1", "username": "u", "password": "p"}
    conn.save()
    return conn


def test_a_link_on_another_organisations_connection_is_refused(link, other_org):
    theirs = _connection(other_org)
    stolen = Link(organisation=other_org, name="steal", source=link.source, target=theirs)
    with translation.override("en"), pytest.raises(ValidationError, match="belong to one organisation"):
        stolen.clean()
    with pytest.raises(ValidationError):
        stolen.save()
    assert not Link.objects.filter(name="steal").exists()


def test_a_flow_on_another_organisations_connection_is_refused(link, other_org):
    theirs = _connection(other_org)
    flow = Flow(link=link, kind="orders_to_invoices", source=link.source, target=theirs)
    with pytest.raises(ValidationError):
        flow.save()


def test_flow_takes_its_links_organisation(link):
    flow = link.flows.get()
    assert flow.organisation_id == link.organisation_id


def test_a_used_connection_cannot_move_to_another_organisation(link, other_org):
    source = link.source
    source.organisation = other_org
    with pytest.raises(ValidationError):
        source.save()


def _behind_the_models_back(update) -> None:
    """Raw writes: the database itself must refuse them (PostgreSQL keys, SQLite triggers)."""
    with pytest.raises(IntegrityError), transaction.atomic():
        update()
        connection.check_constraints()  # PostgreSQL's keys are deferred to the commit


def test_the_database_refuses_a_link_across_organisations(link, other_org):
    theirs = _connection(other_org)
    _behind_the_models_back(lambda: Link.objects.filter(pk=link.pk).update(target=theirs))
    _behind_the_models_back(lambda: Link.objects.filter(pk=link.pk).update(organisation=other_org))


def test_the_database_refuses_a_flow_across_organisations(link, other_org):
    theirs = _connection(other_org, "y")
    flows = Flow.objects.filter(link=link)
    _behind_the_models_back(lambda: flows.update(source=theirs))
    _behind_the_models_back(lambda: flows.update(organisation=other_org))


def test_the_database_refuses_moving_a_used_connection(link, other_org):
    _behind_the_models_back(
        lambda: Connection.objects.filter(pk=link.source_id).update(organisation=other_org)
    )
    unused = _connection(link.organisation, "spare")
    Connection.objects.filter(pk=unused.pk).update(organisation=other_org)  # not used: may move


@pytest.mark.postgres
def test_the_database_refuses_a_link_across_organisations_on_postgres(link, other_org):
    """The same three checks in the PostgreSQL run (composite foreign keys, migration 0008)."""
    test_the_database_refuses_a_link_across_organisations(link, other_org)
    test_the_database_refuses_a_flow_across_organisations(link, other_org)
    test_the_database_refuses_moving_a_used_connection(link, other_org)


def test_a_new_base_url_without_new_credentials_is_refused(link):
    books = link.target
    books.base_url = "https://evil.example.org"
    with translation.override("en"):
        with pytest.raises(ValidationError, match="enter the credentials again"):
            books.clean()
        with pytest.raises(ValidationError, match="enter the credentials again"):
            books.save()
    books = Connection.objects.get(pk=books.pk)
    assert books.base_url != "https://evil.example.org"
    # entered again (in any order: before or after the address), the change is made
    secrets = books.credentials
    books.credentials = secrets
    books.base_url = "https://books.example.org"
    books.save()
    books.refresh_from_db()
    assert books.bound_origin() == "https://books.example.org" and books.credentials_bound_here()


def test_keeping_the_credentials_and_changing_other_fields_is_fine(link):
    books = link.target
    books.name = "renamed"
    books.options = {"call_deadline_seconds": 5}
    books.full_clean()
    books.save()


def test_an_address_changed_behind_the_models_back_sends_nothing(link):
    received = []

    def evil(environ, start_response):
        received.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    kh.mount_wsgi("http://evil.sim", evil)
    try:
        Connection.objects.filter(pk=link.target_id).update(base_url="http://evil.sim")  # raw SQL
        connector = build_connector(Connection.objects.get(pk=link.target_id))
        with pytest.raises(AuthError) as info:
            connector.http.get("http://evil.sim/anything")
    finally:
        kh.unmount("http://evil.sim")
    assert info.value.code == "connection_credentials_for_other_address"
    assert received == []  # not one request left with the old address's credentials


def test_the_same_shop_into_the_same_books_by_two_links_is_refused(link, shop_sim, books_sim):
    second = make_link(shop_sim, books_sim, name="again")  # created as the fixtures do, unchecked
    with translation.override("en"):
        with pytest.raises(ValidationError, match="already moves this shop's data into these books"):
            second.flows.get().full_clean()


def test_another_shop_into_the_same_books_is_fine(link, shop_sim, books_sim):
    other_shop = _connection(
        link.organisation, "shop 2", "mijnwebwinkel", "http://mijnwebwinkel.sim", partner_token="a", token="b"
    )
    second = Link.objects.create(
        organisation=link.organisation, name="second", source=other_shop, target=link.target
    )
    flow = Flow(link=second, kind="orders_to_invoices", source=other_shop, target=link.target)
    flow.full_clean(exclude=["settings", "target_settings"])


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://api.acumulus.nl", True),
        ("http://api.acumulus.nl", False),
        ("http://localhost:8001", True),
        ("http://127.0.0.1:9000/api", True),
        ("http://acumulus.sim", True),
        ("http://acumulus-sim:8000", True),  # one label: a container on this network
        ("https://user:pw@api.acumulus.nl", False),
        ("ftp://api.acumulus.nl", False),
        ("", True),  # the connector's own https default
    ],
)
def test_https_only_for_real_systems(url, allowed):
    assert (base_url_problem(url) is None) is allowed


def test_an_operator_may_allow_http_for_a_named_stand_in(settings):
    settings.KOPPELING = {**settings.KOPPELING, "HTTP_HOSTS": ["books.lan.internal"]}
    assert base_url_problem("http://books.lan.internal:8080") is None


def test_origin_is_normalised():
    assert origin("HTTPS://Api.Example.org:443/x?y") == "https://api.example.org"
    assert origin("http://[::1]:8080/") == "http://[::1]:8080"


def test_a_run_on_a_moved_connection_pauses_the_link_and_sends_nothing(link, seeded_shop, books_sim):
    from koppeling.sync.engine import Engine

    received = []
    kh.mount_wsgi("http://evil.sim", lambda environ, start: received.append(1) or [])
    try:
        Connection.objects.filter(pk=link.target_id).update(base_url="http://evil.sim")
        report = Engine(Link.objects.get(pk=link.pk)).run()
    finally:
        kh.unmount("http://evil.sim")
    link.refresh_from_db()
    assert report.pushed == 0 and received == []
    assert link.status == "paused" and link.paused_code == "connection_credentials_for_other_address"
