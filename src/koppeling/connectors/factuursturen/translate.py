"""A core ``Invoice`` as Factuursturen takes it: debtor fields, invoice fields, the totals it computes.

No I/O here: the connector (``client.py``) decides which debtor an invoice goes to; this module
says what we send for it. The rules and which of them are inferred:
``docs/connectors/factuursturen.md``.

- **Lines.** Factuursturen computes ``linetotal = round(amount × price)`` and reads ``price``
  excl. or incl. VAT as the *debtor's* ``tax_type`` says (the invoice has no field for it). So each
  line is sent in the debtor's mode, with a unit price of at most 3 decimals whose line total is the
  line's total to the cent, else as ``1 × line total`` with the quantity in the text.
- **Totals.** VAT is computed once per rate group (:func:`predicted_totals`, the simulator's
  ``factuursturen_totals``), so it can differ by a cent from the shop's per-line VAT; the push
  then carries a warning, and reconciliation compares.
- **Reference.** ``reference[line1]`` is ``Bestelling <reference>``: printed on the invoice and
  searched to find it again (exact match on that line, the search itself matches loosely).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from koppeling.core.messages import Outcome
from koppeling.core.models import Invoice, InvoiceLine, Party, PaymentStatus, VatRegime
from koppeling.core.money import ZERO, quantize, round_cents

from ..errors import DataError
from .api import SYSTEM, FactuursturenCode
from .settings import FactuursturenSettings
from .sim_model import InvoiceLine as FsLine
from .sim_model import Totals, factuursturen_totals

__all__ = [
    "COUNTRY_IDS",
    "REFERENCE_LABEL",
    "debtor_differences",
    "debtor_fields",
    "fit_line",
    "invoice_form",
    "is_our_reference",
    "predicted_totals",
]

REFERENCE_LABEL = "Bestelling"
CREDIT_LABEL = "Creditnota voor factuur"

#: ISO 3166 code -> Factuursturen country id (the ids of ``GET countrylist`` [V jfactuursturen
#: countrylist fixture, the same table as ``sim_model.COUNTRIES``]); other countries are refused.
COUNTRY_IDS: Mapping[str, str] = {
    "AT": "163", "BE": "18", "BG": "30", "CH": "237", "CY": "45", "CZ": "213", "DE": "50",
    "DK": "46", "EE": "56", "ES": "192", "FI": "62", "FR": "63", "GB": "224", "GR": "73",
    "HR": "110", "HU": "84", "IE": "86", "IT": "93", "LT": "118", "LU": "119", "LV": "113",
    "MT": "129", "NL": "146", "NO": "157", "PL": "171", "PT": "172", "RO": "176", "SE": "236",
    "SI": "188", "SK": "189", "US": "226",
}  # fmt: skip

#: the clients-api page's field lengths [V]; over-long values are cut (text) or left out (codes)
_CUT = {"contact": 50, "company": 50, "address": 50, "address_addon": 50, "city": 50}
_LEAVE_OUT = {"zipcode": 7, "phone": 13, "taxnumber": 18}
_SHIFTED = frozenset({VatRegime.EU_B2B, VatRegime.REVERSE_CHARGE})
_PHONE_NOISE = re.compile(r"\(0\)|[\s().\-/]")


def _text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def reference_line(reference: str) -> str:
    return f"{REFERENCE_LABEL} {reference}"


def is_our_reference(line1: Any, reference: str) -> bool:
    """Whether an invoice's ``reference.line1`` is exactly ours (the search matches substrings).

    >>> is_our_reference("Bestelling WA1002", "WA1002"), is_our_reference("Bestelling WA10021", "WA1002")
    (True, False)
    """
    text = str(line1 or "").strip()
    return text in (reference_line(reference), reference)


def fit_line(line: InvoiceLine, tax_type: str) -> tuple[Decimal, Decimal, str]:
    """``(amount, price, description)`` whose ``round(amount × price)`` is the line's total.

    ``tax_type`` is the debtor's: ``intax`` debtors get prices incl. VAT, ``extax`` excl.

    >>> from koppeling.core.models import LineKind
    >>> fit_line(InvoiceLine(LineKind.PRODUCT, "Thee", Decimal(3), Decimal("1.2397"), Decimal(21),
    ...          Decimal("3.72"), Decimal("0.78")), "extax")
    (Decimal('3'), Decimal('1.240'), 'Thee')
    """
    target = line.total_inc if tax_type == "intax" else line.total_ex
    quantity = line.quantity
    if quantity:
        unit_hint = line.unit_price_ex if tax_type != "intax" else line.total_inc / quantity
        for candidate in (unit_hint, target / quantity):
            unit = quantize(candidate, 3)
            if round_cents(unit * quantity) == target:
                return quantity, unit, line.description
    description = f"{_text(quantity)} x {line.description}" if quantity != 1 else line.description
    return Decimal(1), target, description


def predicted_totals(lines: list[tuple[Decimal, Decimal, Decimal]], tax_type: str) -> Totals:
    """What Factuursturen will book for ``(amount, price, tax_rate)`` lines, no discount [I]."""
    fs_lines = [FsLine(amount, price, rate) for amount, price, rate in lines]
    return factuursturen_totals(fs_lines, tax_type=tax_type, discounttype="percentage", discount=ZERO)


def _fit_field(
    name: str, value: str, reference: str, fields: dict[str, str], warnings: list[Outcome]
) -> None:
    value = value.strip()
    if name == "phone":  # 13 characters: "+31 (0)6 1234 5678" fits once written "+31612345678"
        value = _PHONE_NOISE.sub("", value)
    if not value:
        return
    limit = _CUT.get(name) or _LEAVE_OUT.get(name)
    if limit is None or len(value) <= limit:
        fields[name] = value
    elif name in _CUT:
        fields[name] = value[:limit].rstrip()
        warnings.append(
            Outcome(
                FactuursturenCode.DEBTOR_FIELD_SHORTENED,
                {"reference": reference, "field": name, "limit": limit},
            )
        )
    else:
        warnings.append(
            Outcome(
                FactuursturenCode.DEBTOR_FIELD_LEFT_OUT,
                {"reference": reference, "field": name, "limit": limit},
            )
        )


def country_id(party: Party, reference: str) -> str:
    code = (party.country_code or "NL").strip().upper()
    found = COUNTRY_IDS.get(code)
    if found is None:
        raise DataError(
            FactuursturenCode.COUNTRY_UNKNOWN, {"system": SYSTEM, "reference": reference, "country": code}
        )
    return found


def debtor_fields(
    invoice: Invoice, tax_type: str, *, email: str = ""
) -> tuple[dict[str, str], list[Outcome]]:
    """The ``POST clients`` body of a new debtor for this invoice's customer, and what was cut."""
    party = invoice.customer
    reference = invoice.reference
    warnings: list[Outcome] = []
    fields: dict[str, str] = {}
    for name, value in (
        ("contact", party.name),
        ("company", party.company),
        ("address", party.street),
        ("address_addon", party.street2),
        ("zipcode", party.postal_code),
        ("city", party.city),
        ("phone", party.phone),
        ("taxnumber", party.vat_number),
    ):
        _fit_field(name, value, reference, fields, warnings)
    if "contact" not in fields and "company" not in fields:
        fields["contact"] = (email or party.email)[:50]  # the API needs a contact or a company
    fields.update(
        email=email or party.email,
        country=country_id(party, reference),
        currency=invoice.currency.upper(),
        tax_type=tax_type,
        tax_shifted="true" if invoice.regime in _SHIFTED else "false",
        showcontact="true",
    )
    return fields, warnings


def _same(ours: str, theirs: Any) -> bool:
    return " ".join(ours.split()).casefold() == " ".join(str(theirs or "").split()).casefold()


def debtor_differences(client: Mapping[str, Any], party: Party) -> list[str]:
    """The debtor's fields that differ from the order's customer (only those the order has)."""
    pairs = (
        ("contact", party.name),
        ("company", party.company),
        ("address", party.street),
        ("zipcode", party.postal_code.replace(" ", "")),
        ("city", party.city),
    )
    differing = []
    for name, ours in pairs:
        theirs = client.get(name, "")
        if name == "zipcode":
            theirs = str(theirs or "").replace(" ", "")
        if ours.strip() and not _same(ours, theirs):
            differing.append(name)
    country = COUNTRY_IDS.get((party.country_code or "").upper())
    if country and str(client.get("country", "")) not in ("", country):
        differing.append("country")
    return differing


def is_correction(line: InvoiceLine) -> bool:
    """A rounding correction core added (``core.fitting``): booked, but it chooses no category."""
    return getattr(line, "vat_rate_source", "") == "correction"


def tax_rate_of(invoice: Invoice, line: InvoiceLine, settings: FactuursturenSettings) -> Decimal:
    """The Factuursturen rate of a line; a correction line at an unmapped rate keeps its own."""
    tax_rate = settings.tax_rate_for(line.vat_rate)
    if tax_rate is not None:
        return tax_rate
    if is_correction(line):
        return line.vat_rate
    raise unmapped(invoice, line.vat_rate)


def _lines(
    invoice: Invoice, settings: FactuursturenSettings, tax_type: str
) -> tuple[list[dict[str, str]], list[tuple[Decimal, Decimal, Decimal]]]:
    lines: list[dict[str, str]] = []
    fitted: list[tuple[Decimal, Decimal, Decimal]] = []
    for line in invoice.lines:
        tax_rate = tax_rate_of(invoice, line, settings)
        amount, price, description = fit_line(line, tax_type)
        lines.append(
            {
                "amount": _text(amount),
                "description": description,
                "price": format(price, "f"),
                "tax_rate": _text(tax_rate),
                "discount_pct": "0",
            }
        )
        fitted.append((amount, price, tax_rate))
    # the order's description (with its number: seed 003) as a text line on top, at the first
    # line's rate so it adds no tax group of its own (pivvenit adds an order-number line alike)
    text = {"amount": "0", "description": invoice.description, "price": "0", "tax_rate": lines[0]["tax_rate"]}
    return [text, *lines], fitted


def unmapped(invoice: Invoice, rate: Decimal) -> DataError:
    return DataError(
        FactuursturenCode.VAT_RATE_UNMAPPED,
        {"system": SYSTEM, "reference": invoice.reference, "rate": _text(rate)},
    )


def invoice_form(
    invoice: Invoice,
    settings: FactuursturenSettings,
    client: Mapping[str, Any],
    category: int | None,
    *,
    credit_of: str = "",
) -> tuple[dict[str, str], list[Outcome]]:
    """The ``POST invoices`` body, and the warning when Factuursturen's totals will differ."""
    tax_type = "intax" if str(client.get("tax_type", "")).strip() == "intax" else "extax"
    lines, fitted = _lines(invoice, settings, tax_type)
    form: dict[str, str] = {
        "clientnr": str(client["clientnr"]),
        "action": "send",
        "sendmethod": settings.send_method,
        "sent": invoice.issue_date.isoformat(),
        "reference[line1]": reference_line(invoice.reference),
        "reference[line2]": f"{CREDIT_LABEL} {credit_of}" if credit_of else "",
        "reference[line3]": "",
        "invoicenote": invoice.description,
        # the debtor's standard discount would apply to every invoice: say 0 explicitly [I]
        "discounttype": "percentage",
        "discount": "0",
    }
    if category is not None:
        form["category"] = str(category)
    if settings.profile is not None:
        form["profile"] = str(settings.profile)
    if invoice.payment_status is PaymentStatus.PAID:
        form["alreadypaid"] = "full"
        form["alreadypaidmethod"] = (invoice.payment_method or "")[:32]
    for index, line in enumerate(lines):
        for key, value in line.items():
            form[f"lines[{index}][{key}]"] = value
    totals = predicted_totals(fitted, tax_type)
    warnings = []
    if totals.total_ex != invoice.total_ex or totals.total_inc != invoice.total_inc:
        warnings.append(
            Outcome(
                FactuursturenCode.TOTALS_DIFFER,
                {
                    "booked_ex": totals.total_ex,
                    "booked_inc": totals.total_inc,
                    "total_ex": invoice.total_ex,
                    "total_inc": invoice.total_inc,
                },
            )
        )
    return form, warnings


def choose_category(invoice: Invoice, settings: FactuursturenSettings) -> tuple[int | None, list[Outcome]]:
    """The one category of the invoice: every rate's, or the largest rate group's (see settings)."""
    params = {"system": SYSTEM, "reference": invoice.reference}
    amounts: dict[int | None, Decimal] = {}
    for line in invoice.lines:
        tax_rate_of(invoice, line, settings)  # every rate is mapped, before anything is sent
        mapping = settings.mapping_for(line.vat_rate)
        if mapping is None or is_correction(line):
            continue
        amounts[mapping.category] = amounts.get(mapping.category, ZERO) + abs(line.total_ex)
    if len(amounts) <= 1:
        return next(iter(amounts), None), []
    names = ", ".join("-" if c is None else str(c) for c in amounts)
    if settings.mixed_categories == "stop":
        raise DataError(FactuursturenCode.CATEGORIES_MIXED_STOP, {**params, "categories": names})
    chosen = max(amounts, key=lambda c: amounts[c])  # ties: the first rate's (dicts keep order)
    warning = Outcome(
        FactuursturenCode.CATEGORIES_MIXED,
        {"reference": invoice.reference, "categories": names, "category": "-" if chosen is None else chosen},
    )
    return chosen, [warning]
