"""The outcome codes of the pure domain: what a rule, a warning or a check says, as a stable code.

Four enums, one per kind of outcome (``koppeling.core.messages`` explains the rule: a code plus
parameters, text only when shown). Their English texts are registered in
:mod:`koppeling.core.texts`, which ``koppeling.core`` imports, so every code here always has a text.
This module imports nothing, so anything may import it without cost or cycles; the enums are
re-exported where they are raised (``errors.RuleCode``, ``regime.RegimeCode``,
``invoicing.WarningCode`` / ``invoicing.CheckCode``).

Values are stable: they are stored with outcomes and dashboards filter on them. Never rename one;
add a new code instead.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["RETIRED", "CheckCode", "RegimeCode", "RuleCode", "WarningCode"]


class RuleCode(StrEnum):
    """Why an order cannot become a correct invoice (:class:`koppeling.core.errors.RuleError`)."""

    LINE_AMOUNT_MISSING = "line_amount_missing"
    VAT_RATE_UNKNOWN = "vat_rate_unknown"  # the amounts fit no known rate
    VAT_RATE_UNKNOWN_CATEGORY = "vat_rate_unknown_category"  # no rate for the line's VAT category
    VAT_RATE_UNKNOWN_OSS = "vat_rate_unknown_oss"  # neither a seller's nor a customer country's rate
    VAT_RATE_MISSING = "vat_rate_missing"  # no rate and a single amount
    VAT_RATE_MISSING_NO_PRODUCT = "vat_rate_missing_no_product"  # shipping/fee/discount, no products
    SHIPPING_WITHOUT_VAT = "shipping_without_vat"  # shipping/fee at 0 % beside taxed goods
    VAT_RATE_MISSING_MIXED_DISCOUNT = "vat_rate_missing_mixed_discount"  # discount over several rates
    VAT_DATA_MISSING = "vat_data_missing"
    VAT_REGIME_CONFLICT = "vat_regime_conflict"
    TOTALS_MISMATCH = "totals_mismatch"
    SETTINGS_INVALID = "settings_invalid"
    SELLER_COUNTRY_NOT_EU = "seller_country_not_eu"
    ICP_VAT_NUMBER_MISSING = "icp_vat_number_missing"
    ICP_VAT_NUMBER_INVALID = "icp_vat_number_invalid"
    ICP_VIES_CHECK_MISSING = "icp_vies_check_missing"  # 0 % charged to a business, no VIES proof
    ICP_VIES_INVALID = "icp_vies_invalid"  # 0 % charged, VIES says the number is not valid
    ICP_VIES_UNAVAILABLE = "icp_vies_unavailable"  # 0 % charged, VIES did not answer (held)
    VAT_RATE_ENDED = "vat_rate_ended"  # the rate was a rate of the country, but it ended before the date
    OSS_NOT_REGISTERED = "oss_not_registered"  # past the threshold, destination VAT due, no OSS
    MIXED_PLACE_OF_SUPPLY = "mixed_place_of_supply"  # lines taxed in different places: split the order
    MARGIN_NOT_SUPPORTED = "margin_not_supported"  # margin-scheme lines, the target has no margin type
    EXCHANGE_RATE_MISSING = "exchange_rate_missing"  # a foreign currency and no rate to state / convert


class WarningCode(StrEnum):
    """What ``order_to_invoice`` did that a person may want to know (``Invoice.warnings``)."""

    ORDER_DATED_IN_FUTURE = "order_dated_in_future"
    REGIME_FALLBACK = "vat_regime_fallback"  # an EU business without a valid number: a consumer sale
    GIFT_CARD_PAYMENT_LEFT_OUT = "gift_card_payment_left_out"
    GIFT_CARD_SOLD_AT_ZERO = "gift_card_sold_at_zero"
    VAT_CHARGED_ON_ZERO_RATED = "vat_charged_on_zero_rated"
    RATE_NOT_SELLER_RATE = "vat_rate_not_seller_rate"
    REDUCED_RATE_CARRIED_OVER = "oss_reduced_rate_carried_over"
    LINE_AMOUNTS_INCONSISTENT = "line_amounts_inconsistent"
    TOTAL_DIFFERS_AFTER_RERATING = "invoice_total_differs_after_rerating"
    VIES_UNAVAILABLE_BOOKED = "vies_unavailable_booked"  # ICP booked on the format check (setting)
    FEE_ALLOCATED = "fee_allocated_over_rates"  # shipping / fee / discount split over the goods' rates
    CORRECTION_LINE_ADDED = "correction_line_added"  # the target's rounding needed a correction line
    CREDIT_AMOUNTS_NEGATED = "credit_amounts_negated"  # a credit order with positive amounts
    CREDIT_ORIGINAL_UNKNOWN = "credit_original_unknown"  # rates taken on the credit's own date
    CURRENCY_CONVERTED = "currency_converted"  # converted to euros at the ECB rate stated
    VOUCHER_SINGLE_PURPOSE = "voucher_single_purpose"  # SPV sold (taxed) or redeemed (VAT reduced)


class RegimeCode(StrEnum):
    """Why a sale falls under its VAT regime (``RegimeDecision.reason``), and VAT-number checks."""

    DOMESTIC = "regime_domestic"
    DOMESTIC_REVERSE_CHARGE = "regime_domestic_reverse_charge"
    REVERSE_CHARGE_IGNORED = "regime_reverse_charge_ignored"
    EXPORT = "regime_export"
    ICP = "regime_icp"
    OSS_CONSUMER = "regime_oss_consumer"
    DOMESTIC_BEFORE_OSS = "regime_domestic_before_oss"
    DOMESTIC_NOT_OSS = "regime_domestic_not_oss_registered"
    BUSINESS_WITHOUT_VAT_NUMBER = "regime_business_without_vat_number"  # treated as a consumer
    INVALID_VAT_NUMBER = "regime_invalid_vat_number"  # treated as a consumer
    CHARGED_DOMESTIC = "regime_charged_domestic"  # the shop's VAT followed: domestic
    CHARGED_OSS = "regime_charged_oss"  # the shop's VAT followed: OSS
    # what ``check_vat_number`` found wrong with a number
    VAT_NUMBER_MISSING = "vat_number_missing"
    VAT_NUMBER_COUNTRY_NOT_EU = "vat_number_country_not_eu"
    VAT_NUMBER_WRONG_PREFIX = "vat_number_wrong_prefix"
    VAT_NUMBER_CHECK_FAILED = "vat_number_check_failed"
    VAT_NUMBER_PLACEHOLDER = "vat_number_placeholder"  # DE000000000 and the like
    VAT_NUMBER_NOT_VIES_CHECKED = "regime_vat_number_not_vies_checked"  # treated as a consumer
    VAT_NUMBER_VIES_INVALID = "regime_vat_number_vies_invalid"  # treated as a consumer
    VAT_NUMBER_VIES_UNAVAILABLE = "regime_vat_number_vies_unavailable"  # treated as a consumer
    ICP_VIES_UNAVAILABLE_BOOKED = "regime_icp_vies_unavailable_booked"
    SERVICE_REVERSE_CHARGE = "regime_service_reverse_charge"  # Art. 44/196: the business customer pays
    SERVICE_WHERE_HELD = "regime_service_where_held"  # Art. 53/54: events and workshops
    SERVICE_CONSUMER_SELLER_COUNTRY = "regime_service_consumer_seller_country"  # Art. 45
    SERVICE_OUTSIDE_EU = "regime_service_outside_eu"  # electronic services to a non-EU consumer
    SERVICE_OUTSIDE_EU_BUSINESS = "regime_service_outside_eu_business"  # Art. 44: outside the scope
    EXPORT_SPECIAL_TERRITORY = "regime_export_special_territory"  # e.g. the Canary Islands
    DOMESTIC_BELOW_THRESHOLD = "regime_domestic_below_oss_threshold"
    MARGIN_SCHEME = "regime_margin_scheme"


class CheckCode(StrEnum):
    """What ``check_invoice`` finds that would make a target reject or misbook an invoice."""

    AMOUNT_NOT_CENTS = "check_amount_not_cents"
    NEGATIVE_VAT_RATE = "check_negative_vat_rate"
    VAT_MISMATCH = "check_vat_mismatch"
    ZERO_RATED_LINE_WITH_VAT = "check_zero_rated_line_with_vat"
    TOTAL_DIFFERS = "check_total_differs"
    TARGET_TOTAL_DIFFERS = "check_target_total_differs"  # the target's own computation books another total


#: codes the rules no longer produce; kept (with their texts) because stored outcomes carry them
RETIRED = frozenset(
    {
        RuleCode.VAT_RATE_MISSING_MIXED_DISCOUNT,  # a discount over several rates is now split
        WarningCode.TOTAL_DIFFERS_AFTER_RERATING,  # re-rated net prices now keep the amount paid
    }
)
