"""Which VAT regime a sale falls under, and whose rates apply.

The regime decides the rates (domestic, the customer's country under OSS, or 0 %) and what the
accounting package must be told (ICP, export, reverse charge). The rules, in order:

1. The shop said ``reverse_charged_vat`` and the customer is a domestic business → REVERSE_CHARGE.
2. Customer in the seller's own country → DOMESTIC.
3. Customer outside the EU VAT area on the sale date → EXPORT (0 %).
4. EU business with a valid VAT number of its own country → EU_B2B (ICP, 0 %). Without one, the sale
   is a consumer sale (step 5) — or, with ``strict_icp``, a :class:`RuleError` a person must fix.
5. EU consumer → EU_B2C_OSS at the customer's country rate if the seller uses OSS (available from
   2021-07-01), else DOMESTIC (the seller stays under the distance-sale threshold).

VAT numbers are checked offline with python-stdnum (format and check digit, not VIES registration).

The decision says why as an :class:`~koppeling.core.messages.Outcome` (a :class:`RegimeCode` and
the countries concerned), rendered in the reader's language when shown.

>>> from koppeling.core.models import Party
>>> decision = decide_regime("NL", Party(country_code="DE"), dt.date(2024, 5, 1))
>>> decision.regime, decision.reason.code, dict(decision.reason.params)
(<VatRegime.EU_B2C_OSS: 'eu_b2c_oss'>, <RegimeCode.OSS_CONSUMER: 'regime_oss_consumer'>, {'country': 'DE'})
>>> str(decision.reason)
'EU consumer in DE: OSS distance sale at DE rates'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.util import clean

from koppeling.core import vat
from koppeling.core.codes import RegimeCode
from koppeling.core.errors import RuleCode, RuleError
from koppeling.core.messages import Outcome
from koppeling.core.models import Party, VatRegime

__all__ = [
    "CONSUMER_FALLBACKS",
    "REVERSE_CHARGE_HINT",
    "RegimeCode",
    "RegimeDecision",
    "check_vat_number",
    "decide_regime",
]

REVERSE_CHARGE_HINT = "reverse_charged_vat"

#: reasons of an EU business sale decided as a consumer sale (no valid VAT number, not strict)
CONSUMER_FALLBACKS = frozenset({RegimeCode.BUSINESS_WITHOUT_VAT_NUMBER, RegimeCode.INVALID_VAT_NUMBER})


@dataclass(frozen=True, slots=True)
class RegimeDecision:
    """The outcome: the regime, whose VAT rates apply, why (an outcome) and the VAT-number check.

    ``vat_number_valid`` is ``None`` when no number was relevant or given, ``True``/``False`` when
    a number was checked.
    """

    regime: VatRegime
    vat_country: str
    reason: Outcome
    vat_number_valid: bool | None = None


def check_vat_number(number: str, country: str) -> tuple[bool, Outcome | None]:
    """Check an EU VAT number offline and that it belongs to ``country``.

    Returns ``(valid, problem)``, the problem an outcome (``RegimeCode.VAT_NUMBER_*``) or ``None``.
    The prefix must match the customer's country (Greece: ``EL``), because an ICP needs the
    customer's VAT number in the member state the goods go to. A number given without its prefix
    is read as belonging to ``country``.

    >>> check_vat_number("NL004495445B01", "NL")
    (True, None)
    >>> valid, problem = check_vat_number("DE136695976", "NL")
    >>> valid, problem.code, problem.params["prefix"]
    (False, <RegimeCode.VAT_NUMBER_WRONG_PREFIX: 'vat_number_wrong_prefix'>, 'NL')
    """
    compact = clean(number, " -./,").upper()
    code = vat.normalize_country(country)
    if not compact:
        return False, Outcome(RegimeCode.VAT_NUMBER_MISSING, {"country": code})
    try:
        prefix = vat.vat_prefix(code)
    except vat.VatDataError:
        return False, Outcome(RegimeCode.VAT_NUMBER_COUNTRY_NOT_EU, {"country": code})
    if not compact[:2].isalpha():
        compact = prefix + compact
    facts = {"vat_number": number, "country": code, "prefix": prefix}
    if compact[:2] != prefix:
        return False, Outcome(RegimeCode.VAT_NUMBER_WRONG_PREFIX, facts)
    try:
        valid = eu_vat.is_valid(compact)
    except ValidationError:  # is_valid normally answers False; be safe with odd input
        valid = False
    if not valid:
        return False, Outcome(RegimeCode.VAT_NUMBER_CHECK_FAILED, facts)
    return True, None


def decide_regime(
    seller_country: str,
    customer: Party,
    on: dt.date,
    *,
    oss_registered: bool = True,
    vat_hint: str = "",
    strict_icp: bool = False,
    destination: str = "",
) -> RegimeDecision:
    """Decide the VAT regime of a sale on ``on`` by a seller in ``seller_country``.

    Args:
        seller_country: the shop's country (ISO code), must be in the EU VAT area on ``on``.
        customer: the buyer; a company name or VAT number makes it a business.
        on: the sale (order) date — membership and OSS availability depend on it.
        oss_registered: the seller declares distance sales through OSS.
        vat_hint: the shop's own VAT decision; ``"reverse_charged_vat"`` is honoured for domestic
            businesses (e.g. NL "btw verlegd").
        strict_icp: raise instead of silently charging VAT when an EU business has no valid number.
        destination: where the goods go, if not the customer's address (``Order.country_code``).

    Raises:
        RuleError: ``seller_country_not_eu``, ``icp_vat_number_missing``, ``icp_vat_number_invalid``.
    """
    seller = vat.normalize_country(seller_country)
    dest = vat.normalize_country(destination or customer.country_code or seller)
    if not vat.is_eu(seller, on):
        raise RuleError(
            RuleCode.SELLER_COUNTRY_NOT_EU, {"country": seller, "date": on}, field="settings.seller_country"
        )
    business = customer.is_business or bool(customer.vat_number.strip())
    hint = vat_hint.strip().lower()

    if dest == seller:
        if hint == REVERSE_CHARGE_HINT and business:
            reason = Outcome(RegimeCode.DOMESTIC_REVERSE_CHARGE, {"country": seller})
            return RegimeDecision(VatRegime.REVERSE_CHARGE, seller, reason)
        code = RegimeCode.REVERSE_CHARGE_IGNORED if hint == REVERSE_CHARGE_HINT else RegimeCode.DOMESTIC
        return RegimeDecision(VatRegime.DOMESTIC, seller, Outcome(code, {"country": seller}))

    if not vat.is_eu(dest, on):
        reason = Outcome(RegimeCode.EXPORT, {"country": dest, "seller": seller})
        return RegimeDecision(VatRegime.EXPORT, seller, reason)

    fallback: Outcome | None = None  # why an EU business is treated as a consumer
    number_valid: bool | None = None
    if business:
        number = customer.vat_number.strip()
        if not number:
            if strict_icp:
                raise RuleError(
                    RuleCode.ICP_VAT_NUMBER_MISSING, {"country": dest}, field="customer.vat_number"
                )
            fallback = Outcome(RegimeCode.BUSINESS_WITHOUT_VAT_NUMBER, {"country": dest})
        else:
            number_valid, problem = check_vat_number(number, dest)
            if number_valid:
                reason = Outcome(RegimeCode.ICP, {"country": dest, "vat_number": number})
                return RegimeDecision(VatRegime.EU_B2B, seller, reason, vat_number_valid=True)
            assert problem is not None
            facts = {"vat_number": number, "country": dest, **problem.params, "problem": problem.code}
            if strict_icp:
                raise RuleError(RuleCode.ICP_VAT_NUMBER_INVALID, facts, field="customer.vat_number")
            fallback = Outcome(RegimeCode.INVALID_VAT_NUMBER, facts)
    return _consumer_sale(seller, dest, on, oss_registered, fallback, number_valid)


def _consumer_sale(
    seller: str,
    dest: str,
    on: dt.date,
    oss_registered: bool,
    fallback: Outcome | None,
    number_valid: bool | None,
) -> RegimeDecision:
    """An EU consumer sale (step 5): OSS at ``dest`` rates, or domestic when OSS does not apply.

    With ``fallback`` (a business without a valid VAT number) the reason is the fallback's code,
    completed with whose VAT applies and the consumer reason it replaces.
    """
    if oss_registered and on >= vat.OSS_START:
        regime, vat_country, code = VatRegime.EU_B2C_OSS, dest, RegimeCode.OSS_CONSUMER
    else:
        regime, vat_country = VatRegime.DOMESTIC, seller
        code = RegimeCode.DOMESTIC_BEFORE_OSS if oss_registered else RegimeCode.DOMESTIC_NOT_OSS
    params = {"country": dest} if code == RegimeCode.OSS_CONSUMER else {"country": dest, "seller": seller}
    reason = Outcome(code, params)
    if fallback is not None:
        facts = {**fallback.params, "seller": seller, "vat_country": vat_country, "consumer_reason": code}
        reason = Outcome(fallback.code, facts)
    return RegimeDecision(regime, vat_country, reason, vat_number_valid=number_valid)
