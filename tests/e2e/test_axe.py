"""axe-core in a real browser (Debian's chromium) on the dashboard's main pages: no violation with
impact serious or critical. The owner's organisation has a link that ran (orders booked, one
failed, one waiting for review) and an AccountView → eAccounting link whose articles flow has a
mapping page. axe-core's own script comes from the ``axe-playwright-python`` package (bundled, so
it runs offline). Fails, never skips, when chromium is missing."""

from __future__ import annotations

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from tests.connectors.accountview.test_flows import accountview, connections, eaccounting  # noqa: F401
from tests.e2e.test_pages_browser import PHONE, browser, shop_with_problems, sign_in  # noqa: F401

from koppeling.sync.models import Flow, Link, SyncRecord

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BLOCKING = ("serious", "critical")


@pytest.fixture
def articles_flow(link, eaccounting, accountview) -> Flow:  # noqa: F811
    """A second link in the owner's organisation: AccountView's articles to eAccounting, the
    flow the Datamapper maps (the shape of tests/e2e/test_mapping_browser.py)."""
    org = link.organisation
    shop, books = connections(org, eaccounting, accountview)
    second = Link.objects.create(organisation=org, name="Artikelen", source=shop, target=books)
    flow = Flow.objects.create(link=second, kind="products", source=books, target=shop, settings={})
    SyncRecord.objects.create(link=second, flow=flow, object_type="product", source_id="SKU-1002")
    return flow


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it stands, one line each.

    Injected with ``page.evaluate`` (the DevTools protocol), not ``add_script_tag``: django-csp
    forbids inline scripts, and an evaluated script is not subject to the page's CSP, so the page
    runs under its real policy (no ``bypass_csp``)."""
    page.evaluate(AXE_SCRIPT)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:8]}"
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


def check(page, url: str, where: str, found: dict[str, list[str]]) -> None:
    """Open ``url`` (the page itself, not a redirect to sign-in) and note its serious violations;
    every closed ``<details>`` is opened first, so what hides in it is checked too."""
    response = page.goto(url)
    assert response and response.ok and page.url == url, (where, page.url)
    page.wait_for_load_state("networkidle")
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    problems = serious_violations(page)
    if problems:
        found[where] = problems


def report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{where}:\n  " + "\n  ".join(lines) for where, lines in found.items())


def test_axe_finds_no_serious_violation_on_the_main_pages(
    live_server,
    browser,  # noqa: F811
    shop_with_problems,  # noqa: F811
    articles_flow,
):
    failed = shop_with_problems
    base = live_server.url
    page = browser.new_page(locale="nl-NL", extra_http_headers={"Accept-Language": "nl"})
    found: dict[str, list[str]] = {}
    check(page, f"{base}/login/", "sign-in", found)
    sign_in(page, base)
    pages = (
        ("/", "overview"),
        ("/rapportage/", "report"),
        ("/fouten/", "failures"),
        ("/review/", "review"),
        ("/configuratie/", "configuration, the links"),
        (f"/configuratie/{failed.flow_id}/", "configuration, orders flow"),
        (f"/configuratie/{articles_flow.pk}/", "configuration, articles flow"),
        ("/activiteit/", "activity"),
        ("/migratie/", "migration"),
        ("/setup/new/", "wizard, first step"),
        (f"/mapping/flow/{articles_flow.pk}/", "mapping"),
        (f"/waar-is-mijn-bestelling/?q={failed.source_number}", "where is my order"),
        ("/convert/strato/", "file conversion"),
    )
    for path, where in pages:
        check(page, base + path, where, found)
    # axe sees what it looks for: a nameless button put in on purpose is a critical violation
    page.evaluate("document.querySelector('main').appendChild(document.createElement('button'))")
    assert any(line.startswith("button-name (critical)") for line in serious_violations(page))
    assert not found, report(found)


def test_axe_finds_no_serious_violation_on_a_phone(live_server, browser, shop_with_problems):  # noqa: F811
    base = live_server.url
    page = browser.new_page(viewport=PHONE, locale="nl-NL", extra_http_headers={"Accept-Language": "nl"})
    found: dict[str, list[str]] = {}
    sign_in(page, base)
    for path, where in (("/", "overview"), ("/rapportage/", "report"), ("/fouten/", "failures")):
        check(page, base + path, f"phone {where}", found)
    assert not found, report(found)
