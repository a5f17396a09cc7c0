"""The link wizard against the simulators: systems → credentials checked live → flows → settings
from the systems' lists → start point → preview of exactly what will be booked → activate.
A link is never active before the last step; every page is scoped and read-only members look."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from tests.conftest import BOOKS_URL, SHOP_URL
from tests.web.conftest import PASSWORD, member_of

from koppeling.sync.engine import Engine
from koppeling.sync.models import (
    ActivityEvent,
    Connection,
    Cursor,
    FlowStatus,
    Link,
    LinkStatus,
    Organisation,
    RecordState,
    Role,
    SyncRecord,
)
from koppeling.web.models import LinkSetup

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    return Organisation.objects.create(name="De Molen", slug="de-molen")


@pytest.fixture
def owner_client(client, django_user_model, org):
    user = member_of(django_user_model, org, "anna", Role.OWNER)
    client.login(username=user.username, password=PASSWORD)
    return client


def credentials_post(shop, books, **override):
    data = {
        "source-base_url": SHOP_URL,
        "source-partner_token": shop.partner_token,
        "source-token": shop.token,
        "target-base_url": BOOKS_URL,
        **{f"target-{k}": v for k, v in books.valid_credentials().items()},
    }
    data.update(override)
    return data


def new_link(client) -> Link:
    response = client.post(reverse("setup:new_link"), {"source": "mijnwebwinkel", "target": "acumulus"})
    link = Link.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "setup:credentials", args=[link.pk]
    )
    return link


def settings_post(page, **override) -> dict:
    """What the settings page posts as it is shown (its defaults), with ``override``."""
    data: dict = {}
    for ff in page.context["forms"]:
        for form in (ff.generic, ff.target):
            if form is None:
                continue
            for f in form.fields:
                if f.kind == "checkbox":
                    if f.value:
                        data[f.input] = "on"
                elif f.kind == "checks":
                    data[f.input] = sorted(f.selected)
                elif f.kind in ("mapping", "model_mapping"):
                    data[f"{f.input}-rows"] = str(f.row_count)
                elif f.kind != "group":
                    data[f.input] = f.shown
    data.update(override)
    return data


def walk_to_preview(client, shop, books, *, start=None) -> Link:
    link = new_link(client)
    assert (
        client.post(reverse("setup:credentials", args=[link.pk]), credentials_post(shop, books)).status_code
        == 302
    )
    assert (
        client.post(reverse("setup:flows", args=[link.pk]), {"kinds": ["orders_to_invoices"]}).status_code
        == 302
    )
    page = client.get(reverse("setup:settings", args=[link.pk]))
    assert client.post(reverse("setup:settings", args=[link.pk]), settings_post(page)).status_code == 302
    start = start or {"start_kind": "date", "from_date": (dt.date.today() - dt.timedelta(days=3)).isoformat()}
    assert client.post(reverse("setup:start", args=[link.pk]), start).status_code == 302
    return link


def test_sign_up_lands_in_the_wizard_and_it_offers_the_systems(client, db):
    client.post(
        reverse("accounts:signup"),
        {
            "organisation": "Nieuw",
            "email": "n@example.test",
            "password1": "lange-zin-42-x",
            "password2": "lange-zin-42-x",
        },
    )
    page = client.get(reverse("setup:new_link"))
    assert page.status_code == 200
    sources, targets = dict(page.context["sources"]), dict(page.context["targets"])
    assert "mijnwebwinkel" in sources and "acumulus" in targets and "acumulus" not in sources


def test_choosing_nothing_is_located_and_creates_nothing(owner_client):
    response = owner_client.post(reverse("setup:new_link"), {"source": "", "target": "nope"})
    assert response.status_code == 400
    assert set(response.context["errors"]) == {"source", "target"}
    assert 'id="source_error"' in response.content.decode()
    assert not Link.objects.exists() and not Connection.objects.exists()


def test_a_new_link_is_paused_until_activated(owner_client, shop_sim, books_sim):
    link = new_link(owner_client)
    assert link.status == LinkStatus.PAUSED and link.paused_code == "link_not_activated"
    assert ActivityEvent.objects.filter(link=link, code="link_created").exists()
    # the runtime refuses to run it
    report = Engine(link).run()
    assert report.pushed == 0


def test_credentials_are_checked_live_and_a_refusal_saves_nothing(owner_client, shop_sim, books_sim):
    link = new_link(owner_client)
    url = reverse("setup:credentials", args=[link.pk])
    page = owner_client.get(url)
    html = page.content.decode()
    assert "Token toevoegen" in html and 'type="password"' in html
    bad = owner_client.post(url, credentials_post(shop_sim, books_sim, **{"source-token": "wrong-token"}))
    assert bad.status_code == 400
    shop_form = bad.context["forms"][0]
    assert shop_form.check_error is not None and "wrong-token" not in bad.content.decode()
    link.source.refresh_from_db()
    assert link.source.credentials_encrypted == "" and link.setup.checked_at is None
    missing = owner_client.post(url, credentials_post(shop_sim, books_sim, **{"target-password": ""}))
    assert [f.name for f in missing.context["forms"][1].fields if f.error] == ["password"]
    good = owner_client.post(url, credentials_post(shop_sim, books_sim))
    assert good.status_code == 302 and good["Location"] == reverse("setup:flows", args=[link.pk])
    link.source.refresh_from_db()
    assert link.source.credentials == shop_sim.valid_credentials()
    events = ActivityEvent.objects.filter(link=link, code="connection_credentials_replaced")
    assert events.count() == 2 and all(shop_sim.token not in str(e.params) for e in events)


def test_a_blank_secret_keeps_the_stored_one_and_a_new_address_asks_again(owner_client, shop_sim, books_sim):
    link = new_link(owner_client)
    url = reverse("setup:credentials", args=[link.pk])
    owner_client.post(url, credentials_post(shop_sim, books_sim))
    page = owner_client.get(url)
    assert books_sim.valid_credentials()["password"] not in page.content.decode()
    # only the user name again, every secret left blank: nothing is wiped
    kept = credentials_post(
        shop_sim, books_sim, **{"source-token": "", "source-partner_token": "", "target-password": ""}
    )
    assert owner_client.post(url, kept).status_code == 302
    link.target.refresh_from_db()
    assert link.target.credentials == books_sim.valid_credentials()
    # another address: the secrets are asked again (never sent to another host)
    moved = dict(kept, **{"target-base_url": "http://other-books.sim"})
    response = owner_client.post(url, moved)
    assert response.status_code == 400
    assert [f.name for f in response.context["forms"][1].fields if f.error] == ["password"]
    link.target.refresh_from_db()
    assert link.target.base_url == BOOKS_URL


def test_settings_offer_the_systems_lists_and_locate_errors(owner_client, shop_sim, books_sim):
    link = new_link(owner_client)
    owner_client.post(reverse("setup:credentials", args=[link.pk]), credentials_post(shop_sim, books_sim))
    owner_client.post(reverse("setup:flows", args=[link.pk]), {"kinds": ["orders_to_invoices"]})
    url = reverse("setup:settings", args=[link.pk])
    page = owner_client.get(url)
    ff = page.context["forms"][0]
    statuses = next(f for f in ff.generic.fields if f.name == "statuses")
    assert statuses.kind == "checks" and ("3", "Betaald") in statuses.choices
    # seed 003's default: Verzonden, Betaald, Betaald en afgehaald, Betaald en verzonden (by name)
    assert statuses.selected == {"2", "3", "6", "7"}
    accounts = next(f for f in ff.target.fields if f.name == "accounts")
    assert accounts.kind == "mapping" and accounts.value_choices  # Acumulus's accounts in a drop-down
    flow = link.flows.get()
    prefix, tprefix = f"f{flow.pk}", f"t{flow.pk}"
    bad = settings_post(
        page,
        **{
            f"{prefix}-description_template": "Bestelling",
            f"{prefix}-max_attempts": "0",
            f"{tprefix}-accounts-rows": "1",
            f"{tprefix}-accounts-0-key": "*",
            f"{tprefix}-accounts-0-value": "999999",
        },
    )
    response = owner_client.post(url, bad)
    assert response.status_code == 400
    ff = response.context["forms"][0]
    assert "description_template" in ff.generic.errors and "max_attempts" in ff.generic.errors
    assert "accounts" in ff.target.errors  # an account Acumulus does not have
    html = response.content.decode()
    assert f'id="id_{prefix}-description_template_error"' in html
    flow.refresh_from_db()
    assert "description_template" not in flow.settings
    account = accounts.value_choices[0][0]
    good = settings_post(
        page,
        **{
            f"{tprefix}-accounts-rows": "1",
            f"{tprefix}-accounts-0-key": "*",
            f"{tprefix}-accounts-0-value": account,
        },
    )
    assert owner_client.post(url, good).status_code == 302
    flow.refresh_from_db()
    assert flow.target_settings == {"accounts": {"*": account}}
    assert flow.settings["statuses"] == ["2", "3", "6", "7"]
    changed = ActivityEvent.objects.get(link=link, code="flow_settings_changed")
    assert "target.accounts" in changed.params["fields"]


def test_start_number_must_exist_in_the_shop(owner_client, seeded_shop, books_sim):
    link = walk_to_preview(owner_client, seeded_shop, books_sim)
    url = reverse("setup:start", args=[link.pk])
    response = owner_client.post(url, {"start_kind": "number", "from_number": "999999"})
    assert response.status_code == 400 and "999999" in response.context["errors"]["number"]
    response = owner_client.post(url, {"start_kind": "date", "from_date": "gisteren"})
    assert "date" in response.context["errors"]
    assert owner_client.post(url, {"start_kind": "number", "from_number": "1010"}).status_code == 302
    settings = link.flows.get().settings
    assert settings["from_number"] == 1010
    assert settings["from_date"] == seeded_shop.order(1010)["date"][:10]  # bounds the first read
    page = owner_client.get(reverse("setup:preview", args=[link.pk]))
    numbers = [int(d.number) for d in page.context["previews"][0].documents]
    assert numbers and min(numbers) >= 1010  # nothing before the start number


def test_preview_shows_the_documents_then_activation_books_them(owner_client, seeded_shop, books_sim):
    link = walk_to_preview(owner_client, seeded_shop, books_sim)
    # not before the preview
    early = owner_client.post(reverse("setup:activate", args=[link.pk]))
    assert early.status_code == 302 and Link.objects.get(pk=link.pk).status == LinkStatus.PAUSED
    page = owner_client.get(reverse("setup:preview", args=[link.pk]))
    preview = page.context["previews"][0]
    assert preview.problem is None and preview.would_push > 0 and not preview.examples
    doc = preview.documents[0]
    assert doc.reference.startswith(doc.number) or doc.number in doc.reference
    assert doc.lines and doc.total_inc is not None and doc.regime_label
    assert not SyncRecord.objects.exists() and not books_sim.invoices  # nothing written anywhere
    response = owner_client.post(reverse("setup:activate", args=[link.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("web:link", args=[link.pk])
    link.refresh_from_db()
    assert link.status == LinkStatus.ACTIVE and link.flows.get().status == FlowStatus.ACTIVE
    assert ActivityEvent.objects.filter(link=link, code="link_activated").exists()
    assert owner_client.get(reverse("setup:resume", args=[link.pk]))["Location"] == reverse(
        "pages:config_link", args=[link.pk]
    )
    report = Engine(link).run()
    assert report.pushed == preview.would_push
    assert SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).count() == preview.would_push


def test_from_now_shows_examples_and_books_nothing_from_before(owner_client, seeded_shop, books_sim):
    link = walk_to_preview(owner_client, seeded_shop, books_sim, start={"start_kind": "now"})
    page = owner_client.get(reverse("setup:preview", args=[link.pk]))
    preview = page.context["previews"][0]
    assert preview.examples and preview.documents
    assert "not booked" in page.content.decode() or "niet geboekt" in page.content.decode()
    owner_client.post(reverse("setup:activate", args=[link.pk]))
    flow = link.flows.get()
    assert flow.settings["from_date"] == dt.date.today().isoformat()
    assert Cursor.objects.get(flow=flow).state["last_value"]
    assert Engine(link).run().pushed == 0


def test_changed_settings_after_the_preview_ask_for_a_new_one(owner_client, seeded_shop, books_sim):
    link = walk_to_preview(owner_client, seeded_shop, books_sim)
    owner_client.get(reverse("setup:preview", args=[link.pk]))
    page = owner_client.get(reverse("setup:settings", args=[link.pk]))
    owner_client.post(reverse("setup:settings", args=[link.pk]), settings_post(page))
    assert not LinkSetup.objects.get(link=link).preview_current()
    owner_client.post(reverse("setup:activate", args=[link.pk]))
    assert Link.objects.get(pk=link.pk).status == LinkStatus.PAUSED


def test_another_organisation_reaches_no_step(owner_client, client, django_user_model, shop_sim, books_sim):
    link = new_link(owner_client)
    other = Organisation.objects.create(name="Ander", slug="ander")
    outsider = member_of(django_user_model, other, "ander", Role.OWNER)
    owner_client.logout()
    client.login(username=outsider.username, password=PASSWORD)
    for name in ("resume", "credentials", "flows", "settings", "start", "preview", "activate", "discard"):
        assert client.get(reverse(f"setup:{name}", args=[link.pk])).status_code == 404, name
    assert client.post(reverse("setup:activate", args=[link.pk])).status_code == 404
    assert client.post(reverse("setup:discard", args=[link.pk])).status_code == 404
    assert Link.objects.filter(pk=link.pk).exists()


def test_read_only_looks_but_cannot_act(client, django_user_model, org, shop_sim, books_sim):
    owner = member_of(django_user_model, org, "anna", Role.OWNER)
    reader = member_of(django_user_model, org, "boekhouder", Role.READ_ONLY)
    client.login(username=owner.username, password=PASSWORD)
    link = walk_to_preview(client, shop_sim, books_sim)
    client.logout()
    client.login(username=reader.username, password=PASSWORD)
    page = client.get(reverse("setup:settings", args=[link.pk]))
    assert page.status_code == 200 and 'id="read-only"' in page.content.decode()
    assert client.post(reverse("setup:settings", args=[link.pk]), {}).status_code == 403
    assert client.post(reverse("setup:credentials", args=[link.pk]), {}).status_code == 403
    assert client.post(reverse("setup:activate", args=[link.pk])).status_code == 403
    assert client.post(reverse("setup:discard", args=[link.pk])).status_code == 403
    assert (
        client.post(reverse("setup:new_link"), {"source": "mijnwebwinkel", "target": "acumulus"}).status_code
        == 403
    )
    assert Link.objects.get(pk=link.pk).status == LinkStatus.PAUSED


def test_an_unfinished_set_up_is_listed_and_can_be_thrown_away(owner_client, shop_sim, books_sim):
    link = new_link(owner_client)
    page = owner_client.get(reverse("setup:new_link"))
    assert f'data-link="{link.pk}"' in page.content.decode()
    assert owner_client.post(reverse("setup:discard", args=[link.pk])).status_code == 302
    assert not Link.objects.exists() and not Connection.objects.exists()


def test_an_activated_link_is_not_thrown_away(owner_client, seeded_shop, books_sim):
    link = walk_to_preview(owner_client, seeded_shop, books_sim)
    owner_client.get(reverse("setup:preview", args=[link.pk]))
    owner_client.post(reverse("setup:activate", args=[link.pk]))
    owner_client.post(reverse("setup:discard", args=[link.pk]))
    assert Link.objects.filter(pk=link.pk, status=LinkStatus.ACTIVE).exists()


def test_a_flow_added_to_an_active_link_waits_and_never_reads_the_history(
    owner_client, seeded_shop, books_sim
):
    link = walk_to_preview(owner_client, seeded_shop, books_sim)
    owner_client.get(reverse("setup:preview", args=[link.pk]))
    owner_client.post(reverse("setup:activate", args=[link.pk]))
    url = reverse("setup:flows", args=[link.pk])
    owner_client.post(url, {"kinds": ["orders_to_invoices", "credit_orders_to_notes"]})
    added = link.flows.get(kind="credit_orders_to_notes")
    assert added.status == FlowStatus.PAUSED
    assert added.settings["from_date"] == dt.date.today().isoformat()
    assert link.flows.get(kind="orders_to_invoices").status == FlowStatus.ACTIVE
    # a kind the two systems cannot carry is not taken
    owner_client.post(url, {"kinds": ["orders_to_invoices", "credit_orders_to_notes", "orders_to_batch"]})
    assert not link.flows.filter(kind="orders_to_batch").exists()
