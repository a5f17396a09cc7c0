"""What each setting is called and means, for people (the settings models name fields for code).

Keys are field names of the settings models (``sync.flow_settings`` and each target connector's
``settings_model``); a name both kinds of model use means the same there. A field without an
entry still gets a form field, labelled from its name — never a missing setting.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

#: field name -> (label, help text)
LABELS: dict[str, tuple[object, object]] = {
    # which orders go
    "statuses": (
        _("Order statuses to book"),
        _("Orders with one of these statuses are booked (e.g. Betaald, Verzonden, Betaald en afgehaald)."),
    ),
    "payment_methods": (_("Payment methods to book"), _("Empty: every payment method.")),
    "countries": (
        _("Delivery countries to book"),
        _("Two-letter codes, e.g. NL, BE, DE. Empty: every country."),
    ),
    "currencies": (
        _("Currencies to book"),
        _("E.g. EUR, USD. Empty: every currency (converted at the ECB rate)."),
    ),
    "from_date": (_("Start date"), _("Orders placed before this date are never booked.")),
    "from_number": (_("Start order number"), _("Orders with a lower number are never booked.")),
    # the invoice
    "order_prefix": (
        _("Order number prefix"),
        _("Put before the order number on the invoice (e.g. WA: WA1001). Unique per shop."),
    ),
    "description_template": (
        _("Invoice description"),
        _("Must contain {number}, which becomes the order number."),
    ),
    "payment_status": (_("Invoices are booked as"), _("Paid, due, or as the order says.")),
    "seller_country": (_("Your country"), _("Where your shop is established (two letters).")),
    "seller_vat_number": (
        _("Your VAT number"),
        _("VIES is asked with it, so every check of a customer's VAT number gets a consultation number."),
    ),
    "oss_registered": (
        _("Registered for OSS"),
        _("Destination VAT for sales to consumers in other EU countries."),
    ),
    "oss_opt_in": (
        _("Destination VAT below the threshold"),
        _("Also below the EUR 10,000 a year for distance sales."),
    ),
    "oss_sales_before": (
        _("Distance sales this year before koppeling"),
        _("Excl. VAT; set it and the EUR 10,000 threshold is watched from the booked orders."),
    ),
    "oss_sales_year": (
        _("Year of that figure"),
        _("The calendar year the figure above is for; empty: every year (then enter it anew each January)."),
    ),
    "category_by_rate": (
        _("VAT category per rate"),
        _("Your rate → the category of the goods (e.g. 9 → books)."),
    ),
    "strict_icp": (
        _("Strict intra-community supplies"),
        # xgettext:no-python-format
        _("Book 0% for EU businesses only with a valid VAT number."),
    ),
    "vies_unavailable": (
        _("When VIES cannot answer"),
        # xgettext:no-python-format
        _("Hold the 0% sale until it can, or book it on the format check."),
    ),
    "fee_allocation": (
        _("Shipping and fees without a rate"),
        _("Split over the goods' rates, or all at the highest."),
    ),
    "voucher_kind": (
        _("Gift vouchers are"),
        _("Multi-purpose (VAT when redeemed) or single-purpose (VAT when sold)."),
    ),
    "margin_scheme": (
        _("Margin-scheme goods"),
        _("Hold for a person, or book under the target's margin VAT type."),
    ),
    "payment_terms_days": (_("Payment term (days)"), _("Empty: none on the invoice.")),
    "payment_means": (
        _("Payment means code"),
        _("For e-invoices (UNTDID 4461), e.g. 58 SEPA transfer, 48 card."),
    ),
    "reconcile_tolerance": (
        _("Tolerance of the read-back"),
        _("A booked total may differ this much (in the currency) before it is reported."),
    ),
    "hold_on": (
        _("Hold orders with these warnings"),
        _("Warning codes that wait for a person instead of being booked (e.g. vat_regime_fallback)."),
    ),
    "overlap_minutes": (
        _("Re-read overlap (minutes)"),
        _("Each fetch re-reads this much before where it stopped."),
    ),
    "sweep_days": (
        _("Nightly check (days)"),
        _("The nightly sweep re-reads what changed in this many days."),
    ),
    "max_attempts": (_("Tries before it waits for a person"), _("Temporary failures of one order.")),
    "period": (_("One document per"), ""),
    "deliver_at": (_("Deliver the day's document at"), _("Local time from which yesterday's batch goes.")),
    # articles, stock, customers
    "update_existing": (_("Update existing records"), _("Off: existing ones are linked, not written.")),
    "protected_fields": (
        _("Fields never overwritten"),
        _("Written when an article is created, never by an update."),
    ),
    "only_active": (_("Only active articles"), ""),
    "filters": (_("Only articles with"), _("Field → the value it must have (e.g. unit → stuk).")),
    "managed": (_("Stock is managed"), _("As the source says, or always / never.")),
    "calculation": (
        _("Stock figure sent"),
        _("On hand, available (minus reservations), or available plus incoming."),
    ),
    # Acumulus
    "accounts": (
        _("Account per payment method"),
        _("Where the payment is booked in the accounting package; * is every other method."),
    ),
    "cost_centers": (_("Cost center per shop"), _("* is every shop not named.")),
    "concept": (_("Book as concept"), _("A person finalises each invoice in the accounting package.")),
    # Factuursturen
    "vat_rates": (
        _("VAT rate → rate and ledger"),
        _(
            "For each VAT rate of your shop: the rate in the accounting package and the category "
            "(ledger account)."
        ),
    ),
    "tax_rate": (_("Rate there"), _("Empty: the same percentage.")),
    "category": (_("Category (ledger)"), _("Empty: the debtor's default.")),
    "mixed_categories": (_("Orders with several categories"), _("Book on the largest one, or stop them.")),
    "payment_method_debtors": (
        _("Debtor per payment method"),
        _("Book these payment methods on one debtor (number)."),
    ),
    "missing_email": (
        _("Orders without an e-mail address"),
        _("Book them on the default debtor, or stop them."),
    ),
    "default_debtor": (_("Default debtor"), ""),
    "new_debtor_tax_type": (_("New debtors read prices"), ""),
    "send_method": (_("Send the invoice"), _("Only book it, or also e-mail it to the customer.")),
    "profile": (_("Invoice layout"), _("Empty: the account's default.")),
    # Asperion
    "payment_codes": (_("Betaalwijze per payment method"), _("* is every other method.")),
    "vat_categories": (_("VAT class per rate"), _("hoog, laag or nul.")),
    # eAccounting
    "codings": (_("Article account coding per VAT rate"), _("* is every other rate.")),
    "units": (_("Unit per source unit"), _("* is every other unit.")),
    # AccountView
    "document_type": (_("Orders become"), _("Sales orders (AccountView invoices them) or sales invoices.")),
    "default_debtor_for": (_("The default debtor takes"), ""),
    "update_debtors": (_("Update debtors found by e-mail"), ""),
    "collective_account": (_("Collective account of new debtors"), ""),
    "sales_journal": (_("Sales journal"), ""),
    "payment_terms": (_("Payment condition per payment term"), ""),
    "payment_method_field": (_("Field holding the payment method"), ""),
    "shipping_methods": (_("Shipping method per delivery method"), ""),
    "shipping_costs": (_("Shipping costs"), ""),
    "discounts": (_("Discounts"), ""),
    "other_costs": (_("Fees and other lines"), ""),
    "products_without_sku": (_("Products without a SKU"), ""),
    "article": (_("Article"), ""),
    "account": (_("Account"), ""),
    "vat_codes": (
        _("VAT code per rate or regime"),
        _("A rate (21) or a regime (eu_b2b, export, …); * is the rest."),
    ),
    "vat_codes_per_country": (_("VAT codes per country"), _("JSON: country → rate → VAT code.")),
    "debtor_vat_codes": (_("VAT code of new debtors per country"), ""),
    "revenue_accounts": (_("Revenue account per country and rate"), _("NL, NL:21, *:9 or *.")),
}

#: (field, value) -> label of a choice
CHOICE_LABELS: dict[tuple[str, str], object] = {
    ("payment_status", "paid"): _("Paid"),
    ("payment_status", "due"): _("Due"),
    ("payment_status", "from_order"): _("As the order says"),
    ("vies_unavailable", "hold"): _("Hold until VIES answers"),
    ("vies_unavailable", "book"): _("Book on the format check"),
    ("fee_allocation", "proportional"): _("Split over the goods' rates"),
    ("fee_allocation", "highest"): _("At the highest rate"),
    ("voucher_kind", "multi_purpose"): _("Multi-purpose"),
    ("voucher_kind", "single_purpose"): _("Single-purpose"),
    ("margin_scheme", "hold"): _("Hold for a person"),
    ("margin_scheme", "target"): _("Book under the margin VAT type"),
    ("managed", "from_source"): _("As the source says"),
    ("managed", "always"): _("Always"),
    ("managed", "never"): _("Never"),
    ("mixed_categories", "largest"): _("Book on the largest"),
    ("mixed_categories", "stop"): _("Stop the order"),
    ("missing_email", "default_debtor"): _("Book on the default debtor"),
    ("missing_email", "stop"): _("Stop the order"),
    ("send_method", "mail"): _("Only book it"),
    ("send_method", "email"): _("E-mail it to the customer"),
    ("new_debtor_tax_type", "extax"): _("Excl. VAT"),
    ("new_debtor_tax_type", "intax"): _("Incl. VAT"),
    ("document_type", "sales_order"): _("Sales orders"),
    ("document_type", "sales_invoice"): _("Sales invoices"),
    ("default_debtor_for", "all"): _("All orders"),
    ("default_debtor_for", "private"): _("Only private persons"),
    ("period", "day"): _("Day"),
}

#: generic settings shown first; the rest sits under "More settings"
MAIN_FIELDS = frozenset(
    {
        "statuses",
        "payment_methods",
        "order_prefix",
        "payment_status",
        "description_template",
        "seller_vat_number",
        "countries",
        "deliver_at",
        "update_existing",
        "protected_fields",
        "only_active",
        "managed",
        "calculation",
    }
)
#: the start point (its own wizard step; in the Configuratie its own group)
START_FIELDS = ("from_date", "from_number")

#: mappings whose keys are the source's payment methods, VAT rates or shops (suggested keys)
KEYED_BY: dict[str, str] = {
    "accounts": "payment_methods",
    "payment_method_debtors": "payment_methods",
    "payment_codes": "payment_methods",
    "payment_terms": "",
    "vat_rates": "vat_rates",
    "vat_categories": "vat_rates",
    "codings": "vat_rates",
    "category_by_rate": "vat_rates",
    "vat_codes": "vat_rates",
}
#: fields (or ``field.column``) whose values come from a picklist of the target or the source
VALUES_FROM: dict[str, str] = {
    "accounts": "accounts",
    "cost_centers": "cost_centers",
    "vat_rates.category": "categories",
    "vat_rates.tax_rate": "taxes",
    "statuses": "statuses",
    "payment_methods": "payment_methods",
}
#: picklists that are complete (a value outside them is a typo), not just suggestions
STRICT_PICKLISTS = frozenset({"accounts", "cost_centers", "categories", "statuses"})


def label_of(name: str) -> tuple[str, str]:
    """``(label, help)`` of a field, its name made readable when it has no entry."""
    entry = LABELS.get(name)
    if entry is None:
        return name.replace("_", " ").capitalize(), ""
    return str(entry[0]), str(entry[1]) if entry[1] else ""


def choice_label(name: str, value: str) -> str:
    label = CHOICE_LABELS.get((name, value))
    return str(label) if label is not None else str(value).replace("_", " ")
