"""eAccounting customers through the Datamapper: the default keeps the old translation, a user's
mapping changes the Party, a value that cannot be mapped is a located DataError."""

from __future__ import annotations

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
