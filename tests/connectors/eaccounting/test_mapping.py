"""eAccounting customers through the Datamapper: the default keeps the old translation, a user's
mapping changes the Party, a value that cannot be mapped is a located DataError."""

from __future__ import annotations

from decimal import Decimal

import pytest

from koppeling.connectors.eaccounting.mapping import customer_mapping, customer_schema
from koppeling.connectors.eaccounting.translate import customer_fingerprint, translate_customer
from koppeling.connectors.errors import DataError
from koppeling.core.models import Party
from koppeling.mapping import Rule, Step, validate

COMPANY = {
    "Id": "c1",
    "CustomerNumber": "1001",
    "Name": "Bakkerij De Korenschoof BV",
    "IsPrivatePerson": False,
    "ContactPersonName": "Anna de Wit",
    "EmailAddress": "",
    "ContactPersonEmail": "anna@korenschoof.nl",
    "Telephone": None,
    "MobilePhone": "06 1234 5678",
    "InvoiceAddress1": " Kerkstraat 12-A ",
    "InvoicePostalCode": "1234 ab",
    "InvoiceCity": "Utrecht",
    "InvoiceCountryCode": "nl",
    "VatNumber": "nl 0012 3456 7b01",
}
PERSON = {
    **COMPANY,
    "IsPrivatePerson": True,
    "Name": "Piet Jansen",
    "InvoiceCountryCode": "",
    "VatNumber": None,
}


def test_default_mapping_is_valid_against_the_customer_api_fields():
    spec = customer_mapping()
    assert spec.version == 0 and validate(spec, customer_schema()) == (spec, [])


def test_default_translation_company_with_contact_person():
    party = translate_customer(COMPANY)
    assert party == Party(
        name="Anna de Wit",
        company="Bakkerij De Korenschoof BV",
        email="anna@korenschoof.nl",
        phone="06 1234 5678",
        street="Kerkstraat 12-A",
        postal_code="1234 AB",
        city="Utrecht",
        country_code="NL",
        vat_number="NL001234567B01",
        customer_id="1001",
    )


def test_default_translation_private_person():
    party = translate_customer(PERSON)
    assert (party.name, party.company, party.country_code, party.vat_number) == ("Piet Jansen", "", "NL", "")


def test_a_user_mapping_changes_the_party():
    spec = customer_mapping().with_rule(
        Rule("street", ("InvoiceAddress1",), (Step("trim"), Step("split_street", {"part": "street"})))
    )
    spec = spec.with_rule(Rule("city", ("InvoiceCity",), (Step("upper"),)))
    party = translate_customer(COMPANY, mapping=spec)
    assert (party.street, party.city) == ("Kerkstraat", "UTRECHT")


def test_a_value_that_cannot_be_mapped_is_a_located_data_error():
    spec = customer_mapping().with_rule(Rule("country_code", ("InvoiceCity",), (Step("country_code"),)))
    with pytest.raises(DataError) as exc:
        translate_customer(COMPANY, mapping=spec)
    assert exc.value.code == "mapping_unknown_country"
    assert exc.value.params["value"] == "Utrecht" and exc.value.params["number"] == "1001"
    assert exc.value.params["location"].startswith("rules[")


def test_name_is_still_required_whatever_the_mapping():
    with pytest.raises(DataError) as exc:
        translate_customer({**COMPANY, "Name": " "})
    assert exc.value.params["path"] == "customer.Name"


def test_fingerprint_changes_with_a_saved_mapping_only():
    assert customer_fingerprint(COMPANY) == customer_fingerprint(COMPANY, 0)
    assert customer_fingerprint(COMPANY, 1) != customer_fingerprint(COMPANY)
    assert customer_fingerprint(COMPANY, 1) != customer_fingerprint(COMPANY, 2)


# ------------------------------------------------------------ orders through the mapping

ORDER = {
    "Id": "o1",
    "Number": 5001,
    "OrderDate": "2026-02-10",
    "CurrencyCode": "eur",
    "Amount": "20.00",
    "VatAmount": "4.20",
    "InvoiceAddress1": "",
    "DeliveryAddress1": "Dorpsweg 3",
    "DeliveryPostalCode": "9999 zz",
    "DeliveryCity": "Ergens",
    "Rows": [{"ArticleId": "a1", "ArticleNumber": "TS-1", "Quantity": 2, "UnitPrice": "10.00"}],
}
ARTICLE = {"Id": "a1", "Number": "TS-1", "Name": "T-shirt", "CodingId": "c21"}


def _order(mapping=None, **changes):
    from koppeling.connectors.eaccounting.translate import translate_order

    return translate_order(
        {**ORDER, **changes},
        customer=COMPANY,
        article=lambda ident: ARTICLE if ident == "a1" else None,
        rate_of=lambda article: Decimal(21),
        mapping=mapping,
    )


def test_default_order_mapping_reads_as_before():
    order = _order()
    # the customer as the customers flow reads it; its own address where the order has none
    assert (order.customer.name, order.customer.company) == ("Anna de Wit", "Bakkerij De Korenschoof BV")
    assert (order.customer.street, order.customer.postal_code, order.customer.country_code) == (
        "Kerkstraat 12-A",
        "1234 AB",
        "NL",
    )
    assert order.delivery is not None and order.delivery.postal_code == "9999 ZZ"
    (line,) = order.lines
    assert (line.sku, line.description, line.quantity, line.unit_price_ex) == ("TS-1", "T-shirt", 2, 10)
    assert order.currency == "EUR"


def test_a_user_order_mapping_changes_the_order():
    from koppeling.connectors.eaccounting.mapping import order_mapping

    spec = order_mapping().with_rule(
        Rule("lines[].sku", ("Rows[].ArticleNumber",), (Step("lookup", {"table": {"TS-1": "SKU-1001"}}),))
    )
    spec = spec.with_rule(Rule("billing.number", ("YourReference",), ()))
    order = _order(spec, InvoiceAddress1="Stationsplein", YourReference="7 bis")
    assert order.lines[0].sku == "SKU-1001"
    # a house number kept apart in the source is written after the street
    assert order.customer.street == "Stationsplein 7 bis"


def test_an_order_value_that_cannot_be_mapped_is_a_located_data_error():
    with pytest.raises(DataError) as exc:
        _order(Rows=[{**ORDER["Rows"][0], "Quantity": "twee"}])
    assert exc.value.code == "mapping_not_a_number"
    assert exc.value.params["number"] == "5001" and exc.value.params["what"] == "Order"
