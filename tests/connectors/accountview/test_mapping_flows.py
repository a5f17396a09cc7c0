"""The Datamapper in the seed-004 flows: a user's mapping change takes effect on the next run.

Articles AccountView -> eAccounting and customers eAccounting -> AccountView translate through the
flow's ``settings["mapping"]`` (the connector's default when there is none). Each ledger row
records the mapping version it was pushed with (``sent["mapping_version"]``).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from koppeling.mapping import MappingSpec, Rule, Step
from koppeling.sync.models import Flow, RunStatus, SyncRecord

from . import test_flows
from .test_flows import flow, run

# the seed-004 fixtures: both simulators and the link between them
accountview, eaccounting, link = test_flows.accountview, test_flows.eaccounting, test_flows.link

pytestmark = pytest.mark.django_db


def saved(flow_row: Flow, spec: MappingSpec, version: int) -> None:
    """What the Datamapper page does on save (``store_mapping``): the whole mapping, one version
    up, in the flow's settings, and the cursor cleared so the next run reads every record again."""
    from koppeling.web.mapping_views import store_mapping

    while store_mapping(flow_row, spec).version < version:
        pass  # earlier saves: the version counts them
    flow_row.refresh_from_db()
    assert flow_row.settings["mapping"]["version"] == version


def default_articles(accountview_connection_options) -> MappingSpec:
    from koppeling.connectors.accountview.mapping import article_mapping

    return article_mapping(accountview_connection_options)


def test_article_name_from_concat_takes_effect_on_the_next_run(link, eaccounting, accountview):
    # given the articles flow ran with the default mapping
    articles = flow(link, "products", reverse=True, settings={"update_existing": True})
    first = run(articles)
    shirt = next(a for a in eaccounting.books.articles.values() if a["Number"] == "SKU-1002")
    source = accountview.company.articles["SKU-1002"]
    assert first.failed == 0 and shirt["Name"] == source["ART_DESC1"]
    row = SyncRecord.objects.get(flow=articles, source_id="SKU-1002")
    assert row.sent["mapping_version"] == 0
    # when the owner maps the name to "description EAN" and saves (version 1)
    spec = default_articles(link.target.options).with_rule(
        Rule("name", ("ART_DESC1", "EAN_CODE"), (Step("concat", {"separator": " "}),))
    )
    saved(articles, spec, 1)
    second = run(articles)
    # then the next run sends the mapped name, and the ledger says which mapping sent it
    assert second.failed == 0 and second.pushed >= 1, second
    stored = eaccounting.books.articles[shirt["Id"]]
    assert stored["Name"] == f"{source['ART_DESC1']} {source['EAN_CODE']}"
    row.refresh_from_db()
    assert row.sent["mapping_version"] == 1
    # and a third run changes nothing
    assert run(articles).pushed == 0


def test_article_lookup_and_vat_inclusive_price(link, eaccounting, accountview):
    # given a mapping that translates units by a table and sends the price incl. 21 % VAT
    articles = flow(link, "products", reverse=True)
    spec = default_articles(link.target.options)
    spec = spec.with_rule(Rule("unit", ("ART_UNIT",), (Step("lookup", {"table": {"*": "st"}}),)))
    spec = MappingSpec(
        spec.kind,
        tuple(
            Rule("price_inc", r.sources, (*r.transforms, Step("vat_inclusive", {"rate": "21"})))
            if r.target == "price_ex"
            else r
            for r in spec.rules
        ),
    )
    saved(articles, spec, 4)
    # when it runs
    report = run(articles)
    # then eAccounting holds the gross price as the mapping made it
    assert report.failed == 0, report
    source = accountview.company.articles["SKU-1001"]
    created = next(a for a in eaccounting.books.articles.values() if a["Number"] == "SKU-1001")
    expected = (Decimal(source["PX_SELL"]) * Decimal("1.21")).quantize(Decimal("0.01"))
    assert Decimal(created["GrossPrice"]) == expected
    assert SyncRecord.objects.get(flow=articles, source_id="SKU-1001").sent["mapping_version"] == 4


def test_customer_city_mapping_writes_every_debtor_again(link, eaccounting, accountview):
    # given the customers flow ran with the default mapping
    customers = flow(link, "customers", settings={"update_existing": True})
    assert run(customers).pushed == 8
    record = next(iter(eaccounting.books.customers.values()))
    email = record["EmailAddress"].lower()

    def debtor():
        (found,) = [d for d in accountview.company.debtors.values() if d.get("MAIL_BUS") == email]
        return found

    assert debtor()["CITY"] == record["InvoiceCity"]
    # when the owner maps the city to upper case and (for one city) a fixed spelling
    from koppeling.connectors.eaccounting.mapping import customer_mapping

    spec = customer_mapping().with_rule(
        Rule(
            "city",
            ("InvoiceCity",),
            (Step("upper"), Step("lookup", {"table": {"DEN HAAG": "'S-GRAVENHAGE"}})),
        )
    )
    saved(customers, spec, 2)
    report = run(customers)
    # then every customer is written again (the mapping changed), with the mapped city
    assert report.pushed == 8 and report.failed == 0, report
    assert debtor()["CITY"] == record["InvoiceCity"].upper().replace("DEN HAAG", "'S-GRAVENHAGE")
    assert {r.sent["mapping_version"] for r in SyncRecord.objects.filter(flow=customers)} == {2}
    assert run(customers).pushed == 0


def test_a_stored_mapping_that_no_longer_fits_stops_the_run_naming_the_field(link, eaccounting, accountview):
    # given a stored mapping reading a field eAccounting does not have
    customers = flow(link, "customers")
    spec = MappingSpec.from_json(
        {
            "version": 3,
            "kind": "customers",
            "rules": [
                {"target": "name", "sources": ["Name"]},
                {"target": "email", "sources": ["EmailAdres"]},
            ],
        }
    )[0]
    saved(customers, spec, 3)
    # when it runs
    report = run(customers)
    # then nothing is read or written, and the reason names the rule and the field
    assert report.status == RunStatus.FAILED and report.pushed == 0
    assert "rules[1].sources[0]" in report.error_params["problems"]
    assert "EmailAdres" in report.error_params["problems"]
    assert not SyncRecord.objects.filter(flow=customers).exists()


# ------------------------------------------------------------ product_of through the mapping

ROW = {
    "ART_CODE": "SKU-9",
    "ART_DESC1": "Mok ",
    "ART_DESC2": "Wit, 300 ml",
    "EAN_CODE": "8712345678906",
    "PX_SELL": Decimal("7.95"),
    "ART_UNIT": "st",
    "VAT_CODE": "1",
    "REC_BLK": False,
}


def test_default_article_mapping_reads_as_before():
    from koppeling.connectors.accountview.translate import product_of

    product = product_of(ROW, {}, {"1": Decimal(21)})
    assert (product.sku, product.name, product.ean, product.description_short) == (
        "SKU-9",
        "Mok",
        "8712345678906",
        "Wit, 300 ml",
    )
    assert (product.price_ex, product.price_inc, product.vat_rate, product.currency) == (
        Decimal("7.95"),
        None,
        Decimal(21),
        "EUR",
    )


def test_options_move_fields_and_make_the_price_gross():
    from koppeling.connectors.accountview.translate import product_of

    options = {"article_fields": {"description_long": "ART_DESC2", "ean": ""}, "prices_include_vat": True}
    product = product_of(ROW, options, {})
    assert (product.description_long, product.ean) == ("Wit, 300 ml", "")
    assert (product.price_ex, product.price_inc) == (None, Decimal("7.95"))


def test_a_price_that_is_no_number_is_a_located_data_error():
    from koppeling.connectors.accountview.translate import product_of
    from koppeling.connectors.errors import DataError

    with pytest.raises(DataError) as exc:
        product_of({**ROW, "PX_SELL": "op aanvraag"}, {}, {})
    assert exc.value.code == "mapping_not_a_number"
    assert exc.value.params["number"] == "SKU-9" and exc.value.params["value"] == "op aanvraag"


def test_accountview_confirms_fields_its_article_dictionary_has(accountview):
    from .helpers import connector

    found = connector(accountview).extra_source_fields("products", {"QTY_FREE2", "USR_KLEUR"})
    assert found == {"QTY_FREE2"}
