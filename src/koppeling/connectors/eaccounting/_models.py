"""The eAccounting API models the simulator accepts: property names, kinds, lengths, write rules.

Names, lengths and required flags come from the v2 specs (2020 Swagger in
/work/shared/api-notes/specs; the 2025 OpenAPI 3 file of api-evangelist/visma). Validation texts
are our own ([S]); the error body shape (``ErrorCode`` 2000 with an ``Errors`` list of
``Field``/``ErrorCode``/``Message``/``Key``) is the spec's ``CommonExtendedBadRequest``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

__all__ = ["EU", "FIELDS", "ApiError", "F", "clean", "field_names", "money", "not_found", "validation_error"]

_CENT = Decimal("0.01")
_ZERO = Decimal(0)
EU = frozenset("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())


class ApiError(Exception):
    """An answer with the eAccounting error body (``ErrorCode``, ``DeveloperErrorMessage`` …)."""

    def __init__(
        self, status: int, code: int, message: str, errors: Iterable[Mapping[str, Any]] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = [dict(e) for e in errors]


def validation_error(errors: list[dict[str, Any]]) -> ApiError:
    text = "; ".join(f"{e['Field']}: {e['Message']}" for e in errors)
    return ApiError(400, 2000, f"DataModelValidationError - {text}", errors)


def not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, 3000, f"ResourceNotFound - {kind} with id {ident} was not found")


@dataclass(frozen=True, slots=True)
class F:
    """One property of an API model: its JSON name, kind, length and write rules."""

    name: str
    kind: str = "str"  # str bool uuid num int date list obj
    max_len: int | None = None
    required: bool = False
    readonly: bool = False
    default: Any = None


def _fields(*specs: F) -> tuple[F, ...]:
    return specs


FIELDS: dict[str, tuple[F, ...]] = {
    "CustomerApi": _fields(
        F("Id", "uuid", readonly=True),
        F("CustomerNumber", max_len=16),
        F("CorporateIdentityNumber", max_len=20),
        F("ContactPersonEmail", max_len=255),
        F("ContactPersonMobile", max_len=50),
        F("ContactPersonName", max_len=100),
        F("ContactPersonPhone", max_len=50),
        F("CurrencyCode", max_len=3),
        F("EmailAddress", max_len=255),
        F("InvoiceAddress1", max_len=50),
        F("InvoiceAddress2", max_len=50),
        F("InvoiceCity", max_len=50, required=True),
        F("InvoiceCountryCode", max_len=2),
        F("InvoicePostalCode", max_len=10, required=True),
        F("DeliveryCustomerName", max_len=100),
        F("DeliveryAddress1", max_len=50),
        F("DeliveryAddress2", max_len=50),
        F("DeliveryCity", max_len=50),
        F("DeliveryCountryCode", max_len=2),
        F("DeliveryPostalCode", max_len=10),
        F("DeliveryMethodId", "uuid"),
        F("DeliveryTermId", "uuid"),
        F("PayToAccountId", "uuid", readonly=True),
        F("Name", max_len=50, required=True),
        F("Note", max_len=4000),
        F("ReverseChargeOnConstructionServices", "bool", default=False),
        F("WebshopCustomerNumber", "int"),
        F("MobilePhone", max_len=50),
        F("Telephone", max_len=50),
        F("TermsOfPaymentId", "uuid", required=True),
        F("TermsOfPayment", "obj", readonly=True),
        F("VatNumber", max_len=20),
        F("WwwAddress", max_len=255),
        F("LastInvoiceDate", "date", readonly=True),
        F("IsPrivatePerson", "bool", required=True),
        F("DiscountPercentage", "num", default=_ZERO),
        F("ChangedUtc", "date", readonly=True),
        F("IsActive", "bool", required=True),
        F("ForceBookkeepVat", "bool", default=False),
        F("EdiGlnNumber", max_len=255),
        F("SalesDocumentLanguage", max_len=2),
        F("ElectronicAddress", max_len=255),
        F("ElectronicReference", max_len=35),
        F("EmailAddresses", "list", default=()),
        F("CustomerLabels", "list", default=()),
        F("IsFutureInvoiceDateAllowed", "bool", readonly=True),
    ),
    "ArticleApi": _fields(
        F("Id", "uuid", readonly=True),
        F("IsActive", "bool", required=True),
        F("Number", max_len=40, required=True),
        F("Name", max_len=50, required=True),
        F("NameEnglish", max_len=50),
        F("NetPrice", "num"),
        F("GrossPrice", "num"),
        F("CodingId", "uuid", required=True),
        F("CodingName", readonly=True),
        F("UnitId", "uuid", required=True),
        F("UnitName", readonly=True),
        F("UnitAbbreviation", readonly=True),
        F("StockBalance", "num"),
        F("StockBalanceManuallyChangedUtc", "date", readonly=True),
        F("StockBalanceReserved", "num", readonly=True),
        F("StockBalanceAvailable", "num", readonly=True),
        F("CreatedUtc", "date", readonly=True),
        F("ChangedUtc", "date", readonly=True),
        F("PurchasePrice", "num", default=_ZERO),
        F("SendToWebshop", "bool", default=True),
        F("UsesMoss", "bool", default=False),
        F("ArticleLabels", "list", default=()),
        F("IsStock", "bool", default=False),
        F("StockLocationReference", max_len=50),
        F("FreightCosts", "num", default=_ZERO),
        F("Barcodes", "list", default=()),
        F("StockValue", "num", readonly=True),
        F("Note", max_len=4000),
        F("IsServiceArticle", "bool", readonly=True),
    ),
    "OrderApi": _fields(
        F("Id", "uuid", readonly=True),
        F("Amount", "num", readonly=True),
        F("CustomerId", "uuid", required=True),
        F("CurrencyCode", max_len=3, required=True),
        F("CreatedUtc", "date", readonly=True),
        F("VatAmount", "num", readonly=True),
        F("RoundingsAmount", "num", readonly=True),
        F("DeliveredAmount", "num", readonly=True),
        F("DeliveredVatAmount", "num", readonly=True),
        F("DeliveredRoundingsAmount", "num", readonly=True),
        F("DeliveryCustomerName", max_len=50),
        F("DeliveryAddress1", max_len=50),
        F("DeliveryAddress2", max_len=50),
        F("DeliveryPostalCode", max_len=10),
        F("DeliveryCity", max_len=50),
        F("DeliveryCountryCode", max_len=2),
        F("YourReference", max_len=50),
        F("OurReference", max_len=50),
        F("InvoiceAddress1", max_len=50),
        F("InvoiceAddress2", max_len=50),
        F("InvoiceCity", max_len=50),
        F("InvoiceCountryCode", max_len=2),
        F("InvoiceCustomerName", max_len=50, readonly=True),
        F("InvoicePostalCode", max_len=10),
        F("DeliveryMethodName", max_len=50),
        F("DeliveryMethodCode", max_len=20),
        F("DeliveryTermName", max_len=50),
        F("DeliveryTermCode", max_len=20),
        F("EuThirdParty", "bool", required=True),
        F("CustomerIsPrivatePerson", "bool", readonly=True),
        F("OrderDate", "date", required=True),
        F("Status", "int", required=True),
        F("Number", "int", readonly=True),
        F("ModifiedUtc", "date", readonly=True),
        F("DeliveryDate", "date"),
        F("Rows", "list", default=()),
        F("ShippedDateTime", "date"),
        F("RotReducedInvoicingType", "int", required=True),
        F("ReverseChargeOnConstructionServices", "bool", required=True),
    ),
    "OrderRowApi": _fields(
        F("LineNumber", "int", required=True),
        F("DeliveredQuantity", "num", default=_ZERO),
        F("ArticleId", "uuid"),
        F("ArticleNumber", max_len=40, readonly=True),
        F("IsTextRow", "bool", required=True),
        F("Text", max_len=2000),
        F("UnitPrice", "num"),
        F("DiscountPercentage", "num", default=_ZERO),
        F("Quantity", "num"),
        F("IsWorkCost", "bool", required=True),
        F("EligibleForReverseChargeOnVat", "bool", required=True),
        F("CostCenterItemId1", "uuid"),
        F("Id", "uuid", readonly=True),
        F("ProjectId", "uuid"),
    ),
    "CustomerInvoiceDraftApi": _fields(
        F("Id", "uuid", readonly=True),
        F("CustomerId", "uuid", required=True),
        F("CreatedUtc", "date", readonly=True),
        F("IsCreditInvoice", "bool", default=False),
        F("RotReducedInvoicingType", "int", required=True),
        F("Rows", "list", default=()),
        F("YourReference", max_len=100),
        F("OurReference", max_len=100),
        F("BuyersOrderReference", max_len=35),
        F("InvoiceCustomerName", readonly=True),
        F("InvoiceAddress1", max_len=50),
        F("InvoiceAddress2", max_len=50),
        F("InvoicePostalCode", readonly=True),
        F("InvoiceCity", readonly=True),
        F("InvoiceCountryCode", readonly=True),
        F("InvoiceCurrencyCode", readonly=True),
        F("DeliveryCustomerName", max_len=50),
        F("DeliveryAddress1", max_len=50),
        F("DeliveryAddress2", max_len=50),
        F("DeliveryPostalCode", max_len=10),
        F("DeliveryCity", max_len=50),
        F("DeliveryCountryCode", max_len=2),
        F("DeliveryMethodName", max_len=50),
        F("DeliveryMethodCode", max_len=20),
        F("EuThirdParty", "bool", required=True),
        F("CustomerIsPrivatePerson", "bool", readonly=True),
        F("InvoiceDate", "date"),
        F("DeliveryDate", "date"),
        F("TotalAmount", "num", readonly=True),
        F("TotalVatAmount", "num", readonly=True),
        F("TotalRoundings", "num", readonly=True),
        F("CustomerNumber", readonly=True),
        F("IncludesVat", "bool", readonly=True),
    ),
    "CustomerInvoiceDraftRowApi": _fields(
        F("Id", "uuid", readonly=True),
        F("LineNumber", "int"),
        F("ArticleId", "uuid"),
        F("ArticleNumber", readonly=True),
        F("IsTextRow", "bool", required=True),
        F("Text", max_len=2000),
        F("UnitPrice", "num"),
        F("DiscountPercentage", "num", default=_ZERO),
        F("Quantity", "num"),
        F("IsWorkCost", "bool", default=False),
        F("ReversedConstructionServicesVatFree", "bool", required=True),
        F("VatRateId", readonly=True),
        F("UnitAbbreviation", readonly=True),
    ),
    "CustomerInvoiceApi": _fields(
        F("Id", "uuid", readonly=True),
        F("EuThirdParty", "bool", required=True),
        F("IsCreditInvoice", "bool", default=False),
        F("CurrencyCode", readonly=True),
        F("TotalAmount", "num", readonly=True),
        F("TotalVatAmount", "num", readonly=True),
        F("TotalRoundings", "num", readonly=True),
        F("TotalAmountInvoiceCurrency", "num", readonly=True),
        F("TotalVatAmountInvoiceCurrency", "num", readonly=True),
        F("CustomerId", "uuid", required=True),
        F("Rows", "list", required=True),
        F("VatSpecification", "list", readonly=True),
        F("InvoiceDate", "date"),
        F("DueDate", "date"),
        F("DeliveryDate", "date"),
        F("RotReducedInvoicingType", "int", required=True),
        F("OurReference", max_len=50),
        F("YourReference", max_len=50),
        F("BuyersOrderReference", max_len=35),
        F("InvoiceCustomerName", readonly=True),
        F("InvoiceAddress1", max_len=50),
        F("InvoiceAddress2", max_len=50),
        F("InvoicePostalCode", max_len=50),
        F("InvoiceCity", max_len=50),
        F("InvoiceCountryCode", max_len=2),
        F("CustomerIsPrivatePerson", "bool", readonly=True),
        F("TermsOfPaymentId", "uuid", readonly=True),
        F("CustomerEmail", readonly=True),
        F("InvoiceNumber", "int", readonly=True),
        F("CustomerNumber", readonly=True),
        F("RemainingAmount", "num", readonly=True),
        F("RemainingAmountInvoiceCurrency", "num", readonly=True),
        F("CreatedFromOrderId", "uuid", readonly=True),
        F("CreatedFromDraftId", "uuid", readonly=True),
        F("VoucherNumber", readonly=True),
        F("CreatedUtc", "date", readonly=True),
        F("ModifiedUtc", "date", readonly=True),
        F("IncludesVat", "bool", readonly=True),
        F("SendType", "int", default=0),
    ),
    "CustomerInvoiceRowApi": _fields(
        F("Id", "uuid", readonly=True),
        F("ArticleNumber", readonly=True),
        F("ArticleId", "uuid"),
        F("AmountNoVat", "num", readonly=True),
        F("PercentVat", "num", readonly=True),
        F("LineNumber", "int"),
        F("IsTextRow", "bool", default=False),
        F("Text"),
        F("UnitPrice", "num"),
        F("DiscountPercentage", "num", default=_ZERO),
        F("Quantity", "num"),
        F("IsWorkCost", "bool", default=False),
        F("IsVatFree", "bool", default=False),
        F("UnitId", "uuid"),
    ),
}
FIELDS["TermsOfPaymentApi"] = tuple(
    F(n)
    for n in (
        "Id Name NameEnglish NumberOfDays TermsOfPaymentTypeId TermsOfPaymentTypeText "
        "AvailableForSales AvailableForPurchase"
    ).split()
)
FIELDS["DeliveryMethodApi"] = (F("Id"), F("Name"), F("Code"))
FIELDS["CountryApi"] = (F("Name"), F("Code"), F("IsEuMember"))
FIELDS["UnitApi"] = (F("Id"), F("Name"), F("Code"), F("Abbreviation"))
FIELDS["ArticleAccountCodingAPI"] = tuple(
    F(n) for n in "Id Name NameEnglish Type VatRate IsActive VatRatePercent ChangedUtc".split()
)
FIELDS["VatCode"] = (F("Id"), F("Code"), F("Description"), F("VatRate"), F("RelatedAccounts"))


def field_names(type_name: str) -> list[str]:
    return [f.name for f in FIELDS[type_name]]


def _err(field: str, code: str, message: str) -> dict[str, Any]:
    return {"Field": field, "ErrorCode": code, "Message": message, "Key": None}


def _coerce(spec: F, value: Any) -> tuple[Any, str | None]:
    """(value in our representation, error text or None)."""
    if value is None:
        return None, None
    kind = spec.kind
    if kind == "str":
        if not isinstance(value, str):
            return None, f"The field {spec.name} must be a string."
        if spec.max_len is not None and len(value) > spec.max_len:
            return None, f"The field {spec.name} must be a string with a maximum length of {spec.max_len}."
        return value, None
    if kind == "bool":
        return (
            (value, None) if isinstance(value, bool) else (None, f"The field {spec.name} must be a boolean.")
        )
    if kind == "uuid":
        try:
            return str(uuid.UUID(str(value))), None
        except ValueError:
            return None, f"The value '{value}' is not valid for {spec.name}."
    if kind in ("num", "int"):
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            return None, f"The field {spec.name} must be a number."
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None, f"The value '{value}' is not valid for {spec.name}."
        if kind == "int":
            if number != number.to_integral_value():
                return None, f"The field {spec.name} must be an integer."
            return int(number), None
        return number, None
    if kind == "date":
        if not isinstance(value, str):
            return None, f"The value '{value}' is not a valid date for {spec.name}."
        try:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None, f"The value '{value}' is not a valid date for {spec.name}."
        return value, None
    if kind == "list":
        return (
            (list(value), None)
            if isinstance(value, list)
            else (None, f"The field {spec.name} must be an array.")
        )
    return value, None


def clean(type_name: str, body: Any, prefix: str = "") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The writable fields of ``body`` checked against the model; missing ones get defaults."""
    if not isinstance(body, dict):
        return {}, [_err(prefix or type_name, "InvalidModel", "The request body must be a JSON object.")]
    lowered = {str(k).lower(): v for k, v in body.items()}
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for spec in FIELDS[type_name]:
        if spec.readonly:
            continue
        raw = lowered.get(spec.name.lower())
        value, problem = _coerce(spec, raw)
        label = f"{prefix}{spec.name}"
        if problem:
            errors.append(_err(label, "InvalidValue", problem))
            continue
        if value is None or (spec.kind == "str" and value == "" and spec.required):
            if spec.required:
                errors.append(_err(label, "Required", f"The {spec.name} field is required."))
                continue
            value = list(spec.default) if isinstance(spec.default, tuple) else spec.default
        values[spec.name] = value
    return values, errors


def money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _decimals(value: Decimal | None) -> int:
    if value is None:
        return 0
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
