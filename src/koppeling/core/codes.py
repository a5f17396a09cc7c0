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

__all__ = ["CheckCode", "RegimeCode", "RuleCode", "WarningCode"]


class RuleCode(StrEnum):
    """Why an order cannot become a correct invoice (:class:`koppeling.core.errors.RuleError`)."""

    LINE_AMOUNT_MISSING = "line_amount_missing"
    VAT_RATE_UNKNOWN = "vat_rate_unknown"  # the amounts fit no known rate
    VAT_RATE_UNKNOWN_CATEGORY = "vat_rate_unknown_category"  # no rate for the line's VAT category
    VAT_RATE_UNKNOWN_OSS = "vat_rate_unknown_oss"  # neither a seller's nor a customer country's rate
    VAT_RATE_MISSING = "vat_rate_missing"  # no rate and a single amount
    VAT_RATE_MISSING_NO_PRODUCT = "vat_rate_missing_no_product"  # shipping/fee/discount, no products
    VAT_RATE_MISSING_MIXED_DISCOUNT = "vat_rate_missing_mixed_discount"  # discount over several rates
    VAT_DATA_MISSING = "vat_data_missing"
    VAT_REGIME_CONFLICT = "vat_regime_conflict"
    TOTALS_MISMATCH = "totals_mismatch"
    SETTINGS_INVALID = "settings_invalid"
    SELLER_COUNTRY_NOT_EU = "seller_country_not_eu"
    ICP_VAT_NUMBER_MISSING = "icp_vat_number_missing"
    ICP_VAT_NUMBER_INVALID = "icp_vat_number_invalid"


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


class CheckCode(StrEnum):
    """What ``check_invoice`` finds that would make a target reject or misbook an invoice."""

    AMOUNT_NOT_CENTS = "check_amount_not_cents"
    NEGATIVE_VAT_RATE = "check_negative_vat_rate"
    VAT_MISMATCH = "check_vat_mismatch"
    ZERO_RATED_LINE_WITH_VAT = "check_zero_rated_line_with_vat"
    TOTAL_DIFFERS = "check_total_differs"
