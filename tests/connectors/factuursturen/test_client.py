"""FactuursturenTarget against the simulator: debtors, paid invoices, finding them again, settings."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from koppeling.connectors.base import Capability, Findability, PushResult
from koppeling.connectors.errors import ConnectorError, DataError, NotFound
from koppeling.connectors.factuursturen.client import FactuursturenTarget
from koppeling.connectors.factuursturen.settings import FactuursturenSettings
from koppeling.connectors.factuursturen.simulator import FactuursturenSimulator
from koppeling.connectors.factuursturen.translate import COUNTRY_IDS
from koppeling.connectors.registry import connector_class
from koppeling.core.models import LineKind, PaymentStatus, VatRegime
from koppeling.core.totals import TotalsMethod

from .fs_helpers import SETTINGS, invoice, line, make_target, missing_params, party


@pytest.fixture
def sim() -> FactuursturenSimulator:
    return FactuursturenSimulator()


@pytest.fixture
def target(sim: FactuursturenSimulator) -> FactuursturenTarget:
    return make_target(sim)


def _codes(result: PushResult) -> list[str]:
    return [str(w.code) for w in result.warnings]


# -- the declared contract ----------------------------------------------------------------------------


def test_connector_class_factuursturen_declares_its_facts():
    # when the registry is asked for the system
    cls = connector_class("factuursturen")
    # then it is this connector with the facts the runtime plans with
    assert cls is FactuursturenTarget
    assert cls.findable is Findability.BY_REFERENCE
    assert cls.totals_method is TotalsMethod.PER_INVOICE
    assert cls.credential_fields == ("username", "api_key")
    assert {Capability.WRITES_INVOICES, Capability.WRITES_CREDIT_NOTES} <= cls.capabilities()
    (limit,) = cls.rate_limits
    assert (limit.limit, limit.period_seconds) == (60, 3600)
    assert limit.applies_to == {"writes_invoices", "writes_credit_notes"}


# -- debtors --------------------------------------------------------------------------------------------


def test_push_invoice_unknown_email_creates_debtor_from_the_order(sim, target):
    # given no debtor with the customer's e-mail
    # when the invoice is pushed
    result = target.push_invoice(invoice(customer=party(company="Jansen BV", phone="0612345678")), SETTINGS)
    # then one debtor was created with the order's details, excl. VAT, and the invoice is on it
    (client,) = sim.clients.values()
    assert (client["contact"], client["company"], client["email"]) == (
        "Jan Jansen",
        "Jansen BV",
        "jan@example.nl",
    )
    assert (client["address"], client["zipcode"], client["city"]) == ("Dorpsstraat 1", "1234 AB", "Utrecht")
    assert (client["country"], client["currency"], client["tax_type"]) == ("146", "EUR", "extax")
    assert sim.invoices[int(result.target_id)].clientnr == int(client["clientnr"])
    assert result.warnings == ()


def test_push_invoice_known_email_reuses_debtor_and_never_writes_to_it(sim, target):
    # given an existing debtor with the same e-mail (other case), incl. VAT and a 10 % standard discount
    number = sim.add_client(
        contact="Jan Jansen", email="Jan@Example.nl", address="Dorpsstraat 1", zipcode="1234AB",
        city="Utrecht", tax_type="intax", stddiscount="10",
    )  # fmt: skip
    order = invoice()
    # when two invoices are pushed for that customer
    first = target.push_invoice(order, SETTINGS)
    second = make_target(sim).push_invoice(invoice("WA1002"), SETTINGS)
    # then both are on that debtor, nothing was written to it, and what is booked is the order's
    assert len(sim.clients) == 1 and sim.client_writes() == []
    assert [w.resource for w in sim.writes] == ["invoices", "invoices"]
    booked = sim.invoices[int(first.target_id)]
    assert booked.clientnr == number and sim.invoices[int(second.target_id)].clientnr == number
    assert (booked.totals.total_ex, booked.totals.total_inc) == (order.total_ex, order.total_inc)
    assert booked.discount == 0 and first.warnings == ()


def test_push_invoice_same_email_other_name_and_address_warns_debtor_reused(sim, target):
    # given a first order made the debtor
    target.push_invoice(invoice(), SETTINGS)
    # when a second order of that e-mail names someone else at another address
    other = party(name="Piet Jansen", street="Kerkstraat 9", postal_code="9999 ZZ")
    result = target.push_invoice(invoice("WA1002", customer=other), SETTINGS)
    # then it is booked on the same debtor, which is unchanged, and the booking says so
    assert len(sim.clients) == 1 and sim.client_writes() == []
    assert sim.clients[1]["contact"] == "Jan Jansen"
    (warning,) = result.warnings
    assert warning.code == "factuursturen_debtor_reused"
    assert warning.params["fields"] == "contact, address, zipcode" and warning.params["clientnr"] == "1"
    assert not missing_params(warning)


def test_push_invoice_email_found_only_as_substring_creates_own_debtor(sim, target):
    # given a debtor whose address merely contains the customer's (the search matches loosely)
    sim.add_client(contact="X", email="xjan@example.nl")
    # when the invoice is pushed
    target.push_invoice(invoice(), SETTINGS)
    # then the customer got a debtor of its own
    assert sorted(c["email"] for c in sim.clients.values()) == ["jan@example.nl", "xjan@example.nl"]


def test_push_invoice_without_email_stops_when_configured_to(sim, target):
    # given an order without e-mail and the default missing_email="stop"
    # when it is pushed
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice(customer=party(email="")), SETTINGS)
    # then it stops with a reason and a fix, and nothing was written
    assert info.value.code == "factuursturen_email_missing" and info.value.suggestion
    assert not missing_params(info.value.outcome) and sim.writes == []


def test_push_invoice_without_email_goes_to_the_default_debtor(sim, target):
    # given a default debtor for orders without e-mail
    number = sim.add_client(company="Webwinkel klanten")
    settings = SETTINGS.model_copy(update={"missing_email": "default_debtor", "default_debtor": number})
    # when such an order is pushed
    result = target.push_invoice(invoice(customer=party(email="")), settings)
    # then it is booked on that debtor and no debtor was created
    assert sim.invoices[int(result.target_id)].clientnr == number
    assert [w.resource for w in sim.writes] == ["invoices"]


def test_push_invoice_default_debtor_that_does_not_exist_is_named(sim, target):
    settings = SETTINGS.model_copy(update={"missing_email": "default_debtor", "default_debtor": 77})
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice(customer=party(email="")), settings)
    assert info.value.code == "factuursturen_debtor_unknown"
    assert info.value.params["clientnr"] == "77" and info.value.params["setting"] == "default_debtor"
    assert not missing_params(info.value.outcome)


def test_push_invoice_payment_method_with_own_debtor_skips_email_matching(sim, target):
    # given "one debtor per payment method" for PayPal
    paypal = sim.add_client(company="PayPal klanten")
    settings = SETTINGS.model_copy(update={"payment_method_debtors": {"paypal": paypal}})
    # when a PayPal order and an iDEAL order are pushed
    paid_by_paypal = target.push_invoice(invoice(payment_method="paypal"), settings)
    paid_by_ideal = target.push_invoice(invoice("WA1002"), settings)
    # then the PayPal one is on the PayPal debtor, the other on the customer's own (new) debtor
    assert sim.invoices[int(paid_by_paypal.target_id)].clientnr == paypal
    assert sim.invoices[int(paid_by_ideal.target_id)].clientnr != paypal
    assert sim.client_writes() == []


def test_push_invoice_debtor_in_another_currency_is_refused(sim, target):
    # given the customer's debtor invoices in USD
    sim.add_client(contact="Jan Jansen", email="jan@example.nl", currency="USD")
    # when a EUR order is pushed
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice(), SETTINGS)
    # then it is refused before any write (koppeling never changes the debtor)
    assert info.value.code == "factuursturen_currency_differs"
    assert (info.value.params["currency"], info.value.params["debtor_currency"]) == ("EUR", "USD")
    assert not missing_params(info.value.outcome) and sim.writes == []


def test_push_invoice_foreign_currency_is_booked_on_a_debtor_in_that_currency(sim, target):
    # given an order in USD from a new customer
    result = target.push_invoice(invoice(currency="USD"), SETTINGS)
    # then its new debtor invoices in USD, and the read-back says so
    assert sim.clients[1]["currency"] == "USD"
    assert target.read_back_invoice(result.target_id).currency == "USD"


def test_push_invoice_invalid_email_is_a_debtor_email_error(sim, target):
    # when the customer's e-mail is one Factuursturen refuses
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice(customer=party(email="jan@@example")), SETTINGS)
    # then the shop owner is told which address, with Factuursturen's text only as remote
    error = info.value
    assert error.code == "factuursturen_debtor_email_invalid" and error.params["email"] == "jan@@example"
    assert error.params["remote"] and error.params["reference"] == "WA1001"
    assert not missing_params(error.outcome) and sim.invoices == {}


def test_push_invoice_new_debtor_long_fields_are_cut_or_left_out(sim, target):
    # given a customer with a 60-character name and an 8-character postal code
    customer = party(name="A" * 60, postal_code="SW1A 1AA", country_code="GB", phone="+44 (0)20 7946 0958")
    # when pushed
    result = target.push_invoice(invoice(customer=customer), SETTINGS)
    # then the name is cut to 50, the postal code left out (a cut one would be wrong), both said
    client = sim.clients[1]
    assert client["contact"] == "A" * 50 and client["zipcode"] == "" and client["country"] == "224"
    assert client["phone"] == "+442079460958"  # 13 characters once written without spaces and (0)
    assert _codes(result) == ["factuursturen_debtor_field_shortened", "factuursturen_debtor_field_left_out"]
    assert all(not missing_params(w) for w in result.warnings)


def test_push_invoice_unknown_country_is_refused_before_any_write(sim, target):
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice(customer=party(country_code="JP")), SETTINGS)
    assert info.value.code == "factuursturen_country_unknown" and info.value.params["country"] == "JP"
    assert sim.writes == []


def test_country_ids_are_factuursturen_ids():
    from koppeling.connectors.factuursturen.sim_model import COUNTRIES

    assert set(COUNTRY_IDS.values()) <= set(COUNTRIES)
    assert COUNTRIES[COUNTRY_IDS["NL"]][0] == "Nederland" and COUNTRIES[COUNTRY_IDS["DE"]][0] == "Duitsland"


def test_push_invoice_reverse_charge_sale_on_debtor_without_tax_shifted_warns(sim, target):
    # given an existing business debtor without "BTW verlegd"
    sim.add_client(
        company="Acme GmbH", email="jan@example.nl", country="50", address="Dorpsstraat 1", zipcode="1234 AB",
        city="Utrecht",
    )  # fmt: skip
    customer = party(company="Acme GmbH", name="", vat_number="DE123456789", country_code="DE")
    # when an ICP sale is pushed
    result = target.push_invoice(
        invoice(regime=VatRegime.EU_B2B, customer=customer, lines=[line(rate="0")]), SETTINGS
    )
    # then it is booked on the debtor as it is, with a warning
    assert _codes(result) == ["factuursturen_debtor_tax_shifted_differs"]
    assert not missing_params(result.warnings[0]) and sim.client_writes() == []


# -- invoices ------------------------------------------------------------------------------------------


def test_push_invoice_books_it_paid_with_the_order_number_findable(sim, target):
    # when an invoice is pushed
    order = invoice("WA1001")
    result = target.push_invoice(order, SETTINGS)
    # then it is a definitive, paid invoice nobody was mailed, carrying the order number
    booked = sim.invoices[int(result.target_id)].to_api()
    assert booked["open"] == "0.00" and booked["paiddate"] == "2026-01-15"
    assert booked["reference"]["line1"] == "Bestelling WA1001"
    assert booked["lines"]["line1"]["description"] == "Bestelling 1001"  # the order's description
    assert [booked["lines"][k]["description"] for k in ("line2", "line3")] == ["T-shirt", "Verzending"]
    assert booked["category"] == "1" and booked["sent"] == "2026-01-15"
    assert sim.invoices[int(result.target_id)].sendmethod == "mail"
    assert (Decimal(booked["totalintax"]), result.number) == (order.total_inc, result.target_id)


def test_push_invoice_due_invoice_is_left_open(sim, target):
    result = target.push_invoice(invoice(payment_status=PaymentStatus.DUE), SETTINGS)
    assert sim.invoices[int(result.target_id)].open == invoice().total_inc


def test_push_invoice_vat_rounded_per_rate_warns_that_totals_differ(sim, target):
    # given three lines of 0.99 excl. at 21 %: 0.21 VAT each per line, 0.62 over the group
    lines = [line(description=f"Kaart {n}", unit="0.99") for n in range(3)]
    order = invoice(lines=lines)
    # when pushed
    result = target.push_invoice(order, SETTINGS)
    # then Factuursturen's total is what the warning predicted, a cent below the order's
    (warning,) = result.warnings
    booked = sim.invoices[int(result.target_id)].totals
    assert warning.code == "factuursturen_totals_differ" and not missing_params(warning)
    assert (warning.params["booked_inc"], warning.params["total_inc"]) == (booked.total_inc, order.total_inc)
    assert order.total_inc - booked.total_inc == Decimal("0.01")


def test_push_invoice_quantity_that_no_unit_price_fits_goes_as_one_line_total(sim, target):
    # given 30 x 0.3333 excl. (line total 10.00): no 3-decimal unit price gives 10.00 exactly
    odd = line(quantity="30", unit="0.3333")
    result = target.push_invoice(invoice(lines=[odd]), SETTINGS)
    (_, sent) = sim.invoices[int(result.target_id)].lines
    assert (sent.amount, sent.price, sent.description) == (Decimal(1), Decimal("10.000"), "30 x T-shirt")
    assert sim.invoices[int(result.target_id)].totals.total_ex == Decimal("10.00")


def test_push_invoice_correction_line_at_an_unmapped_zero_rate_is_booked(sim, target):
    # given core added a VAT-free rounding correction (core.fitting) and 0 % is not mapped
    settings = FactuursturenSettings(vat_rates={"21": {"category": 2}})
    correction = replace(
        line(LineKind.OTHER, "Afrondingscorrectie", unit="0.01", rate="0"), vat_rate_source="correction"
    )
    # when pushed
    result = target.push_invoice(invoice(lines=[line(), correction]), settings)
    # then it is booked at 0 %, on the category of the real lines, without a warning about categories
    booked = sim.invoices[int(result.target_id)]
    assert [ln.tax_rate for ln in booked.lines] == [Decimal(21), Decimal(21), Decimal(0)]
    assert booked.category == "2" and result.warnings == ()


def test_push_invoice_unmapped_vat_rate_stops_before_any_call(sim, target):
    # given a line at 9 % and a configuration that maps 21 % only
    settings = FactuursturenSettings(vat_rates={"21": {"category": 1}})
    # when pushed
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice(lines=[line(), line(rate="9")]), settings)
    # then it names the rate and the fix, and Factuursturen was not even asked
    error = info.value
    assert error.code == "factuursturen_vat_rate_unmapped" and error.params["rate"] == "9"
    assert "VAT rate 9%" in error.suggestion and "9%" in error.message
    assert not missing_params(error.outcome) and sim.request_count == 0


def test_push_invoice_rates_on_two_categories_take_the_largest_and_warn(sim, target):
    settings = FactuursturenSettings(vat_rates={"21": {"category": 1}, "9": {"category": 2}})
    order = invoice(lines=[line(unit="5.00"), line(rate="9", unit="50.00")])
    result = target.push_invoice(order, settings)
    assert sim.invoices[int(result.target_id)].category == "2"
    (warning,) = result.warnings
    assert warning.code == "factuursturen_categories_mixed" and warning.params["categories"] == "1, 2"
    assert not missing_params(warning)


def test_push_invoice_rates_on_two_categories_stop_when_configured_to(sim, target):
    settings = FactuursturenSettings(
        vat_rates={"21": {"category": 1}, "9": {"category": 2}}, mixed_categories="stop"
    )
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice(lines=[line(), line(rate="9")]), settings)
    assert info.value.code == "factuursturen_categories_mixed_stop" and info.value.suggestion
    assert not missing_params(info.value.outcome) and sim.writes == []


def test_push_invoice_category_the_account_lacks_is_refused(sim, target):
    settings = FactuursturenSettings(vat_rates={"21": {"category": 5}})
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice(), settings)
    assert info.value.code == "factuursturen_category_unknown"
    assert (info.value.params["category"], info.value.params["rate"]) == (5, "21")
    assert not missing_params(info.value.outcome) and sim.writes == []


def test_push_invoice_tax_rate_the_account_lacks_is_refused_by_factuursturen(sim, target):
    # given 21 % mapped to a 19 % rate the account does not have
    settings = FactuursturenSettings(vat_rates={"21": {"tax_rate": "19"}})
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice(), settings)
    # then Factuursturen's own refusal is the reason, its text only as remote
    error = info.value
    assert error.code == "factuursturen_invoice_refused" and error.status_code == 400
    assert "19" in error.params["remote"] and set(error.params) == {"system", "reference", "remote"}
    assert not missing_params(error.outcome) and sim.invoices == {}


def test_push_invoice_icp_sale_without_vat_number_is_refused(sim, target):
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice(regime=VatRegime.EU_B2B, lines=[line(rate="0")]), SETTINGS)
    assert info.value.code == "factuursturen_icp_vat_number_missing" and sim.writes == []


def test_push_invoice_without_lines_is_refused(target):
    with pytest.raises(DataError) as info:
        target.push_invoice(invoice(lines=[]), SETTINGS)
    assert info.value.code == "factuursturen_no_lines"


def test_push_credit_note_books_a_paid_negative_invoice_naming_what_it_credits(sim, target):
    # given a credit note of invoice 20260001
    note = invoice("WA1001-C", lines=[line(quantity="-1")], credits="20260001")
    # when pushed
    result = target.push_credit_note(note, SETTINGS)
    # then it is a negative invoice, settled, that says what it credits and is found by reference
    booked = sim.invoices[int(result.target_id)]
    assert booked.totals.total_inc == Decimal("-12.10") and booked.open == 0
    assert booked.reference[:2] == ["Bestelling WA1001-C", "Creditnota voor factuur 20260001"]
    assert target.find_credit_note("WA1001-C").target_id == result.target_id


# -- finding again and reading back --------------------------------------------------------------------


def test_find_invoice_by_reference_keeps_only_the_exact_one(sim, target):
    # given WA10021 and WA1002 booked (a search for WA1002 finds both)
    longer = target.push_invoice(invoice("WA10021"), SETTINGS)
    ours = target.push_invoice(invoice("WA1002"), SETTINGS)
    # when looked up by reference, and for one never booked
    found = target.find_invoice("WA1002")
    # then only the exact one is ours
    assert found is not None and found.target_id == ours.target_id != longer.target_id
    assert target.find_invoice("WA100") is None


def test_find_invoice_stored_id_of_another_invoice_falls_back_to_the_reference(sim, target):
    other = target.push_invoice(invoice("WA1001"), SETTINGS)
    ours = target.push_invoice(invoice("WA1002"), SETTINGS)
    found = target.find_invoice("WA1002", PushResult(other.target_id))
    assert found is not None and found.target_id == ours.target_id


def test_find_invoice_two_bookings_of_one_reference_ask_for_review(sim, target):
    # given the same order booked twice (by hand, say)
    target.push_invoice(invoice("WA1001"), SETTINGS)
    make_target(sim).push_invoice(invoice("WA1001"), SETTINGS)
    # when looked up
    with pytest.raises(ConnectorError) as info:
        target.find_invoice("WA1001")
    # then a person decides
    assert info.value.code == "factuursturen_reference_ambiguous" and info.value.params["count"] == 2
    assert not missing_params(info.value.outcome)


def test_read_back_invoice_returns_totals_customer_and_reference(sim, target):
    order = invoice(customer=party(company="Jansen BV"))
    result = target.push_invoice(order, SETTINGS)
    booked = target.read_back_invoice(result.target_id)
    assert (booked.total_ex, booked.total_inc) == (order.total_ex, order.total_inc)
    assert (booked.customer_name, booked.customer_email) == ("Jansen BV", "jan@example.nl")
    assert booked.reference_text == "Bestelling WA1001" and booked.currency == "EUR"


def test_read_back_invoice_unknown_or_answered_with_a_list_is_not_found(sim, target):
    result = target.push_invoice(invoice(), SETTINGS)
    with pytest.raises(NotFound):
        target.read_back_invoice("99999999")
    sim.malform_next("list")  # fs_api: "when nothing is found all clients are returned"
    with pytest.raises(NotFound):
        target.read_back_invoice(result.target_id)


# -- settings ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "location"),
    [
        ({}, "target_settings.vat_rates"),
        ({"vat_rates": {"abc": {}}}, "target_settings.vat_rates.abc.[key]"),
        ({"vat_rates": {"21": {}, "21.0": {}}}, "target_settings.vat_rates"),
        ({"vat_rates": {"21": {"category": 0}}}, "target_settings.vat_rates.21.category"),
        ({"vat_rates": {"21": {}}, "missing_email": "default_debtor"}, "target_settings.default_debtor"),
        (
            {"vat_rates": {"21": {}}, "payment_method_debtors": {"ideal": 0}},
            "target_settings.payment_method_debtors.ideal",
        ),
        ({"vat_rates": {"21": {}}, "ledger": "8000"}, "target_settings.ledger"),
    ],
)
def test_validate_settings_problem_is_located(data, location):
    from koppeling.sync.flow_settings import SettingsError, validate

    with pytest.raises(SettingsError) as info:
        validate(FactuursturenSettings, data, where="target_settings")
    assert location in info.value.problems, info.value.problems


def test_validate_settings_normalises_rates_and_defaults_to_the_same_rate():
    settings = FactuursturenSettings(vat_rates={"21.00": {"category": 1}, "9": {"tax_rate": "9.0"}})
    assert sorted(settings.vat_rates) == ["21", "9"]
    assert settings.tax_rate_for(Decimal("21.0")) == Decimal(21) and settings.mapping_for(Decimal(6)) is None
    assert (settings.missing_email, settings.send_method, settings.new_debtor_tax_type) == (
        "stop",
        "mail",
        "extax",
    )


def test_push_invoice_settings_as_stored_json_are_validated(sim, target):
    result = target.push_invoice(invoice(), {"vat_rates": {"21": {"category": 1}}})
    assert result.target_id
    with pytest.raises(ValueError):
        target.push_invoice(invoice(), {"vat_rates": {}})


def test_fit_line_for_intax_debtor_sends_prices_incl_vat(sim, target):
    # given an existing incl.-VAT debtor and a line of 2 x 12.10 incl. (24.20)
    sim.add_client(contact="Jan Jansen", email="jan@example.nl", tax_type="intax")
    order = invoice(lines=[line(quantity="2", unit="10.00")])
    result = target.push_invoice(order, SETTINGS)
    (_, sent) = sim.invoices[int(result.target_id)].lines
    assert (sent.amount, sent.price) == (Decimal(2), Decimal("12.100"))
    assert sim.invoices[int(result.target_id)].totals.total_inc == order.total_inc == Decimal("24.20")


def test_push_invoice_lines_fitted_by_core_for_per_invoice_book_exactly(sim, target):
    # given the 3 x 0.99 order, its lines made exact for the declared method by core (core.fitting)
    from koppeling.core.fitting import fit_lines

    order = invoice(lines=[line(description=f"Kaart {n}", unit="0.99") for n in range(3)])
    paid = order.total_inc
    fitted, _ = fit_lines(order.lines, FactuursturenTarget.totals_method, paid)
    # when pushed
    result = target.push_invoice(replace(order, lines=fitted), SETTINGS)
    # then Factuursturen books exactly what was paid, and there is nothing to warn about
    assert sim.invoices[int(result.target_id)].totals.total_inc == paid
    assert "factuursturen_totals_differ" not in _codes(result)
