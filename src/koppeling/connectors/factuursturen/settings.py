"""What a flow into Factuursturen chooses (the Configuratie of the target side), validated.

The seed's installation step 3 — "a relation between the VAT rates of the shop and the VAT rates
and ledger accounts of Factuursturen" — is ``vat_rates``: per shop VAT rate the Factuursturen
rate (a percentage set in the account; the API has no tax id) and the category that carries the
ledger account. Factuursturen takes **one category per invoice**, so an order whose rates map to
different categories is booked on the category of its largest rate group (with a warning) or
stopped (``mixed_categories="stop"``). Debtors: matched on e-mail, unless the payment method has
its own debtor (``payment_method_debtors``, ``"*"`` for every other method); orders without an
e-mail go to ``default_debtor`` or stop (``missing_email``).

>>> s = FactuursturenSettings(vat_rates={"21.0": {"category": 1}, "9": {"tax_rate": "9"}})
>>> sorted(s.vat_rates), s.mapping_for(Decimal("21")).category
(['21', '9'], 1)
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

__all__ = ["FactuursturenSettings", "VatRateMapping", "rate_key"]


def rate_key(value: Any) -> str:
    """A VAT rate as the settings key it is stored under: ``"21"``, ``"5.5"``, ``"0"``.

    >>> rate_key("21.00"), rate_key(Decimal("9")), rate_key("0.0")
    ('21', '9', '0')
    """
    try:
        rate = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a VAT rate (a percentage such as 21 or 9)") from None
    if not rate.is_finite() or not 0 <= rate <= 100:
        raise ValueError(f"{value!r} is not a VAT rate between 0 and 100")
    text = format(rate.normalize(), "f")
    return text if text != "-0" else "0"


RateKey = Annotated[str, AfterValidator(rate_key)]


class VatRateMapping(BaseModel):
    """Where one shop VAT rate goes in Factuursturen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the Factuursturen rate to send (a percentage set in the account); None: the same percentage
    tax_rate: Decimal | None = Field(None, ge=0, le=100)
    #: the Factuursturen category (``GET categories``: id, name, ledger); None: the debtor's default
    category: int | None = Field(None, ge=1)


class FactuursturenSettings(BaseModel):
    """The target settings of a flow into Factuursturen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: shop VAT rate (percent) -> Factuursturen rate and category; every rate an order uses is mapped
    vat_rates: dict[RateKey, VatRateMapping] = Field(min_length=1)
    #: an order whose rates map to several categories: book it on the largest one, or stop it
    mixed_categories: Literal["largest", "stop"] = "largest"
    #: payment method -> Factuursturen debtor number ("one debtor per method"; "*" = every other)
    payment_method_debtors: dict[str, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
    #: an order without an e-mail address: book it on ``default_debtor``, or stop it
    missing_email: Literal["default_debtor", "stop"] = "stop"
    default_debtor: int | None = Field(None, ge=1, validate_default=True)
    #: how new debtors read prices: excl. VAT (exact totals excl.) or incl. VAT (exact paid totals)
    new_debtor_tax_type: Literal["extax", "intax"] = "extax"
    #: "mail": Factuursturen only books it (nobody is e-mailed); "email": it mails the customer
    send_method: Literal["mail", "email"] = "mail"
    #: the invoice layout (``GET profiles``); None: the account's default
    profile: int | None = Field(None, ge=1)

    @field_validator("vat_rates", mode="before")
    @classmethod
    def _one_key_per_rate(cls, value: Any) -> Any:
        if isinstance(value, dict):
            seen: dict[str, str] = {}
            for key in value:
                try:
                    normal = rate_key(key)
                except ValueError:
                    continue  # the key validator reports it, located
                if normal in seen:
                    raise ValueError(f"VAT rate {normal} is mapped twice ({seen[normal]!r} and {key!r})")
                seen[normal] = str(key)
        return value

    @field_validator("default_debtor")
    @classmethod
    def _default_debtor_when_needed(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None and info.data.get("missing_email") == "default_debtor":
            raise ValueError("choose the debtor for orders without an e-mail address (missing_email)")
        return value

    def mapping_for(self, rate: Decimal) -> VatRateMapping | None:
        """The mapping of a shop VAT rate, or None when the configuration has none."""
        return self.vat_rates.get(rate_key(rate))

    def tax_rate_for(self, rate: Decimal) -> Decimal | None:
        mapping = self.mapping_for(rate)
        if mapping is None:
            return None
        return mapping.tax_rate if mapping.tax_rate is not None else Decimal(rate_key(rate))
