"""Streaming reader for ``Bestellingen.xml``, the Strato Webshop Pro orders export ("Exporteren als
XML-bestand").

Format reading ``strato-bestellingen/1`` — **inferred**: neither Strato nor ePages publishes the
element names of this export (see ``docs/connectors/strato.md`` for what was searched and what is
known). The reader therefore matches element names the same tolerant way as CSV headers
(``names``): case-, accent- and namespace-insensitive, Dutch/German/English and ePages names. The
reference shape, which our sample files and benchmark generator write, is::

    <Orders>                                   root: any name
      <Order>                                  one per order: Order | Bestelling | Bestellung | Auftrag
        <OrderNumber>1001</OrderNumber>        required (Alias, Bestelnummer, Bestellnummer, ...)
        <CreationDate>2024-03-05T14:12:09+01:00</CreationDate>   required (ISO or dd-mm-yyyy)
        <Status>Bezahlt</Status>               optional, informative
        <Currency>EUR</Currency>               optional, default EUR
        <TaxModel>gross</TaxModel>             gross (prices incl. VAT, default) | net
        <CustomerNumber>10001</CustomerNumber> optional
        <BillingAddress>                       the invoice address: any Klanten.csv field name
          <Company/><FirstName/><LastName/><Street/><Zipcode/><City/><CountryID>NL</CountryID>
          <EMail/><Phone/><VATID/>
        </BillingAddress>
        <ShippingAddress>...</ShippingAddress> optional; only its country is used
        <PaymentMethod>PayPal</PaymentMethod>  decides the output file (Bank, PayPal, ...)
        <PaymentStatus>paid</PaymentStatus>    optional; paid unless it says otherwise
        <LineItems>                            container (ProductLineItems, Items, Regels, ...)
          <LineItem>                           one per product line
            <ProductNumber/> <Name/>           SKU and description
            <Quantity>2</Quantity>             required, > 0
            <UnitPrice>12.50</UnitPrice>       per the tax model (incl. VAT when gross)
            <TaxRate>21</TaxRate>              required, percent
            <LineTotal>25.00</LineTotal>       optional (else quantity x unit price)
            <TaxAmount/>                       optional VAT of the line
          </LineItem>
        </LineItems>
        <ShippingLineItem><Name/><Price>6.95</Price><TaxRate>21</TaxRate></ShippingLineItem>
        <PaymentLineItem>...</PaymentLineItem>   payment fee, same fields
        <DiscountLineItem>...</DiscountLineItem> negative amount
        <TotalBeforeTax/> <TotalTax/>          optional
        <GrandTotal>31.95</GrandTotal>         required: what the customer paid, incl. VAT
      </Order>
    </Orders>

``ShippingCosts``/``PaymentCosts`` written as plain amounts directly under the order (with an
optional ``ShippingTaxRate``) are read as a shipping/payment line too.

Streaming: ``lxml.etree.iterparse`` yields each completed order element; after it is read the
element is cleared and its already-read siblings are deleted, so memory stays flat whatever the
file size. Entities are not resolved and the network is never used (no XXE).

What this module does **not** do: decide amounts, VAT or totals. It turns XML into
``StratoOrder`` records with ``Decimal`` values and located ``Issue``\\ s; the converter
(``koppeling.convert``) checks rates and totals and writes the Acumulus files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import BinaryIO

from lxml import etree

from . import names
from .amounts import AmountProblem, parse_amount, parse_date, parse_rate
from .issues import Issue, Severity, UnusableInput, clip
from .textfile import binary_kind

FORMAT_VERSION = "strato-bestellingen/1"

ORDER_ELEMENT_NAMES = frozenset(
    {"order", "bestelling", "bestellung", "auftrag", "salesorder", "webshoporder"}
)
#: how many start tags the reader looks at to find the first order element
PEEK_LIMIT = 5000

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
) = range(19)
N_ORDER = 19
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
_KIND_OF_CONTAINER = {
    C_LINE: KIND_PRODUCT,
    C_SHIPPING: KIND_SHIPPING,
    C_PAYMENT_FEE: KIND_PAYMENT_FEE,
    C_DISCOUNT: KIND_DISCOUNT,
}
_KIND_WORDS = {
    **dict.fromkeys(("product", "article", "artikel", "item", "productlineitem"), KIND_PRODUCT),
    **dict.fromkeys(
        ("shipping", "verzending", "verzendkosten", "versand", "versandkosten", "delivery"), KIND_SHIPPING
    ),
    **dict.fromkeys(
        ("payment", "paymentfee", "betaalkosten", "zahlung", "transactiekosten"), KIND_PAYMENT_FEE
    ),
    **dict.fromkeys(("discount", "korting", "rabatt", "coupon", "voucher", "gutschein"), KIND_DISCOUNT),
}
_MISS = object()


# ---- records ------------------------------------------------------------------------------------


class StratoLine(tuple):
    """One order line: ``(kind, sku, description, quantity, unit_price, rate, total, tax_amount)`` —
    a tuple with named fields. Identical lines in a file are the *same* object (the reader
    remembers lines it has parsed), which lets the converter remember their amounts.

    ``unit_price`` and ``total`` follow the order's tax model (incl. VAT when gross); ``total`` None
    means quantity x unit price. Where the line is in the file: ``StratoOrder.line_numbers``.
    """

    __slots__ = ()
    _fields = ("kind", "sku", "description", "quantity", "unit_price", "rate", "total", "tax_amount")

    kind = property(itemgetter(0))
    sku = property(itemgetter(1))
    description = property(itemgetter(2))
    quantity = property(itemgetter(3))
    unit_price = property(itemgetter(4))
    rate = property(itemgetter(5))
    total = property(itemgetter(6))
    tax_amount = property(itemgetter(7))


@dataclass(slots=True)
class StratoOrder:
    """One order from Bestellingen.xml, parsed but not yet judged (rates, totals: the converter)."""

    index: int  # 1-based position of the order element in the file
    line: int | None  # where the order element starts
    number: str
    date: dt.date
    gross: bool  # prices include VAT
    currency: str
    customer_number: str
    billing: list[str]  # address values, stripped, indexed by ADDRESS_FIELDS ("" when absent)
    delivery_country: str  # ISO code of the ShippingAddress country, "" when none
    payment_method: str
    paid: bool
    status: str
    lines: list[StratoLine]
    line_numbers: list[int | None]  # source line of each line element
    grand_total: Decimal
    total_before_tax: Decimal | None
    total_tax: Decimal | None
    warnings: list[Issue] = field(default_factory=list)

    def address(self, name: str) -> str:
        return self.billing[A[name]]

    def line_element(self, i: int) -> str:
        """Where line ``i`` (0-based) is, for messages: ``Order #3/Shipping[4]``."""
        return f"Order #{self.index}/{_KIND_LABEL[self.lines[i][0]]}[{i + 1}]"

    @property
    def country(self) -> str:
        raw = self.billing[A_COUNTRY]
        return (names.country_code(raw) or "") if raw else ""

    @property
    def element(self) -> str:
        return f"Order #{self.index}"


@dataclass(slots=True)
class OrderError:
    """An order that could not be parsed: everything known about where and why."""

    index: int
    line: int | None
    number: str
    issues: list[Issue]


# ---- the reader ---------------------------------------------------------------------------------


class WrongEncoding(Exception):
    """The XML is not in the encoding it declares; the caller may re-read as Windows-1252."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _is_encoding_error(exc: etree.XMLSyntaxError) -> bool:
    msg = (exc.msg or str(exc)).lower()
    return exc.code in (9, 81) or "encoding" in msg or "utf-8" in msg


class OrderReader:
    """Stream orders out of ``source`` (a path or a seekable binary file).

    Iterating yields, for each complete order element, a ``StratoOrder`` or an ``OrderError``
    (the order's located issues). After iteration, ``broken`` holds
    the located issue if the XML broke off (not well-formed / truncated) — every order before the
    break was yielded. ``unknown_elements`` lists element names that were ignored.

    ``encoding`` overrides the file's declared encoding (used after ``WrongEncoding``).
    ``progress`` is called now and then with the number of bytes read so far.
    """

    def __init__(
        self,
        source: str | BinaryIO,
        label: str = "Bestellingen.xml",
        *,
        encoding: str | None = None,
        progress=None,
    ) -> None:
        self.label = label
        self.encoding = encoding
        self.progress = progress
        self._own = isinstance(source, str)
        self.stream: BinaryIO = open(source, "rb") if isinstance(source, str) else source
        self.broken: Issue | None = None
        self.unknown_elements: dict[str, str] = {}  # normalised -> as written
        self.orders_seen = 0
        self.order_tag = self._find_order_tag()
        self._maps: dict[int, dict] = {}
        self._date_cache: dict[str, dt.date] = {}
        self._rate_cache: dict[str | None, Decimal] = {}
        self._qty_cache: dict[str | None, Decimal] = {}
        self._amounts: dict[str, Decimal] = {}
        self._flags_cache: dict[tuple, tuple[bool, bool]] = {}
        self._line_memo: dict[tuple, StratoLine] = {}
        self._country_tags: tuple[str, ...] = ()
        self._codes: dict[str, str] = {}

    def close(self) -> None:
        if self._own:
            self.stream.close()

    # -- first look: is this XML at all, and what is an order called here? ------------------------

    def _find_order_tag(self) -> str:
        stream = self.stream
        stream.seek(0)
        head = stream.read(4096)
        if not head.strip(b" \t\r\n\xef\xbb\xbf"):
            raise UnusableInput(self.label, "the file is empty")
        kind = binary_kind(head)
        if kind:
            raise UnusableInput(self.label, f"this is {kind}, not an XML orders export")
        stream.seek(0)
        seen = 0
        root = None
        try:
            for _event, el in etree.iterparse(
                stream,
                events=("start",),
                encoding=self.encoding,
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
                remove_comments=True,
            ):
                tag = el.tag
                if not isinstance(tag, str):
                    continue
                local = tag.rsplit("}", 1)[-1]
                if root is None:
                    root = local
                if names.normalise(local) in ORDER_ELEMENT_NAMES and seen > 0:
                    return tag
                seen += 1
                if seen > PEEK_LIMIT:
                    break
        except etree.XMLSyntaxError as exc:
            if root is None:
                if _is_encoding_error(exc) and self.encoding is None:
                    raise WrongEncoding(exc.lineno, exc.msg) from None
                raise UnusableInput(
                    self.label,
                    f"not an XML file ({exc.msg}); is this the Strato orders export?",
                    line=exc.lineno,
                ) from None
            if _is_encoding_error(exc) and self.encoding is None:
                raise WrongEncoding(exc.lineno, exc.msg) from None
            raise UnusableInput(
                self.label,
                f"the XML breaks off before the first complete order ({exc.msg})",
                line=exc.lineno,
            ) from None
        finally:
            stream.seek(0)
        raise UnusableInput(
            self.label,
            f"no order elements found under <{root}> (expected <Order>, <Bestelling> or <Bestellung>); "
            "is this the Strato orders export (Bestellingen.xml)?",
        )

    # -- the stream ------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[StratoOrder | OrderError]:
        """Each complete order element, parsed: a ``StratoOrder`` or an ``OrderError``."""
        stream = self.stream
        stream.seek(0)
        context = etree.iterparse(
            stream,
            events=("end",),
            tag=self.order_tag,
            encoding=self.encoding,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            remove_comments=True,
            remove_pis=True,
        )
        omap = self._map(0)
        lmap = self._map(1)
        lcmap = self._map(2)
        amap = self._map(3)
        learn = self._learn
        flat = self._flat
        address = self._address
        finish = self._finish
        progress = self.progress
        kind_of = _KIND_OF_CONTAINER
        memo = self._line_memo
        index = 0
        try:
            for _event, el in context:
                index += 1
                values = [None] * N_ORDER
                billing = delivery = None
                # lines seen before are taken from the memo at once; new ones (raw tuples) are parsed
                # once the whole order is read (a shipping line may take its rate from the order)
                lines: list = []
                numbers: list[int | None] = []
                fresh = False
                for c in el:
                    tag = c.tag
                    try:
                        code = omap[tag]
                    except KeyError:
                        code = learn(0, tag)
                    if code is None:
                        continue
                    if code < 100:
                        values[code] = c.text
                    elif code == C_BILLING:
                        billing = address(c, amap)
                    elif code == C_LINES:
                        for li in c:
                            try:
                                lcode = lcmap[li.tag]
                            except KeyError:
                                lcode = learn(2, li.tag)
                            if lcode is None:
                                continue
                            lv = [kind_of[lcode], None, None, None, None, None, None, None, None]
                            for d in li:
                                try:
                                    dcode = lmap[d.tag]
                                except KeyError:
                                    dcode = learn(1, d.tag)
                                if dcode is not None:
                                    lv[dcode] = d.text
                            key = tuple(lv)
                            parsed = memo.get(key)
                            if parsed is None:
                                fresh = True
                                parsed = key
                            lines.append(parsed)
                            numbers.append(li.sourceline)
                    elif code in kind_of:
                        lv = [kind_of[code], None, None, None, None, None, None, None, None]
                        if len(c):
                            for d in c:
                                dcode = lmap.get(d.tag, _MISS)
                                if dcode is _MISS:
                                    dcode = learn(1, d.tag)
                                if dcode is not None:
                                    lv[dcode] = d.text
                        elif c.text and c.text.strip():  # <ShippingCosts>6.95</ShippingCosts>
                            lv[L_LINE_TOTAL] = c.text
                        else:
                            continue
                        key = tuple(lv)
                        parsed = memo.get(key)
                        if parsed is None:
                            fresh = True
                            parsed = key
                        lines.append(parsed)
                        numbers.append(c.sourceline)
                    elif code == C_DELIVERY:
                        delivery = self._delivery_country(c, amap)
                    elif code == C_PAYMENT or code == C_TOTALS:
                        which = 4 if code == C_PAYMENT else 5
                        for k, v in enumerate(flat(c, self._map(which), which, N_ORDER)):
                            if v is not None:
                                values[k] = v
                sline = el.sourceline
                el.clear(keep_tail=True)
                parent = el.getparent()
                if parent is not None:
                    while el.getprevious() is not None:
                        del parent[0]
                if progress is not None and not index & 1023:
                    progress(stream.tell())
                yield finish(index, sline, values, billing, delivery, lines, numbers, fresh)
        except etree.XMLSyntaxError as exc:
            if _is_encoding_error(exc) and self.encoding is None:
                raise WrongEncoding(exc.lineno, exc.msg) from None
            self.broken = Issue(
                self.label,
                exc.lineno or None,
                f"after Order #{index}",
                "xml",
                "",
                f"the XML is not well-formed or breaks off here ({exc.msg}); the {index} complete "
                "order(s) before this point were read, anything from here on was not",
            )
        finally:
            self.orders_seen = index
            if progress is not None:
                progress(stream.tell())

    def _map(self, which: int) -> dict:
        return self._maps.setdefault(which, {})

    _TABLES = (ORDER_TABLE, LINE_TABLE, ORDER_TABLE, ADDRESS_TABLE, PAYMENT_TABLE, TOTALS_TABLE)

    def _learn(self, which: int, tag) -> int | None:
        code: int | None = None
        if isinstance(tag, str):
            table = self._TABLES[which]
            prefixes = names.ADDRESS_PREFIXES if which == 3 else ()
            code = names.match(tag, table, prefixes)
            if which == 2 and code not in _KIND_OF_CONTAINER:
                code = None  # inside a line container only line elements count
            if which == 0 and code in _UNUSED_ORDER_FIELDS:
                self._maps.setdefault(which, {})[tag] = None  # known, but nothing to convert: not read
                return None
            if code is None:
                local = tag.rsplit("}", 1)[-1]
                self.unknown_elements.setdefault(names.normalise(local), local)
        self._maps.setdefault(which, {})[tag] = code
        return code

    def _flat(self, el, cmap: dict, which: int, n: int) -> list:
        values = [None] * n
        for c in el:
            tag = c.tag
            code = cmap.get(tag, _MISS)
            if code is _MISS:
                code = self._learn(which, tag)
            if code is not None and code < 100:
                values[code] = c.text
        return values

    def _delivery_country(self, el, amap: dict) -> str:
        """Only the country of the delivery address is used (for the VAT country): once the
        address tags are known, lxml finds it in C without visiting the other fields."""
        tags = self._country_tags
        if tags:
            for c in el.iterchildren(*tags):
                return (c.text or "").strip()
        values = self._address(el, amap)
        self._country_tags = tuple(t for t, code in amap.items() if code == A_COUNTRY and isinstance(t, str))
        return values[A_COUNTRY]

    def _address(self, el, amap: dict) -> list[str]:
        """An address element's fields, stripped; "" for absent ones."""
        values = [""] * N_ADDRESS
        for c in el:
            tag = c.tag
            try:
                code = amap[tag]
            except KeyError:
                code = self._learn(3, tag)
            if code is not None:
                text = c.text
                if text:
                    values[code] = text.strip()
        return values

    # -- values -----------------------------------------------------------------------------------
    #
    # Plain machine amounts ("12.50") are parsed once and remembered (prices repeat a lot in real
    # shops); the caches are bounded and only ever hold values that parsed without any remark.

    AMOUNT_CACHE_SIZE = 50_000

    LINE_MEMO_SIZE = 20_000

    def _parse_line(
        self, v: tuple, sline, pos: int, index: int, values: list, issues: list
    ) -> StratoLine | None:
        """Parse one raw line (``v[0]`` the kind, then the L_* texts); remembered when clean."""
        kind = v[0]
        if v[L_KIND] is not None:
            kind = _KIND_WORDS.get(names.normalise(v[L_KIND]), kind)
        before = len(issues)
        cache = self._amounts
        text = v[L_QUANTITY]
        quantity = self._qty_cache.get(text)
        if quantity is None:
            quantity = self._quantity(text, kind, sline, pos, index, values, issues)
            if quantity is None:
                return None
        text = v[L_UNIT_PRICE]
        unit = None if text is None else cache.get(text)
        if unit is None and text is not None:
            unit = self._amount(text, sline, index, _where(kind, pos), values, "UnitPrice", issues)
        text = v[L_LINE_TOTAL]
        total = None if text is None else cache.get(text)
        if total is None and text is not None:
            total = self._amount(text, sline, index, _where(kind, pos), values, "LineTotal", issues)
        if unit is None and total is None:
            if v[L_UNIT_PRICE] is None and v[L_LINE_TOTAL] is None:
                issues.append(
                    self._issue(
                        sline,
                        index,
                        _where(kind, pos),
                        "UnitPrice",
                        "",
                        "missing required field: a unit price or a line total",
                        values,
                    )
                )
            return None
        text = v[L_TAX_AMOUNT]
        tax_amount = None if text is None else cache.get(text)
        if tax_amount is None and text is not None:
            tax_amount = self._amount(text, sline, index, _where(kind, pos), values, "TaxAmount", issues)
        text = v[L_TAX_RATE]
        inherited = False
        if text is None and kind is not KIND_PRODUCT:
            text = values[O_SHIPPING_RATE] if kind is KIND_SHIPPING else values[O_PAYMENT_RATE]
            inherited = text is not None
        rate = self._rate_cache.get(text)
        if rate is None:
            rate = self._rate(text, unit, total, kind, sline, pos, index, values, issues)
            if rate is None:
                return None
        sku = v[L_SKU]
        name = v[L_NAME]
        name = name.strip() if name else ""
        line = tuple.__new__(
            StratoLine,
            (
                kind,
                sku.strip() if sku else "",
                name or _DEFAULT_DESCRIPTION[kind],
                quantity,
                unit,
                rate,
                total,
                tax_amount,
            ),
        )
        if len(issues) == before and not inherited:
            memo = self._line_memo
            if len(memo) >= self.LINE_MEMO_SIZE:
                memo.clear()
            memo[v] = line
        return line

    def _finish(
        self, index, sline, values, billing_raw, delivery, lines, numbers, fresh
    ) -> StratoOrder | OrderError:
        issues: list[Issue] = []
        if fresh:  # parse the lines not seen before (raw tuples, not StratoLine)
            parsed_lines: list[StratoLine] = []
            parsed_numbers: list[int | None] = []
            for position, (line, line_number) in enumerate(zip(lines, numbers, strict=True), 1):
                if type(line) is not StratoLine:
                    line = self._line_memo.get(line) or self._parse_line(
                        line, line_number, position, index, values, issues
                    )
                    if line is None:
                        continue
                parsed_lines.append(line)
                parsed_numbers.append(line_number)
            lines, numbers = parsed_lines, parsed_numbers
        number = values[O_NUMBER]
        number = number.strip() if number else ""
        if not number:
            issues.append(
                self._issue(
                    sline, index, "", "OrderNumber", "", "missing required field: the order number", values
                )
            )
        date_text = values[O_DATE]
        date = self._date_cache.get(date_text[:10]) if date_text else None
        if date is None:
            date = self._date(date_text, sline, index, values, issues)
        # order totals are mostly unique: parsed directly when plain, not remembered
        text = values[O_GRAND_TOTAL]
        grand = _plain(text) if text is not None else None
        if grand is None:
            grand = self._amount(text, sline, index, "", values, "GrandTotal", issues, required=True)
        text = values[O_TOTAL_BEFORE_TAX]
        net = None if text is None else _plain(text)
        if net is None and text is not None:
            net = self._amount(text, sline, index, "", values, "TotalBeforeTax", issues)
        text = values[O_TOTAL_TAX]
        tax = None if text is None else _plain(text)
        if tax is None and text is not None:
            tax = self._amount(text, sline, index, "", values, "TotalTax", issues)
        if not lines and not issues:
            issues.append(
                self._issue(
                    sline,
                    index,
                    "",
                    "LineItems",
                    "",
                    "missing required field: the order has no lines",
                    values,
                )
            )
        if issues:
            for issue in issues:
                if issue.severity is Severity.ERROR:
                    return OrderError(index, sline, number, [_with_number(i, number) for i in issues])
            issues = [_with_number(i, number) for i in issues]
        billing = billing_raw or [""] * N_ADDRESS
        if not billing[A_EMAIL] and values[O_EMAIL]:
            billing[A_EMAIL] = values[O_EMAIL].strip()
        if not billing[A_VAT] and values[O_VAT_NUMBER]:
            billing[A_VAT] = values[O_VAT_NUMBER].strip()
        customer = values[O_CUSTOMER_NUMBER]
        customer = customer.strip() if customer else billing[A_CUSTOMER]
        delivery_country = ""
        if delivery:
            delivery_country = self._codes.get(delivery)
            if delivery_country is None:
                delivery_country = self._codes[delivery] = names.country_code(delivery) or ""
        flags = (values[O_TAX_MODEL], values[O_PRICES_INCL], values[O_PAYMENT_STATUS], values[O_PAID])
        gross_paid = self._flags_cache.get(flags)
        if gross_paid is None:
            gross_paid = self._flags_cache[flags] = (_gross(flags[0], flags[1]), _paid(flags[2], flags[3]))
        currency = values[O_CURRENCY]
        method = values[O_PAYMENT_METHOD]
        status = values[O_STATUS]
        return StratoOrder(
            index,
            sline,
            number,
            date,
            gross_paid[0],  # type: ignore[arg-type]
            (currency.strip().upper() or "EUR") if currency else "EUR",
            customer,
            billing,
            delivery_country,
            method.strip() if method else "",
            gross_paid[1],
            status.strip() if status else "",
            lines,
            numbers,
            grand,
            net,
            tax,
            issues,  # type: ignore[arg-type]
        )

    def _issue(
        self, line, index, where, fieldname, value, reason, values=None, severity=Severity.ERROR
    ) -> Issue:
        element = f"Order #{index}{'/' + where if where else ''}"
        number = (values[O_NUMBER] or "").strip() if values is not None else ""
        return Issue(self.label, line, element, fieldname, clip(value), reason, severity, number)

    def _date(self, text, sline, index, values, issues: list[Issue]) -> dt.date | None:
        if text is None or not text.strip():
            issues.append(
                self._issue(
                    sline, index, "", "CreationDate", "", "missing required field: the order date", values
                )
            )
            return None
        try:
            date = parse_date(text)
        except AmountProblem as exc:
            issues.append(self._issue(sline, index, "", "CreationDate", text, str(exc), values))
            return None
        if len(self._date_cache) < 20000:
            self._date_cache[text[:10]] = date
        return date

    def _amount(
        self, text, line, index, where, values, fieldname, issues, *, required=False
    ) -> Decimal | None:
        if text is None or not text.strip():
            if required:
                issues.append(
                    self._issue(
                        line, index, where, fieldname, "", f"missing required field: {fieldname}", values
                    )
                )
            return None
        try:
            value, warning = parse_amount(text)
        except AmountProblem as exc:
            issues.append(self._issue(line, index, where, fieldname, text, str(exc), values))
            return None
        if warning:
            issues.append(self._issue(line, index, where, fieldname, text, warning, values, Severity.WARNING))
        elif len(self._amounts) < self.AMOUNT_CACHE_SIZE:
            self._amounts[text] = value
        return value

    def _quantity(self, text, kind, sline, pos, index, values, issues) -> Decimal | None:
        where = _where(kind, pos)
        if text is None or not text.strip():
            if kind is KIND_PRODUCT:
                issues.append(
                    self._issue(
                        sline, index, where, "Quantity", "", "missing required field: the quantity", values
                    )
                )
                return None
            return Decimal(1)
        found: list[Issue] = []
        quantity = self._amount(text, sline, index, where, values, "Quantity", found)
        issues.extend(found)
        if quantity is None:
            return None
        if quantity <= 0:
            reason = (
                (
                    "negative quantity: returns and credits are not part of an orders export; book them as a "
                    "credit invoice"
                )
                if quantity < 0
                else "zero quantity"
            )
            issues.append(self._issue(sline, index, where, "Quantity", text, reason, values))
            return None
        if not found and len(self._qty_cache) < 1000:
            self._qty_cache[text] = quantity
        return quantity

    def _rate(self, text, unit, total, kind, sline, pos, index, values, issues) -> Decimal | None:
        where = _where(kind, pos)
        if text is None or not text.strip():
            if (total is not None and not total) or (total is None and not unit):
                return Decimal(0)  # a free line needs no rate
            issues.append(
                self._issue(
                    sline, index, where, "TaxRate", "", "missing required field: the VAT rate", values
                )
            )
            return None
        try:
            rate, warning = parse_rate(text)
        except AmountProblem as exc:
            issues.append(self._issue(sline, index, where, "TaxRate", text, f"not a VAT rate: {exc}", values))
            return None
        if warning:
            issues.append(
                self._issue(sline, index, where, "TaxRate", text, warning, values, Severity.WARNING)
            )
        elif len(self._rate_cache) < 1000:
            self._rate_cache[text] = rate
        return rate


def _plain(text: str) -> Decimal | None:
    """``Decimal(text)`` for a plain machine amount (``-12.50``), else None (the careful path decides)."""
    body = text[1:] if text[:1] == "-" else text
    if body.replace(".", "", 1).isdigit() and body.isascii():
        return Decimal(text)
    return None


def _where(kind: str, position: int) -> str:
    return f"{_KIND_LABEL[kind]}[{position}]"


def _with_number(issue: Issue, number: str) -> Issue:
    if issue.record or not number:
        return issue
    return Issue(
        issue.file, issue.line, issue.element, issue.field, issue.value, issue.reason, issue.severity, number
    )


_UNUSED_ORDER_FIELDS = frozenset({O_SHIPPING_METHOD, O_COMMENT})
_KIND_LABEL = {
    KIND_PRODUCT: "LineItem",
    KIND_SHIPPING: "Shipping",
    KIND_PAYMENT_FEE: "PaymentFee",
    KIND_DISCOUNT: "Discount",
}
_DEFAULT_DESCRIPTION = {
    KIND_PRODUCT: "Product",
    KIND_SHIPPING: "Verzendkosten",
    KIND_PAYMENT_FEE: "Betaalkosten",
    KIND_DISCOUNT: "Korting",
}
_NET_WORDS = frozenset({"net", "netto", "exclusive", "excl", "exclbtw", "exclusief", "b2b"})
_FALSE_WORDS = frozenset({"0", "false", "no", "nee", "nein", "n", "onwaar"})
_UNPAID_WORDS = frozenset(
    {
        "open",
        "openstaand",
        "unpaid",
        "notpaid",
        "nietbetaald",
        "pending",
        "inbehandeling",
        "due",
        "new",
        "nieuw",
        "offen",
        "unbezahlt",
        "nichtbezahlt",
        "ausstehend",
        "waiting",
        "awaitingpayment",
        "wachtopbetaling",
        "failed",
        "mislukt",
        "cancelled",
        "canceled",
        "geannuleerd",
        "storniert",
        "0",
        "false",
        "nee",
        "no",
        "nein",
    }
)


def _gross(tax_model: str | None, prices_incl: str | None) -> bool:
    if prices_incl is not None and prices_incl.strip():
        return names.normalise(prices_incl) not in _FALSE_WORDS
    if tax_model is not None and tax_model.strip():
        return names.normalise(tax_model) not in _NET_WORDS
    return True


def _paid(status: str | None, paid: str | None) -> bool:
    """Paid unless the order says otherwise (seed 000: 'betaald tenzij de import anders aangeeft')."""
    for text in (paid, status):
        if text is not None and text.strip() and names.normalise(text) in _UNPAID_WORDS:
            return False
    return True
