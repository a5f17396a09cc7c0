"""AccountView rows ⇄ core objects: debtors and documents out, articles and stock in.

The choices that matter (sources and status in ``docs/connectors/accountview.md``):

- **Debtors.** A customer with a company name becomes a company debtor (``ACCT_NAME`` = the
  company) whose contact is the person (``MAIN_CONT``, ``MC_MAILB``); without one, a person debtor
  (``ACCT_NAME`` = the person's name) [seed 004; I: AccountView has no separate person object]. The
  e-mail address is written in lower case so the case-sensitive ``Equal`` filter finds it again.
- **Sales orders (SO1).** ``COMMENT1`` holds our reference exactly (APIcenter puts the order
  number there [V]) and is what ``find_invoice`` searches; every line needs an article, so lines
  that are no product take the article the settings name. AccountView computes a line as
  ``round(ORD_QTY × ART_PX)`` [I], so the unit price is the 4-decimal price that gives the line total.
- **Sales invoices (DJ2).** One page in the sales journal: ``INV_NR`` = our reference (at most 12
  characters, upper case), one line per revenue account and VAT code with the amounts as sent.
- **Articles and stock** are read by field names from the connection's options, because AccountView
  administrations differ and the stock field names are partly unknown (module doc of ``client``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from koppeling.core.messages import Outcome
from koppeling.core.models import Invoice, InvoiceLine, LineKind, Party
from koppeling.core.money import AmountError, quantize, round_cents, to_decimal
from koppeling.core.products import Product, StockLevel
from koppeling.mapping import MappingSpec, apply

from ..errors import DataError
from .api import SYSTEM, AccountViewCode
from .settings import AccountViewSettings, LineTarget, rate_key

__all__ = [
    "CONTACT_TYPES",
    "DJ_LINE_TYPES",
    "DJ_PAGE_TYPES",
    "SO_HDR_TYPES",
    "SO_LINE_TYPES",
    "debtor_values",
    "fingerprint",
    "line_articles",
    "local_time",
    "order_rows",
    "page_rows",
    "percent",
    "product_of",
    "search_code",
    "stock_of",
]

CONTACT_TYPES = {
    name: "C"
    for name in (
        "SUB_NR ACCT_NAME SRC_CODE ACCT_NR ADDRESS1 POST_CODE CITY CNT_CODE MAIL_BUS MC_MAILB MAIN_CONT "
        "TEL_BUS VAT_NR VAT_CODE DISC_CODE"
    ).split()
}
SO_HDR_TYPES = {
    "ORD_DATE": "T",
    "RPL_INV": "C",
    "COMMENT1": "C",
    "COMMENT2": "C",
    "TO_EMAIL": "C",
    "SHIP_MTH": "C",
}
SO_LINE_TYPES = {"ART_CODE": "C", "ART_DESC": "C", "ORD_QTY": "N", "ART_PX": "Y", "VAT_CODE": "C"}
DJ_PAGE_TYPES = {
    "DJ_CODE": "C",
    "HDR_DESC": "C",
    "SUB_NR": "C",
    "INV_NR": "C",
    "TRN_DATE": "D",
    "CUR_CODE": "C",
}
DJ_LINE_TYPES = {"ACCT_NR": "C", "AMOUNT": "Y", "VAT_AMT": "Y", "VAT_CODE": "C", "TRN_DESC": "C"}
#: character fields and their lengths (CONTACT, DJ_* from the data dictionary [V]; SO_* [S])
LENGTHS = {
    "ACCT_NAME": 40,
    "ADDRESS1": 80,
    "CITY": 35,
    "MAIL_BUS": 50,
    "MC_MAILB": 50,
    "MAIN_CONT": 40,
    "TEL_BUS": 20,
    "VAT_NR": 14,
    "POST_CODE": 10,
    "SRC_CODE": 10,
    "COMMENT1": 40,
    "COMMENT2": 40,
    "TO_EMAIL": 50,
    "ART_DESC": 40,
    "HDR_DESC": 40,
    "TRN_DESC": 40,
}
INV_NR_LENGTH = 12
_ZERO = Decimal(0)


def _fit(values: dict[str, Any], warnings: list[Outcome]) -> dict[str, Any]:
    """Character values cut to their field's length, each cut reported once."""
    for name, length in LENGTHS.items():
        value = values.get(name)
        if isinstance(value, str) and len(value) > length:
            values[name] = value[:length]
            warnings.append(
                Outcome(AccountViewCode.VALUE_TRUNCATED, {"system": SYSTEM, "field": name, "length": length})
            )
    return values


def search_code(name: str) -> str:
    """``SRC_CODE`` (mandatory, 10 characters, upper case): the name's letters and digits."""
    return "".join(ch for ch in name.upper() if ch.isalnum())[:10] or "KLANT"


def debtor_values(
    party: Party, settings: AccountViewSettings, *, new: bool, payment_key: str, warnings: list[Outcome]
) -> dict[str, Any]:
    """The CONTACT fields of a debtor for ``party``. No empty value is sent (on an update it would
    wipe what someone entered in AccountView); an update leaves the search code, the collective
    account and the VAT code alone."""
    company = party.company.strip()
    name = company or party.name.strip() or party.email
    email = party.email.strip().lower()
    country = (party.country_code or "NL").upper()
    values: dict[str, Any] = {
        "ACCT_NAME": name,
        "ADDRESS1": " ".join(p for p in (party.street.strip(), party.street2.strip()) if p),
        "POST_CODE": party.postal_code.strip().upper(),
        "CITY": party.city.strip(),
        "CNT_CODE": country,
        "MAIL_BUS": email,
        "TEL_BUS": party.phone.strip(),
        "VAT_NR": party.vat_number.replace(" ", "").upper(),
        "MAIN_CONT": party.name.strip() if company else "",
        "MC_MAILB": email if company else "",
    }
    if new:
        values.update(SRC_CODE=search_code(name), ACCT_NR=settings.collective_account)
        values["VAT_CODE"] = settings.mapped(settings.debtor_vat_codes, country)
    values["DISC_CODE"] = settings.mapped(settings.payment_terms, payment_key)
    return _fit({k: v for k, v in values.items() if v not in ("", None)}, warnings)


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


def _target(line: InvoiceLine, settings: AccountViewSettings) -> tuple[LineTarget, str]:
    if line.kind is LineKind.SHIPPING:
        return settings.shipping_costs, "shipping_costs"
    if line.kind is LineKind.DISCOUNT:
        return settings.discounts, "discounts"
    if line.kind is LineKind.PRODUCT:
        return settings.products_without_sku, "products_without_sku"
    return settings.other_costs, "other_costs"


def line_articles(invoice: Invoice, settings: AccountViewSettings, *, every_line: bool) -> list[str]:
    """The article code each line refers to ("" for none), in line order.

    ``every_line`` (sales orders): a line without one is a ``DataError`` naming the setting that
    would give it; for sales invoices only the products' own SKUs are checked.
    """
    codes: list[str] = []
    for i, line in enumerate(invoice.lines, start=1):
        if line.kind is LineKind.PRODUCT and line.sku.strip():
            codes.append(line.sku.strip().upper())
            continue
        target, setting = _target(line, settings)
        if every_line and not target.article:
            raise DataError(
                AccountViewCode.LINE_WITHOUT_ARTICLE,
                {
                    "system": SYSTEM,
                    "reference": invoice.reference,
                    "line": i,
                    "description": line.description or line.kind.value,
                    "setting": f"{setting}.article",
                },
            )
        codes.append(target.article if every_line else "")
    return codes


def _unit_price(line: InvoiceLine, reference: str, index: int, warnings: list[Outcome]) -> Decimal:
    """The 4-decimal unit price whose ``round(quantity × price)`` is the line total (else the
    nearest, with a warning: AccountView computes the line itself)."""
    quantity = line.quantity or Decimal(1)
    candidates = (line.unit_price_ex, line.total_ex / quantity)
    for candidate in candidates:
        unit = quantize(candidate, 4)
        if round_cents(unit * quantity) == line.total_ex:
            return unit
    unit = quantize(line.total_ex / quantity, 4)
    warnings.append(
        Outcome(
            AccountViewCode.PRICE_NOT_EXACT,
            {
                "system": SYSTEM,
                "reference": reference,
                "line": index,
                "total": line.total_ex,
                "quantity": quantity,
                "booked": round_cents(unit * quantity),
            },
        )
    )
    return unit


def _vat_code(
    line: InvoiceLine, invoice: Invoice, settings: AccountViewSettings, country: str, *, required: bool
) -> str:
    code = settings.vat_code(line, invoice, country)
    if code is None and required:
        raise DataError(
            AccountViewCode.MAPPING_MISSING,
            {
                "system": SYSTEM,
                "reference": invoice.reference,
                "setting": "vat_codes",
                "key": f"{rate_key(line.vat_rate)}% ({country})",
            },
        )
    return code or ""


def order_rows(
    invoice: Invoice,
    settings: AccountViewSettings,
    debtor: str,
    articles: list[str],
    country: str,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[Outcome]]:
    """The SO_HDR row and SO_LINE rows of a sales order, and what the caller should know."""
    warnings: list[Outcome] = []
    shipping = next((line.description for line in invoice.lines if line.kind is LineKind.SHIPPING), "")
    header: dict[str, Any] = {
        "ORD_DATE": dt.datetime.combine(invoice.issue_date, dt.time()),
        "RPL_INV": debtor,
        "COMMENT1": invoice.reference,
        "COMMENT2": invoice.description,
        "TO_EMAIL": invoice.customer.email.strip().lower(),
    }
    method = settings.mapped(settings.shipping_methods, shipping) if shipping else ""
    if method:
        header["SHIP_MTH"] = method
    payment = settings.mapped(settings.payment_methods, invoice.payment_method)
    if payment:
        header[settings.payment_method_field] = payment
    mapped_vat = bool(settings.vat_codes or settings.vat_codes_per_country)
    lines = []
    for i, (line, code) in enumerate(zip(invoice.lines, articles, strict=True), start=1):
        row = {
            "ART_CODE": code,
            "ART_DESC": line.description,
            "ORD_QTY": abs(line.quantity) or Decimal(1),
            "ART_PX": _unit_price(line, invoice.reference, i, warnings) * (1 if line.quantity >= 0 else -1),
        }
        vat = _vat_code(line, invoice, settings, country, required=mapped_vat)
        if vat:
            row["VAT_CODE"] = vat
        lines.append(_fit(row, warnings))
    return _fit(header, warnings), lines, warnings


def page_rows(
    invoice: Invoice,
    settings: AccountViewSettings,
    debtor: str,
    country: str,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[Outcome]]:
    """The DJ_PAGE row and DJ_LINE rows of a sales invoice: one line per revenue account and VAT code."""
    warnings: list[Outcome] = []
    reference = invoice.reference.strip().upper()
    if len(reference) > INV_NR_LENGTH:
        raise DataError(
            AccountViewCode.REFERENCE_TOO_LONG,
            {"system": SYSTEM, "reference": invoice.reference, "length": INV_NR_LENGTH, "field": "INV_NR"},
        )
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for line in invoice.lines:
        target, _ = _target(line, settings)
        own = target.account if line.kind is not LineKind.PRODUCT else ""
        account = own or settings.revenue_account(line.vat_rate, country) or ""
        if not account:
            raise DataError(
                AccountViewCode.MAPPING_MISSING,
                {
                    "system": SYSTEM,
                    "reference": invoice.reference,
                    "setting": "revenue_accounts",
                    "key": f"{country} {rate_key(line.vat_rate)}%",
                },
            )
        vat = _vat_code(line, invoice, settings, country, required=True)
        group = groups.setdefault(
            (account, vat),
            {
                "ACCT_NR": account,
                "VAT_CODE": vat,
                "AMOUNT": _ZERO,
                "VAT_AMT": _ZERO,
                "TRN_DESC": f"{invoice.reference} {rate_key(line.vat_rate)}%",
            },
        )
        group["AMOUNT"] += line.total_ex
        group["VAT_AMT"] += line.vat_amount
    header = {
        "DJ_CODE": settings.sales_journal,
        "HDR_DESC": f"{invoice.reference} {invoice.description}".strip()
        if invoice.reference not in invoice.description
        else invoice.description,
        "SUB_NR": debtor,
        "INV_NR": reference,
        "TRN_DATE": invoice.issue_date,
        "CUR_CODE": invoice.currency.upper(),
    }
    return _fit(header, warnings), [_fit(g, warnings) for g in groups.values()], warnings


# --------------------------------------------------------------------------------------------
# Articles and stock in
# --------------------------------------------------------------------------------------------


def fingerprint(values: Any) -> str:
    """sha256 of a JSON form of ``values`` (what the target gets; stable across reads)."""
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _number(row: Mapping[str, Any], field: str, code: str, purpose: str) -> Decimal:
    if field not in row:
        raise DataError(
            AccountViewCode.FIELD_MISSING,
            {"system": SYSTEM, "number": code, "field": field, "purpose": purpose},
        )
    try:
        return to_decimal(row[field] if row[field] not in (None, "") else 0, field=field)
    except AmountError:
        raise DataError(
            AccountViewCode.FIELD_MISSING,
            {"system": SYSTEM, "number": code, "field": field, "purpose": f"{purpose}: not a number"},
        ) from None


def _text(row: Mapping[str, Any], field: str) -> str:
    value = row.get(field) if field else None
    return "" if value is None else str(value).strip()


def product_of(
    row: Mapping[str, Any],
    options: Mapping[str, Any],
    vat_rates: Mapping[str, Decimal],
    mapping: MappingSpec | None = None,
) -> Product:
    """An ARTICLE row -> ``Product`` through the flow's ``mapping`` (default: ``mapping.
    article_mapping(options)`` — ``ART_DESC2`` short description, ``EAN_CODE`` [S], the options'
    ``article_fields``). The VAT rate (the row's ``VAT_CODE`` in the administration's VAT table),
    the blocked flag, the image (``IMG_MEDIUM`` [V name]) and the attributes are not mapped: they
    need AccountView's own tables or the connection's ``attribute_fields``."""
    from .mapping import article_mapping, article_schema

    code = _text(row, "ART_CODE")
    spec = mapping or article_mapping(options)
    mapped, problems = apply(spec, row, article_schema(options))
    if problems:
        first = problems[0]
        raise DataError(first.code, {**first.params, "system": SYSTEM, "number": code})
    fields = {"image_url": "IMG_MEDIUM", **dict(options.get("article_fields") or {})}
    image = _text(row, fields["image_url"])
    attributes = tuple(
        (name, _text(row, field))
        for name, field in dict(options.get("attribute_fields") or {}).items()
        if _text(row, field)
    )

    def text(name: str) -> str:
        value = mapped.get(name)
        return "" if value is None else str(value)

    return Product(
        source_id=code,
        sku=text("sku") or code,
        name=text("name") or code,
        ean=text("ean"),
        description_short=text("description_short"),
        description_long=text("description_long"),
        price_ex=mapped.get("price_ex"),
        price_inc=mapped.get("price_inc"),
        vat_rate=vat_rates.get(_text(row, "VAT_CODE")),
        currency=text("currency") or "EUR",
        unit=text("unit"),
        active=not bool(row.get("REC_BLK")),
        image_url=image if image.lower().startswith(("http://", "https://")) else "",
        attributes=attributes,
    )


#: the stock figures and their default fields: QTY_AVAIL "beschikbaar" [V name, I meaning], the
#: reservation field [S: no public source names it], QTY_BESTEL on purchase order [V name]
STOCK_FIELDS = {"on_hand": "QTY_AVAIL", "reserved": "QTY_RES", "incoming": "QTY_BESTEL"}


def stock_of(
    row: Mapping[str, Any], options: Mapping[str, Any], mapping: MappingSpec | None = None
) -> StockLevel:
    """An ARTICLE row -> ``StockLevel`` through the flow's ``mapping`` (default: ``mapping.
    stock_mapping(options)``, the fields the connection names in ``stock_fields``; a figure
    without a field counts 0). A field the mapping reads that the answer lacks is a ``DataError``
    naming it, so a wrong guess shows instead of quietly sending 0. Whether stock is managed is
    the article group's (``unmanaged_article_groups``), not mapped."""
    from .mapping import stock_mapping, stock_schema

    code = _text(row, "ART_CODE")
    spec = mapping or stock_mapping(options)
    for rule in spec.rules:
        for field in rule.sources:
            if "." not in field and "[]" not in field and field not in row:
                raise DataError(
                    AccountViewCode.FIELD_MISSING,
                    {"system": SYSTEM, "number": code, "field": field, "purpose": f"stock: {rule.target}"},
                )
    mapped, problems = apply(spec, row, stock_schema(options))
    if problems:
        first = problems[0]
        raise DataError(first.code, {**first.params, "system": SYSTEM, "number": code})
    unmanaged = {str(g).upper() for g in options.get("unmanaged_article_groups", ())}

    def figure(name: str) -> Decimal:
        value = mapped.get(name)
        return _ZERO if value is None else to_decimal(value, field=name)

    return StockLevel(
        sku=str(mapped.get("sku") or "").strip() or code,
        on_hand=figure("on_hand"),
        reserved=figure("reserved"),
        incoming=figure("incoming"),
        managed=_text(row, "AG_CODE").upper() not in unmanaged,
    )


def local_time(value: Any, tz: dt.tzinfo) -> dt.datetime | None:
    """An AccountView ``T`` value (``2026-01-05T08:30:00``, no zone) as an aware datetime."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value)[:19])
    except ValueError:
        return None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def percent(value: Any) -> Decimal | None:
    """A VAT percentage (``VAT_PCT``) as a Decimal, None when it is no number."""
    try:
        return to_decimal(value, field="VAT_PCT")
    except AmountError:
        return None
