"""English source texts of the domain's outcome codes (``koppeling.core.codes``).

Imported by ``koppeling.core`` itself, so the texts are registered whenever any part of the domain
is. Each text names its parameters as ``%(name)s`` (a literal percent sign is ``%%``); the
parameters each code is produced with are listed in :data:`PARAMS`, which the tests check against
the placeholders and against the outcomes the rules really produce. Rule errors also say what the
shop owner can do (the suggestion); warnings and regime reasons are information only.

The wording is for shop owners: short, concrete, naming the line, the amounts and the rates.
"""

from __future__ import annotations

from types import MappingProxyType

from koppeling.core.codes import CheckCode, RegimeCode, RuleCode, WarningCode
from koppeling.core.messages import gettext_noop, register

__all__ = ["PARAMS"]

_LINE = ("line", "description")  # 1-based line number and its description (or kind)
_CHECK_LINE = ("index", "description")  # 0-based position in Invoice.lines and its description

#: the parameters each code is produced with (a placeholder must be one of them)
PARAMS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        RuleCode.LINE_AMOUNT_MISSING: _LINE,
        RuleCode.VAT_RATE_UNKNOWN: (*_LINE, "ex", "inc", "implied", "country", "date", "known"),
        RuleCode.VAT_RATE_UNKNOWN_CATEGORY: (*_LINE, "category", "country", "date"),
        RuleCode.VAT_RATE_UNKNOWN_OSS: (*_LINE, "rate", "seller", "country", "date"),
        RuleCode.VAT_RATE_MISSING: _LINE,
        RuleCode.VAT_RATE_MISSING_NO_PRODUCT: (*_LINE, "kind"),
        RuleCode.VAT_RATE_MISSING_MIXED_DISCOUNT: (*_LINE, "rates"),
        RuleCode.VAT_DATA_MISSING: ("country", "date", "category"),
        RuleCode.VAT_REGIME_CONFLICT: ("rates", "regime", "reason", "country", "seller"),
        RuleCode.TOTALS_MISMATCH: ("lines_total", "order_total", "difference"),
        RuleCode.SETTINGS_INVALID: ("template", "detail"),
        RuleCode.SELLER_COUNTRY_NOT_EU: ("country", "date"),
        RuleCode.ICP_VAT_NUMBER_MISSING: ("country",),
        RuleCode.ICP_VAT_NUMBER_INVALID: ("vat_number", "country", "prefix", "problem"),
        WarningCode.ORDER_DATED_IN_FUTURE: ("date", "today"),
        WarningCode.REGIME_FALLBACK: ("reason", "country", "vat_country", "vat_number"),
        WarningCode.GIFT_CARD_PAYMENT_LEFT_OUT: (*_LINE, "amount"),
        WarningCode.GIFT_CARD_SOLD_AT_ZERO: (*_LINE, "amount"),
        WarningCode.VAT_CHARGED_ON_ZERO_RATED: ("rates", "regime", "reason", "country"),
        WarningCode.RATE_NOT_SELLER_RATE: (*_LINE, "rate", "seller", "date"),
        WarningCode.REDUCED_RATE_CARRIED_OVER: (*_LINE, "seller", "rate", "country", "new_rate"),
        WarningCode.LINE_AMOUNTS_INCONSISTENT: (*_LINE, "rate"),
        WarningCode.TOTAL_DIFFERS_AFTER_RERATING: ("invoice_total", "order_total", "country"),
        RegimeCode.DOMESTIC: ("country",),
        RegimeCode.DOMESTIC_REVERSE_CHARGE: ("country",),
        RegimeCode.REVERSE_CHARGE_IGNORED: ("country",),
        RegimeCode.EXPORT: ("country", "seller"),
        RegimeCode.ICP: ("country", "vat_number"),
        RegimeCode.OSS_CONSUMER: ("country",),
        RegimeCode.DOMESTIC_BEFORE_OSS: ("country", "seller"),
        RegimeCode.DOMESTIC_NOT_OSS: ("country", "seller"),
        RegimeCode.BUSINESS_WITHOUT_VAT_NUMBER: ("country", "seller", "vat_country", "consumer_reason"),
        RegimeCode.INVALID_VAT_NUMBER: (
            "country",
            "seller",
            "vat_country",
            "consumer_reason",
            "vat_number",
            "prefix",
            "problem",
        ),
        RegimeCode.CHARGED_DOMESTIC: ("seller", "rates", "country"),
        RegimeCode.CHARGED_OSS: ("country", "rates", "seller"),
        RegimeCode.VAT_NUMBER_MISSING: ("country",),
        RegimeCode.VAT_NUMBER_COUNTRY_NOT_EU: ("country",),
        RegimeCode.VAT_NUMBER_WRONG_PREFIX: ("vat_number", "country", "prefix"),
        RegimeCode.VAT_NUMBER_CHECK_FAILED: ("vat_number", "country", "prefix"),
        CheckCode.AMOUNT_NOT_CENTS: (*_CHECK_LINE, "name", "amount"),
        CheckCode.NEGATIVE_VAT_RATE: (*_CHECK_LINE, "rate"),
        CheckCode.VAT_MISMATCH: (*_CHECK_LINE, "vat_amount", "rate", "total_ex", "expected"),
        CheckCode.ZERO_RATED_LINE_WITH_VAT: (*_CHECK_LINE, "regime", "rate"),
        CheckCode.TOTAL_DIFFERS: ("total", "expected"),
    }
)

_SET_RATE = gettext_noop("set the VAT rate of this product in the shop")
_BY_HAND = gettext_noop("this date or country is outside koppeling's VAT data; book this order by hand")
_CHECK = gettext_noop(
    "correct the invoice before it is booked; if koppeling made it, report this with the order number"
)

register(
    {
        RuleCode.LINE_AMOUNT_MISSING: (
            gettext_noop(
                "line %(line)s (%(description)s) has no price (neither excluding nor including VAT)"
            ),
            gettext_noop("check the line in the shop; a line needs a price, even if it is 0.00"),
        ),
        RuleCode.VAT_RATE_UNKNOWN: (
            gettext_noop(
                "line %(line)s (%(description)s): amounts €%(ex)s excl. / €%(inc)s incl. VAT imply "
                "%(implied)s%% VAT, which is no %(country)s VAT rate on %(date)s (known: %(known)s)"
            ),
            gettext_noop("set the VAT rate of this product in the shop, or correct its price"),
        ),
        RuleCode.VAT_RATE_UNKNOWN_CATEGORY: (
            gettext_noop(
                "line %(line)s (%(description)s): no '%(category)s' rate recorded for %(country)s on %(date)s"
            ),
            gettext_noop("give the VAT rate of this product in the shop"),
        ),
        RuleCode.VAT_RATE_UNKNOWN_OSS: (
            gettext_noop(
                "line %(line)s (%(description)s): %(rate)s%% is neither a %(seller)s nor a %(country)s "
                "VAT rate on %(date)s"
            ),
            _SET_RATE,
        ),
        RuleCode.VAT_RATE_MISSING: (
            gettext_noop(
                "line %(line)s (%(description)s) has no VAT rate and only one amount, so the rate cannot "
                "be derived"
            ),
            gettext_noop(
                "set the VAT rate of this product in the shop (or give prices both excluding and "
                "including VAT)"
            ),
        ),
        RuleCode.VAT_RATE_MISSING_NO_PRODUCT: (
            gettext_noop(
                "line %(line)s (%(description)s) has no VAT rate and there is no product line to take it from"
            ),
            gettext_noop("set the VAT rate for %(kind)s in the shop"),
        ),
        RuleCode.VAT_RATE_MISSING_MIXED_DISCOUNT: (
            gettext_noop(
                "line %(line)s (%(description)s): a discount without VAT rate on an order with products "
                "at %(rates)s cannot be split safely"
            ),
            gettext_noop("let the shop give the discount per product or with its VAT rate"),
        ),
        RuleCode.VAT_DATA_MISSING: (
            gettext_noop("koppeling has no VAT data for %(country)s on %(date)s"),
            _BY_HAND,
        ),
        RuleCode.VAT_REGIME_CONFLICT: (
            gettext_noop(
                "the shop charged VAT (%(rates)s) on a sale that is %(regime)s (customer in %(country)s), "
                "at rates that are not %(seller)s rates"
            ),
            gettext_noop(
                "correct the VAT on the order in the shop, or check the customer's country and VAT number"
            ),
        ),
        RuleCode.TOTALS_MISMATCH: (
            gettext_noop(
                "the order lines add up to €%(lines_total)s incl. VAT, but the order total is "
                "€%(order_total)s (difference €%(difference)s)"
            ),
            gettext_noop(
                "check the order in the shop for a missing line (shipping, fee, discount or gift card) "
                "or a changed price, then retry"
            ),
        ),
        RuleCode.SETTINGS_INVALID: (
            gettext_noop("the invoice description template '%(template)s' cannot be filled: %(detail)s"),
            gettext_noop("use {number}, {order_number}, {shop} or {date} in the description template"),
        ),
        RuleCode.SELLER_COUNTRY_NOT_EU: (
            gettext_noop("the shop's country %(country)s is not in the EU VAT area on %(date)s"),
            gettext_noop("set the shop's country (seller_country) in the link settings"),
        ),
        RuleCode.ICP_VAT_NUMBER_MISSING: (
            gettext_noop(
                "business customer in %(country)s without a VAT number: an intra-community supply at 0%% "
                "needs one"
            ),
            gettext_noop(
                "add the customer's VAT number in the shop, or turn off strict ICP checks to charge VAT "
                "as for a consumer"
            ),
        ),
        RuleCode.ICP_VAT_NUMBER_INVALID: (
            gettext_noop(
                "VAT number '%(vat_number)s' is not a valid %(country)s VAT number: an intra-community "
                "supply at 0%% needs a valid VAT number"
            ),
            gettext_noop(
                "correct the customer's VAT number in the shop (prefix %(prefix)s and digits), or turn off "
                "strict ICP checks to charge VAT as for a consumer"
            ),
        ),
    }
)

register(
    {
        WarningCode.ORDER_DATED_IN_FUTURE: (
            gettext_noop("The order is dated %(date)s, after today (%(today)s)."),
        ),
        WarningCode.REGIME_FALLBACK: (
            gettext_noop(
                "VAT regime: business customer in %(country)s without a valid VAT number, treated as a "
                "consumer (%(vat_country)s VAT)."
            ),
        ),
        WarningCode.GIFT_CARD_PAYMENT_LEFT_OUT: (
            gettext_noop(
                "line %(line)s (%(description)s): gift-card payment of €%(amount)s left out of the invoice "
                "(a payment, not revenue)."
            ),
        ),
        WarningCode.GIFT_CARD_SOLD_AT_ZERO: (
            gettext_noop(
                "line %(line)s (%(description)s): gift card sold, booked at 0%% as a multi-purpose voucher; "
                "a single-purpose voucher carries VAT when sold."
            ),
        ),
        WarningCode.VAT_CHARGED_ON_ZERO_RATED: (
            gettext_noop(
                "The shop charged VAT (%(rates)s) on a sale that could be 0%% (%(regime)s, customer in "
                "%(country)s); booked with the VAT the customer paid. Credit and re-invoice at 0%% if the "
                "sale qualifies."
            ),
        ),
        WarningCode.RATE_NOT_SELLER_RATE: (
            gettext_noop(
                "line %(line)s (%(description)s): %(rate)s%% is not a %(seller)s VAT rate on %(date)s"
            ),
        ),
        WarningCode.REDUCED_RATE_CARRIED_OVER: (
            gettext_noop(
                "line %(line)s (%(description)s): %(seller)s reduced rate %(rate)s%% carried over as "
                "%(country)s's reduced rate %(new_rate)s%%; set the product's VAT category if it is not "
                "food or books"
            ),
        ),
        WarningCode.LINE_AMOUNTS_INCONSISTENT: (
            gettext_noop(
                "line %(line)s (%(description)s): the shop's amounts excl. and incl. VAT do not match "
                "%(rate)s%%; the amount excl. VAT was recomputed from the price incl. VAT."
            ),
        ),
        WarningCode.TOTAL_DIFFERS_AFTER_RERATING: (
            gettext_noop(
                "The invoice total €%(invoice_total)s differs from the order's €%(order_total)s: prices "
                "excl. VAT were kept and VAT recomputed at %(country)s rates."
            ),
        ),
    }
)

register(
    {
        RegimeCode.DOMESTIC: (gettext_noop("customer in the seller's country"),),
        RegimeCode.DOMESTIC_REVERSE_CHARGE: (
            gettext_noop("domestic business sale marked reverse charge by the shop"),
        ),
        RegimeCode.REVERSE_CHARGE_IGNORED: (
            gettext_noop(
                "customer in the seller's country; the shop's reverse-charge mark was ignored because the "
                "customer is not a business"
            ),
        ),
        RegimeCode.EXPORT: (gettext_noop("customer outside the EU VAT area (%(country)s): export at 0%%"),),
        RegimeCode.ICP: (
            gettext_noop("EU business in %(country)s with valid VAT number: intra-community supply at 0%%"),
        ),
        RegimeCode.OSS_CONSUMER: (
            gettext_noop("EU consumer in %(country)s: OSS distance sale at %(country)s rates"),
        ),
        RegimeCode.DOMESTIC_BEFORE_OSS: (
            gettext_noop("EU consumer in %(country)s, before OSS (2021-07-01): %(seller)s VAT"),
        ),
        RegimeCode.DOMESTIC_NOT_OSS: (
            gettext_noop("EU consumer in %(country)s, seller not registered for OSS: %(seller)s VAT"),
        ),
        RegimeCode.BUSINESS_WITHOUT_VAT_NUMBER: (
            gettext_noop(
                "business in %(country)s without VAT number, treated as a consumer: %(vat_country)s VAT"
            ),
        ),
        RegimeCode.INVALID_VAT_NUMBER: (
            gettext_noop(
                "invalid VAT number '%(vat_number)s' for %(country)s, treated as a consumer: "
                "%(vat_country)s VAT"
            ),
        ),
        RegimeCode.CHARGED_DOMESTIC: (
            gettext_noop("the shop charged %(seller)s VAT (%(rates)s); booked as charged"),
        ),
        RegimeCode.CHARGED_OSS: (
            gettext_noop("the shop charged %(country)s VAT (%(rates)s); booked as an OSS sale as charged"),
        ),
        RegimeCode.VAT_NUMBER_MISSING: (gettext_noop("no VAT number"),),
        RegimeCode.VAT_NUMBER_COUNTRY_NOT_EU: (gettext_noop("%(country)s is not an EU country"),),
        RegimeCode.VAT_NUMBER_WRONG_PREFIX: (
            gettext_noop(
                "VAT number '%(vat_number)s' is not a %(country)s number (expected prefix %(prefix)s)"
            ),
        ),
        RegimeCode.VAT_NUMBER_CHECK_FAILED: (
            gettext_noop("VAT number '%(vat_number)s' fails the %(country)s format/check-digit test"),
        ),
    }
)

register(
    {
        CheckCode.AMOUNT_NOT_CENTS: (
            gettext_noop(
                "lines[%(index)s] (%(description)s): %(name)s %(amount)s is not a whole number of cents"
            ),
            _CHECK,
        ),
        CheckCode.NEGATIVE_VAT_RATE: (
            gettext_noop("lines[%(index)s] (%(description)s): negative VAT rate %(rate)s"),
            _CHECK,
        ),
        CheckCode.VAT_MISMATCH: (
            gettext_noop(
                "lines[%(index)s] (%(description)s): VAT %(vat_amount)s does not match %(rate)s%% of "
                "%(total_ex)s (expected %(expected)s ± 0.01)"
            ),
            _CHECK,
        ),
        CheckCode.ZERO_RATED_LINE_WITH_VAT: (
            gettext_noop("lines[%(index)s] (%(description)s): %(regime)s invoice with a %(rate)s%% line"),
            _CHECK,
        ),
        CheckCode.TOTAL_DIFFERS: (
            gettext_noop("total incl. VAT %(total)s differs from the source's %(expected)s"),
            _CHECK,
        ),
    }
)
