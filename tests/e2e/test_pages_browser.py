"""The daily pages in a real browser (Debian's chromium): Overview with its chart, Rapportage,
Fouten — fix the cause, press Verwerk, the row says it is booked and leaves without a page reload —,
Review, Configuratie, the activity log; the same on a phone (tables become cards, nothing wider
than the screen); labels, landmarks, contrast and the keyboard checked on every main page (axe-core
is not available offline: the checks below are its serious rules, written out). Screenshots of
the main pages go to docs/screenshots/. Fails, never skips, when chromium is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.e2e.browsers import CHROMIUM, FLAGS
from tests.web.conftest import add_vat_number, icp_order

from koppeling.sync.engine import Engine
from koppeling.sync.models import RecordState, SyncRecord

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "pw-12345678"
PHONE = {"width": 390, "height": 844}

#: every visible control with no accessible name (axe: label, button-name, select-name)
UNLABELLED = """() => Array.from(document.querySelectorAll(
  'input:not([type=hidden]), select, textarea, button, a[href]')).filter(el => {
  if (!el.getClientRects().length) return false;
  const label = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.title
    || (el.labels && Array.from(el.labels).map(l => l.textContent.trim()).join(''))
    || ((el.tagName === 'BUTTON' || el.tagName === 'A') && el.textContent.trim());
  return !label;
}).map(el => el.outerHTML.slice(0, 140))"""

#: text with too little contrast against what is behind it (axe: color-contrast, WCAG AA)
LOW_CONTRAST = """() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b]
    .map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const behind = el => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || c[3] > 0.5) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const bad = [];
  document.querySelectorAll('body *').forEach(el => {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length || el.closest('[disabled], .visually-hidden, canvas')) return;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || Number(style.opacity) < 1) return;
    const a = lum(rgb(style.color)), b = lum(behind(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const text = el.textContent.trim().slice(0, 40);
    if (ratio < needed) bad.push(`${ratio.toFixed(2)} ${el.tagName}.${el.className}: ${text}`);
  });
  return bad;
}"""

LANDMARKS = """() => ({
  lang: document.documentElement.lang,
  main: document.querySelectorAll('main').length,
  nav: document.querySelectorAll('nav[aria-label]').length,
  header: document.querySelectorAll('header').length,
  h1: document.querySelectorAll('h1').length,
  title: document.title,
  unnamedImages: Array.from(document.querySelectorAll('[role=img], img'))
    .filter(e => !e.getAttribute('aria-label') && !e.alt).length,
})"""


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
def tasks_inline():
    """Verwerk's priority push runs in the request's thread, as a worker would run it."""
    from huey.contrib.djhuey import HUEY

    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before


@pytest.fixture
def shop_with_problems(link, seeded_shop, books_sim, django_user_model):
    """The link ran: orders booked, one failed for its missing VAT number, one waits for review."""
    owner = django_user_model.objects.create_user("eigenaar", password=PASSWORD, email="eigenaar@acme.test")
    link.organisation.members.add(owner, through_defaults={"role": "owner"})
    number = icp_order(seeded_shop)
    Engine(link).run()
    icp_order(seeded_shop, vat_number="BE1835477055")
    books_sim.accept_then_fail_next(502)
    Engine(link).run()
    failed = SyncRecord.objects.get(link=link, source_number=str(number), state=RecordState.FAILED)
    assert SyncRecord.objects.filter(link=link, state=RecordState.NEEDS_REVIEW).exists()
    return failed


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"pages-{name}.png"), full_page=True)


def sign_in(page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "eigenaar")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("#links")


def check_accessible(page, where: str) -> None:
    marks = page.evaluate(LANDMARKS)
    assert marks["lang"] in ("nl", "en") and marks["main"] == 1 and marks["nav"] >= 1, (where, marks)
    assert marks["header"] == 1 and marks["h1"] == 1 and marks["title"], (where, marks)
    assert marks["unnamedImages"] == 0, (where, marks)
    assert page.evaluate(UNLABELLED) == [], where
    assert page.evaluate(LOW_CONTRAST) == [], where


def test_the_daily_pages_work_and_verwerk_removes_the_row_without_a_reload(
    live_server, browser, shop_with_problems, seeded_shop, tasks_inline
):
    failed = shop_with_problems
    page = browser.new_page(locale="nl-NL", extra_http_headers={"Accept-Language": "nl"})
    base = live_server.url
    sign_in(page, base)

    # Overview: the chart is drawn by the vendored Chart.js, its numbers are a table too
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('booked-chart'))")
    assert page.inner_text("#n-failed") == "1" and page.inner_text("#n-review") == "1"
    check_accessible(page, "overview")
    shot(page, "overview")
    # the checks find what they look for: a pale text and a control without a name, put in on purpose
    page.evaluate(
        """() => { const main = document.querySelector('main');
        const pale = main.appendChild(document.createElement('p'));
        pale.id = 'pale'; pale.textContent = 'bleek'; pale.style.color = '#ccc';
        main.appendChild(document.createElement('input')).id = 'nameless'; }"""
    )
    assert any("bleek" in problem for problem in page.evaluate(LOW_CONTRAST))
    assert any("nameless" in problem for problem in page.evaluate(UNLABELLED))
    page.evaluate("document.getElementById('pale').remove(); document.getElementById('nameless').remove()")

    # the keyboard: the first Tab reaches "skip to content", Enter takes the focus to the page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"

    for path, name in (
        ("/rapportage/", "report"),
        ("/review/", "review"),
        (f"/configuratie/{failed.flow_id}/", "configuration"),
        ("/activiteit/", "activity"),
        (f"/waar-is-mijn-bestelling/?q={failed.source_number}", "where"),
        ("/migratie/", "migration"),
    ):
        page.goto(base + path)
        check_accessible(page, name)
        shot(page, name)

    # Fouten: the reason and the suggestion; fix it in the shop, press Verwerk
    page.goto(f"{base}/fouten/")
    row = page.locator(f"#record-{failed.pk}")
    assert "btw-nummer" in row.inner_text()
    check_accessible(page, "failures")
    shot(page, "failures")
    add_vat_number(seeded_shop, int(failed.source_number))
    page.evaluate("window.notReloaded = true")
    row.get_by_role("button", name="Verwerk").click()
    page.wait_for_selector(f'#record-{failed.pk}[data-state="pushed"]')
    failed.refresh_from_db()
    assert failed.state == RecordState.PUSHED
    assert failed.target_number in page.inner_text(f"#record-{failed.pk}")
    shot(page, "failures-booked")
    page.wait_for_selector(f"#record-{failed.pk}", state="detached", timeout=10_000)
    assert page.evaluate("window.notReloaded") is True  # the same page: htmx swapped, no reload

    # ... and it is in Rapportage now
    page.goto(f"{base}/rapportage/?q={failed.source_number}")
    assert page.locator(f'#report tr[data-order="{failed.source_number}"]').count() == 1


def test_on_a_phone_tables_become_cards_and_nothing_is_wider_than_the_screen(
    live_server, browser, shop_with_problems
):
    page = browser.new_page(viewport=PHONE, locale="nl-NL", extra_http_headers={"Accept-Language": "nl"})
    base = live_server.url
    sign_in(page, base)
    for path, name, table in (
        ("/", "overview", "#links"),
        ("/rapportage/", "report", "#report"),
        ("/fouten/", "failures", "#failures"),
    ):
        page.goto(base + path)
        wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 1, (name, wide)
        assert (
            page.evaluate(f"getComputedStyle(document.querySelector('{table} td')).display") != "table-cell"
        )
        assert page.evaluate(f"document.querySelector('{table} thead').getBoundingClientRect().height") <= 1
        label = page.evaluate(f"getComputedStyle(document.querySelector('{table} td'), '::before').content")
        assert label not in ("", "none", "normal"), name  # each cell says which column it is
        check_accessible(page, f"phone {name}")
        shot(page, f"phone-{name}")
    for path, name in (
        (f"/configuratie/{shop_with_problems.flow_id}/", "configuration"),
        ("/review/", "review"),
    ):
        page.goto(base + path)
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1, name
        check_accessible(page, f"phone {name}")
        shot(page, f"phone-{name}")
