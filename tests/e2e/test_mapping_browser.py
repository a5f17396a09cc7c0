"""The Datamapper in a real browser (Debian's chromium): change a rule, the preview follows
without a reload; an invalid mapping is refused with its reason and nothing is saved."""

from __future__ import annotations

import os

import pytest
from tests.connectors.accountview import test_flows
from tests.e2e.browsers import CHROMIUM, FLAGS

from koppeling.sync.models import Flow, Role, SyncRecord

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.web.mapping.urls"),
]

PASSWORD = "pw-12345678"

accountview, eaccounting, link = test_flows.accountview, test_flows.eaccounting, test_flows.link


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Debian's chromium is needed: make test installs it"
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def articles(link, django_user_model) -> Flow:
    owner = django_user_model.objects.create_user("eigenaar", password=PASSWORD, email="eigenaar@acme.test")
    link.organisation.members.add(owner, through_defaults={"role": Role.OWNER})
    flow = test_flows.flow(link, "products", reverse=True)
    SyncRecord.objects.create(link=link, flow=flow, object_type="product", source_id="SKU-1002")
    return flow


def row(page, target: str):
    return page.locator(f'#rules tr[data-target="{target}"]')


def test_change_a_rule_preview_follows_invalid_mapping_refused(live_server, browser, articles, accountview):
    source = accountview.company.articles["SKU-1002"]
    page = browser.new_page(locale="en-GB", extra_http_headers={"Accept-Language": "en"})
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "eigenaar")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/mapping/flow/{articles.pk}/")
    name_cell = page.locator('#preview-mapped tr[data-field="name"] td')
    assert name_cell.inner_text() == source["ART_DESC1"]
    # when the name becomes "description EAN" in upper case (typed, not saved)
    row(page, "name").locator("input[name=sources]").fill("ART_DESC1, EAN_CODE")
    row(page, "name").locator("input[name=transforms]").fill('concat {"separator": " "} | upper')
    # then the preview follows without a page load: mapped record and what eAccounting would get
    expected = f"{source['ART_DESC1']} {source['EAN_CODE']}".upper()
    page.wait_for_function(
        "t => document.querySelector('#preview-mapped tr[data-field=name] td')?.textContent.trim() === t",
        arg=expected,
        timeout=5000,
    )
    assert f'"Name": "{expected}"' in page.locator("#preview-target").inner_text()
    # when the price is taken from the description and the owner saves
    row(page, "price_ex").locator("input[name=sources]").fill("ART_DESC1")
    row(page, "price_ex").locator("input[name=transforms]").fill("number")
    page.click("button[value=save]")
    page.wait_for_selector("#refused")
    # then it is refused with the reason on that row, and nothing was saved
    reason = row(page, "price_ex").locator("small.error").first.inner_text()
    assert "is not a number" in reason and "rules[5]" in reason
    assert "mapping" not in Flow.objects.get(pk=articles.pk).settings
    # and once the price is right again, saving works and the page says so
    row(page, "price_ex").locator("input[name=sources]").fill("PX_SELL")
    page.click("button[value=save]")
    page.wait_for_selector(".messages")
    assert Flow.objects.get(pk=articles.pk).settings["mapping"]["version"] == 1
    saved = Flow.objects.get(pk=articles.pk).settings["mapping"]["rules"]
    assert next(r for r in saved if r["target"] == "name")["sources"] == ["ART_DESC1", "EAN_CODE"]
    page.close()
