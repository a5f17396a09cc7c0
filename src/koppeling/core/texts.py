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
        RuleCode.SHIPPING_WITHOUT_VAT: (*_LINE, "kind", "rates"),
        RuleCode.VAT_RATE_MISSING_MIXED_DISCOUNT: (*_LINE, "rates"),
        RuleCode.VAT_DATA_MISSING: ("country", "date", "category"),
        RuleCode.VAT_REGIME_CONFLICT: ("rates", "regime", "reason", "country", "seller"),
        RuleCode.TOTALS_MISMATCH: ("lines_total", "order_total", "difference"),
        RuleCode.SETTINGS_INVALID: ("template", "detail"),
        RuleCode.SELLER_COUNTRY_NOT_EU: ("country", "date"),
        RuleCode.ICP_VAT_NUMBER_MISSING: ("country",),
        RuleCode.ICP_VAT_NUMBER_INVALID: ("vat_number", "country", "prefix", "problem"),
        RuleCode.ICP_VIES_CHECK_MISSING: ("vat_number", "country"),
        RuleCode.ICP_VIES_INVALID: ("vat_number", "country", "checked_at", "consultation"),
        RuleCode.ICP_VIES_UNAVAILABLE: ("vat_number", "country", "checked_at", "consultation", "detail"),
        RuleCode.VAT_RATE_ENDED: (*_LINE, "rate", "country", "date", "ended"),
        RuleCode.OSS_NOT_REGISTERED: ("country", "seller", "this_year", "last_year"),
        RuleCode.MIXED_PLACE_OF_SUPPLY: ("natures", "regimes"),
        RuleCode.MARGIN_NOT_SUPPORTED: _LINE,
        RuleCode.EXCHANGE_RATE_MISSING: ("currency", "date"),
        WarningCode.ORDER_DATED_IN_FUTURE: ("date", "today"),
        WarningCode.REGIME_FALLBACK: ("reason", "country", "vat_country", "vat_number"),
        WarningCode.GIFT_CARD_PAYMENT_LEFT_OUT: (*_LINE, "amount"),
        WarningCode.GIFT_CARD_SOLD_AT_ZERO: (*_LINE, "amount"),
        WarningCode.VAT_CHARGED_ON_ZERO_RATED: ("rates", "regime", "reason", "country"),
        WarningCode.RATE_NOT_SELLER_RATE: (*_LINE, "rate", "seller", "date"),
        WarningCode.REDUCED_RATE_CARRIED_OVER: (*_LINE, "seller", "rate", "category", "country", "new_rate"),
        WarningCode.LINE_AMOUNTS_INCONSISTENT: (*_LINE, "rate"),
        WarningCode.TOTAL_DIFFERS_AFTER_RERATING: ("invoice_total", "order_total", "country"),
        WarningCode.VIES_UNAVAILABLE_BOOKED: (
            "vat_number",
            "country",
            "checked_at",
            "consultation",
            "detail",
        ),
        WarningCode.FEE_ALLOCATED: (*_LINE, "rates", "method"),
        WarningCode.CORRECTION_LINE_ADDED: ("amount", "method"),
        WarningCode.CREDIT_AMOUNTS_NEGATED: ("total",),
        WarningCode.CREDIT_ORIGINAL_UNKNOWN: ("credited", "date"),
        WarningCode.CURRENCY_CONVERTED: ("currency", "rate", "date", "source", "amount"),
        WarningCode.VOUCHER_SINGLE_PURPOSE: (*_LINE, "amount"),
        RegimeCode.DOMESTIC: ("country",),
        RegimeCode.DOMESTIC_REVERSE_CHARGE: ("country",),
        RegimeCode.REVERSE_CHARGE_IGNORED: ("country",),
        RegimeCode.EXPORT: ("country", "seller"),
        RegimeCode.ICP: ("country", "vat_number", "checked_at", "consultation"),
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
        RegimeCode.VAT_NUMBER_PLACEHOLDER: ("vat_number", "country", "prefix"),
        RegimeCode.VAT_NUMBER_NOT_VIES_CHECKED: (
            "vat_number",
            "country",
            "seller",
            "vat_country",
            "consumer_reason",
        ),
        RegimeCode.VAT_NUMBER_VIES_INVALID: (
            "vat_number",
            "country",
            "seller",
            "vat_country",
            "consumer_reason",
            "checked_at",
            "consultation",
        ),
        RegimeCode.VAT_NUMBER_VIES_UNAVAILABLE: (
            "vat_number",
            "country",
            "seller",
            "vat_country",
            "consumer_reason",
            "checked_at",
            "consultation",
            "detail",
        ),
        RegimeCode.ICP_VIES_UNAVAILABLE_BOOKED: (
            "vat_number",
            "country",
            "checked_at",
            "consultation",
            "detail",
        ),
        RegimeCode.SERVICE_REVERSE_CHARGE: ("country", "vat_number", "checked_at", "consultation"),
        RegimeCode.SERVICE_WHERE_HELD: ("country", "seller"),
        RegimeCode.SERVICE_CONSUMER_SELLER_COUNTRY: ("country", "seller"),
        RegimeCode.SERVICE_OUTSIDE_EU: ("country", "seller"),
        RegimeCode.SERVICE_OUTSIDE_EU_BUSINESS: ("country", "seller"),
        RegimeCode.EXPORT_SPECIAL_TERRITORY: ("country", "seller", "territory"),
        RegimeCode.DOMESTIC_BELOW_THRESHOLD: ("country", "seller", "this_year", "last_year"),
        RegimeCode.MARGIN_SCHEME: ("country", "seller"),
        CheckCode.AMOUNT_NOT_CENTS: (*_CHECK_LINE, "name", "amount"),
        CheckCode.NEGATIVE_VAT_RATE: (*_CHECK_LINE, "rate"),
        CheckCode.VAT_MISMATCH: (*_CHECK_LINE, "vat_amount", "rate", "total_ex", "expected"),
        CheckCode.ZERO_RATED_LINE_WITH_VAT: (*_CHECK_LINE, "regime", "rate"),
        CheckCode.TOTAL_DIFFERS: ("total", "expected"),
        CheckCode.TARGET_TOTAL_DIFFERS: ("total", "expected", "method"),
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
        RuleCode.SHIPPING_WITHOUT_VAT: (
            gettext_noop(
                "line %(line)s (%(description)s): no VAT on the %(kind)s line, while the goods are at "
                "%(rates)s; shipping and payment costs follow the VAT of the goods they go with"
            ),
            gettext_noop(
                "set a VAT rate for shipping (and payment costs) in the shop's settings, then press Verwerk"
            ),
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
                "line %(line)s (%(description)s): unknown VAT rate: %(rate)s%% is not a %(seller)s VAT rate "
                "on %(date)s"
            ),
        ),
        WarningCode.REDUCED_RATE_CARRIED_OVER: (
            gettext_noop(
                "line %(line)s (%(description)s): %(seller)s rate %(rate)s%% read as category "
                "'%(category)s' (the default for this rate), so %(country)s's rate %(new_rate)s%% applies; "
                "set the product's VAT category if that is not right"
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
            gettext_noop(
                "EU business in %(country)s with VAT number %(vat_number)s, valid in VIES (consultation "
                "%(consultation)s, %(checked_at)s): intra-community supply at 0%%"
            ),
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

_VIES = gettext_noop(
    "koppeling checks the number with VIES before booking a 0%% sale; retry once the check is done, or "
    "correct the number in the shop"
)

register(
    {
        RuleCode.ICP_VIES_CHECK_MISSING: (
            gettext_noop(
                "the shop charged 0%% VAT to a business in %(country)s, but VAT number '%(vat_number)s' has "
                "not been confirmed by VIES: an intra-community supply needs a valid VAT number"
            ),
            _VIES,
        ),
        RuleCode.ICP_VIES_INVALID: (
            gettext_noop(
                "the shop charged 0%% VAT to a business in %(country)s, but VIES says VAT number "
                "'%(vat_number)s' is not valid (checked %(checked_at)s)"
            ),
            gettext_noop(
                "ask the customer for a valid VAT number, or credit the order and invoice it with VAT"
            ),
        ),
        RuleCode.ICP_VIES_UNAVAILABLE: (
            gettext_noop(
                "VIES could not confirm VAT number '%(vat_number)s' (%(country)s) right now (%(detail)s); "
                "the 0%% sale is held until it can"
            ),
            gettext_noop("koppeling tries again later; or set the link to book ICP sales when VIES is down"),
        ),
        RuleCode.VAT_RATE_ENDED: (
            gettext_noop(
                "line %(line)s (%(description)s): %(rate)s%% was a %(country)s VAT rate until %(ended)s, "
                "not on %(date)s"
            ),
            gettext_noop("update the VAT rate of this product in the shop"),
        ),
        RuleCode.OSS_NOT_REGISTERED: (
            gettext_noop(
                "EU distance sales passed the EUR 10,000 threshold (this year €%(this_year)s, last year "
                "€%(last_year)s): this sale to %(country)s is taxed in %(country)s, but the link says the "
                "seller is not registered for OSS"
            ),
            gettext_noop(
                "register for OSS (or in %(country)s) and tick 'OSS registered' in the link settings"
            ),
        ),
        RuleCode.MIXED_PLACE_OF_SUPPLY: (
            gettext_noop(
                "the order mixes supplies taxed in different places (%(natures)s: %(regimes)s); one invoice "
                "cannot carry both"
            ),
            gettext_noop("split the order into one for the goods and one for the services"),
        ),
        RuleCode.MARGIN_NOT_SUPPORTED: (
            gettext_noop(
                "line %(line)s (%(description)s) is sold under the margin scheme, which this accounting "
                "package cannot book as such"
            ),
            gettext_noop("book this order by hand under the margin scheme"),
        ),
        RuleCode.EXCHANGE_RATE_MISSING: (
            gettext_noop("the order is in %(currency)s and no exchange rate for %(date)s is known"),
            gettext_noop("koppeling fetches the ECB rates daily; retry once they are there"),
        ),
    }
)

register(
    {
        WarningCode.VIES_UNAVAILABLE_BOOKED: (
            gettext_noop(
                "VIES did not answer (%(detail)s); the sale to %(country)s was booked at 0%% on the format "
                "check of VAT number '%(vat_number)s' as the link allows. Check the number again and keep "
                "the proof."
            ),
        ),
        WarningCode.FEE_ALLOCATED: (
            gettext_noop(
                "line %(line)s (%(description)s) had no VAT rate: split over the goods' rates "
                "(%(rates)s, %(method)s)."
            ),
        ),
        WarningCode.CORRECTION_LINE_ADDED: (
            gettext_noop(
                "a rounding correction of €%(amount)s was added so the accounting package's own VAT "
                "computation (%(method)s) books exactly what the customer paid."
            ),
        ),
        WarningCode.CREDIT_AMOUNTS_NEGATED: (
            gettext_noop(
                "the credit order gave positive amounts (€%(total)s); booked as a credit (negative)."
            ),
        ),
        WarningCode.CREDIT_ORIGINAL_UNKNOWN: (
            gettext_noop(
                "the invoice this credit note credits (%(credited)s) is not known here; VAT rates of "
                "%(date)s were used. Check them if the rates changed since the sale."
            ),
        ),
        WarningCode.CURRENCY_CONVERTED: (
            gettext_noop(
                "the order in %(currency)s (%(amount)s) was converted at %(rate)s %(currency)s per euro, "
                "the %(source)s of %(date)s, stated on the invoice."
            ),
        ),
        WarningCode.VOUCHER_SINGLE_PURPOSE: (
            gettext_noop(
                "line %(line)s (%(description)s): single-purpose voucher of €%(amount)s; its VAT is due "
                "when it is sold, not again when it is redeemed."
            ),
        ),
    }
)

register(
    {
        RegimeCode.VAT_NUMBER_PLACEHOLDER: (
            gettext_noop("VAT number '%(vat_number)s' is a placeholder, not a real %(country)s number"),
        ),
        RegimeCode.VAT_NUMBER_NOT_VIES_CHECKED: (
            gettext_noop(
                "business in %(country)s whose VAT number '%(vat_number)s' is not confirmed by VIES, treated "
                "as a consumer: %(vat_country)s VAT"
            ),
        ),
        RegimeCode.VAT_NUMBER_VIES_INVALID: (
            gettext_noop(
                "VIES says VAT number '%(vat_number)s' is not valid (checked %(checked_at)s); treated as a "
                "consumer: %(vat_country)s VAT"
            ),
        ),
        RegimeCode.VAT_NUMBER_VIES_UNAVAILABLE: (
            gettext_noop(
                "VIES could not check VAT number '%(vat_number)s' (%(detail)s); treated as a consumer: "
                "%(vat_country)s VAT"
            ),
        ),
        RegimeCode.ICP_VIES_UNAVAILABLE_BOOKED: (
            gettext_noop(
                "EU business in %(country)s, VIES unavailable (%(detail)s): intra-community supply at 0%% "
                "on the format check, as the link allows"
            ),
        ),
        RegimeCode.SERVICE_REVERSE_CHARGE: (
            gettext_noop(
                "service to an EU business in %(country)s with VAT number %(vat_number)s "
                "(VIES %(consultation)s): VAT reverse-charged to the customer"
            ),
        ),
        RegimeCode.SERVICE_WHERE_HELD: (
            gettext_noop("event or workshop held in %(seller)s: %(seller)s VAT, wherever the customer lives"),
        ),
        RegimeCode.SERVICE_CONSUMER_SELLER_COUNTRY: (
            gettext_noop("service to a consumer in %(country)s: taxed where the seller is (%(seller)s VAT)"),
        ),
        RegimeCode.SERVICE_OUTSIDE_EU: (
            gettext_noop("electronic service to a consumer in %(country)s: outside the scope of EU VAT"),
        ),
        RegimeCode.SERVICE_OUTSIDE_EU_BUSINESS: (
            gettext_noop("service to a business in %(country)s: outside the scope of EU VAT"),
        ),
        RegimeCode.EXPORT_SPECIAL_TERRITORY: (
            gettext_noop("delivered to %(territory)s, outside the EU VAT area: export at 0%%"),
        ),
        RegimeCode.DOMESTIC_BELOW_THRESHOLD: (
            gettext_noop(
                "EU consumer in %(country)s, distance sales below the EUR 10,000 threshold (this year "
                "€%(this_year)s, last year €%(last_year)s): %(seller)s VAT"
            ),
        ),
        RegimeCode.MARGIN_SCHEME: (
            gettext_noop("margin-scheme goods: %(seller)s VAT on the margin, not shown on the invoice"),
        ),
    }
)

register(
    {
        CheckCode.TARGET_TOTAL_DIFFERS: (
            gettext_noop(
                "the accounting package's own computation (%(method)s) books %(total)s, not the %(expected)s "
                "the customer paid"
            ),
            _CHECK,
        ),
    }
)
