"""A new user in a real browser (Debian's chromium): signs up, sets up a Mijnwebwinkel → Acumulus
link through the wizard against the simulators, sees the preview, activates, syncs and sees the
orders booked; and the same start on a phone. Screenshots of the steps go to docs/screenshots/.
Fails, never skips, when chromium is missing."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from tests.conftest import BOOKS_URL, SHOP_URL
from tests.e2e.browsers import CHROMIUM, FLAGS

from koppeling.sync.models import Link, LinkStatus, RecordState, SyncRecord

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "een-lange-zin-als-wachtwoord-7"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    """One chromium for the module (each test its own context)."""
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Debian's chromium is needed: make test installs it"
    # Playwright's sync API runs an event loop in this thread; our ORM calls here are synchronous
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            launched = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            yield launched
            launched.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def tasks_inline():
    """ "Sync now" runs its task in the request's thread, as a worker would run it."""
    from huey.contrib.djhuey import HUEY

    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"wizard-{name}.png"), full_page=True)


def sign_up(page, base: str, organisation: str, email: str) -> None:
    page.goto(f"{base}/account/signup/")
    page.fill("input[name=organisation]", organisation)
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_selector("form#choose")


def choose_systems(page) -> None:
    page.check("input[name=source][value=mijnwebwinkel]")
    page.check("input[name=target][value=acumulus]")
    page.click("form#choose button[type=submit]")
    page.wait_for_selector("form#credentials-form")


def enter_credentials(page, shop, books) -> None:
    page.fill("#id_source-partner_token", shop.partner_token)
    page.fill("#id_source-token", shop.token)
    for name, value in books.valid_credentials().items():
        page.fill(f"#id_target-{name}", value)
    for prefix, url in (("source", SHOP_URL), ("target", BOOKS_URL)):
        page.click(f"#{prefix}-card details summary")
        page.fill(f"#id_{prefix}-base_url", url)


def unlabelled(page) -> list[str]:
    """Form controls a screen reader could not name (no label, no aria-label)."""
    return page.evaluate(
        """[...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea')]
           .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
           .map(e => e.name || e.id)"""
    )


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_new_user_sets_up_a_link_sees_the_preview_activates_and_sees_orders(
    live_server, browser, seeded_shop, books_sim, tasks_inline
):
    context = browser.new_context(locale="nl-NL", extra_http_headers={"Accept-Language": "nl"})
    page = context.new_page()
    base = live_server.url

    # a new user signs up and lands in the wizard
    sign_up(page, base, "Webwinkel De Molen", "anna@demolen.test")
    assert page.inner_text("h1") == "Nieuwe koppeling"
    shot(page, "1-systems")
    choose_systems(page)

    # the credentials page says where to find them (the shop's own menu path)
    assert "Instellingen > API > Token toevoegen" in page.inner_text("#source-card")
    enter_credentials(page, seeded_shop, books_sim)
    assert unlabelled(page) == []
    shot(page, "2-credentials")
    page.click("form#credentials-form button[type=submit]")

    # checked live: on to the flows, orders → invoices ticked by default
    page.wait_for_selector("form#flows-form")
    assert page.locator("ul.messages li.success").count() == 1
    assert page.is_checked("input[name=kinds][value=orders_to_invoices]")
    shot(page, "3-flows")
    page.click("form#flows-form button[type=submit]")

    # the settings: the shop's statuses as boxes (paid ones ticked), Acumulus's accounts in a list
    page.wait_for_selector("form#settings-form")
    link = Link.objects.get()
    flow = link.flows.get()
    assert page.is_checked(f"input[name='f{flow.pk}-statuses'][value='3']")
    account = page.locator(f"select[name='t{flow.pk}-accounts-0-value'] option").nth(1)
    page.fill(f"input[name='t{flow.pk}-accounts-0-key']", "*")
    page.select_option(f"select[name='t{flow.pk}-accounts-0-value']", account.get_attribute("value"))
    assert unlabelled(page) == []
    shot(page, "4-settings")
    page.click("form#settings-form button[type=submit]")

    # the start point: from three days ago (the default is "from now")
    page.wait_for_selector("form#start-form")
    assert page.is_checked("input[name=start_kind][value=now]")
    page.check("input[name=start_kind][value=date]")
    page.fill("#id_from_date", (dt.date.today() - dt.timedelta(days=3)).isoformat())
    assert unlabelled(page) == []
    shot(page, "5-start")
    page.click("form#start-form button[type=submit]")

    # the preview: documents as they will be booked; nothing booked yet, the link not active
    page.wait_for_selector("form#activate-form")
    documents = page.locator("article.doc")
    assert documents.count() > 0
    first_number = documents.first.get_attribute("data-order")
    assert first_number in documents.first.locator("h3").inner_text()
    assert documents.first.locator("table.lines tbody tr").count() > 0
    assert not SyncRecord.objects.exists() and not books_sim.invoices
    assert Link.objects.get().status == LinkStatus.PAUSED
    shot(page, "6-preview")

    # activate, then sync now: the orders are booked and listed on the link's page
    page.click("form#activate-form button[type=submit]")
    page.wait_for_selector("ul.messages")
    assert Link.objects.get().status == LinkStatus.ACTIVE
    page.click(f"form[action='/links/{link.pk}/sync/'] button[type=submit]")
    page.wait_for_selector("ul.messages")
    booked = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED)
    assert booked.count() > 0 and len(books_sim.invoices) == booked.count()
    page.reload()
    first = booked.order_by("source_number").first()
    assert page.locator(f'tr[data-order="{first.source_number}"]').count() == 1
    shot(page, "7-booked")
    context.close()


def test_the_same_start_on_a_phone(live_server, browser, shop_sim, books_sim):
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="nl-NL",
        extra_http_headers={"Accept-Language": "nl"},
    )
    page = context.new_page()
    sign_up(page, live_server.url, "Telefoonwinkel", "piet@telefoon.test")
    assert no_sideways_scroll(page)
    shot(page, "phone-1-systems")
    choose_systems(page)
    enter_credentials(page, shop_sim, books_sim)
    assert no_sideways_scroll(page)
    shot(page, "phone-2-credentials")
    page.click("form#credentials-form button[type=submit]")
    page.wait_for_selector("form#flows-form")
    page.click("form#flows-form button[type=submit]")
    page.wait_for_selector("form#settings-form")
    assert no_sideways_scroll(page)
    shot(page, "phone-3-settings")
    context.close()
