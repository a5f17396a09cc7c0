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

>>> from koppeling.core.models import Party
>>> decide_regime("NL", Party(country_code="DE"), dt.date(2024, 5, 1)).regime
<VatRegime.EU_B2C_OSS: 'eu_b2c_oss'>
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.util import clean

from koppeling.core import vat
from koppeling.core.errors import RuleError
from koppeling.core.models import Party, VatRegime

__all__ = ["REVERSE_CHARGE_HINT", "RegimeDecision", "check_vat_number", "decide_regime"]

REVERSE_CHARGE_HINT = "reverse_charged_vat"


@dataclass(frozen=True, slots=True)
class RegimeDecision:
    """The outcome: the regime, whose VAT rates apply, why (plain English) and the VAT-number check.

    ``vat_number_valid`` is ``None`` when no number was relevant or given, ``True``/``False`` when
    a number was checked.
    """

    regime: VatRegime
    vat_country: str
    reason: str
    vat_number_valid: bool | None = None


def check_vat_number(number: str, country: str) -> tuple[bool, str]:
    """Check an EU VAT number offline and that it belongs to ``country``.

    Returns ``(valid, why_not)``. The prefix must match the customer's country (Greece: ``EL``),
    because an ICP needs the customer's VAT number in the member state the goods go to. A number
    given without its prefix is read as belonging to ``country``.

    >>> check_vat_number("NL004495445B01", "NL")
    (True, '')
    >>> check_vat_number("DE136695976", "NL")[0]
    False
    """
    compact = clean(number, " -./,").upper()
    if not compact:
        return False, "no VAT number"
    code = vat.normalize_country(country)
    try:
        prefix = vat.vat_prefix(code)
    except vat.VatDataError:
        return False, f"{code} is not an EU country"
    if not compact[:2].isalpha():
        compact = prefix + compact
    if compact[:2] != prefix:
        return False, f"VAT number {number!r} is not a {code} number (expected prefix {prefix})"
    try:
        valid = eu_vat.is_valid(compact)
    except ValidationError:  # is_valid normally answers False; be safe with odd input
        valid = False
    if not valid:
        return False, f"VAT number {number!r} fails the {code} format/check-digit test"
    return True, ""


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
            "seller_country_not_eu",
            f"the shop's country {seller} is not in the EU VAT area on {on.isoformat()}",
            suggestion="set the shop's country (seller_country) in the link settings",
            field="settings.seller_country",
        )
    business = customer.is_business or bool(customer.vat_number.strip())
    hint = vat_hint.strip().lower()

    if dest == seller:
        if hint == REVERSE_CHARGE_HINT and business:
            return RegimeDecision(
                VatRegime.REVERSE_CHARGE, seller, "domestic business sale marked reverse charge by the shop"
            )
        reason = "customer in the seller's country"
        if hint == REVERSE_CHARGE_HINT:
            reason += "; the shop's reverse-charge mark was ignored because the customer is not a business"
        return RegimeDecision(VatRegime.DOMESTIC, seller, reason)

    if not vat.is_eu(dest, on):
        reason = f"customer outside the EU VAT area ({dest}): export at 0%"
        return RegimeDecision(VatRegime.EXPORT, seller, reason)

    fallback_note = ""
    number_valid: bool | None = None
    if business:
        number = customer.vat_number.strip()
        if not number:
            if strict_icp:
                raise RuleError(
                    "icp_vat_number_missing",
                    f"business customer in {dest} without a VAT number: an intra-community supply "
                    "at 0% needs one",
                    suggestion="add the customer's VAT number in the shop, or turn off strict ICP checks "
                    "to charge VAT as for a consumer",
                    field="customer.vat_number",
                )
            fallback_note = "business without VAT number, treated as a consumer"
        else:
            number_valid, why = check_vat_number(number, dest)
            if number_valid:
                return RegimeDecision(
                    VatRegime.EU_B2B,
                    seller,
                    f"EU business in {dest} with valid VAT number: intra-community supply at 0%",
                    vat_number_valid=True,
                )
            if strict_icp:
                raise RuleError(
                    "icp_vat_number_invalid",
                    f"{why}: an intra-community supply at 0% needs a valid VAT number",
                    suggestion="correct the customer's VAT number in the shop (prefix and digits), or turn "
                    "off strict ICP checks to charge VAT as for a consumer",
                    field="customer.vat_number",
                )
            fallback_note = f"invalid VAT number ({why}), treated as a consumer"

    prefix = f"{fallback_note}; " if fallback_note else ""
    if oss_registered and on >= vat.OSS_START:
        return RegimeDecision(
            VatRegime.EU_B2C_OSS,
            dest,
            f"{prefix}EU consumer in {dest}: OSS distance sale at {dest} rates",
            vat_number_valid=number_valid,
        )
    why_domestic = "before OSS (2021-07-01)" if oss_registered else "seller not registered for OSS"
    return RegimeDecision(
        VatRegime.DOMESTIC,
        seller,
        f"{prefix}EU consumer in {dest}, {why_domestic}: {seller} VAT",
        vat_number_valid=number_valid,
    )
