"""Which VAT regime a sale falls under, and whose rates apply.

The regime decides the rates (domestic, the customer's country under OSS, or 0 %) and what the
accounting package must be told (ICP, export, reverse charge). Where the goods go is decided by the
delivery address, country **and** postcode (``core.territories``: the Canary Islands are an export,
Monaco is France, Northern Ireland is in the EU VAT area for goods). The rules for goods, in order:

1. The shop said ``reverse_charged_vat`` and the customer is a domestic business → REVERSE_CHARGE.
2. Delivered in the seller's own country → DOMESTIC.
3. Delivered outside the EU VAT area on the sale date → EXPORT (0 %, Art. 146 VAT Directive).
4. EU business whose VAT number VIES confirmed (``vat_check``, the proof kept on the invoice) →
   EU_B2B (ICP, 0 %, Art. 138: since 2020 a valid number is a substantive condition). A number that
   only passes the offline format and check-digit test is **not** enough: without a VIES answer the
   sale is treated as a consumer sale, and the invoicing rules hold an order the shop charged at
   0 % (``icp_vies_check_missing``). VIES unavailable → per ``vies_unavailable``: ``"hold"`` (the
   default: the same) or ``"book"`` (ICP on the format check, with a warning to check again).
   With ``strict_icp`` a missing or malformed number raises at once.
5. EU consumer → destination VAT (OSS) when the seller is past the EUR 10,000 threshold
   (``oss``: the runtime's figures, ``core.oss``) or opted in, else the seller's VAT. Without
   figures, ``oss_registered`` decides as before (OSS-registered sellers charge destination VAT).

Services follow their own place of supply (``nature``): a general service to a business is taxed
where the business is (EU: reverse charge, VIES-checked like an ICP; outside the EU: outside the
scope), to a consumer where the seller is (Art. 45) — a consumer in the US pays Dutch VAT; an
event or workshop where it is held (Art. 53/54); electronic services to consumers where the
consumer is (Art. 58).

The decision says why as an :class:`~koppeling.core.messages.Outcome` (a :class:`RegimeCode` and
the facts), rendered in the reader's language when shown.

>>> from koppeling.core.models import Party
>>> decision = decide_regime("NL", Party(country_code="DE"), dt.date(2024, 5, 1))
>>> decision.regime, decision.reason.code, dict(decision.reason.params)
(<VatRegime.EU_B2C_OSS: 'eu_b2c_oss'>, <RegimeCode.OSS_CONSUMER: 'regime_oss_consumer'>, {'country': 'DE'})
>>> str(decision.reason)
'EU consumer in DE: OSS distance sale at DE rates'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.util import clean

from koppeling.core import territories, vat
from koppeling.core.codes import RegimeCode, WarningCode
from koppeling.core.errors import RuleCode, RuleError
from koppeling.core.facts import OssPosition, VatCheckStatus, VatNumberCheck
from koppeling.core.messages import Outcome
from koppeling.core.models import LineNature, Party, VatRegime

__all__ = [
    "CONSUMER_FALLBACKS",
    "REVERSE_CHARGE_HINT",
    "RegimeCode",
    "RegimeDecision",
    "check_vat_number",
    "decide_regime",
]

REVERSE_CHARGE_HINT = "reverse_charged_vat"

#: reasons of an EU business sale decided as a consumer sale (no VIES-valid number, not strict)
CONSUMER_FALLBACKS = frozenset(
    {
        RegimeCode.BUSINESS_WITHOUT_VAT_NUMBER,
        RegimeCode.INVALID_VAT_NUMBER,
        RegimeCode.VAT_NUMBER_NOT_VIES_CHECKED,
        RegimeCode.VAT_NUMBER_VIES_INVALID,
        RegimeCode.VAT_NUMBER_VIES_UNAVAILABLE,
    }
)


@dataclass(frozen=True, slots=True)
class RegimeDecision:
    """The outcome: the regime, whose VAT rates apply, why (an outcome) and the VAT-number check.

    ``vat_number_valid`` is ``None`` when no number was relevant or given, ``True``/``False`` when
    a number was checked. ``unproven_icp`` is the rule error an order gets when the shop charged 0 %
    to this business although the number is not VIES-valid (None when not applicable).
    ``vat_check`` is the VIES proof used, ``territory`` the special territory the address is in.
    """

    regime: VatRegime
    vat_country: str
    reason: Outcome
    vat_number_valid: bool | None = None
    unproven_icp: Outcome | None = None
    vat_check: VatNumberCheck | None = None
    territory: str = ""
    warnings: tuple[Outcome, ...] = field(default=())


def check_vat_number(number: str, country: str) -> tuple[bool, Outcome | None]:
    """Check an EU VAT number offline and that it belongs to ``country``.

    Returns ``(valid, problem)``, the problem an outcome (``RegimeCode.VAT_NUMBER_*``) or ``None``.
    The prefix must match the customer's country (Greece: ``EL``, Northern Ireland: ``XI``), because
    an ICP needs the customer's VAT number in the member state the goods go to. A number given
    without its prefix is read as belonging to ``country``. Placeholders such as ``DE000000000``
    (one digit repeated) are refused even where their check digit happens to fit.

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
    digits = [c for c in compact[2:] if c.isdigit()]
    if len(set(digits)) <= 1:
        return False, Outcome(RegimeCode.VAT_NUMBER_PLACEHOLDER, facts)
    try:
        valid = eu_vat.is_valid(compact)
    except ValidationError:  # is_valid normally answers False; be safe with odd input
        valid = False
    if not valid:
        return False, Outcome(RegimeCode.VAT_NUMBER_CHECK_FAILED, facts)
    return True, None


@dataclass(frozen=True, slots=True)
class _Sale:
    """The facts of one decision, so the steps below take one argument instead of twelve."""

    seller: str
    vat_number: str
    dest: str
    on: dt.date
    business: bool
    nature: LineNature
    oss_registered: bool
    oss: OssPosition | None
    oss_opt_in: bool
    strict_icp: bool
    vat_check: VatNumberCheck | None
    vies_unavailable: str
    territory: territories.Territory


def decide_regime(
    seller_country: str,
    customer: Party,
    on: dt.date,
    *,
    oss_registered: bool = True,
    vat_hint: str = "",
    strict_icp: bool = False,
    destination: str = "",
    postal_code: str = "",
    nature: LineNature | str = LineNature.GOODS,
    vat_check: VatNumberCheck | None = None,
    vies_unavailable: str = "hold",
    oss: OssPosition | None = None,
    oss_opt_in: bool = False,
) -> RegimeDecision:
    """Decide the VAT regime of a sale on ``on`` by a seller in ``seller_country``.

    Args:
        seller_country: the shop's country (ISO code), must be in the EU VAT area on ``on``.
        customer: the buyer; a company name or VAT number makes it a business.
        on: the date of the supply — membership, OSS and rates depend on it.
        oss_registered: the seller declares distance sales through OSS.
        vat_hint: the shop's own VAT decision; ``"reverse_charged_vat"`` is honoured for domestic
            businesses (e.g. NL "btw verlegd").
        strict_icp: raise instead of charging VAT when an EU business has no (valid) number.
        destination: where the goods go, if not the customer's address (``Order.country_code``).
        postal_code: the delivery postcode (special territories).
        nature: goods, service, event or electronic (``LineNature``).
        vat_check: the VIES answer for the customer's number (``InvoiceFacts.vat_check``).
        vies_unavailable: ``"hold"`` or ``"book"`` when VIES could not answer.
        oss: the seller's distance-sales position on this sale (``core.oss.oss_status``).
        oss_opt_in: charge destination VAT even below the threshold.

    Raises:
        RuleError: ``seller_country_not_eu``, ``icp_vat_number_missing``, ``icp_vat_number_invalid``,
            ``oss_not_registered``.
    """
    return _decide(
        vat.normalize_country(seller_country),
        vat.normalize_country(destination or customer.country_code or seller_country),
        postal_code or ("" if destination else customer.postal_code),
        customer.is_business or bool(customer.vat_number.strip()),
        customer.vat_number,
        on,
        nature if type(nature) is LineNature else LineNature(nature or LineNature.GOODS),
        vat_hint.strip().lower(),
        oss_registered,
        strict_icp,
        vies_unavailable,
        oss_opt_in,
        vat_check,
        oss,
    )


@lru_cache(maxsize=4096)
def _decide(
    seller: str,
    raw_dest: str,
    postal_code: str,
    business: bool,
    vat_number: str,
    on: dt.date,
    kind: LineNature,
    hint: str,
    oss_registered: bool,
    strict_icp: bool,
    vies_unavailable: str,
    oss_opt_in: bool,
    vat_check: VatNumberCheck | None,
    oss: OssPosition | None,
) -> RegimeDecision:
    """``decide_regime`` on the facts that matter (not names or streets), remembered: a shop's
    orders repeat the same few combinations all day, and the decision is pure. The link's options
    come as plain values: the key is hashed in C (a dataclass of them hashed by Python per order)."""
    if not vat.is_eu(seller, on):
        raise RuleError(
            RuleCode.SELLER_COUNTRY_NOT_EU, {"country": seller, "date": on}, field="settings.seller_country"
        )
    territory = territories.resolve(raw_dest, postal_code)
    dest = territory.vat_country
    if territory.goods_only and kind is not LineNature.GOODS:
        dest = "GB"  # Northern Ireland is in the EU VAT area for goods only
    sale = _Sale(
        seller,
        vat_number,
        dest,
        on,
        business,
        kind,
        oss_registered,
        oss,
        oss_opt_in,
        strict_icp,
        vat_check,
        vies_unavailable,
        territory,
    )
    if dest == seller and territory.in_eu_vat_area is not False:
        if hint == REVERSE_CHARGE_HINT and sale.business:
            reason = Outcome(RegimeCode.DOMESTIC_REVERSE_CHARGE, {"country": seller})
            return RegimeDecision(VatRegime.REVERSE_CHARGE, seller, reason)
        code = RegimeCode.REVERSE_CHARGE_IGNORED if hint == REVERSE_CHARGE_HINT else RegimeCode.DOMESTIC
        return RegimeDecision(VatRegime.DOMESTIC, seller, Outcome(code, {"country": seller}))
    if kind is LineNature.EVENT:
        reason = Outcome(RegimeCode.SERVICE_WHERE_HELD, {"country": dest, "seller": seller})
        return RegimeDecision(VatRegime.DOMESTIC, seller, reason)
    in_eu = vat.is_eu(dest, on) and territory.in_eu_vat_area is not False
    if kind is LineNature.GOODS:
        if not in_eu:
            return _export(sale)
        return _eu_sale(sale)
    if not in_eu:
        return _service_outside_eu(sale)
    if sale.business:
        return _eu_sale(sale)
    if kind is LineNature.ELECTRONIC:
        return _consumer_sale(sale, None, None)
    reason = Outcome(RegimeCode.SERVICE_CONSUMER_SELLER_COUNTRY, {"country": dest, "seller": seller})
    return RegimeDecision(VatRegime.DOMESTIC, seller, reason)


def _export(sale: _Sale) -> RegimeDecision:
    if sale.territory.special:
        params = {"country": sale.dest, "seller": sale.seller, "territory": sale.territory.name}
        reason = Outcome(RegimeCode.EXPORT_SPECIAL_TERRITORY, params)
        return RegimeDecision(VatRegime.EXPORT, sale.seller, reason, territory=sale.territory.name)
    reason = Outcome(RegimeCode.EXPORT, {"country": sale.dest, "seller": sale.seller})
    return RegimeDecision(VatRegime.EXPORT, sale.seller, reason)


def _service_outside_eu(sale: _Sale) -> RegimeDecision:
    """Services to a customer outside the EU VAT area: B2B outside the scope, B2C the seller's VAT
    (general services, Art. 45) — electronic services to consumers are taxed where they live."""
    params = {"country": sale.dest, "seller": sale.seller}
    if sale.business or sale.nature is LineNature.ELECTRONIC:
        code = RegimeCode.SERVICE_OUTSIDE_EU_BUSINESS if sale.business else RegimeCode.SERVICE_OUTSIDE_EU
        return RegimeDecision(VatRegime.EXPORT, sale.seller, Outcome(code, params))
    return RegimeDecision(
        VatRegime.DOMESTIC, sale.seller, Outcome(RegimeCode.SERVICE_CONSUMER_SELLER_COUNTRY, params)
    )


def _eu_sale(sale: _Sale) -> RegimeDecision:
    """An EU business (ICP / reverse-charged service, VIES-checked) or an EU consumer."""
    if not sale.business:
        return _consumer_sale(sale, None, None)
    dest = sale.dest
    number = sale.vat_number.strip()
    if not number:
        if sale.strict_icp:
            raise RuleError(RuleCode.ICP_VAT_NUMBER_MISSING, {"country": dest}, field="customer.vat_number")
        fallback = Outcome(RegimeCode.BUSINESS_WITHOUT_VAT_NUMBER, {"country": dest})
        unproven = Outcome(RuleCode.ICP_VAT_NUMBER_MISSING, {"country": dest})
        return _consumer_sale(sale, fallback, None, unproven=unproven)
    valid, problem = check_vat_number(number, dest)
    if not valid:
        assert problem is not None
        facts = {"vat_number": number, "country": dest, **problem.params, "problem": problem.code}
        if sale.strict_icp:
            raise RuleError(RuleCode.ICP_VAT_NUMBER_INVALID, facts, field="customer.vat_number")
        fallback = Outcome(RegimeCode.INVALID_VAT_NUMBER, facts)
        return _consumer_sale(sale, fallback, False, unproven=Outcome(RuleCode.ICP_VAT_NUMBER_INVALID, facts))
    compact = clean(number, " -./,").upper()
    full = compact if compact[:2].isalpha() else vat.vat_prefix(dest) + compact
    return _vies_decision(sale, number, full)


def _vies_decision(sale: _Sale, number: str, full: str) -> RegimeDecision:
    """A well-formed number: what VIES said decides (see rule 4 of the module docstring)."""
    check = sale.vat_check if sale.vat_check is not None and sale.vat_check.concerns(full) else None
    facts: dict[str, object] = {"vat_number": number, "country": sale.dest}
    if check is not None:
        facts |= {"checked_at": check.checked_at, "consultation": check.consultation_number}
    service = sale.nature is not LineNature.GOODS
    code = RegimeCode.SERVICE_REVERSE_CHARGE if service else RegimeCode.ICP
    if check is not None and check.proves(full):
        reason = Outcome(code, facts)
        return RegimeDecision(VatRegime.EU_B2B, sale.seller, reason, True, vat_check=check)
    if check is not None and check.status is VatCheckStatus.UNAVAILABLE and sale.vies_unavailable == "book":
        reason = Outcome(RegimeCode.ICP_VIES_UNAVAILABLE_BOOKED, {**facts, "detail": check.detail})
        warning = Outcome(WarningCode.VIES_UNAVAILABLE_BOOKED, {**facts, "detail": check.detail})
        return RegimeDecision(
            VatRegime.EU_B2B, sale.seller, reason, True, vat_check=check, warnings=(warning,)
        )
    if check is None:
        fallback_code, rule = RegimeCode.VAT_NUMBER_NOT_VIES_CHECKED, RuleCode.ICP_VIES_CHECK_MISSING
    elif check.status is VatCheckStatus.INVALID:
        fallback_code, rule = RegimeCode.VAT_NUMBER_VIES_INVALID, RuleCode.ICP_VIES_INVALID
    else:
        fallback_code, rule = RegimeCode.VAT_NUMBER_VIES_UNAVAILABLE, RuleCode.ICP_VIES_UNAVAILABLE
        facts["detail"] = check.detail
    unproven = Outcome(rule, facts)
    number_valid = False if fallback_code is RegimeCode.VAT_NUMBER_VIES_INVALID else None
    return _consumer_sale(sale, Outcome(fallback_code, facts), number_valid, unproven=unproven)


def _consumer_sale(
    sale: _Sale, fallback: Outcome | None, number_valid: bool | None, *, unproven: Outcome | None = None
) -> RegimeDecision:
    """An EU consumer sale (rule 5): destination VAT (OSS), or the seller's VAT below the threshold.

    With ``fallback`` (a business without a VIES-valid number) the reason is the fallback's code,
    completed with whose VAT applies and the consumer reason it replaces.
    """
    seller, dest, on = sale.seller, sale.dest, sale.on
    params: dict[str, object] = {"country": dest}
    if sale.nature is not LineNature.GOODS and sale.nature is not LineNature.ELECTRONIC:
        regime, vat_country, code = VatRegime.DOMESTIC, seller, RegimeCode.SERVICE_CONSUMER_SELLER_COUNTRY
        params["seller"] = seller
    elif on < vat.OSS_START:
        regime, vat_country, code = VatRegime.DOMESTIC, seller, RegimeCode.DOMESTIC_BEFORE_OSS
        params["seller"] = seller
    elif sale.oss is not None and not sale.oss.past_threshold and not sale.oss_opt_in:
        regime, vat_country, code = VatRegime.DOMESTIC, seller, RegimeCode.DOMESTIC_BELOW_THRESHOLD
        params |= {"seller": seller, "this_year": sale.oss.this_year, "last_year": sale.oss.last_year}
    elif sale.oss is not None and not sale.oss_registered:
        params |= {"seller": seller, "this_year": sale.oss.this_year, "last_year": sale.oss.last_year}
        raise RuleError(RuleCode.OSS_NOT_REGISTERED, params, field="settings.oss_registered")
    elif sale.oss_registered:
        regime, vat_country, code = VatRegime.EU_B2C_OSS, dest, RegimeCode.OSS_CONSUMER
    else:
        regime, vat_country, code = VatRegime.DOMESTIC, seller, RegimeCode.DOMESTIC_NOT_OSS
        params["seller"] = seller
    reason = Outcome(code, params)
    if fallback is not None:
        facts = {**fallback.params, "seller": seller, "vat_country": vat_country, "consumer_reason": code}
        reason = Outcome(fallback.code, facts)
    return RegimeDecision(
        regime,
        vat_country,
        reason,
        vat_number_valid=number_valid,
        unproven_icp=unproven,
        vat_check=sale.vat_check,
        territory=sale.territory.name,
    )
