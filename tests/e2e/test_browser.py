"""The shop owner's path in a real browser (Debian's chromium): sign in, see the link and the
failed order with its reason, press Verwerk. Fails, never skips, when chromium is missing."""

from __future__ import annotations

import os

import pytest
from tests.e2e.browsers import CHROMIUM, FLAGS

from koppeling.sync.engine import Engine
from koppeling.sync.models import RecordState, SyncRecord

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(monkeypatch):
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Debian's chromium is needed: make test installs it"
    # Playwright's sync API runs an event loop in this thread; our ORM calls here are synchronous
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(locale="nl-NL", extra_http_headers={"Accept-Language": "nl"})
        yield page
        browser.close()


def test_owner_signs_in_sees_failure_and_presses_verwerk(
    live_server, browser_page, django_user_model, link, seeded_shop, tmp_path
):
    # given a link that ran, with one order the shop sent broken
    user = django_user_model.objects.create_user("eigenaar", password="pw-12345678")
    link.organisation.members.add(user)
    seeded_shop.malform_next("bad_record")
    Engine(link).run()
    failed = SyncRecord.objects.get(link=link, state=RecordState.FAILED)
    page = browser_page

    # when the owner signs in
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "eigenaar")
    page.fill("input[name=password]", "pw-12345678")
    page.click("main button[type=submit]")

    # then the links page shows the link, its counts and the failed order with its reason
    page.wait_for_selector("#links")
    assert page.inner_text("h1") == "Koppelingen"
    row = page.locator(f'#failed tr[data-order="{failed.source_number}"]')
    assert failed.source_number in row.inner_text()
    pushed = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).count()
    assert page.inner_text(f'#links tr[data-link="{link.pk}"] td.pushed') == str(pushed)
    page.screenshot(path=str(tmp_path / "links.png"), full_page=True)

    # and pressing Verwerk puts it back in the queue with priority
    row.get_by_role("button", name="Verwerk").click()
    page.wait_for_selector("ul.messages")
    assert "voorrang" in page.inner_text("ul.messages")
    failed.refresh_from_db()
    assert failed.state == RecordState.PENDING and failed.priority == 10
