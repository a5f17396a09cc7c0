"""What a flow into AccountView chooses (``AccountViewSettings``), validated with located errors.

Seed 004: orders go in as sales orders (business object SO1) or as sales invoices (a page in the
sales journal, DJ2); a default debtor may take every order (or only private persons'); mappings
translate the source's payment terms and methods, shipping, discounts, VAT codes (per rate, per
country) and revenue accounts (per country) into AccountView codes. Keys are the source's values
(a payment term's name, a VAT rate such as ``21``, a country code); ``*`` is the default. Codes are
upper-cased, as AccountView stores them (``FLD_FMT "!"``), and checked against the field lengths of
the data dictionary [V for CONTACT, DJ_PAGE, DJ_LINE, VAT; S for SO_HDR and ARTICLE].
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from koppeling.core.models import Invoice, InvoiceLine, VatRegime

__all__ = ["AccountViewSettings", "LineTarget", "rate_key"]

_FIELD = re.compile(r"^[A-Z][A-Z0-9_]{0,9}$")
#: regimes that may have a VAT code of their own (keys of ``vat_codes`` besides rates)
REGIME_KEYS = frozenset(
    {
        VatRegime.EU_B2B.value,
        VatRegime.EXPORT.value,
        VatRegime.REVERSE_CHARGE.value,
        VatRegime.EU_B2C_OSS.value,
    }
)


def _code(value: str, length: int) -> str:
    text = value.strip().upper()
    if len(text) > length:
        raise ValueError(f"{text!r} is longer than the {length} characters AccountView keeps")
    return text


def rate_key(rate: Decimal) -> str:
    """A VAT rate as a mapping key: ``21``, ``9``, ``5.5``."""
    return format(rate.normalize(), "f")


def _is_rate(key: str) -> bool:
    try:
        Decimal(key)
    except InvalidOperation:
        return False
    return True


def _is_country(key: str) -> bool:
    return key == "*" or (len(key) == 2 and key.isalpha())


class LineTarget(BaseModel):
    """Where lines of one kind go: the article of a sales-order line (``ART_CODE``), the revenue
    account of a sales-invoice line (``ACCT_NR``; empty: the revenue account per country)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    article: str = ""
    account: str = ""

    @field_validator("article")
    @classmethod
    def _article(cls, value: str) -> str:
        return _code(value, 20)

    @field_validator("account")
    @classmethod
    def _account(cls, value: str) -> str:
        return _code(value, 10)


class AccountViewSettings(BaseModel):
    """A flow into AccountView: orders (as sales orders or invoices) and customers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: "sales_order": SO1 (AccountView prices and invoices it later); "sales_invoice": a DJ2 page
    document_type: Literal["sales_order", "sales_invoice"] = "sales_order"
    #: SUB_NR of a debtor that takes the orders instead of one debtor per customer
    default_debtor: str = ""
    #: which orders the default debtor takes: all, or only those of private persons (no company)
    default_debtor_for: Literal["all", "private"] = "all"
    #: a debtor found by e-mail is updated with the order's customer data
    update_debtors: bool = True
    #: the collective account (ACCT_NR, ledger type "debiteuren") of debtors koppeling creates
    collective_account: str = "1300"
    #: the sales journal (DJ_CODE) of sales invoices
    sales_journal: str = "VRK"
    #: source payment term -> AccountView payment condition (DISC_CODE) of the debtor
    payment_terms: dict[str, str] = Field(default_factory=dict)
    #: source payment method -> the value written to ``payment_method_field`` of a sales order
    payment_methods: dict[str, str] = Field(default_factory=dict)
    #: the SO_HDR field that holds the payment method (the real one is not public [I])
    payment_method_field: str = "COMMENT2"
    #: shipping line description (the delivery method) -> shipping method (SHIP_MTH) of a sales order
    shipping_methods: dict[str, str] = Field(default_factory=dict)
    shipping_costs: LineTarget = Field(default_factory=LineTarget)
    discounts: LineTarget = Field(default_factory=LineTarget)
    #: payment fees, gift cards and other lines that are no product
    other_costs: LineTarget = Field(default_factory=LineTarget)
    #: product lines without a SKU (article of a sales-order line)
    products_without_sku: LineTarget = Field(default_factory=LineTarget)
    #: VAT rate ("21") or regime ("eu_b2b", "export", "reverse_charge", "eu_b2c_oss") -> VAT_CODE
    vat_codes: dict[str, str] = Field(default_factory=dict)
    #: country -> VAT rate -> VAT_CODE (OSS sales), before ``vat_codes``
    vat_codes_per_country: dict[str, dict[str, str]] = Field(default_factory=dict)
    #: country -> VAT_CODE of debtors koppeling creates ("standaard BTW-code per land")
    debtor_vat_codes: dict[str, str] = Field(default_factory=dict)
    #: "NL", "NL:21", "*:9" or "*" -> revenue account (ACCT_NR) of sales-invoice lines
    revenue_accounts: dict[str, str] = Field(default_factory=dict)

    @field_validator("default_debtor", "collective_account")
    @classmethod
    def _ten(cls, value: str) -> str:
        return _code(value, 10)

    @field_validator("sales_journal")
    @classmethod
    def _journal(cls, value: str) -> str:
        return _code(value, 3)

    @field_validator("payment_terms", "debtor_vat_codes")
    @classmethod
    def _two(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        if info.field_name == "debtor_vat_codes":
            bad = [k for k in value if not _is_country(k.upper())]
            if bad:
                raise ValueError(f"{', '.join(bad)}: not a country code (two letters, or *)")
            return {k.upper(): _code(v, 2) for k, v in value.items()}
        return {k: _code(v, 2) for k, v in value.items()}

    @field_validator("payment_methods")
    @classmethod
    def _methods(cls, value: dict[str, str]) -> dict[str, str]:
        return {k: v.strip()[:40] for k, v in value.items()}

    @field_validator("payment_method_field")
    @classmethod
    def _field_name(cls, value: str) -> str:
        text = value.strip().upper()
        if not _FIELD.match(text):
            raise ValueError(f"{value!r} is not an AccountView field name")
        return text

    @field_validator("shipping_methods")
    @classmethod
    def _ship(cls, value: dict[str, str]) -> dict[str, str]:
        return {k: _code(v, 10) for k, v in value.items()}

    @field_validator("vat_codes")
    @classmethod
    def _vat(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k in value if k != "*" and not _is_rate(k) and k not in REGIME_KEYS]
        if bad:
            raise ValueError(
                f"{', '.join(bad)}: not a VAT rate, * or one of {', '.join(sorted(REGIME_KEYS))}"
            )
        return {
            (k if k in REGIME_KEYS or k == "*" else rate_key(Decimal(k))): _code(v, 2)
            for k, v in value.items()
        }

    @field_validator("vat_codes_per_country")
    @classmethod
    def _vat_country(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for country, rates in value.items():
            if not _is_country(country.upper()):
                raise ValueError(f"{country}: not a country code (two letters, or *)")
            bad = [k for k in rates if k != "*" and not _is_rate(k)]
            if bad:
                raise ValueError(f"{country}: {', '.join(bad)} is not a VAT rate")
            out[country.upper()] = {
                (k if k == "*" else rate_key(Decimal(k))): _code(v, 2) for k, v in rates.items()
            }
        return out

    @field_validator("revenue_accounts")
    @classmethod
    def _revenue(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, account in value.items():
            country, _, rate = key.upper().partition(":")
            if not _is_country(country) or (rate and not _is_rate(rate)):
                raise ValueError(f"{key}: use a country (NL), a country and rate (NL:21), *:21 or *")
            out[f"{country}:{rate_key(Decimal(rate))}" if rate else country] = _code(account, 10)
        if info.data.get("document_type") == "sales_invoice" and not out:
            raise ValueError("sales invoices need a revenue account (at least *)")
        return out

    # -- look-ups -----------------------------------------------------------------------------

    def vat_code(self, line: InvoiceLine, invoice: Invoice, country: str) -> str | None:
        """The VAT code of a line: the regime's own, the country's for the rate, the rate's, ``*``."""
        key = rate_key(line.vat_rate)
        if invoice.regime.value in self.vat_codes and invoice.regime is not VatRegime.DOMESTIC:
            return self.vat_codes[invoice.regime.value]
        per_country = self.vat_codes_per_country.get(country, {})
        return (
            per_country.get(key) or self.vat_codes.get(key) or per_country.get("*") or self.vat_codes.get("*")
        )

    def revenue_account(self, rate: Decimal, country: str) -> str | None:
        """The revenue account of a sales-invoice line: "NL:21", then "NL", then "*:21", then "*"."""
        key = rate_key(rate)
        for candidate in (f"{country}:{key}", country, f"*:{key}", "*"):
            if candidate in self.revenue_accounts:
                return self.revenue_accounts[candidate]
        return None

    def takes_default_debtor(self, invoice: Invoice) -> bool:
        """Whether this order goes to the default debtor instead of a debtor of its own."""
        if not self.default_debtor:
            return False
        return self.default_debtor_for == "all" or not invoice.customer.is_business

    def mapped(self, table: dict[str, str], key: str) -> str:
        """The mapping's value for ``key``, else its ``*`` default, else ""."""
        return table.get(key) or table.get("*") or ""


def settings_or_default(settings: Any) -> AccountViewSettings:
    """The flow's settings, or the defaults when a caller passes none (tests, the CLI)."""
    return settings if isinstance(settings, AccountViewSettings) else AccountViewSettings()
