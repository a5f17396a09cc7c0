"""Our versioned reading of Asperion's aXML webshop-order import, as data: writer, reader and XSD.

What is verified [V]: Asperion imports webshop orders from an XML file ("aXML") through module
Financieel > Extra > Im-/Export basis > Import orders (xml); one file holds one or more orders; the
import makes (Concept) invoices in Facturatie and creates unknown debtors; XML special characters
must be entity-encoded; lines are booked on a sales type per VAT class (BTW hoog / laag / 0%)
[help.asperion.nl webshop-import.aspx, webshops.aspx]. The definition (aXML v1.4, Aug 2014) is
organised in the sections Header, Asperion, Orders, Debtor, Address, Orderline, with appendices
for payment codes and ISO country codes [V: its table of contents, docplayer.nl 7214236]. The
current PDF (v1.5.1, April 2018) and its example file are not in any source we could read.

So **every element and attribute name below is inferred** [I]: it follows the section names of
the definition and is our best reading, not Asperion's text. All names, types and cardinalities
live in the one table ``SPEC`` (tag names in ``Field.tag``); the writer, the reader and the XSD
are all derived from it, so renaming an element when the real definition turns up is a one-line
change plus a new ``READING`` version. See ``docs/connectors/asperion.md``.

>>> READING
'koppeling-axml/1'
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from lxml import etree

__all__ = [
    "AXML_VERSION",
    "PAYMENT_CODES",
    "READING",
    "SPEC",
    "VAT_CATEGORIES",
    "AxmlAddress",
    "AxmlBatch",
    "AxmlDebtor",
    "AxmlLine",
    "AxmlOrder",
    "BatchFormatError",
    "Field",
    "read_orders_xml",
    "write_orders_xml",
    "xsd_text",
]

#: Version of *our reading*; bump it whenever a tag, type or rule in ``SPEC`` changes.
READING = "koppeling-axml/1"
#: The Asperion definition this reading aims at (the latest one Asperion publishes) [V: help page].
AXML_VERSION = "1.5.1"
#: VAT classes the import settings map to sales types ("Verkopen BTW Hoog/Laag/0%") [V]; the
#: values written for them are [I].
VAT_CATEGORIES = ("hoog", "laag", "nul")
#: Betaalwijzen as the seed's screenshot shows them ("IDEAL", "Op factuur") [V]; the code list of
#: the definition's appendix "Payment Codes" is unknown, these codes are [I].
PAYMENT_CODES = (
    "IDEAL",
    "PAYPAL",
    "CREDITCARD",
    "BANCONTACT",
    "OVERBOEKING",
    "OPFACTUUR",
    "REMBOURS",
    "CONTANT",
    "AFTERPAY",
    "KLARNA",
    "OVERIG",
)
INVOICE_STATUSES = ("Concept", "Definitief")
LINE_KINDS = ("product", "shipping", "payment", "discount", "other")
CENT = Decimal("0.01")
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)


class BatchFormatError(ValueError):
    """A batch that does not fit the reading; ``location`` says where (a field path such as
    ``orders[2].lines[0].amount_excl``, or an XPath), ``line`` the source line when parsing."""

    def __init__(self, message: str, location: str = "", line: int | None = None) -> None:
        self.message = message
        self.location = location
        self.line = line
        where = location + (f" (line {line})" if line else "")
        super().__init__(f"{where}: {message}" if where else message)


# ---------------------------------------------------------------- the data we write


@dataclass(frozen=True)
class AxmlAddress:
    street: str
    house_number: str
    postal_code: str
    city: str
    country_code: str  # ISO 3166-1 alpha-2 [V: the definition's appendix "Landcodes ISO"]
    house_number_addition: str = ""
    kind: str = "invoice"  # "invoice" | "delivery"


@dataclass(frozen=True)
class AxmlDebtor:
    email: str  # the import matches debtors on it [V seed]
    name: str
    invoice_address: AxmlAddress
    company_name: str = ""
    vat_number: str = ""
    coc_number: str = ""
    phone: str = ""
    delivery_address: AxmlAddress | None = None


@dataclass(frozen=True)
class AxmlLine:
    description: str
    quantity: Decimal
    unit_price_excl: Decimal  # up to 4 decimals
    vat_rate: Decimal  # percent, e.g. Decimal("21")
    vat_category: str  # one of VAT_CATEGORIES
    amount_excl: Decimal  # to the cent
    vat_amount: Decimal  # to the cent
    amount_incl: Decimal  # to the cent
    kind: str = "product"
    article_code: str = ""


@dataclass(frozen=True)
class AxmlOrder:
    order_number: str
    order_date: dt.date
    description: str  # carries the order and shop-invoice number [V seed]
    payment_code: str
    debtor: AxmlDebtor
    lines: tuple[AxmlLine, ...]
    total_excl: Decimal
    total_vat: Decimal
    total_incl: Decimal
    shop_invoice_number: str = ""
    invoice_status: str = "Concept"
    currency: str = "EUR"


@dataclass(frozen=True)
class AxmlBatch:
    licence_code: str
    created_at: dt.datetime
    orders: tuple[AxmlOrder, ...]
    source: str = "koppeling"


# ---------------------------------------------------------------- the reading, as one table


@dataclass(frozen=True)
class Field:
    """One element: dataclass attribute, XML tag [I], type, whether it must be there, limits."""

    attr: str
    tag: str
    kind: str  # text | code | money2 | money4 | quantity | rate | date | datetime | count
    required: bool = True
    max_length: int | None = None
    choices: tuple[str, ...] = ()


SPEC: dict[str, tuple[Field, ...]] = {
    "Header": (
        Field("licence_code", "LicenseCode", "text", max_length=64),
        Field("created_at", "CreatedAt", "datetime"),
        Field("source", "Source", "text", max_length=60),
        Field("order_count", "OrderCount", "count"),
    ),
    "Order": (
        Field("order_number", "OrderNumber", "text", max_length=30),
        Field("shop_invoice_number", "ShopInvoiceNumber", "text", required=False, max_length=30),
        Field("order_date", "OrderDate", "date"),
        Field("description", "Description", "text", max_length=255),
        Field("invoice_status", "InvoiceStatus", "code", choices=INVOICE_STATUSES),
        Field("payment_code", "PaymentCode", "text", max_length=20),
        Field("currency", "Currency", "code", choices=("EUR",)),
    ),
    "OrderTotals": (
        Field("total_excl", "TotalExclVat", "money2"),
        Field("total_vat", "TotalVat", "money2"),
        Field("total_incl", "TotalInclVat", "money2"),
    ),
    "Debtor": (
        Field("email", "Email", "text", max_length=120),
        Field("name", "Name", "text", max_length=100),
        Field("company_name", "CompanyName", "text", required=False, max_length=100),
        Field("vat_number", "VatNumber", "text", required=False, max_length=20),
        Field("coc_number", "CocNumber", "text", required=False, max_length=20),
        Field("phone", "Phone", "text", required=False, max_length=30),
    ),
    "Address": (
        Field("street", "Street", "text", max_length=100),
        Field("house_number", "HouseNumber", "text", required=False, max_length=10),
        Field("house_number_addition", "HouseNumberAddition", "text", required=False, max_length=10),
        Field("postal_code", "PostalCode", "text", required=False, max_length=12),
        Field("city", "City", "text", max_length=60),
        Field("country_code", "CountryCode", "code"),
    ),
    "Orderline": (
        Field("kind", "Kind", "code", choices=LINE_KINDS),
        Field("article_code", "ArticleCode", "text", required=False, max_length=40),
        Field("description", "Description", "text", max_length=255),
        Field("quantity", "Quantity", "quantity"),
        Field("unit_price_excl", "UnitPriceExclVat", "money4"),
        Field("vat_rate", "VatRate", "rate"),
        Field("vat_category", "VatCategory", "code", choices=VAT_CATEGORIES),
        Field("amount_excl", "AmountExclVat", "money2"),
        Field("vat_amount", "VatAmount", "money2"),
        Field("amount_incl", "AmountInclVat", "money2"),
    ),
}
#: Container tags [I]; the root carries ``version`` (the aXML version aimed at) and ``reading``.
ROOT, ORDERS, ORDER, DEBTOR, ADDRESS, LINES, LINE, HEADER = (
    "Asperion",
    "Orders",
    "Order",
    "Debtor",
    "Address",
    "Orderlines",
    "Orderline",
    "Header",
)
_PATTERNS = {
    "money2": r"-?[0-9]{1,10}\.[0-9]{2}",
    "money4": r"-?[0-9]{1,10}\.[0-9]{2,4}",
    "quantity": r"-?[0-9]{1,7}(\.[0-9]{1,4})?",
    "rate": r"[0-9]{1,2}(\.[0-9]{1,2})?",
}


# ---------------------------------------------------------------- checks (writer and reader)


def _check_value(f: Field, value: Any, where: str) -> None:
    if f.kind in ("money2", "money4", "quantity", "rate"):
        if not isinstance(value, Decimal) or not value.is_finite():
            raise BatchFormatError(f"must be a finite Decimal, got {type(value).__name__} {value!r}", where)
        places = {"money2": 2, "money4": 4, "quantity": 4, "rate": 2}[f.kind]
        if value != value.quantize(Decimal(1).scaleb(-places)):
            raise BatchFormatError(f"{value} has more than {places} decimals", where)
        if f.kind == "rate" and not Decimal(0) <= value < 100:
            raise BatchFormatError(f"VAT rate {value} is not a percentage", where)
        return
    if f.kind == "date":
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise BatchFormatError(f"must be a date, got {value!r}", where)
        return
    if f.kind == "datetime":
        if not isinstance(value, dt.datetime):
            raise BatchFormatError(f"must be a datetime, got {value!r}", where)
        return
    if f.kind == "count":
        return
    if not isinstance(value, str):
        raise BatchFormatError(f"must be text, got {type(value).__name__}", where)
    if f.required and not value.strip():
        raise BatchFormatError("must not be empty", where)
    if _XML_BAD.search(value):
        raise BatchFormatError("contains a control character XML 1.0 cannot carry", where)
    if f.max_length and len(value) > f.max_length:
        raise BatchFormatError(f"longer than {f.max_length} characters ({len(value)})", where)
    if f.choices and value not in f.choices:
        raise BatchFormatError(f"{value!r} is not one of {', '.join(f.choices)}", where)
    if f.attr == "country_code" and not re.fullmatch(r"[A-Z]{2}", value):
        raise BatchFormatError(f"{value!r} is not an ISO 3166-1 alpha-2 code", where)


def _check_fields(section: str, obj: Any, where: str) -> None:
    for f in SPEC[section]:
        if f.attr != "order_count":
            _check_value(f, getattr(obj, f.attr), f"{where}.{f.attr}" if where else f.attr)


def check_batch(batch: AxmlBatch) -> None:
    """Everything the writer and the reader enforce; raises ``BatchFormatError`` at the first fault."""
    _check_fields("Header", batch, "")
    if not batch.orders:
        raise BatchFormatError("a batch holds at least one order", "orders")
    seen: set[str] = set()
    for i, order in enumerate(batch.orders):
        at = f"orders[{i}]"
        _check_fields("Order", order, at)
        _check_fields("OrderTotals", order, at)
        if order.order_number in seen:
            raise BatchFormatError(
                f"order {order.order_number} appears twice in the batch", f"{at}.order_number"
            )
        seen.add(order.order_number)
        for number in (order.order_number, order.shop_invoice_number):
            if number and number not in order.description:
                raise BatchFormatError(f"the description must carry {number}", f"{at}.description")
        _check_fields("Debtor", order.debtor, f"{at}.debtor")
        if "@" not in order.debtor.email:
            raise BatchFormatError("not an e-mail address", f"{at}.debtor.email")
        for name, address, kind in (
            ("invoice_address", order.debtor.invoice_address, "invoice"),
            ("delivery_address", order.debtor.delivery_address, "delivery"),
        ):
            if address is not None:
                _check_fields("Address", address, f"{at}.debtor.{name}")
                if address.kind != kind:
                    raise BatchFormatError(f"kind must be {kind!r}", f"{at}.debtor.{name}.kind")
        if not order.lines:
            raise BatchFormatError("an order has at least one line", f"{at}.lines")
        for j, line in enumerate(order.lines):
            lat = f"{at}.lines[{j}]"
            _check_fields("Orderline", line, lat)
            if line.amount_excl + line.vat_amount != line.amount_incl:
                raise BatchFormatError(
                    f"{line.amount_excl} + {line.vat_amount} != {line.amount_incl}", f"{lat}.amount_incl"
                )
            if (line.vat_category == "nul") != (line.vat_rate == 0):
                raise BatchFormatError(
                    f"category {line.vat_category!r} does not fit rate {line.vat_rate}", lat
                )
        for attr, line_attr in (("total_excl", "amount_excl"), ("total_vat", "vat_amount")):
            total = sum((getattr(line, line_attr) for line in order.lines), Decimal(0))
            if total != getattr(order, attr):
                raise BatchFormatError(f"lines add up to {total}, not {getattr(order, attr)}", f"{at}.{attr}")
        if order.total_excl + order.total_vat != order.total_incl:
            raise BatchFormatError("total excl. + VAT != total incl.", f"{at}.total_incl")


# ---------------------------------------------------------------- writer


def _text(f: Field, value: Any) -> str:
    if f.kind == "money2":
        return f"{value:.2f}"
    if f.kind == "money4":  # at least 2, at most 4 decimals: 16.4876, 12.50
        whole, _, frac = f"{value:.4f}".partition(".")
        return f"{whole}.{frac.rstrip('0').ljust(2, '0')}"
    if f.kind in ("quantity", "rate"):
        return format(value.normalize(), "f")
    if f.kind == "date":
        return value.isoformat()
    if f.kind == "datetime":
        return value.isoformat(timespec="seconds")
    return str(value)


def _append(parent: etree._Element, section: str, obj: Any, extra: dict[str, Any] | None = None) -> None:
    for f in SPEC[section]:
        value = (extra or {}).get(f.attr, getattr(obj, f.attr, None))
        if not f.required and (value is None or value == ""):
            continue
        etree.SubElement(parent, f.tag).text = _text(f, value)


def write_orders_xml(batch: AxmlBatch) -> bytes:
    """The daily file for ``batch``: UTF-8 XML in our reading ``READING``, validated against its XSD.

    Raises ``BatchFormatError`` naming the offending field (``orders[3].lines[1].vat_amount``)
    before anything is written. lxml escapes ``&``, ``<``, ``>``; every non-ASCII character is
    written as a character reference (``„`` -> ``&#8222;``), so the bytes are plain ASCII.
    """
    check_batch(batch)
    root = etree.Element(ROOT, version=AXML_VERSION, reading=READING)
    _append(etree.SubElement(root, HEADER), "Header", batch, {"order_count": len(batch.orders)})
    orders = etree.SubElement(root, ORDERS)
    for order in batch.orders:
        node = etree.SubElement(orders, ORDER)
        _append(node, "Order", order)
        debtor = etree.SubElement(node, DEBTOR)
        _append(debtor, "Debtor", order.debtor)
        for address in (order.debtor.invoice_address, order.debtor.delivery_address):
            if address is not None:
                _append(etree.SubElement(debtor, ADDRESS, type=address.kind), "Address", address)
        lines = etree.SubElement(node, LINES)
        for line in order.lines:
            _append(etree.SubElement(lines, LINE), "Orderline", line)
        _append(node, "OrderTotals", order)
    # Pure ASCII with character references for everything else: Asperion asks for special characters
    # (& < > and also „ “) to be encoded [V help page], and this survives any importer's charset.
    body = etree.tostring(root, xml_declaration=False, encoding="ascii", pretty_print=True)
    data = b'<?xml version="1.0" encoding="UTF-8"?>\n' + body
    _validate(etree.fromstring(data, _PARSER))
    return data


# ---------------------------------------------------------------- XSD and reader


def _simple_type(f: Field) -> str:
    if f.kind == "date":
        return 'type="xs:date"'
    if f.kind == "datetime":
        return 'type="xs:dateTime"'
    if f.kind == "count":
        return 'type="xs:positiveInteger"'
    facets = []
    if f.kind in _PATTERNS:
        facets.append(f'<xs:pattern value="{_PATTERNS[f.kind]}"/>')
    elif f.choices:
        facets.extend(f'<xs:enumeration value="{c}"/>' for c in f.choices)
    elif f.attr == "country_code":
        facets.append('<xs:pattern value="[A-Z]{2}"/>')
    else:
        if f.required:
            facets.append('<xs:minLength value="1"/>')
        if f.max_length:
            facets.append(f'<xs:maxLength value="{f.max_length}"/>')
    body = "".join(facets)
    return f'><xs:simpleType><xs:restriction base="xs:string">{body}</xs:restriction></xs:simpleType'


def _elements(section: str) -> str:
    out = []
    for f in SPEC[section]:
        occurs = "" if f.required else ' minOccurs="0"'
        typ = _simple_type(f)
        if typ.startswith(">"):
            out.append(f'<xs:element name="{f.tag}"{occurs}{typ}></xs:element>')
        else:
            out.append(f'<xs:element name="{f.tag}"{occurs} {typ}/>')
    return "".join(out)


@lru_cache(maxsize=1)
def xsd_text() -> str:
    """The XML Schema of our reading (generated from ``SPEC``; every name in it is [I])."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">'
        f'<xs:element name="{ROOT}"><xs:complexType><xs:sequence>'
        f'<xs:element name="{HEADER}"><xs:complexType><xs:sequence>{_elements("Header")}'
        "</xs:sequence></xs:complexType></xs:element>"
        f'<xs:element name="{ORDERS}"><xs:complexType><xs:sequence>'
        f'<xs:element name="{ORDER}" maxOccurs="unbounded"><xs:complexType><xs:sequence>'
        f"{_elements('Order')}"
        f'<xs:element name="{DEBTOR}"><xs:complexType><xs:sequence>{_elements("Debtor")}'
        f'<xs:element name="{ADDRESS}" maxOccurs="2"><xs:complexType><xs:sequence>{_elements("Address")}'
        '</xs:sequence><xs:attribute name="type" use="required"><xs:simpleType>'
        '<xs:restriction base="xs:string"><xs:enumeration value="invoice"/>'
        '<xs:enumeration value="delivery"/></xs:restriction></xs:simpleType></xs:attribute>'
        "</xs:complexType></xs:element>"
        "</xs:sequence></xs:complexType></xs:element>"
        f'<xs:element name="{LINES}"><xs:complexType><xs:sequence>'
        f'<xs:element name="{LINE}" maxOccurs="unbounded"><xs:complexType><xs:sequence>'
        f"{_elements('Orderline')}</xs:sequence></xs:complexType></xs:element>"
        "</xs:sequence></xs:complexType></xs:element>"
        f"{_elements('OrderTotals')}"
        "</xs:sequence></xs:complexType></xs:element>"
        "</xs:sequence></xs:complexType></xs:element>"
        "</xs:sequence>"
        '<xs:attribute name="version" type="xs:string" use="required"/>'
        '<xs:attribute name="reading" type="xs:string" use="required"/>'
        "</xs:complexType></xs:element></xs:schema>"
    )


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.fromstring(xsd_text().encode(), _PARSER))


def _validate(root: etree._Element) -> None:
    schema = _schema()
    try:
        valid = schema.validate(root)
    except etree.XMLSchemaValidateError as exc:
        raise BatchFormatError(f"cannot be validated: {exc}") from None
    if not valid:
        error = schema.error_log[0]
        raise BatchFormatError(error.message, error.path or "", error.line or None)


def _value(f: Field, node: etree._Element | None, where: str) -> Any:
    text = (node.text or "") if node is not None else ""
    try:
        if f.kind in ("money2", "money4", "quantity", "rate"):
            return Decimal(text)
        if f.kind == "date":
            return dt.date.fromisoformat(text)
        if f.kind == "datetime":
            return dt.datetime.fromisoformat(text)
        if f.kind == "count":
            return int(text)
    except (InvalidOperation, ValueError):
        line = node.sourceline if node is not None else None
        raise BatchFormatError(f"{text!r} is not a {f.kind}", where, line) from None
    return text


def _fields(section: str, node: etree._Element) -> dict[str, Any]:
    out = {}
    tree = node.getroottree()
    for f in SPEC[section]:
        child = node.find(f.tag)
        if child is None and not f.required:
            continue
        out[f.attr] = _value(f, child, tree.getpath(child) if child is not None else tree.getpath(node))
    return out


def read_orders_xml(data: bytes) -> AxmlBatch:
    """Parse and validate a daily file; ``BatchFormatError`` carries the line and XPath of a fault."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise BatchFormatError(exc.msg, "", exc.lineno) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise BatchFormatError("a DOCTYPE (and so any entity) is not allowed", "", 1)
    _validate(root)
    header = _fields("Header", root.find(HEADER))
    orders = []
    for node in root.find(ORDERS).findall(ORDER):
        debtor_node = node.find(DEBTOR)
        addresses = {
            a.get("type"): AxmlAddress(kind=a.get("type"), **_fields("Address", a))
            for a in debtor_node.findall(ADDRESS)
        }
        if "invoice" not in addresses:
            raise BatchFormatError(
                "an invoice address is required",
                node.getroottree().getpath(debtor_node),
                debtor_node.sourceline,
            )
        debtor = AxmlDebtor(
            invoice_address=addresses["invoice"],
            delivery_address=addresses.get("delivery"),
            **_fields("Debtor", debtor_node),
        )
        lines = tuple(AxmlLine(**_fields("Orderline", line)) for line in node.find(LINES).findall(LINE))
        orders.append(
            AxmlOrder(debtor=debtor, lines=lines, **_fields("Order", node), **_fields("OrderTotals", node))
        )
    count = header.pop("order_count")
    batch = AxmlBatch(orders=tuple(orders), **header)
    if count != len(orders):
        raise BatchFormatError(f"OrderCount says {count}, the file holds {len(orders)}", f"/{ROOT}/{HEADER}")
    check_batch(batch)
    return batch
