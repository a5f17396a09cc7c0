"""The eAccounting company behind the simulator: stored records and the business rules.

What the specs do not say (rounding, which order statuses reserve stock, when stock is issued) is
marked [I]/[S] in ``docs/connectors/eaccounting.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from ._models import EU, ApiError, _decimals, _err, clean, money, not_found, validation_error

__all__ = ["Books", "public"]

_ZERO = Decimal(0)


class Books:
    """One eAccounting company: the stored records (API field names, Decimal money)."""

    def __init__(
        self,
        *,
        now: Callable[[], str],
        new_id: Callable[[], str],
        country: str,
        currency: str,
        stock_module: bool,
    ) -> None:
        self.now = now
        self.new_id = new_id
        self.country = country
        self.currency = currency
        self.stock_module = stock_module
        self.includes_vat = False
        self.customers: dict[str, dict[str, Any]] = {}
        self.articles: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.drafts: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.terms: dict[str, dict[str, Any]] = {}
        self.delivery_methods: dict[str, dict[str, Any]] = {}
        self.countries: dict[str, dict[str, Any]] = {}
        self.units: dict[str, dict[str, Any]] = {}
        self.codings: dict[str, dict[str, Any]] = {}
        self.vat_codes: dict[str, dict[str, Any]] = {}
        self.next_customer = 1001
        self.next_order = 1
        self.next_invoice = 1

    # ------------------------------------------------------------ customers

    def save_customer(self, body: Any, existing: dict[str, Any] | None = None) -> dict[str, Any]:
        values, errors = clean("CustomerApi", body)
        if values.get("TermsOfPaymentId") and values["TermsOfPaymentId"] not in self.terms:
            errors.append(_err("TermsOfPaymentId", "NotFound", "The terms of payment does not exist."))
        if values.get("DeliveryMethodId") and values["DeliveryMethodId"] not in self.delivery_methods:
            errors.append(_err("DeliveryMethodId", "NotFound", "The delivery method does not exist."))
        vat = values.get("VatNumber")
        if vat and not (len(vat) >= 10 and vat[:2].isalpha()):
            errors.append(
                _err(
                    "VatNumber", "InvalidFormat", "Format: 2 character country code followed by 8-12 numbers."
                )
            )
        if errors:
            raise validation_error(errors)
        number = values.get("CustomerNumber") or (existing or {}).get("CustomerNumber")
        if not number:
            number = str(self.next_customer)
        own_id = (existing or {}).get("Id")
        if any(c["CustomerNumber"] == number and c["Id"] != own_id for c in self.customers.values()):
            raise ApiError(400, 4000, f"Conflict - A customer with customer number {number} already exists")
        if number.isdigit():
            self.next_customer = max(self.next_customer, int(number) + 1)
        record = dict(existing) if existing else {"Id": self.new_id()}
        record.update(values)
        record["CustomerNumber"] = number
        record["CurrencyCode"] = values.get("CurrencyCode") or self.currency
        record["InvoiceCountryCode"] = values.get("InvoiceCountryCode") or self.country
        record.setdefault("LastInvoiceDate", None)
        record["TermsOfPayment"] = self.terms[record["TermsOfPaymentId"]]
        record["PayToAccountId"] = None
        record["IsFutureInvoiceDateAllowed"] = True
        record["ChangedUtc"] = self.now()
        self.customers[record["Id"]] = record
        return record

    def delete_customer(self, ident: str) -> None:
        if ident not in self.customers:
            raise not_found("Customer", ident)
        used = [
            o
            for o in [*self.orders.values(), *self.invoices.values(), *self.drafts.values()]
            if o.get("CustomerId") == ident
        ]
        if used:
            raise ApiError(400, 4001, "CanNotBeDeleted - The customer has documents and cannot be deleted")
        del self.customers[ident]

    # ------------------------------------------------------------ articles

    def save_article(self, body: Any, existing: dict[str, Any] | None = None) -> dict[str, Any]:
        values, errors = clean("ArticleApi", body)
        coding = self.codings.get(values.get("CodingId") or "")
        if values.get("CodingId") and coding is None:
            errors.append(_err("CodingId", "NotFound", "The article account coding does not exist."))
        if values.get("UnitId") and values["UnitId"] not in self.units:
            errors.append(_err("UnitId", "NotFound", "The unit does not exist."))
        for name in ("NetPrice", "GrossPrice"):
            price = values.get(name)
            if price is not None and (price < 0 or price > 99_000_000 or _decimals(price) > 2):
                errors.append(_err(name, "InvalidValue", f"{name}: max 2 decimals, between 0 and 99000000."))
        barcodes = values.get("Barcodes") or []
        if len(barcodes) > 1 or any(not isinstance(b, dict) or not b.get("Barcode") for b in barcodes):
            errors.append(_err("Barcodes", "InvalidValue", "Only one barcode (BarcodeType 0) is supported."))
        if values.get("IsStock") and (not self.stock_module or (coding and coding["Type"] != "Goods")):
            errors.append(
                _err(
                    "IsStock",
                    "InvalidValue",
                    "Article can be a stock article only with the stock module and a Goods coding.",
                )
            )
        if errors:
            raise validation_error(errors)
        own_id = (existing or {}).get("Id")
        number = values["Number"]
        if any(a["Number"].lower() == number.lower() and a["Id"] != own_id for a in self.articles.values()):
            raise ApiError(400, 4000, f"Conflict - An article with number {number} already exists")
        rate = Decimal(str(coding["VatRatePercent"])) if coding else _ZERO
        if values.get("NetPrice") is None and values.get("GrossPrice") is not None:
            values["NetPrice"] = money(values["GrossPrice"] / (1 + rate))
        if values.get("GrossPrice") is None:
            values["GrossPrice"] = money((values.get("NetPrice") or _ZERO) * (1 + rate))
        values["NetPrice"] = values.get("NetPrice") or _ZERO
        values["Barcodes"] = [{"Barcode": str(b["Barcode"]), "BarcodeType": 0} for b in barcodes]
        stock = values.pop("StockBalance", None)
        record = dict(existing) if existing else {"Id": self.new_id()}
        record.update(values)
        now = self.now()
        if not self.stock_module and stock is not None and stock != record.get("StockBalance"):
            record["StockBalance"] = stock  # read-only while the stock module is on: then ignored
            record["StockBalanceManuallyChangedUtc"] = now
        record.setdefault("StockBalance", _ZERO)
        record.setdefault("StockBalanceManuallyChangedUtc", None)
        record.setdefault("CreatedUtc", now)
        record["ChangedUtc"] = now
        record["CodingName"] = coding["Name"] if coding else None
        record["IsServiceArticle"] = bool(coding and coding["Type"] == "Service")
        unit = self.units[record["UnitId"]]
        record["UnitName"], record["UnitAbbreviation"] = unit["Name"], unit["Abbreviation"]
        self.articles[record["Id"]] = record
        self.refresh_stock()
        return record

    def refresh_stock(self) -> None:
        """StockBalanceReserved = open quantity on Ongoing orders; Available = Balance - Reserved."""
        reserved: dict[str, Decimal] = {}
        for order in self.orders.values():
            if order["Status"] != 2:
                continue
            for row in order["Rows"]:
                if row.get("ArticleId"):
                    open_qty = (row.get("Quantity") or _ZERO) - (row.get("DeliveredQuantity") or _ZERO)
                    reserved[row["ArticleId"]] = reserved.get(row["ArticleId"], _ZERO) + max(open_qty, _ZERO)
        for article in self.articles.values():
            balance = article.get("StockBalance") or _ZERO
            article["StockBalanceReserved"] = reserved.get(article["Id"], _ZERO)
            article["StockBalanceAvailable"] = balance - article["StockBalanceReserved"]
            article["StockValue"] = money(balance * (article.get("PurchasePrice") or _ZERO))

    def _issue_stock(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            article = self.articles.get(row.get("ArticleId") or "")
            if article and article.get("IsStock"):
                article["StockBalance"] = (article.get("StockBalance") or _ZERO) - (
                    row.get("Quantity") or _ZERO
                )

    # ------------------------------------------------------------ document rows and totals

    def _rows(self, type_name: str, rows: list[Any], customer: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for index, raw in enumerate(rows):
            prefix = f"Rows[{index}]."
            values, row_errors = clean(type_name, raw, prefix)
            errors.extend(row_errors)
            if row_errors:
                continue
            values["LineNumber"] = values.get("LineNumber") or index + 1
            if values.get("IsTextRow"):
                if not values.get("Text"):
                    errors.append(_err(prefix + "Text", "Required", "A text row needs a Text."))
                values.update(ArticleId=None, UnitPrice=None, Quantity=None)
                out.append(values)
                continue
            article = self.articles.get(values.get("ArticleId") or "")
            if article is None:
                errors.append(
                    _err(
                        prefix + "ArticleId",
                        "NotFound",
                        "ArticleId is required and must refer to an existing article.",
                    )
                )
                continue
            if not article["IsActive"]:
                errors.append(_err(prefix + "ArticleId", "Inactive", "The article is not active."))
            if values.get("Quantity") is None:
                values["Quantity"] = Decimal(1)
            if values.get("UnitPrice") is None:
                values["UnitPrice"] = article["GrossPrice"] if self.includes_vat else article["NetPrice"]
            decimals = 2 if customer.get("InvoiceCountryCode", self.country) == self.country else 4
            if _decimals(values["UnitPrice"]) > decimals:
                errors.append(
                    _err(prefix + "UnitPrice", "InvalidValue", f"UnitPrice: max {decimals} decimals.")
                )
            discount = values.get("DiscountPercentage") or _ZERO
            if discount < 0 or discount > 1:
                errors.append(
                    _err(
                        prefix + "DiscountPercentage",
                        "InvalidValue",
                        "DiscountPercentage is a fraction between 0 and 1.",
                    )
                )
            values["ArticleNumber"] = article["Number"]
            values["Text"] = values.get("Text") or article["Name"]
            values["_rate"] = self.vat_rate(article, customer)
            out.append(values)
        if errors:
            raise validation_error(errors)
        return out

    def vat_rate(self, article: Mapping[str, Any], customer: Mapping[str, Any]) -> Decimal:
        country = customer.get("InvoiceCountryCode") or self.country
        if country != self.country and (country not in EU or customer.get("VatNumber")):
            return _ZERO  # export, or EU B2B with a VAT number: no VAT (simplified)
        coding = self.codings[article["CodingId"]]
        return Decimal(str(coding["VatRatePercent"]))

    @staticmethod
    def totals(rows: list[dict[str, Any]]) -> tuple[Decimal, Decimal, dict[Decimal, Decimal]]:
        """(net total, VAT total, net per rate); line nets and VAT per rate rounded half-up."""
        per_rate: dict[Decimal, Decimal] = {}
        for row in rows:
            if row.get("IsTextRow") or row.get("Quantity") is None:
                continue
            discount = row.get("DiscountPercentage") or _ZERO
            net = money(row["Quantity"] * row["UnitPrice"] * (1 - discount))
            row["_net"] = net
            per_rate[row["_rate"]] = per_rate.get(row["_rate"], _ZERO) + net
        net_total = sum(per_rate.values(), _ZERO)
        vat_total = sum((money(amount * rate) for rate, amount in per_rate.items()), _ZERO)
        return net_total, vat_total, per_rate

    def _customer(self, ident: str | None) -> dict[str, Any]:
        customer = self.customers.get(ident or "")
        if customer is None:
            raise validation_error([_err("CustomerId", "NotFound", "The customer does not exist.")])
        if not customer["IsActive"]:
            raise validation_error([_err("CustomerId", "Inactive", "The customer is not active.")])
        return customer

    # ------------------------------------------------------------ orders

    def save_order(self, body: Any, existing: dict[str, Any] | None = None) -> dict[str, Any]:
        if existing is not None and existing["Status"] == 4:
            raise ApiError(400, 4002, "CanNotBeCreatedOrUpdated - An invoiced order cannot be changed")
        values, errors = clean("OrderApi", body)
        if values.get("Status") not in (None, 1, 2, 3, 4):
            errors.append(
                _err("Status", "InvalidValue", "Status: 1 = Draft, 2 = Ongoing, 3 = Shipped, 4 = Invoiced.")
            )
        elif values.get("Status") == 4:
            errors.append(
                _err("Status", "InvalidValue", "Use POST /v2/orders/{id}/convert to invoice an order.")
            )
        if errors:
            raise validation_error(errors)
        customer = self._customer(values["CustomerId"])
        rows = self._rows("OrderRowApi", values.pop("Rows"), customer)
        net, vat, _ = self.totals(rows)
        record = dict(existing) if existing else {"Id": self.new_id()}
        old_status = record.get("Status")
        record.update(values)
        record["Rows"] = [self._public_row(r) for r in rows]
        record["_rows"] = rows
        record.update(Amount=net, VatAmount=vat, RoundingsAmount=_ZERO)
        delivered = [r for r in rows if r.get("DeliveredQuantity")]
        record["DeliveredAmount"] = sum(
            (money(r["DeliveredQuantity"] * r["UnitPrice"]) for r in delivered), _ZERO
        )
        record["DeliveredVatAmount"] = sum(
            (money(r["DeliveredQuantity"] * r["UnitPrice"] * r["_rate"]) for r in delivered), _ZERO
        )
        record["DeliveredRoundingsAmount"] = _ZERO
        record["InvoiceCustomerName"] = customer["Name"]
        record["CustomerIsPrivatePerson"] = customer["IsPrivatePerson"]
        for side in ("Invoice", "Delivery"):
            for part in ("Address1", "Address2", "PostalCode", "City", "CountryCode"):
                key = f"{side}{part}"
                record[key] = record.get(key) or customer.get(f"Invoice{part}")
        record["DeliveryCustomerName"] = record.get("DeliveryCustomerName") or customer["Name"]
        if "Number" not in record:
            record["Number"] = self.next_order
            self.next_order += 1
        now = self.now()
        record.setdefault("CreatedUtc", now)
        record["ModifiedUtc"] = now
        if old_status in (None, 1, 2) and record["Status"] == 3:
            self._issue_stock(rows)
            record["ShippedDateTime"] = record.get("ShippedDateTime") or now
        self.orders[record["Id"]] = record
        self.refresh_stock()
        return record

    @staticmethod
    def _public_row(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if not k.startswith("_")}

    def delete_order(self, ident: str) -> None:
        order = self.orders.get(ident)
        if order is None:
            raise not_found("Order", ident)
        if order["Status"] == 4:
            raise ApiError(400, 4001, "CanNotBeDeleted - An invoiced order cannot be deleted")
        del self.orders[ident]
        self.refresh_stock()

    def convert_order(self, ident: str) -> dict[str, Any]:
        order = self.orders.get(ident)
        if order is None:
            raise not_found("Order", ident)
        if order["Status"] == 4:
            raise ApiError(400, 4002, "CanNotBeCreatedOrUpdated - The order is already invoiced")
        customer = self.customers[order["CustomerId"]]
        if order["Status"] in (1, 2):
            self._issue_stock(order["_rows"])
        invoice = self._invoice(
            customer,
            order["_rows"],
            {
                "EuThirdParty": order["EuThirdParty"],
                "YourReference": order.get("YourReference"),
                "OurReference": order.get("OurReference"),
            },
        )
        invoice["CreatedFromOrderId"] = ident
        order["Status"] = 4
        order["ModifiedUtc"] = self.now()
        self.refresh_stock()
        return invoice

    # ------------------------------------------------------------ drafts and invoices

    def save_draft(self, body: Any, existing: dict[str, Any] | None = None) -> dict[str, Any]:
        values, errors = clean("CustomerInvoiceDraftApi", body)
        if errors:
            raise validation_error(errors)
        customer = self._customer(values["CustomerId"])
        rows = self._rows("CustomerInvoiceDraftRowApi", values.pop("Rows"), customer)
        net, vat, _ = self.totals(rows)
        sign = -1 if values.get("IsCreditInvoice") else 1
        record = dict(existing) if existing else {"Id": self.new_id()}
        record.update(values)
        record["Rows"] = [self._public_row(r) for r in rows]
        record["_rows"] = rows
        record.update(
            TotalAmount=sign * (net + vat),
            TotalVatAmount=sign * vat,
            TotalRoundings=_ZERO,
            IncludesVat=self.includes_vat,
            CustomerNumber=customer["CustomerNumber"],
            InvoiceCustomerName=customer["Name"],
            InvoicePostalCode=customer["InvoicePostalCode"],
            InvoiceCity=customer["InvoiceCity"],
            InvoiceCountryCode=customer["InvoiceCountryCode"],
            InvoiceCurrencyCode=customer["CurrencyCode"],
            CustomerIsPrivatePerson=customer["IsPrivatePerson"],
        )
        record.setdefault("CreatedUtc", self.now())
        self.drafts[record["Id"]] = record
        return record

    def convert_draft(self, ident: str) -> dict[str, Any]:
        draft = self.drafts.pop(ident, None)
        if draft is None:
            raise not_found("CustomerInvoiceDraft", ident)
        customer = self.customers[draft["CustomerId"]]
        self._issue_stock(draft["_rows"])
        invoice = self._invoice(customer, draft["_rows"], draft)
        invoice["CreatedFromDraftId"] = ident
        self.refresh_stock()
        return invoice

    def create_invoice(self, body: Any) -> dict[str, Any]:
        values, errors = clean("CustomerInvoiceApi", body)
        if errors:
            raise validation_error(errors)
        customer = self._customer(values["CustomerId"])
        rows = self._rows("CustomerInvoiceRowApi", values.pop("Rows"), customer)
        self._issue_stock(rows)
        invoice = self._invoice(customer, rows, values)
        self.refresh_stock()
        return invoice

    def _invoice(
        self, customer: dict[str, Any], rows: list[dict[str, Any]], head: Mapping[str, Any]
    ) -> dict[str, Any]:
        net, vat, per_rate = self.totals(rows)
        sign = -1 if head.get("IsCreditInvoice") else 1
        now = self.now()
        today = now[:10] + "T00:00:00"
        terms = self.terms[customer["TermsOfPaymentId"]]
        invoice_date = head.get("InvoiceDate") or today
        due = dt.date.fromisoformat(invoice_date[:10]) + dt.timedelta(days=int(terms["NumberOfDays"]))
        total = sign * (net + vat)
        invoice = {
            "Id": self.new_id(),
            "EuThirdParty": bool(head.get("EuThirdParty")),
            "IsCreditInvoice": bool(head.get("IsCreditInvoice")),
            "CurrencyCode": customer["CurrencyCode"],
            "CurrencyRate": Decimal(1),
            "TotalAmount": total,
            "TotalVatAmount": sign * vat,
            "TotalRoundings": _ZERO,
            "TotalAmountInvoiceCurrency": total,
            "TotalVatAmountInvoiceCurrency": sign * vat,
            "CustomerId": customer["Id"],
            "Rows": [
                {
                    "Id": self.new_id(),
                    "ArticleNumber": r.get("ArticleNumber"),
                    "ArticleId": r.get("ArticleId"),
                    "AmountNoVat": r.get("_net"),
                    "PercentVat": r.get("_rate"),
                    "LineNumber": r["LineNumber"],
                    "IsTextRow": bool(r.get("IsTextRow")),
                    "Text": r.get("Text"),
                    "UnitPrice": r.get("UnitPrice"),
                    "DiscountPercentage": r.get("DiscountPercentage") or _ZERO,
                    "Quantity": r.get("Quantity"),
                    "IsWorkCost": False,
                    "IsVatFree": r.get("_rate") == _ZERO,
                }
                for r in rows
            ],
            "VatSpecification": [
                {
                    "AmountInvoiceCurrency": sign * amount,
                    "VatAmountInvoiceCurrency": sign * money(amount * rate),
                    "VatPercent": rate,
                }
                for rate, amount in sorted(per_rate.items())
            ],
            "InvoiceDate": invoice_date,
            "DueDate": due.isoformat() + "T00:00:00",
            "DeliveryDate": head.get("DeliveryDate"),
            "RotReducedInvoicingType": 0,
            "OurReference": head.get("OurReference"),
            "YourReference": head.get("YourReference"),
            "BuyersOrderReference": head.get("BuyersOrderReference"),
            "InvoiceCustomerName": customer["Name"],
            "InvoiceAddress1": customer.get("InvoiceAddress1"),
            "InvoiceAddress2": customer.get("InvoiceAddress2"),
            "InvoicePostalCode": customer["InvoicePostalCode"],
            "InvoiceCity": customer["InvoiceCity"],
            "InvoiceCountryCode": customer["InvoiceCountryCode"],
            "CustomerIsPrivatePerson": customer["IsPrivatePerson"],
            "TermsOfPaymentId": customer["TermsOfPaymentId"],
            "CustomerEmail": customer.get("EmailAddress"),
            "InvoiceNumber": self.next_invoice,
            "CustomerNumber": customer["CustomerNumber"],
            "RemainingAmount": total,
            "RemainingAmountInvoiceCurrency": total,
            "CreatedFromOrderId": None,
            "CreatedFromDraftId": None,
            "VoucherNumber": f"F {self.next_invoice}",
            "CreatedUtc": now,
            "ModifiedUtc": now,
            "IncludesVat": self.includes_vat,
            "SendType": int(head.get("SendType") or 0),
        }
        self.next_invoice += 1
        customer["LastInvoiceDate"] = invoice_date
        self.invoices[invoice["Id"]] = invoice
        return invoice


def public(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored record as the API shows it (without our private ``_`` keys)."""
    return {k: v for k, v in record.items() if not k.startswith("_")}
