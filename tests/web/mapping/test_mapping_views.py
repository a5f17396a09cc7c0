"""The Datamapper page: the form, the live preview on a real record, save, refusal, access."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.web.conftest import PASSWORD

from koppeling.sync.models import Cursor, Flow, SyncRecord

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.web.mapping.urls")]


def url(flow: Flow, name: str = "") -> str:
    return f"/mapping/flow/{flow.pk}/{name + '/' if name else ''}"


def rows_of(response) -> dict[str, list[str]]:
    """The form's rules as the page shows them (to post them back, changed)."""
    rows = response.context["rows"]
    return {
        "target": [r.target for r in rows],
        "sources": [r.sources for r in rows],
        "transforms": [r.transforms for r in rows],
    }


def changed(form: dict[str, list[str]], target: str, sources: str, transforms: str) -> dict[str, list[str]]:
    i = form["target"].index(target) if target in form["target"] else len(form["target"]) - 1
    out = {k: list(v) for k, v in form.items()}
    out["target"][i], out["sources"][i], out["transforms"][i] = target, sources, transforms
    return out


@pytest.fixture
def member(client, owner):
    client.login(username=owner.username, password=PASSWORD)
    return client


def test_page_shows_the_default_mapping_and_a_preview_on_the_latest_record(member, articles, accountview):
    # when the owner opens the articles flow's mapping
    response = member.get(url(articles))
    # then the rules are the default ones (version 0) and the preview shows the three columns
    assert response.status_code == 200
    assert response.context["version"] == 0
    form = rows_of(response)
    assert form["target"][:2] == ["sku", "name"] and form["sources"][1] == "ART_DESC1, ART_CODE"
    preview = response.context["preview"]
    latest = SyncRecord.objects.filter(flow=articles).order_by("-updated_at", "-pk").first()
    assert preview.source_id == latest.source_id
    source = accountview.company.articles[latest.source_id]
    assert preview.record["ART_DESC1"] == source["ART_DESC1"]
    assert preview.mapped["name"] == source["ART_DESC1"]
    assert preview.payload["Number"] == latest.source_id and preview.payload["Name"] == source["ART_DESC1"]
    html = response.content.decode()
    assert 'id="preview-source"' in html and 'id="preview-mapped"' in html and 'id="preview-target"' in html


def test_preview_follows_the_form_and_saves_nothing(member, articles, accountview):
    form = rows_of(member.get(url(articles)))
    # when the name becomes "description EAN" in the form (not saved)
    form = changed(form, "name", "ART_DESC1, EAN_CODE", 'concat {"separator": " "}')
    response = member.post(url(articles, "preview"), {**form, "record": "SKU-1002"})
    # then the partial shows the mapped name and what eAccounting would receive
    assert response.status_code == 200
    source = accountview.company.articles["SKU-1002"]
    expected = f"{source['ART_DESC1']} {source['EAN_CODE']}"
    preview = response.context["preview"]
    assert preview.mapped["name"] == expected and preview.payload["Name"] == expected
    assert expected in response.content.decode()
    # and nothing was stored
    assert "mapping" not in Flow.objects.get(pk=articles.pk).settings


def test_save_stores_the_whole_mapping_one_version_up_and_rereads(member, articles):
    form = rows_of(member.get(url(articles)))
    assert Cursor.objects.filter(flow=articles).exists()
    form = changed(form, "unit", "ART_UNIT", 'lookup {"table": {"st": "stuk", "*": "st"}}')
    # when saved
    response = member.post(url(articles), {**form, "version": "0", "action": "save"})
    # then the flow's settings hold version 1 with the new rule, and its cursor was cleared
    assert response.status_code == 302
    stored = Flow.objects.get(pk=articles.pk).settings
    assert stored["update_existing"] is True
    assert stored["mapping"]["version"] == 1 and stored["mapping"]["kind"] == "products"
    unit = next(r for r in stored["mapping"]["rules"] if r["target"] == "unit")
    assert unit["transforms"] == [{"name": "lookup", "params": {"table": {"st": "stuk", "*": "st"}}}]
    assert not Cursor.objects.filter(flow=articles).exists()
    # and the page shows it
    again = member.get(url(articles))
    assert again.context["version"] == 1
    assert rows_of(again)["transforms"][rows_of(again)["target"].index("unit")].startswith("lookup")


@pytest.mark.parametrize(
    ("target", "sources", "transforms", "code", "where"),
    [
        ("name", "ART_NAAM", "trim", "mapping_unknown_source", "rules[1].sources[0]"),
        ("naam", "ART_DESC1", "trim", "mapping_unknown_target", "rules[1].target"),
        ("name", "ART_DESC1", "shout", "mapping_unknown_transform", "rules[1].transforms[0]"),
        ("name", "ART_DESC1", "vat_inclusive", "mapping_param_missing", "rules[1].transforms[0].params.rate"),
        ("price_ex", "ART_DESC1", "upper", "mapping_target_type_mismatch", "rules[5]"),
        ("price_ex", "ART_DESC1", "number", "mapping_not_a_number", "rules[5].transforms[0]"),
        ("name", "ART_DESC1", 'concat {"separator": }', "mapping_chain_syntax", "rules[1].transforms"),
    ],
)
def test_invalid_mapping_refused_with_its_reason_nothing_saved(
    member, articles, target, sources, transforms, code, where
):
    form = rows_of(member.get(url(articles)))
    index = {"name": 1, "naam": 1, "price_ex": 5}[target]
    form["target"][index], form["sources"][index], form["transforms"][index] = target, sources, transforms
    # when saved
    response = member.post(url(articles), {**form, "version": "0", "action": "save"})
    # then refused, with the reason next to its row, and nothing stored
    assert response.status_code == 400
    located = {(str(p.code), p.params["location"]) for p in response.context["problems"]}
    assert (code, where) in located, located
    row = next(r for r in response.context["rows"] if r.target == target)
    assert any(where in p.text for p in row.problems)
    assert "mapping" not in Flow.objects.get(pk=articles.pk).settings
    html = response.content.decode()
    assert 'id="refused"' in html and where in html


def test_required_field_without_a_rule_is_refused(member, articles):
    form = rows_of(member.get(url(articles)))
    form["target"][0] = form["sources"][0] = form["transforms"][0] = ""  # the sku rule removed
    response = member.post(
        url(articles), {**form, "version": "0", "action": "save"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert any("sku" in p.text and "no rule" in p.text for p in response.context["all_problems"])
    assert "mapping" not in Flow.objects.get(pk=articles.pk).settings


def test_a_stale_form_is_refused(member, articles):
    form = rows_of(member.get(url(articles)))
    assert member.post(url(articles), {**form, "version": "0", "action": "save"}).status_code == 302
    # when a second tab, still on version 0, saves too
    response = member.post(
        url(articles), {**form, "version": "0", "action": "save"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.context["all_problems"][0].text.startswith("The mapping was changed")
    assert Flow.objects.get(pk=articles.pk).settings["mapping"]["version"] == 1


def test_reset_saves_the_default_as_the_next_version(member, articles):
    form = changed(rows_of(member.get(url(articles))), "name", "ART_DESC2", "trim")
    member.post(url(articles), {**form, "version": "0", "action": "save"})
    member.post(url(articles), {"action": "reset"})
    stored = Flow.objects.get(pk=articles.pk).settings["mapping"]
    assert stored["version"] == 2
    assert next(r for r in stored["rules"] if r["target"] == "name")["sources"] == ["ART_DESC1", "ART_CODE"]


def test_customers_preview_shows_the_debtor_accountview_would_get(member, customers, eaccounting):
    response = member.get(url(customers))
    assert response.status_code == 200
    preview = response.context["preview"]
    record = eaccounting.books.customers[preview.source_id]
    assert preview.mapped["email"] == record["EmailAddress"]
    assert preview.payload["MAIL_BUS"] == record["EmailAddress"].lower()
    assert preview.payload["ACCT_NAME"] == record["Name"][:40]


def test_orders_preview_reads_the_order_with_its_customer_and_shows_the_booking(member, link, eaccounting):
    """The orders flow (eAccounting -> AccountView): the preview record is the order with its
    customer under ``customer``; the last column is what booking it in AccountView writes."""
    from tests.connectors.accountview import test_flows
    from tests.connectors.eaccounting.helpers import add_orders

    order = add_orders(eaccounting, 1, status=2)[0]
    orders = test_flows.flow(link, "orders_to_invoices", target_settings=test_flows.ORDER_TARGET)
    customer = eaccounting.books.customers[order["CustomerId"]]
    # when the owner previews on the order's number, with the row texts upper-cased in the form
    form = rows_of(member.get(url(orders)))
    assert "lines[].sku" in form["target"] and "customer.name" in form["target"]
    form = changed(form, "lines[].description", "Rows[].Text", "upper")
    response = member.post(url(orders, "preview"), {**form, "record": str(order["Number"])})
    # then
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.record["Number"] == order["Number"] and preview.record["customer"]["Id"] == customer["Id"]
    assert len(preview.mapped["lines"]) == len(order["Rows"])
    assert preview.payload["debtor"]["MAIL_BUS"] == customer["EmailAddress"].lower()
    skus = [line["ART_CODE"] for line in preview.payload["lines"]]
    assert skus == [r["ArticleNumber"].upper() for r in order["Rows"]]


def test_stock_preview_shows_the_balance_by_the_flows_calculation(member, link, accountview):
    from tests.connectors.accountview import test_flows

    accountview.set_stock("SKU-1003", 4, on_order=6)
    stock = test_flows.flow(link, "stock", reverse=True, settings={"calculation": "available_plus_incoming"})
    response = member.get(url(stock) + "?record=SKU-1003")
    assert response.status_code == 200
    preview = response.context["preview"]
    assert (Decimal(preview.mapped["on_hand"]), Decimal(preview.mapped["incoming"])) == (4, 6)
    assert preview.payload["Number"] == "SKU-1003" and Decimal(preview.payload["StockBalance"]) == 10


def test_saving_a_mapping_tries_the_failed_records_again_and_says_who(member, articles, owner):
    from koppeling.sync.models import ActivityEvent, RecordState

    SyncRecord.objects.filter(flow=articles, source_id="SKU-1003").update(
        state=RecordState.FAILED, error_code="ea_unit_unknown"
    )
    form = rows_of(member.get(url(articles)))
    response = member.post(url(articles), {**form, "version": "0", "action": "save"})
    assert response.status_code == 302
    assert SyncRecord.objects.get(flow=articles, source_id="SKU-1003").state == RecordState.PENDING
    event = ActivityEvent.objects.get(flow=articles, code="mapping_saved")
    assert event.params == {"version": 1, "user": owner.username, "count": 1}


def test_read_only_member_may_look_and_preview_but_not_save(client, reader, articles):
    client.login(username=reader.username, password=PASSWORD)
    page = client.get(url(articles))
    assert page.status_code == 200 and 'id="read-only"' in page.content.decode()
    assert 'value="save"' not in page.content.decode()
    form = rows_of(page)
    assert client.post(url(articles, "preview"), form).status_code == 200
    assert client.post(url(articles), {**form, "version": "0", "action": "save"}).status_code == 403
    assert "mapping" not in Flow.objects.get(pk=articles.pk).settings


def test_another_organisation_sees_nothing(client, outsider, articles):
    client.login(username=outsider.username, password=PASSWORD)
    assert client.get(url(articles)).status_code == 404
    assert client.post(url(articles, "preview"), {}).status_code == 404


def test_signed_out_is_sent_to_sign_in(client, articles):
    response = client.get(url(articles))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_flow_without_a_mapping_is_not_found(member, link):
    """A kind its source reads without a mapping (here: orders into one batch document from
    eAccounting) has no Datamapper page."""
    from tests.connectors.accountview import test_flows

    batch = test_flows.flow(link, "orders_to_batch")
    assert member.get(url(batch)).status_code == 404


def test_unreachable_source_shows_a_notice_not_a_traceback(member, articles):
    from tests.connectors.accountview import test_flows

    from koppeling.connectors import http as kh

    kh.unmount(test_flows.AV_URL)  # AccountView is gone (the fixture's unmount is harmless after)
    response = member.get(url(articles))
    assert response.status_code == 200
    assert response.context["preview"].record is None and response.context["preview"].notice


def test_configuratie_save_keeps_the_mapping(articles):
    """The Configuratie page neither shows the mapping nor drops it when it saves the flow."""
    from tests.web.setup.test_setup_schema import as_shown

    from koppeling.connectors.accountview.mapping import article_mapping
    from koppeling.web.mapping_views import store_mapping
    from koppeling.web.pages.config import FlowForms

    store_mapping(articles, article_mapping(articles.source.options))
    forms = FlowForms(Flow.objects.select_related("link", "source", "target").get(pk=articles.pk))
    assert "mapping" not in forms.generic.names
    data = as_shown(forms.generic, s__update_existing="on")
    if forms.target is not None:
        for key, values in as_shown(forms.target).lists():
            data.setlist(key, values)
    data["schedule_minutes"] = "30"
    assert forms.bind(data), [(f.prefix, f.errors, f.non_field_errors) for f in forms.forms]
    forms.save()
    stored = Flow.objects.get(pk=articles.pk).settings
    assert stored["mapping"]["version"] == 1 and stored["update_existing"] is True
