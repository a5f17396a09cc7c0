"""AccountViewConnector against the simulator: debtors, documents, rights, articles, stock, tokens."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from koppeling.connectors.accountview.api import AccountViewCode
from koppeling.connectors.accountview.client import AccountViewConnector
from koppeling.connectors.accountview.settings import AccountViewSettings
from koppeling.connectors.accountview.simulator import AccountViewSimulator
from koppeling.connectors.base import Capability, Findability
from koppeling.connectors.errors import AuthError, DataError
from koppeling.connectors.registry import connector_class
from koppeling.connectors.testing import sample_invoice
from koppeling.core.models import InvoiceLine, LineKind, Party, VatRegime
from koppeling.core.products import StockCalculation
from koppeling.sync.flow_settings import SettingsError, validate

from .helpers import (
    FakeClock,
    LockedStore,
    add_article,
    connector,
    credentials,
    invoice_settings,
    order_settings,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> AccountViewSimulator:
    simulator = AccountViewSimulator(clock=clock)
    simulator.seed(debtors=10, articles=20, sales_orders=0, invoices=0)
    add_article(simulator, "VERZEND", "Verzendkosten")
    return simulator


def posts(sim: AccountViewSimulator, business_object: str) -> list:
    return [w for w in sim.writes if str(w.body.get("BusinessObject")) == business_object]


def product_line(sku: str, quantity: str = "1", price: str = "10.00", rate: str = "21") -> InvoiceLine:
    total = Decimal(price) * Decimal(quantity)
    vat = (total * Decimal(rate) / 100).quantize(Decimal("0.01"))
    return InvoiceLine(
        LineKind.PRODUCT,
        f"Artikel {sku}",
        Decimal(quantity),
        Decimal(price),
        Decimal(rate),
        total,
        vat,
        sku=sku,
    )


def debtor_by_email(sim: AccountViewSimulator, email: str) -> dict:
    (found,) = [d for d in sim.company.debtors.values() if d.get("MAIL_BUS") == email]
    return found


def test_registry_declares_the_accountview_facts():
    cls = connector_class("accountview")
    assert cls is AccountViewConnector
    assert cls.capabilities() == {
        Capability.WRITES_INVOICES,
        Capability.WRITES_CUSTOMERS,
        Capability.READS_PRODUCTS,
        Capability.READS_STOCK,
    }
    assert cls.findable is Findability.BY_REFERENCE and cls.max_in_flight == 1
    assert cls.settings_model is AccountViewSettings


# ------------------------------------------------------------ debtors


def test_push_invoice_company_customer_becomes_company_debtor_with_contact(sim):
    # given an order of a company, placed by a person
    customer = Party(
        name="Petra de Vries",
        company="Bakkerij De Korenbloem",
        email="Inkoop@Korenbloem.example",
        street="Dorpsstraat 1",
        postal_code="1234 ab",
        city="Utrecht",
        vat_number="NL123456789B01",
    )
    invoice = sample_invoice("EA-1", customer=customer)
    # when
    connector(sim).push_invoice(invoice, order_settings())
    # then the debtor is the company, its contact the person; the e-mail stored in lower case
    debtor = debtor_by_email(sim, "inkoop@korenbloem.example")
    assert debtor["ACCT_NAME"] == "Bakkerij De Korenbloem" and debtor["MAIN_CONT"] == "Petra de Vries"
    assert debtor["MC_MAILB"] == "inkoop@korenbloem.example" and debtor["VAT_NR"] == "NL123456789B01"
    assert (
        debtor["SRC_CODE"] == "BAKKERIJDE"
        and debtor["ACCT_NR"] == "1300"
        and debtor["POST_CODE"] == "1234 AB"
    )


def test_push_invoice_person_customer_becomes_person_debtor(sim):
    # given an order of a private person
    invoice = sample_invoice("EA-2")
    # when
    connector(sim).push_invoice(invoice, order_settings())
    # then
    debtor = debtor_by_email(sim, "jan@example.nl")
    assert debtor["ACCT_NAME"] == "Jan Jansen" and not debtor["MAIN_CONT"] and not debtor["MC_MAILB"]


def test_push_invoice_known_customer_is_found_by_email_and_updated(sim):
    # given a debtor with this e-mail address, written in capitals by someone in AccountView
    known = next(iter(sim.company.debtors.values()))
    known["MAIL_BUS"] = "Jan@Example.NL"
    customer = dataclasses.replace(sample_invoice().customer, email="Jan@Example.NL", city="Amersfoort")
    # when its next order comes in
    connector(sim).push_invoice(sample_invoice("EA-3", customer=customer), order_settings())
    # then no debtor was added; the known one took the new city and is the order's debtor
    assert posts(sim, "AR1")[0].body["TableData"]["Data"]["Rows"][0]["Values"][1] == known["SUB_NR"]
    assert sim.company.debtors[known["SUB_NR"]]["CITY"] == "Amersfoort"
    order = next(iter(sim.company.orders.values()))
    assert order["RPL_INV"] == known["SUB_NR"]


def test_push_invoice_update_box_off_links_without_writing_the_debtor(sim):
    # given a known debtor and settings that do not update debtors
    known = next(iter(sim.company.debtors.values()))
    customer = dataclasses.replace(sample_invoice().customer, email=known["MAIL_BUS"], city="Elders")
    # when
    connector(sim).push_invoice(
        sample_invoice("EA-4", customer=customer), order_settings(update_debtors=False)
    )
    # then
    assert posts(sim, "AR1") == [] and sim.company.debtors[known["SUB_NR"]]["CITY"] != "Elders"


def test_push_invoice_default_debtor_takes_private_orders_only_when_asked(sim):
    # given a default debtor for private persons
    default = next(iter(sim.company.debtors))
    settings = order_settings(default_debtor=default, default_debtor_for="private")
    business = dataclasses.replace(sample_invoice().customer, company="Firma", email="firma@example.nl")
    target = connector(sim)
    # when a person's and a company's order come in
    target.push_invoice(sample_invoice("EA-5"), settings)
    target.push_invoice(sample_invoice("EA-6", customer=business), settings)
    # then only the company got a debtor of its own
    orders = {o["COMMENT1"]: o["RPL_INV"] for o in sim.company.orders.values()}
    assert orders["EA-5"] == default and orders["EA-6"] == debtor_by_email(sim, "firma@example.nl")["SUB_NR"]
    assert len(posts(sim, "AR1")) == 1


def test_push_invoice_without_email_and_default_debtor_is_a_data_error(sim):
    customer = dataclasses.replace(sample_invoice().customer, email="")
    with pytest.raises(DataError) as caught:
        connector(sim).push_invoice(sample_invoice("EA-7", customer=customer), order_settings())
    assert caught.value.code == AccountViewCode.NO_EMAIL and sim.writes == []


def test_create_and_update_customer_for_the_customer_flow(sim):
    # given a new customer (the customers flow: no order)
    target = connector(sim)
    party = Party(name="An de Boer", email="an@example.nl", city="Zwolle", country_code="BE")
    settings = AccountViewSettings(debtor_vat_codes={"BE": "2", "*": "1"}, payment_terms={"*": "14"})
    # when it is found (not), created, then updated with only what it has
    assert target.find_customer(party) is None
    created = target.create_customer(party, settings)
    target.update_customer(created.target_id, dataclasses.replace(party, city="Gent"), settings)
    # then
    debtor = sim.company.debtors[created.target_id]
    assert target.find_customer(party).target_id == created.target_id
    assert debtor["CITY"] == "Gent" and debtor["VAT_CODE"] == "2" and debtor["DISC_CODE"] == "14"


# ------------------------------------------------------------ documents


def test_push_invoice_missing_product_stops_before_anything_is_written(sim):
    # given an order with one article AccountView does not have
    invoice = sample_invoice("EA-8", lines=[product_line("SKU-1001"), product_line("GEEN-1")])
    # when / then
    with pytest.raises(DataError) as caught:
        connector(sim).push_invoice(invoice, order_settings())
    assert caught.value.code == AccountViewCode.PRODUCT_MISSING and caught.value.params["sku"] == "GEEN-1"
    assert sim.writes == [] and len(sim.company.debtors) == 10


def test_push_invoice_blocked_product_stops_too(sim):
    sim.company.articles["SKU-1002"]["REC_BLK"] = True
    with pytest.raises(DataError) as caught:
        connector(sim).push_invoice(
            sample_invoice("EA-9", lines=[product_line("SKU-1002")]), order_settings()
        )
    assert caught.value.code == AccountViewCode.PRODUCT_BLOCKED and sim.writes == []


def test_push_invoice_sku_that_is_an_ean_finds_the_article(sim):
    # given a line whose SKU is the article's EAN (the seed's SKU/EAN)
    ean = sim.company.articles["SKU-1003"]["EAN_CODE"]
    # when
    connector(sim).push_invoice(sample_invoice("EA-10", lines=[product_line(ean)]), order_settings())
    # then the order line names the article code
    (order,) = sim.company.orders.values()
    assert [line["ART_CODE"] for line in order["_lines"]] == ["SKU-1003"]


def test_push_invoice_line_without_article_names_the_setting(sim):
    # given sales orders and no article for shipping lines
    settings = order_settings(shipping_costs={})
    # when / then
    with pytest.raises(DataError) as caught:
        connector(sim).push_invoice(sample_invoice("EA-11"), settings)
    assert caught.value.code == AccountViewCode.LINE_WITHOUT_ARTICLE
    assert caught.value.params["setting"] == "shipping_costs.article" and sim.writes == []


def test_push_invoice_sales_order_lines_and_header(sim):
    # given a domestic order with a payment and a shipping method mapping
    invoice = sample_invoice("EA-12", payment_method="Betaald via webwinkel")
    settings = order_settings(
        payment_methods={"Betaald via webwinkel": "IDEAL"}, shipping_methods={"*": "POSTNL"}
    )
    # when
    result = connector(sim).push_invoice(invoice, settings)
    # then
    (order,) = sim.company.orders.values()
    assert result.target_id == f"SO1:{order['ORD_NR']}"
    assert order["COMMENT1"] == "EA-12" and order["COMMENT2"] == "IDEAL" and order["SHIP_MTH"] == "POSTNL"
    assert [
        (line["ART_CODE"], line["ORD_QTY"], line["ART_PX"], line["VAT_CODE"]) for line in order["_lines"]
    ] == [
        ("SKU-1001", Decimal(2), Decimal("12.3967"), "1"),
        ("SKU-1001", Decimal(1), Decimal("18.3486"), "2"),
        ("VERZEND", Decimal(1), Decimal("4.9587"), "1"),
    ]


def test_push_invoice_twice_finds_the_first_booking(sim):
    # given a booked order
    target = connector(sim)
    first = target.push_invoice(sample_invoice("EA-13"), order_settings())
    # when it is pushed again (a retry after a lost answer)
    again = target.push_invoice(sample_invoice("EA-13"), order_settings())
    # then nothing new was written
    assert again.target_id == first.target_id and len(posts(sim, "SO1")) == 1


def test_push_invoice_sales_invoice_groups_lines_per_account_and_vat_code(sim):
    # given an OSS sale to Belgium with per-country codes and accounts
    customer = dataclasses.replace(sample_invoice().customer, country_code="BE")
    invoice = sample_invoice("EA-14", customer=customer, regime=VatRegime.EU_B2C_OSS, vat_country="BE")
    settings = invoice_settings(
        vat_codes_per_country={"BE": {"21": "1", "9": "2"}}, revenue_accounts={"BE": "8000", "*": "8020"}
    )
    # when
    result = connector(sim).push_invoice(invoice, settings)
    # then: product lines on the Belgian revenue account, shipping on its own account
    page = sim.company.pages[result.target_id.removeprefix("DJ2:")]
    assert page["INV_NR"] == "EA-14" and page["DJ_CODE"] == "VRK"
    assert sorted(
        (line["ACCT_NR"], line["VAT_CODE"], line["AMOUNT"], line["VAT_AMT"]) for line in page["_lines"]
    ) == [
        ("8000", "1", Decimal("24.79"), Decimal("5.21")),
        ("8000", "2", Decimal("18.35"), Decimal("1.65")),
        ("8100", "1", Decimal("4.96"), Decimal("1.04")),
    ]


def test_push_invoice_sales_invoice_without_vat_code_stops_before_writing(sim):
    settings = invoice_settings(vat_codes={"21": "1"})
    with pytest.raises(DataError) as caught:
        connector(sim).push_invoice(sample_invoice("EA-15"), settings)
    assert (
        caught.value.code == AccountViewCode.MAPPING_MISSING and caught.value.params["setting"] == "vat_codes"
    )
    assert sim.writes == []


def test_push_invoice_sales_invoice_reference_too_long_is_a_data_error(sim):
    with pytest.raises(DataError) as caught:
        connector(sim).push_invoice(sample_invoice("EACCOUNTING-123456"), invoice_settings())
    assert caught.value.code == AccountViewCode.REFERENCE_TOO_LONG and sim.writes == []


def test_find_invoice_without_stored_ids_searches_both_document_types(sim):
    # given one order booked as a sales order, one as a sales invoice
    target = connector(sim)
    order = target.push_invoice(sample_invoice("EA-16"), order_settings())
    page = target.push_invoice(sample_invoice("EA-17"), invoice_settings())
    # when / then
    assert target.find_invoice("EA-16").target_id == order.target_id
    assert target.find_invoice("ea-17").target_id == page.target_id  # INV_NR is stored in capitals
    assert target.find_invoice("EA-18") is None


def test_find_invoice_with_a_right_on_one_document_type_only(sim):
    # given a user who may read sales orders but not journal pages
    sim.set_rights("koppeling", "DJ2P", "")
    target = connector(sim)
    order = target.push_invoice(sample_invoice("EA-19"), order_settings())
    # when / then the other type is left out, not failed
    assert target.find_invoice("EA-19").target_id == order.target_id
    assert target.find_invoice("EA-20") is None


# ------------------------------------------------------------ settings


def test_settings_problems_are_located():
    # given settings with three mistakes
    data = {
        "document_type": "sales_invoice",
        "vat_codes": {"21": "1", "hoog": "2"},
        "collective_account": "12345678901",
        "revenue_accounts": {},
    }
    # when / then every problem is named with its place
    with pytest.raises(SettingsError) as caught:
        validate(AccountViewSettings, data, where="target_settings")
    assert set(caught.value.problems) == {
        "target_settings.vat_codes",
        "target_settings.collective_account",
        "target_settings.revenue_accounts",
    }


def test_settings_codes_are_upper_cased_and_rates_normalised():
    settings = AccountViewSettings(vat_codes={"21.0": "h1"}, shipping_methods={"*": "postnl"})
    assert settings.vat_codes == {"21": "H1"} and settings.shipping_methods == {"*": "POSTNL"}


# ------------------------------------------------------------ rights


def test_check_rights_names_the_missing_insert_right(sim):
    # given a user who may read sales orders but not add them
    sim.set_rights("koppeling", "SO1", "R")
    target = connector(sim)
    # when / then
    with pytest.raises(AuthError) as caught:
        target.check_rights(frozenset({Capability.WRITES_INVOICES}), order_settings())
    params = caught.value.params
    assert caught.value.code == AccountViewCode.RIGHT_MISSING
    assert (params["object"], params["right"], params["description"]) == ("SO1", "insert", "Verkooporders")
    # and the same user may book sales invoices
    target.check_rights(frozenset({Capability.WRITES_INVOICES}), invoice_settings())


def test_check_rights_customers_need_update(sim):
    sim.set_rights("koppeling", "AR1", "RI")
    with pytest.raises(AuthError) as caught:
        connector(sim).check_rights(frozenset({Capability.WRITES_CUSTOMERS}))
    assert (caught.value.params["object"], caught.value.params["right"]) == ("AR1", "update")


def test_check_rights_articles_need_read(sim):
    sim.set_rights("koppeling", "AK1", "")
    target = connector(sim)
    target.check_rights(frozenset({Capability.WRITES_CUSTOMERS}))
    with pytest.raises(AuthError) as caught:
        target.check_rights(frozenset({Capability.READS_STOCK}))
    assert (caught.value.params["object"], caught.value.params["right"]) == ("AK1", "read")


# ------------------------------------------------------------ articles and stock


def test_fetch_products_changed_since_and_the_fields(sim, clock):
    # given one article changed a month after the others were (2026-01-05)
    clock.advance(31 * 86400)
    sim.company.articles["SKU-1005"]["ART_DESC2"] = "Staal, fijne punt"
    sim.set_stock("SKU-1005", 7)  # moves its CNG_DATE to the simulator's now
    since = dt.datetime.fromtimestamp(clock(), dt.UTC)
    # when
    fetched = list(connector(sim).fetch_products_changed(since))
    everything = list(connector(sim).fetch_products_changed(None))
    # then
    assert [f.source_id for f in fetched] == ["SKU-1005"]
    product = fetched[0].item
    assert (product.name, product.description_short, product.price_ex, product.vat_rate, product.unit) == (
        "Vulpen staal",
        "Staal, fijne punt",
        Decimal("22.31"),
        Decimal(21),
        "st",
    )
    assert len(everything) == 21 and all(f.item is not None for f in everything)


def test_fetch_stock_on_hand_reserved_and_incoming(sim):
    # given 10 on hand, 4 on order with a supplier, and an open sales order for 3
    sim.set_stock("SKU-1004", 10, on_order=4)
    connector(sim).push_invoice(
        sample_invoice("EA-21", lines=[product_line("SKU-1004", "3")]), order_settings()
    )
    # when
    level = connector(sim).fetch_stock_level("SKU-1004").item
    # then the three calculations the flow offers
    assert (level.on_hand, level.reserved, level.incoming) == (Decimal(10), Decimal(3), Decimal(4))
    assert level.quantity(StockCalculation.ON_HAND) == 10
    assert level.quantity(StockCalculation.AVAILABLE) == 7  # the seed's default
    assert level.quantity(StockCalculation.AVAILABLE_PLUS_INCOMING) == 11


def test_fetch_stock_fields_are_configurable(sim):
    # given the free-stock field as "on hand" and no reservation field
    sim.set_stock("SKU-1004", 10)
    connector(sim).push_invoice(
        sample_invoice("EA-22", lines=[product_line("SKU-1004", "3")]), order_settings()
    )
    options = {"stock_fields": {"on_hand": "QTY_FREE2", "reserved": ""}}
    # when
    level = connector(sim, **options).fetch_stock_level("SKU-1004").item
    # then
    assert (level.on_hand, level.reserved) == (Decimal(7), Decimal(0))


def test_fetch_stock_unknown_field_is_a_located_error_not_zero(sim):
    # given a reservation field this administration does not have
    options = {"stock_fields": {"reserved": "QTY_RESERV"}}
    # when
    fetched = connector(sim, **options).fetch_stock_level("SKU-1004")
    # then
    assert fetched.item is None and fetched.error.code == AccountViewCode.FIELD_MISSING
    assert fetched.error.params["field"] == "QTY_RESERV"
    assert connector(sim, **options).stock_fields_known() == ["QTY_RESERV"]


def test_fetch_stock_unmanaged_groups(sim):
    levels = {f.source_id: f.item for f in connector(sim, unmanaged_article_groups=["DIENST"]).fetch_stock()}
    assert levels["SKU-1018"].managed is False and levels["SKU-1001"].managed is True


def test_fetch_stock_fingerprint_follows_the_reservation(sim):
    # given
    before = connector(sim).fetch_stock_level("SKU-1006").fingerprint
    # when a sales order reserves some
    sim.set_stock("SKU-1006", 20)
    middle = connector(sim).fetch_stock_level("SKU-1006").fingerprint
    connector(sim).push_invoice(
        sample_invoice("EA-23", lines=[product_line("SKU-1006", "2")]), order_settings()
    )
    after = connector(sim).fetch_stock_level("SKU-1006").fingerprint
    # then
    assert len({before, middle, after}) == 3


# ------------------------------------------------------------ tokens


def test_refresh_two_connectors_one_store_second_uses_first_result(sim, clock):
    # given two workers holding the same (expired) credentials and sharing one store
    initial = credentials(sim)
    store = LockedStore(initial)
    first, second = connector(sim, initial, store=store), connector(sim, initial, store=store)
    clock.advance(4000)
    # when
    first.check()
    second.check()
    # then one refresh, and the second never sent the old refresh token
    refreshes = [r for r in sim.token_requests if r["grant_type"] == "refresh_token"]
    assert [r["status"] for r in refreshes] == [200]
    assert (
        second.config.credentials["refresh_token"]
        == store.credentials["refresh_token"]
        != initial["refresh_token"]
    )


def test_refresh_after_401_is_used_once(sim, clock):
    # given credentials without expiry whose token the server let expire
    creds = credentials(sim)
    creds.pop("access_token_expires_at")
    target = connector(sim, creds)
    clock.advance(3700)
    # when
    target.check()
    # then
    assert [r["grant_type"] for r in sim.token_requests] == ["refresh_token"]
