"""The vocabulary of ``Bestellingen.xml``: which element names mean which order, line and address
field, and which kinds of line there are.

Element names are matched like CSV headers (``names.match``: case-, accent- and
namespace-insensitive) against the synonym lists below; each list maps to a field code, an index
into the raw value lists the reader collects (``O_*`` order fields, ``L_*`` line fields, ``A_*``
address fields) or, from 100 up, a container element (``C_*``). The reference shape of the file and
what is inferred about it: ``orders`` and ``docs/connectors/strato.md``.
"""

from __future__ import annotations

from . import names

ORDER_ELEMENT_NAMES = frozenset(
    {"order", "bestelling", "bestellung", "auftrag", "salesorder", "webshoporder"}
)

# ---- field codes (indexes into the raw value lists) ---------------------------------------------

(
    O_NUMBER,
    O_DATE,
    O_STATUS,
    O_CURRENCY,
    O_TAX_MODEL,
    O_PRICES_INCL,
    O_CUSTOMER_NUMBER,
    O_PAYMENT_METHOD,
    O_PAYMENT_STATUS,
    O_PAID,
    O_SHIPPING_METHOD,
    O_GRAND_TOTAL,
    O_TOTAL_BEFORE_TAX,
    O_TOTAL_TAX,
    O_VAT_NUMBER,
    O_EMAIL,
    O_COMMENT,
    O_SHIPPING_RATE,
    O_PAYMENT_RATE,
    O_PAID_ON,
) = range(20)
N_ORDER = 20
# container codes
C_BILLING, C_DELIVERY, C_LINES, C_LINE, C_SHIPPING, C_PAYMENT_FEE, C_DISCOUNT, C_TOTALS, C_PAYMENT = range(
    100, 109
)

ORDER_SYNONYMS: dict[int, tuple[str, ...]] = {
    O_NUMBER: (
        "OrderNumber",
        "OrderNo",
        "OrderNr",
        "Ordernummer",
        "Bestelnummer",
        "Bestellnummer",
        "Alias",
        "OrderAlias",
        "OrderID",
        "Auftragsnummer",
        "Number",
        "Nummer",
        "BestellNr",
    ),
    O_DATE: (
        "CreationDate",
        "CreationDateTime",
        "OrderDate",
        "Orderdatum",
        "Besteldatum",
        "Bestelldatum",
        "Datum",
        "Date",
        "Created",
        "CreatedAt",
        "PlacedAt",
    ),
    O_STATUS: ("Status", "OrderStatus", "Bestelstatus", "Bestellstatus"),
    O_CURRENCY: ("Currency", "CurrencyID", "Valuta", "Währung", "Waehrung", "CurrencyCode"),
    O_TAX_MODEL: ("TaxModel", "Belastingmodel", "Steuermodell", "PriceType"),
    O_PRICES_INCL: ("PricesIncludeTax", "PricesIncludingTax", "IsGross", "PrijzenInclBtw", "Bruttopreise"),
    O_CUSTOMER_NUMBER: (
        "CustomerNumber",
        "CustomerNo",
        "CustomerID",
        "Klantnummer",
        "Kundennummer",
        "CustomerAlias",
        "Debiteurnummer",
    ),
    O_PAYMENT_METHOD: (
        "PaymentMethod",
        "PaymentMethodName",
        "PaymentType",
        "Betaalmethode",
        "Betaalwijze",
        "Zahlungsart",
        "Zahlungsmethode",
        "PaymentName",
    ),
    O_PAYMENT_STATUS: ("PaymentStatus", "Betaalstatus", "Zahlungsstatus", "PaymentState"),
    O_PAID: ("Paid", "IsPaid", "Betaald", "Bezahlt"),
    O_SHIPPING_METHOD: (
        "ShippingMethod",
        "ShippingMethodName",
        "Verzendmethode",
        "Versandart",
        "DeliveryMethod",
    ),
    O_GRAND_TOTAL: (
        "GrandTotal",
        "Total",
        "OrderTotal",
        "Totaal",
        "TotaalInclBtw",
        "TotalInclTax",
        "TotalIncludingTax",
        "Gesamtsumme",
        "Gesamtbetrag",
        "Endbetrag",
        "TotalGross",
        "Brutto",
    ),
    O_TOTAL_BEFORE_TAX: (
        "TotalBeforeTax",
        "TotalNet",
        "TotalExclTax",
        "TotaalExclBtw",
        "SubtotalNet",
        "Nettosumme",
        "NetTotal",
        "Netto",
    ),
    O_TOTAL_TAX: (
        "TotalTax",
        "TaxTotal",
        "TotalVat",
        "VatTotal",
        "BtwTotaal",
        "TotaalBtw",
        "Steuersumme",
        "MwSt",
        "Mehrwertsteuer",
        "TaxAmount",
    ),
    O_VAT_NUMBER: ("VATID", "VatNumber", "BtwNummer", "UStIdNr", "TaxID"),
    O_EMAIL: ("EMail", "Email", "CustomerEmail", "EmailAddress"),
    O_COMMENT: ("Comment", "Opmerking", "Bemerkung", "CustomerComment", "Note"),
    O_SHIPPING_RATE: ("ShippingTaxRate", "ShippingVatRate", "VerzendkostenBtw", "VersandkostenSteuersatz"),
    O_PAYMENT_RATE: ("PaymentTaxRate", "PaymentVatRate", "BetaalkostenBtw"),
    # ePages 6: the date the order was paid; present and empty means not paid
    O_PAID_ON: ("PaidOn", "PaidDate", "BetaaldOp", "BezahltAm", "DatePaid"),
    C_BILLING: (
        "BillingAddress",
        "InvoiceAddress",
        "Factuuradres",
        "Rechnungsadresse",
        "BillTo",
        "Address",
        "Customer",
        "Klant",
        "Kunde",
        "Buyer",
    ),
    C_DELIVERY: (
        "ShippingAddress",
        "DeliveryAddress",
        "Afleveradres",
        "Verzendadres",
        "Lieferadresse",
        "ShipTo",
    ),
    C_LINES: (
        "LineItems",
        "ProductLineItems",
        "LineItemContainer",
        "Items",
        "OrderLines",
        "Lines",
        "Regels",
        "Orderregels",
        "Bestelregels",
        "Positionen",
        "Artikelen",
        "Products",
        "Producten",
    ),
    C_LINE: (
        "LineItem",
        "ProductLineItem",
        "Item",
        "OrderLine",
        "Line",
        "Regel",
        "Orderregel",
        "Bestelregel",
        "Position",
        "Artikel",
        "Product",
    ),
    C_SHIPPING: (
        "ShippingLineItem",
        "Shipping",
        "ShippingCosts",
        "ShippingCost",
        "ShippingPrice",
        "Verzendkosten",
        "Versandkosten",
        "Verzending",
    ),
    C_PAYMENT_FEE: (
        "PaymentLineItem",
        "PaymentCosts",
        "PaymentFee",
        "PaymentPrice",
        "Betaalkosten",
        "Transactiekosten",
        "Zahlungskosten",
    ),
    C_DISCOUNT: (
        "DiscountLineItem",
        "Discount",
        "Korting",
        "Rabatt",
        "Coupon",
        "CouponLineItem",
        "BasketDiscount",
    ),
    C_TOTALS: ("Totals", "Totalen", "Summen", "OrderTotals"),
    C_PAYMENT: ("Payment", "PaymentData", "Betaling", "Zahlung"),
}

# index 0 of a raw line holds the kind its container implies
(L_SKU, L_NAME, L_QUANTITY, L_UNIT_PRICE, L_TAX_RATE, L_LINE_TOTAL, L_TAX_AMOUNT, L_KIND) = range(1, 9)
N_LINE = 9
LINE_SYNONYMS: dict[int, tuple[str, ...]] = {
    L_SKU: (
        "ProductNumber",
        "SKU",
        "ArticleNumber",
        "Artikelnummer",
        "Artikelnr",
        "ItemNumber",
        "ProductID",
        "ProductCode",
        "Productnummer",
        "EAN",
    ),
    L_NAME: (
        "Name",
        "Description",
        "Omschrijving",
        "Bezeichnung",
        "ProductName",
        "Title",
        "Titel",
        "Naam",
        "Artikelname",
    ),
    L_QUANTITY: ("Quantity", "Qty", "Aantal", "Menge", "Anzahl", "Stuks", "Stück"),
    L_UNIT_PRICE: (
        "UnitPrice",
        "SinglePrice",
        "SingleItemPrice",
        "PricePerUnit",
        "Stukprijs",
        "Prijs",
        "Einzelpreis",
        "Preis",
        "ItemPrice",
    ),
    L_TAX_RATE: (
        "TaxRate",
        "VatRate",
        "TaxClass",
        "Tax",
        "Btw",
        "BtwTarief",
        "BtwPercentage",
        "Steuersatz",
        "MwStSatz",
        "VatPercentage",
        "TaxPercent",
    ),
    L_LINE_TOTAL: (
        "LineTotal",
        "LineItemPrice",
        "TotalPrice",
        "Total",
        "Totaal",
        "Regeltotaal",
        "Gesamtpreis",
        "Price",
        "LinePrice",
        "Bedrag",
        "Betrag",
        "Kosten",
        "Costs",
    ),
    L_TAX_AMOUNT: ("TaxAmount", "VatAmount", "BtwBedrag", "Steuerbetrag", "LineTax"),
    L_KIND: ("Type", "LineType", "Kind", "Soort", "Typ"),
}

# The payment container (<Payment><Method/><Status/></Payment>) reuses order codes.
PAYMENT_SYNONYMS: dict[int, tuple[str, ...]] = {
    O_PAYMENT_METHOD: ("Method", "Name", "PaymentMethod", "Type", "Methode", "Art"),
    O_PAYMENT_STATUS: ("Status", "PaymentStatus", "State"),
    O_PAID: ("Paid", "IsPaid", "Betaald", "Bezahlt"),
}
TOTALS_SYNONYMS = {k: ORDER_SYNONYMS[k] for k in (O_GRAND_TOTAL, O_TOTAL_BEFORE_TAX, O_TOTAL_TAX)}


def _table(synonyms: dict[int, tuple[str, ...]]) -> dict[str, int]:
    table: dict[str, int] = {}
    for code, words in synonyms.items():
        for word in words:
            key = names.normalise(word)
            if key in table and table[key] != code:
                raise ValueError(f"{word!r} is ambiguous")
            table[key] = code
    return table


ORDER_TABLE = _table(ORDER_SYNONYMS)
LINE_TABLE = _table(LINE_SYNONYMS)
PAYMENT_TABLE = _table(PAYMENT_SYNONYMS)
TOTALS_TABLE = _table(TOTALS_SYNONYMS)
ADDRESS_FIELDS = tuple(names.PARTY_SYNONYMS)
ADDRESS_TABLE = {key: ADDRESS_FIELDS.index(f) for key, f in names.PARTY_TABLE.items()}
A = {f: i for i, f in enumerate(ADDRESS_FIELDS)}
N_ADDRESS = len(ADDRESS_FIELDS)
A_EMAIL, A_VAT, A_CUSTOMER, A_COUNTRY = A["email"], A["vat_number"], A["customer_number"], A["country"]

KIND_PRODUCT, KIND_SHIPPING, KIND_PAYMENT_FEE, KIND_DISCOUNT = (
    "product",
    "shipping",
    "payment_fee",
    "discount",
)
KIND_OF_CONTAINER = {
    C_LINE: KIND_PRODUCT,
    C_SHIPPING: KIND_SHIPPING,
    C_PAYMENT_FEE: KIND_PAYMENT_FEE,
    C_DISCOUNT: KIND_DISCOUNT,
}
KIND_WORDS = {
    **dict.fromkeys(("product", "article", "artikel", "item", "productlineitem"), KIND_PRODUCT),
    **dict.fromkeys(
        ("shipping", "verzending", "verzendkosten", "versand", "versandkosten", "delivery"), KIND_SHIPPING
    ),
    **dict.fromkeys(
        ("payment", "paymentfee", "betaalkosten", "zahlung", "transactiekosten"), KIND_PAYMENT_FEE
    ),
    **dict.fromkeys(("discount", "korting", "rabatt", "coupon", "voucher", "gutschein"), KIND_DISCOUNT),
}
#: order fields that are known (so not reported as unknown) but not used by the conversion
UNUSED_ORDER_FIELDS = frozenset({O_SHIPPING_METHOD, O_COMMENT})
#: how a line of each kind is named in messages (``Order #3/Shipping[4]``)
KIND_LABEL = {
    KIND_PRODUCT: "LineItem",
    KIND_SHIPPING: "Shipping",
    KIND_PAYMENT_FEE: "PaymentFee",
    KIND_DISCOUNT: "Discount",
}
#: the description of a line that has no name of its own
DEFAULT_DESCRIPTION = {
    KIND_PRODUCT: "Product",
    KIND_SHIPPING: "Verzendkosten",
    KIND_PAYMENT_FEE: "Betaalkosten",
    KIND_DISCOUNT: "Korting",
}


def where(kind: str, position: int) -> str:
    """Where a line is within its order, for messages: ``Shipping[4]`` (``position`` 1-based)."""
    return f"{KIND_LABEL[kind]}[{position}]"
