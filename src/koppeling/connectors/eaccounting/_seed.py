"""Deterministic demo data for the eAccounting simulator: reference lists and a Dutch company.

Reference lists (terms of payment, delivery methods, units, article account codings, VAT codes,
countries) use the API's field names; their values are invented for a Dutch company ([S]).
Customers, articles and orders come from Faker (nl_NL) with a fixed seed.
"""

from __future__ import annotations

import random
import uuid
from decimal import Decimal

from ._models import money
from ._resources import Books

__all__ = ["PRODUCTS", "load_reference", "seed_books"]

#: (Name, NameEnglish, NumberOfDays, TermsOfPaymentTypeId, TermsOfPaymentTypeText)
_TERMS = (
    ("30 dagen", "30 days", 30, 0, "Normal"),
    ("14 dagen", "14 days", 14, 0, "Normal"),
    ("Contant", "Cash", 0, 2, "Cash"),
    ("Betaald via webwinkel", "Paid via webshop", 0, 5, "PaymentServiceProvider"),
)
_DELIVERY = (("PostNL", "POSTNL"), ("DHL Parcel", "DHL"), ("Afhalen", "PICKUP"))
_UNITS = (("Stuk", "st", "st"), ("Uur", "h", "h"), ("Kilogram", "kg", "kg"))
#: (Name, NameEnglish, Type, VatRate, VatRatePercent as a fraction)
_CODINGS = (
    ("Verkoop hoog tarief", "Sales standard rate", "Goods", "Standard", "0.21"),
    ("Verkoop laag tarief", "Sales reduced rate", "Goods", "Reduced", "0.09"),
    ("Verkoop vrijgesteld", "Sales exempt", "Goods", "Exempt", "0"),
    ("Diensten hoog tarief", "Services standard rate", "Service", "Standard", "0.21"),
)
_VAT_CODES = (
    ("1", "Verkopen belast hoog tarief", "0.21", (8000, 1600)),
    ("2", "Verkopen belast laag tarief", "0.09", (8010, 1610)),
    ("3", "Verkopen 0% / vrijgesteld", "0", (8020, None)),
    ("4", "Leveringen naar landen binnen de EU", "0", (8030, None)),
    ("5", "Leveringen naar landen buiten de EU", "0", (8040, None)),
)
_COUNTRIES = (
    ("Nederland", "NL", True),
    ("België", "BE", True),
    ("Duitsland", "DE", True),
    ("Frankrijk", "FR", True),
    ("Zweden", "SE", True),
    ("Verenigd Koninkrijk", "GB", False),
    ("Noorwegen", "NO", False),
    ("Verenigde Staten", "US", False),
)
#: (name, net price excl. VAT, coding index, EAN-13 base)
PRODUCTS: tuple[tuple[str, str, int], ...] = (
    ("Katoenen T-shirt", "16.49", 0),
    ("Wollen sjaal", "28.51", 0),
    ("Keramieken mok", "10.70", 0),
    ("Notitieboek A5", "7.02", 0),
    ("Vulpen staal", "22.31", 0),
    ("Canvas tas", "12.39", 0),
    ("Geurkaars vijg", "18.60", 0),
    ("Theedoek linnen", "8.22", 0),
    ("Houten snijplank", "32.23", 0),
    ("Fietsbel retro", "9.30", 0),
    ("Biologische koffie 500g", "8.21", 1),
    ("Losse thee rooibos", "5.96", 1),
    ("Chocoladereep puur", "3.20", 1),
    ("Honing 450g", "7.29", 1),
    ("Kookboek Nederlands", "27.51", 1),
    ("Stroopwafels 8st", "3.90", 1),
    ("Cadeaubon", "25.00", 2),
    ("Montage aan huis", "45.00", 3),
)


def _ean13(rng: random.Random) -> str:
    digits = [8, 7] + [rng.randint(0, 9) for _ in range(10)]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, digits)) + str(check)


def _ref_id(kind: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://eaccounting.sim/{kind}/{name}"))


def load_reference(books: Books) -> None:
    """The reference lists every company has (fixed ids, so tests can name them)."""
    for name, english, days, type_id, type_text in _TERMS:
        ident = _ref_id("terms", name)
        books.terms[ident] = {
            "Id": ident,
            "Name": name,
            "NameEnglish": english,
            "NumberOfDays": days,
            "TermsOfPaymentTypeId": type_id,
            "TermsOfPaymentTypeText": type_text,
            "AvailableForSales": True,
            "AvailableForPurchase": type_id == 0,
        }
    for name, code in _DELIVERY:
        ident = _ref_id("delivery", code)
        books.delivery_methods[ident] = {"Id": ident, "Name": name, "Code": code}
    for name, code, abbreviation in _UNITS:
        ident = _ref_id("unit", code)
        books.units[ident] = {"Id": ident, "Name": name, "Code": code, "Abbreviation": abbreviation}
    for name, english, kind, rate_name, percent in _CODINGS:
        ident = _ref_id("coding", name)
        books.codings[ident] = {
            "Id": ident,
            "Name": name,
            "NameEnglish": english,
            "Type": kind,
            "VatRate": rate_name,
            "IsActive": True,
            "VatRatePercent": Decimal(percent),
            "ChangedUtc": "2025-01-01T00:00:00Z",
        }
    for code, description, rate, (account, vat_account) in _VAT_CODES:
        ident = _ref_id("vatcode", code)
        books.vat_codes[ident] = {
            "Id": ident,
            "Code": code,
            "Description": description,
            "VatRate": Decimal(rate),
            "RelatedAccounts": {
                "AccountNumber1": account,
                "AccountNumber2": vat_account,
                "AccountNumber3": None,
            },
        }
    for name, code, eu in _COUNTRIES:
        books.countries[code] = {"Name": name, "Code": code, "IsEuMember": eu}


def seed_books(books: Books, *, seed: int, customers: int, articles: int, orders: int, invoices: int) -> None:
    """Customers (a quarter companies), articles with stock, orders in every status, invoices."""
    from faker import Faker

    fake = Faker("nl_NL")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    terms = list(books.terms)
    codings = list(books.codings)
    unit = next(iter(books.units))
    customer_ids: list[str] = []
    for index in range(customers):
        company = rng.random() < 0.25
        first, last = fake.first_name(), fake.last_name()
        name = fake.company() if company else f"{first} {last}"
        local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        local = local.encode("ascii", "ignore").decode() or "klant"
        record = books.save_customer(
            {
                "CustomerNumber": str(1001 + index),
                "Name": name[:50],
                "IsPrivatePerson": not company,
                "IsActive": True,
                "EmailAddress": f"{local}{rng.randint(1, 99)}@{fake.free_email_domain()}",
                "InvoiceAddress1": f"{fake.street_name()} {fake.building_number()}"[:50],
                "InvoicePostalCode": fake.postcode(),
                "InvoiceCity": fake.city()[:50],
                "InvoiceCountryCode": "NL",
                "Telephone": fake.phone_number(),
                "TermsOfPaymentId": terms[0 if company else 3],
                "ContactPersonName": f"{first} {last}" if company else None,
            }
        )
        customer_ids.append(record["Id"])
    article_ids: list[str] = []
    for index in range(articles):
        name, price, coding = PRODUCTS[index % len(PRODUCTS)]
        suffix = "" if index < len(PRODUCTS) else f" {index // len(PRODUCTS) + 1}"
        record = books.save_article(
            {
                "Number": f"SKU-{1001 + index}",
                "Name": f"{name}{suffix}"[:50],
                "IsActive": rng.random() > 0.05,
                "NetPrice": Decimal(price),
                "CodingId": codings[coding],
                "UnitId": unit,
                "PurchasePrice": money(Decimal(price) * Decimal("0.55")),
                "StockBalance": Decimal(rng.randint(0, 80)) if coding != 3 else None,
                "IsStock": books.stock_module and coding != 3,
                "Barcodes": [{"Barcode": _ean13(rng), "BarcodeType": 0}] if coding != 3 else [],
            }
        )
        if books.stock_module and coding != 3:
            record["StockBalance"] = Decimal(rng.randint(0, 80))  # as if booked through the stock module
        article_ids.append(record["Id"])
    books.refresh_stock()
    active_articles = [a for a in article_ids if books.articles[a]["IsActive"]]
    statuses = (1, 2, 2, 2, 3)
    for index in range(orders if active_articles and customer_ids else 0):
        rows = []
        for line, article in enumerate(
            rng.sample(active_articles, k=min(len(active_articles), rng.randint(1, 3)))
        ):
            rows.append(
                {
                    "LineNumber": line + 1,
                    "ArticleId": article,
                    "Quantity": Decimal(rng.randint(1, 4)),
                    "IsTextRow": False,
                    "IsWorkCost": False,
                    "EligibleForReverseChargeOnVat": False,
                }
            )
        books.save_order(
            {
                "CustomerId": customer_ids[index % len(customer_ids)],
                "CurrencyCode": books.currency,
                "EuThirdParty": False,
                "OrderDate": f"2026-0{1 + index % 3}-{10 + index % 18:02d}T00:00:00",
                "Status": statuses[index % len(statuses)],
                "RotReducedInvoicingType": 0,
                "ReverseChargeOnConstructionServices": False,
                "YourReference": f"WEB-{5001 + index}",
                "Rows": rows,
            }
        )
    for index in range(invoices if active_articles and customer_ids else 0):
        article = active_articles[index % len(active_articles)]
        books.create_invoice(
            {
                "CustomerId": customer_ids[(index * 3) % len(customer_ids)],
                "EuThirdParty": False,
                "RotReducedInvoicingType": 0,
                "InvoiceDate": f"2026-02-{1 + index % 27:02d}T00:00:00",
                "YourReference": f"WEB-{4001 + index}",
                "Rows": [{"ArticleId": article, "Quantity": Decimal(1 + index % 3), "IsTextRow": False}],
            }
        )
