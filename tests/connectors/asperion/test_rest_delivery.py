"""Asperion's second delivery mode: Concept sales invoices one by one over the REST API
(``AsperionRestTarget``, system ``asperion_rest``), against the simulator with ``rest_writes``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from decimal import Decimal

import httpx
import pytest

from koppeling.connectors import http as kh
from koppeling.connectors.asperion.rest import AsperionRestSettings, AsperionRestTarget
from koppeling.connectors.asperion.simulator import AsperionSimulator
from koppeling.connectors.base import Capability, ConnectionConfig
from koppeling.connectors.errors import ConnectorError, DataError, TransientError
from koppeling.connectors.registry import connector_class
from koppeling.connectors.testing import TargetHarness, get_connector_test_class, sample_invoice
from koppeling.core.models import InvoiceLine, LineKind

_ids = itertools.count()


def _connector(sim: AsperionSimulator, url: str, *, bad: bool = False, transport=None) -> AsperionRestTarget:
    credentials = {k: str(v) for k, v in sim.valid_credentials().items() if k != "licence_code"}
    if bad:
        credentials["client_secret"] = "not-the-secret"
    http = httpx.Client(transport=transport) if transport else kh.make_client(url)
    return AsperionRestTarget(ConnectionConfig("asperion_rest", url, credentials), http)


class _LostAnswer(httpx.BaseTransport):
    """Passes every request to the simulator; a created invoice's answer never arrives."""

    def __init__(self, app) -> None:
        self.inner = httpx.WSGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path.endswith("/salesinvoiceswithlines"):
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


class AsperionRestHarness(TargetHarness):
    """The simulator's API (and identity server) on its own address, writes allowed."""

    def __init__(self) -> None:
        self.sim = AsperionSimulator(rest_writes=True)
        self.url = f"http://asperion-rest-conformance-{next(_ids)}.sim"
        kh.mount_wsgi(self.url, self.sim.wsgi)

    def connector(self, *, bad_credentials: bool = False):
        return _connector(self.sim, self.url, bad=bad_credentials)

    def timing_out_connector(self):
        return _connector(self.sim, self.url, transport=_LostAnswer(self.sim.wsgi))

    def inject_fault(self, status: int, retry_after: float | None = None) -> None:
        self.sim.fail_next(status, retry_after=retry_after)

    def target_settings(self):
        return AsperionRestSettings()

    def refused(self):
        # the administration has no open book year for 1990: Asperion (not the client) refuses it
        return sample_invoice("KC-1004", issue_date=dt.date(1990, 1, 1)), self.target_settings()

    def close(self) -> None:
        kh.unmount(self.url)


TestAsperionRestConformance = get_connector_test_class(AsperionRestHarness)


@pytest.fixture
def rest():
    h = AsperionRestHarness()
    yield h
    h.close()


def _seed_invoice(number: str = "ORD000033", shop_invoice: str | None = "INV000037", **overrides):
    """An order as the Lightspeed source gives it: the shop's invoice number on a zero line."""
    invoice = sample_invoice(number, **overrides)
    if shop_invoice:
        carrier = InvoiceLine(
            LineKind.OTHER,
            f"Webwinkelfactuur {shop_invoice}",
            Decimal(1),
            Decimal(0),
            Decimal(21),
            Decimal(0),
            Decimal(0),
        )
        invoice = sample_invoice(number, lines=[*invoice.lines, carrier], **overrides)
    return invoice


def test_registered_as_its_own_system_that_writes_invoices() -> None:
    cls = connector_class("asperion_rest")
    assert cls is AsperionRestTarget
    assert Capability.WRITES_INVOICES in cls.capabilities()
    assert Capability.WRITES_BATCHES not in cls.capabilities()
    assert Capability.WRITES_BATCHES in connector_class("asperion").capabilities()


def test_push_creates_one_concept_invoice_with_the_seed_description_and_a_new_debtor(rest) -> None:
    # given an order with a shop invoice and one without, from a customer Asperion does not know
    target = rest.connector()
    # when both are pushed
    first = target.push_invoice(_seed_invoice("ORD000033", "INV000037"), rest.target_settings())
    second = target.push_invoice(_seed_invoice("ORD000038", None), rest.target_settings())
    # then each is one concept invoice, described exactly as the seed shows, on one new debtor
    admin = rest.sim.administration()
    one, two = (admin.invoices[int(r.target_id)] for r in (first, second))
    assert (one.description, two.description) == (
        "Bestelling ORD000033 factuur INV000037",
        "Bestelling ORD000038",
    )
    assert one.status == 0 and one.invoice_number is None and first.concept
    assert len(admin.debtors) == 1 and one.debtor is two.debtor
    assert one.debtor.email_address == "jan@example.nl" and one.debtor.name == "Jan Jansen"
    # and the zero-amount carrier line is not booked; lines go on the VAT class's code and account
    assert [(line["vatCode"], line["ledgerAccountId"]) for line in one.lines] == [
        ("VH", 8000),
        ("VL", 8010),
        ("VH", 8000),
    ]


def test_a_second_push_of_the_same_reference_finds_it_and_books_nothing(rest) -> None:
    # given an order already booked
    target = rest.connector()
    first = target.push_invoice(_seed_invoice(), rest.target_settings())
    # when it is pushed again (a retry after a lost answer, another worker)
    again = rest.connector().push_invoice(_seed_invoice(), rest.target_settings())
    # then the same invoice is returned and Asperion holds one
    assert again.target_id == first.target_id
    assert len(rest.sim.administration().invoices) == 1
    assert rest.connector().find_invoice("ORD000033").target_id == first.target_id
    # and a reference that merely starts the same is not ours
    assert rest.connector().find_invoice("ORD00003") is None


def test_a_lost_answer_is_found_again_by_description(rest) -> None:
    # given a push whose answer never came (the invoice was made)
    lost = rest.timing_out_connector()
    with pytest.raises(TransientError) as caught:
        lost.push_invoice(_seed_invoice(), rest.target_settings())
    assert caught.value.maybe_processed
    # when the runtime looks it up by reference
    found = rest.connector().find_invoice("ORD000033")
    # then it finds the one invoice that was made
    (invoice,) = rest.sim.administration().invoices.values()
    assert found is not None and found.target_id == str(invoice.id)


def test_a_known_email_reuses_the_debtor_and_never_writes_to_it(rest) -> None:
    # given a debtor Asperion has; the order gives its e-mail in capitals and another street
    (email,) = rest.sim.seed_debtors(1)
    admin = rest.sim.administration()
    (debtor,) = admin.debtors.values()
    before = vars(debtor).copy()
    invoice = sample_invoice("ORD000040")
    customer = dataclasses.replace(invoice.customer, email=email.upper(), street="Andere straat 9")
    # when an order of that customer is pushed
    result = rest.connector().push_invoice(
        sample_invoice("ORD000040", customer=customer), rest.target_settings()
    )
    # then it is booked on that debtor, which is unchanged, and no debtor was created or written
    assert admin.invoices[int(result.target_id)].debtor is debtor
    assert vars(debtor) == before and len(admin.debtors) == 1
    assert rest.sim.requests_by_path["/v1/debtors"] == 1  # the look-up only: no POST, no PUT
    assert not any(path.startswith("/v1/debtors/") for path in rest.sim.requests_by_path)


def test_read_back_matches_the_totals_and_names_the_debtor(rest) -> None:
    invoice = _seed_invoice()
    result = rest.connector().push_invoice(invoice, rest.target_settings())
    booked = rest.connector().read_back_invoice(result.target_id)
    assert (booked.total_ex, booked.total_inc) == (invoice.total_ex, invoice.total_inc)
    assert booked.customer_email == "jan@example.nl" and booked.customer_name == "Jan Jansen"
    assert booked.reference_text == "Bestelling ORD000033 factuur INV000037"


def test_a_refused_invoice_names_the_fields_and_books_nothing(rest) -> None:
    settings = AsperionRestSettings(vat_codes={"hoog": "XX", "laag": "VL", "nul": "V0"})
    with pytest.raises(DataError) as caught:
        rest.connector().push_invoice(_seed_invoice(), settings)
    assert caught.value.code == "asp_rest_rejected"
    assert "lines[0].vatCode" in caught.value.params["fields"]
    assert rest.sim.administration().invoices == {}


def test_the_read_only_simulator_still_refuses_writes() -> None:
    sim = AsperionSimulator()
    url = f"http://asperion-rest-readonly-{next(_ids)}.sim"
    kh.mount_wsgi(url, sim.wsgi)
    try:
        with pytest.raises(ConnectorError) as caught:
            _connector(sim, url).push_invoice(_seed_invoice(), AsperionRestSettings())
        assert caught.value.status_code == 405 and sim.administration().invoices == {}
    finally:
        kh.unmount(url)


# -- end to end: Lightspeed -> the runtime's orders_to_invoices flow -> Asperion's REST API ----------

LS_URL = "http://lightspeed-rest-e2e.sim"
ASP_URL = "http://asperion-rest-e2e.sim"
DAY = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
SELECTED = ("paid/processing_awaiting_shipment", "paid/processing_awaiting_pickup")


@pytest.mark.django_db
def test_engine_books_paid_orders_as_concept_invoices_over_rest_exactly_once() -> None:
    from koppeling.connectors.lightspeed.simulator import LightspeedSimulator
    from koppeling.sync.engine import Engine
    from koppeling.sync.models import Connection, Flow, Link, Organisation, RecordState, SyncRecord

    now = {"at": DAY + dt.timedelta(days=3)}
    epoch = lambda: now["at"].timestamp()  # noqa: E731 - one clock for the runtime and both simulators
    shop = LightspeedSimulator(clock=epoch)
    books = AsperionSimulator(clock=epoch, rest_writes=True)
    kh.mount_wsgi(LS_URL, shop.wsgi)
    kh.mount_wsgi(ASP_URL, books.wsgi)
    try:
        # given a day of orders of a shop, some paid and awaiting shipment
        shop.seed(40, seed=2026, start=DAY, days=0.5)
        wanted = {
            state.fields["number"]: shop.order(oid)
            for oid, state in shop.store.orders.items()
            if f"{state.fields['paymentStatus']}/{state.fields['status']}" in SELECTED
        }
        assert wanted
        org = Organisation.objects.create(slug="seed-002-rest", name="Seed 002 (REST)")
        source = Connection(organisation=org, name="Lightspeed", system="lightspeed", base_url=LS_URL)
        source.credentials = {"api_key": shop.api_key, "api_secret": shop.api_secret}
        source.options = {"language": "nl", "cluster": "eu1"}
        source.save()
        target = Connection(organisation=org, name="Asperion API", system="asperion_rest", base_url=ASP_URL)
        target.credentials = {k: str(v) for k, v in books.valid_credentials().items() if k != "licence_code"}
        target.save()
        link = Link.objects.create(
            organisation=org, name="SEOshop → Asperion (REST)", source=source, target=target
        )
        flow = Flow.objects.create(
            link=link,
            kind="orders_to_invoices",
            source=source,
            target=target,
            settings={"statuses": list(SELECTED), "oss_registered": False},
            target_settings={},
        )

        def run():
            fresh = Flow.objects.select_related("link", "source", "target").get(pk=flow.pk)
            with Engine(fresh.link, flow=fresh, now=lambda: now["at"]) as engine:
                return engine.run()

        # when the runtime runs, then twice more an hour apart
        reports = []
        for _ in range(3):
            reports.append(run())
            now["at"] += dt.timedelta(hours=1)
        # then every selected order is one concept invoice with the shop's totals, nothing twice
        booked = SyncRecord.objects.filter(flow=flow, object_type="order", state=RecordState.PUSHED)
        admin = books.administration()
        pushed = sum(r.pushed for r in reports)
        assert pushed == booked.count() == len(admin.invoices) == len(wanted), [r.error_code for r in reports]
        assert reports[-1].pushed == 0 and not any(r.failed or r.needs_review for r in reports)
        by_number = {i.description.split()[1]: i for i in admin.invoices.values()}
        assert set(by_number) == set(wanted)
        for number, invoice in by_number.items():
            order = wanted[number]
            assert invoice.status == 0 and invoice.invoice_number is None
            assert invoice.amount_incl == Decimal(str(order["priceIncl"])), number
            assert invoice.description.startswith(f"Bestelling {number}")
        # and customers are matched on e-mail: one debtor per address
        emails = {wanted[n]["email"].casefold() for n in by_number}
        assert len(admin.debtors) == len(emails)
        shop.assert_read_only()
    finally:
        kh.unmount(LS_URL)
        kh.unmount(ASP_URL)
