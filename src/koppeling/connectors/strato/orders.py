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

What this module does **not** do: decide amounts, VAT or totals. It collects the texts of each
order element; ``ordervalues.OrderBuilder`` turns them into ``StratoOrder`` records
(``orderrecords``) with ``Decimal`` values and located ``Issue``\\ s, matching element names with
the synonyms of ``orderfields``; the converter (``koppeling.convert``) checks rates and totals and
writes the Acumulus files. Element names are remembered per place up to ``MAX_TAGS`` and unknown
ones listed up to ``MAX_UNKNOWN``, so a file that invents new names does not grow memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from lxml import etree

from . import names
from .issues import Issue, UnusableInput
from .orderfields import (
    A_COUNTRY,
    ADDRESS_FIELDS,
    ADDRESS_TABLE,
    C_BILLING,
    C_DELIVERY,
    C_LINES,
    C_PAYMENT,
    C_TOTALS,
    KIND_DISCOUNT,
    KIND_OF_CONTAINER,
    KIND_PAYMENT_FEE,
    KIND_PRODUCT,
    KIND_SHIPPING,
    L_LINE_TOTAL,
    LINE_TABLE,
    N_ADDRESS,
    N_LINE,
    N_ORDER,
    O_PAID_ON,
    ORDER_ELEMENT_NAMES,
    ORDER_TABLE,
    PAYMENT_TABLE,
    TOTALS_TABLE,
    UNUSED_ORDER_FIELDS,
)
from .orderrecords import OrderError, StratoLine, StratoOrder
from .ordervalues import OrderBuilder
from .textfile import binary_kind

__all__ = [
    "ADDRESS_FIELDS",
    "FORMAT_VERSION",
    "KIND_DISCOUNT",
    "KIND_PAYMENT_FEE",
    "KIND_PRODUCT",
    "KIND_SHIPPING",
    "OrderError",
    "OrderReader",
    "StratoLine",
    "StratoOrder",
    "WrongEncoding",
]

FORMAT_VERSION = "strato-bestellingen/1"

#: how many start tags the reader looks at to find the first order element
PEEK_LIMIT = 5000
#: element names remembered per place, and unknown element names listed, at most
MAX_TAGS = 2000
MAX_UNKNOWN = 200
_MISS = object()


class WrongEncoding(Exception):
    """The XML is not in the encoding it declares; the caller may re-read as Windows-1252."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _pulled(parser: etree.XMLPullParser, stream: BinaryIO) -> Iterator[etree._Element]:
    """Each element the parser reports, fed a chunk at a time.

    Unlike ``iterparse``, a pull parser keeps the elements it completed before a syntax error
    (newer libxml2 parses a whole chunk before reporting any): they are handed out, then the error
    is raised, so the orders before a break are never lost."""
    while True:
        chunk = stream.read(STREAM_CHUNK)
        try:
            if chunk:
                parser.feed(chunk)
            else:
                parser.close()
        except etree.XMLSyntaxError:
            if chunk:  # completed before the break; at the end of a cut-off file the parser
                for _event, el in parser.read_events():  # closes open elements: not orders
                    yield el
            raise
        for _event, el in parser.read_events():
            yield el
        if not chunk:
            return


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
        self._country_tags: tuple[str, ...] = ()
        self._builder = OrderBuilder(label)

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
        try:
            tag, root = self._scan_for_order_tag(recover=False)
        except etree.XMLSyntaxError as exc:
            if _is_encoding_error(exc) and self.encoding is None:
                raise WrongEncoding(exc.lineno, exc.msg) from None
            # newer libxml2 parses a whole buffer before it reports the first element: an error in
            # the third order then surfaces here. A forgiving look finds what an order is called;
            # the reading proper reports the break where it is and keeps the orders before it.
            try:
                tag, root = self._scan_for_order_tag(recover=True)
            except etree.XMLSyntaxError:
                tag, root = None, None
            if tag is None:
                if root is None:
                    reason = f"not an XML file ({exc.msg}); is this the Strato orders export?"
                else:
                    reason = f"the XML breaks off before the first complete order ({exc.msg})"
                raise UnusableInput(self.label, reason, line=exc.lineno) from None
        if tag is not None:
            return tag
        raise UnusableInput(
            self.label,
            f"no order elements found under <{root}> (expected <Order>, <Bestelling> or <Bestellung>); "
            "is this the Strato orders export (Bestellingen.xml)?",
        )

    def _scan_for_order_tag(self, *, recover: bool) -> tuple[str | None, str | None]:
        """The first order element's tag (or None) and the root's name, from the file's start."""
        stream = self.stream
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
                recover=recover,
            ):
                tag = el.tag
                if not isinstance(tag, str):
                    continue
                local = tag.rsplit("}", 1)[-1]
                if root is None:
                    root = local
                if names.normalise(local) in ORDER_ELEMENT_NAMES and seen > 0:
                    return tag, root
                seen += 1
                if seen > PEEK_LIMIT:
                    break
        finally:
            stream.seek(0)
        return None, root

    # -- the stream ------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[StratoOrder | OrderError]:
        """Each complete order element, parsed: a ``StratoOrder`` or an ``OrderError``."""
        stream = self.stream
        stream.seek(0)
        blanks = _only_elements_and_text(stream, self.encoding)
        stream.seek(0)
        source = self._batched() if blanks else self._streamed(False)
        omap = self._map(0)
        lmap = self._map(1)
        lcmap = self._map(2)
        amap = self._map(3)
        learn = self._learn
        flat = self._flat
        raw_line = self._raw_line
        build = self._builder.build
        progress = self.progress
        kind_of = KIND_OF_CONTAINER
        index = 0
        try:
            for el, off in source:
                index += 1
                values = [None] * N_ORDER
                billing = delivery = None
                lines: list[tuple] = []  # raw lines, parsed by the builder once the order is read
                numbers: list[int | None] = []
                for c in el:
                    tag = c.tag
                    try:
                        code = omap[tag]
                    except KeyError:
                        code = learn(0, tag)
                    if code is None:
                        continue
                    if code < 100:
                        text = c.text
                        if text is None:
                            # see ``_only_elements_and_text``; an empty <PaidOn/> means "not paid"
                            text = " " if len(c) or code == O_PAID_ON else None
                        values[code] = text
                    elif code == C_BILLING:  # ``_address``, inlined
                        billing = [""] * N_ADDRESS
                        for f in c:
                            try:
                                fcode = amap[f.tag]
                            except KeyError:
                                fcode = learn(3, f.tag)
                            if fcode is not None:
                                text = f.text
                                if text:
                                    billing[fcode] = text.strip()
                    elif code == C_LINES:
                        for li in c:
                            try:
                                lcode = lcmap[li.tag]
                            except KeyError:
                                lcode = learn(2, li.tag)
                            if lcode is not None:  # ``_raw_line``, inlined: the most frequent element
                                line = [kind_of[lcode], None, None, None, None, None, None, None, None]
                                for f in li:
                                    try:
                                        fcode = lmap[f.tag]
                                    except KeyError:
                                        fcode = learn(1, f.tag)
                                    if fcode is not None:
                                        text = f.text
                                        if text is None and len(f):
                                            text = " "
                                        line[fcode] = text
                                lines.append(tuple(line))
                                numbers.append(li.sourceline + off)
                    elif code in kind_of:
                        if len(c):
                            lines.append(raw_line(c, kind_of[code], lmap))
                        elif c.text and c.text.strip():  # <ShippingCosts>6.95</ShippingCosts>
                            lines.append(_amount_only(kind_of[code], c.text))
                        else:
                            continue
                        numbers.append(c.sourceline + off)
                    elif code == C_DELIVERY:
                        delivery = self._delivery_country(c, amap)
                    elif code == C_PAYMENT or code == C_TOTALS:
                        which = 4 if code == C_PAYMENT else 5
                        for k, v in enumerate(flat(c, self._map(which), which, N_ORDER)):
                            if v is not None:
                                values[k] = v
                sline = el.sourceline + off
                if progress is not None and not index & 1023:
                    progress(stream.tell())
                yield build(index, sline, values, billing, delivery, lines, numbers)
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

    # -- where the order elements come from -----------------------------------------------------------

    def _streamed(self, blanks: bool, skip: int = 0) -> Iterator[tuple]:
        """``(order element, 0)`` for each order, by ``iterparse`` over the whole file; the first
        ``skip`` orders (already read by ``_batched``) are passed over."""
        stream = self.stream
        stream.seek(0)
        parser = etree.XMLPullParser(
            events=("end",),
            tag=self.order_tag,
            encoding=self.encoding,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            remove_comments=True,
            remove_pis=True,
            remove_blank_text=blanks,
        )
        for el in _pulled(parser, stream):
            if skip:
                skip -= 1
                _free(el)
                continue
            yield el, 0
            _free(el)

    def _batched(self) -> Iterator[tuple]:
        """``(order element, line offset)`` for each order, parsed about a MiB of orders at a time.

        ``iterparse`` calls back into lxml for every element of the file; parsing the bytes from
        one order's start tag to a later order's end tag as one document (under a made-up root)
        builds the same elements in C only. Only used on files ``_only_elements_and_text`` passed
        (no comment, CDATA, PI or DOCTYPE, ASCII-compatible), whose root start tag has no
        attributes, whose order tag has no namespace and whose orders are the root's only children
        and hold no orders. On anything else — including a parse error, a truncated file, or bytes
        after the last order other than the root's end tag — the remaining orders come from
        ``_streamed``, which reports the same elements, errors and lines as it always did."""
        stream = self.stream
        tag = self.order_tag
        done = 0
        stream.seek(0)
        buf = stream.read(BATCH_BYTES)
        head = _ROOT_START.match(buf)
        encoding = self.encoding
        declared = _DECLARED_ENCODING.match(buf)
        if encoding is None:
            encoding = declared.group(1).decode("ascii") if declared else "utf-8"
        if (
            head is None
            or not _PLAIN_NAME.fullmatch(tag)
            or (buf.startswith(b"\xef\xbb\xbf") and encoding.lower() not in ("utf-8", "utf8"))
        ):
            yield from self._streamed(True)
            return
        try:
            parser = etree.XMLParser(
                remove_blank_text=True,
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
                encoding=encoding,
            )
        except (LookupError, ValueError):
            yield from self._streamed(True)
            return
        end_tag = b"</" + tag.encode("ascii") + b">"
        root_end = b"</" + head.group(1) + b">"
        offset = buf.count(b"\n", 0, head.end())  # the line of the batch's first byte, minus one
        buf = buf[head.end() :]
        fromstring = etree.fromstring
        while True:
            end = buf.rfind(end_tag)
            more = b""
            if end < 0 or end + len(end_tag) == len(buf):
                more = stream.read(BATCH_BYTES)
                if more and len(buf) < MAX_BATCH_BYTES:
                    buf += more
                    continue
            if end < 0:
                break  # no order end in the rest, or an order too big: let ``_streamed`` say
            end += len(end_tag)
            try:
                root = fromstring(b"<r>" + buf[:end] + b"<z/></r>", parser)
            except etree.XMLSyntaxError:
                break
            count = len(root) - 1
            if sum(1 for _ in root.iter(tag)) != count or sum(1 for _ in root.iterchildren(tag)) != count:
                break
            sentinel = root[-1]
            for el in root.iterchildren(tag):
                yield el, offset
            done += count
            offset += sentinel.sourceline - 1
            del root, sentinel
            buf = buf[end:] + more
            if not more:
                more = stream.read(BATCH_BYTES)
                if more:
                    buf += more
                    continue
                if buf.strip(b" \t\r\n") == root_end:
                    return
                break
        yield from self._streamed(True, done)

    # -- element names -> field codes --------------------------------------------------------------
    #
    # ``which`` says where an element is: 0 under the order, 1 under a line, 2 under the lines
    # container, 3 under an address, 4 under the payment, 5 under the totals. Each tag is matched
    # once (``names.match``) and remembered in that place's map.

    _TABLES = (ORDER_TABLE, LINE_TABLE, ORDER_TABLE, ADDRESS_TABLE, PAYMENT_TABLE, TOTALS_TABLE)

    def _map(self, which: int) -> dict:
        return self._maps.setdefault(which, {})

    def _learn(self, which: int, tag) -> int | None:
        code: int | None = None
        if isinstance(tag, str):
            table = self._TABLES[which]
            prefixes = names.ADDRESS_PREFIXES if which == 3 else ()
            code = names.match(tag, table, prefixes)
            if which == 2 and code not in KIND_OF_CONTAINER:
                code = None  # inside a line container only line elements count
            if which == 0 and code in UNUSED_ORDER_FIELDS:
                code = None  # known, but nothing to convert: not read
            elif code is None and len(self.unknown_elements) < MAX_UNKNOWN:
                local = tag.rsplit("}", 1)[-1]
                self.unknown_elements.setdefault(names.normalise(local), local)
        tags = self._map(which)
        if len(tags) < MAX_TAGS:  # a file with ever new element names must not grow memory
            tags[tag] = code
        return code

    # -- reading elements ----------------------------------------------------------------------------

    def _raw_line(self, el, kind: str, lmap: dict) -> tuple:
        """A line element's texts: ``(kind, *texts by L_* code)``, hashable for the line memo;
        ``lmap`` is ``self._map(1)``."""
        values = [kind, None, None, None, None, None, None, None, None]
        for c in el:
            tag = c.tag
            try:
                code = lmap[tag]
            except KeyError:
                code = self._learn(1, tag)
            if code is not None:
                text = c.text
                if text is None and len(c):
                    text = " "
                values[code] = text
        return tuple(values)

    def _flat(self, el, cmap: dict, which: int, n: int) -> list:
        values = [None] * n
        for c in el:
            tag = c.tag
            code = cmap.get(tag, _MISS)
            if code is _MISS:
                code = self._learn(which, tag)
            if code is not None and code < 100:
                text = c.text
                if text is None and len(c):
                    text = " "
                values[code] = text
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


def _free(el: etree._Element) -> None:
    """Drop a read order element and its read siblings (a streamed parse keeps memory flat so)."""
    el.clear(keep_tail=True)
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


def _amount_only(kind: str, text: str) -> tuple:
    """The raw line of a cost written as a plain amount (``<ShippingCosts>6.95</ShippingCosts>``)."""
    values: list = [kind] + [None] * (N_LINE - 1)
    values[L_LINE_TOTAL] = text
    return tuple(values)


#: encodings in which ``<!`` and ``<?`` are those bytes (an override or the declared one)
_ASCII_ENCODINGS = frozenset(
    {
        "utf-8",
        "utf8",
        "us-ascii",
        "ascii",
        "iso-8859-1",
        "latin-1",
        "latin1",
        "iso-8859-15",
        "windows-1252",
        "cp1252",
    }
)
_DECLARED_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)""")
SCAN_CHUNK = 1 << 20
#: what ``_batched`` parses at a time (its tree is freed as a whole once its orders are read), and
#: the most it holds for one order. 128 KiB (~65 orders): a batch's tree stays in the CPU caches
#: while it is read (1 MiB batches cost as many instructions but 10-20 % more CPU time)
BATCH_BYTES = 1 << 17
#: how much of the file a streamed (pull) parse takes at a time
STREAM_CHUNK = 64 << 10
MAX_BATCH_BYTES = 64 << 20
#: the start of a file ``_batched`` reads: declaration, root start tag without attributes
_ROOT_START = re.compile(
    rb"(?:\xef\xbb\xbf)?(?:<\?xml[^<>]*\?>)?[ \t\r\n]*<([A-Za-z_][A-Za-z0-9_.-]*)>[ \t\r\n]*"
)
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def _only_elements_and_text(stream: BinaryIO, encoding: str | None) -> bool:
    """Whether the file can be parsed with ``remove_blank_text`` without changing any text the
    reader uses (libxml2 then keeps no whitespace-only text nodes between elements: fewer nodes
    to build and free, a sixth of the parse).

    libxml2 drops a whitespace-only text only where it is directly followed by a child element,
    comment, CDATA section or processing instruction. So: the file must be in an ASCII-compatible
    encoding and hold no ``<!`` or ``<?`` after its XML declaration (checked in C, one pass over the
    bytes), and the reader turns a field element's lost whitespace-only text back into a blank
    (``" "``: every blank text means the same to ``OrderBuilder``) when the element has children."""
    stream.seek(0)
    head = stream.read(SCAN_CHUNK)
    try:
        if b"\x00" in head[:4096]:
            return False  # UTF-16/32: the markup is not in single bytes
        declared = _DECLARED_ENCODING.match(head)
        for name in (encoding, declared.group(1).decode("ascii") if declared else None):
            if name is not None and name.lower() not in _ASCII_ENCODINGS:
                return False
        start = 3 if head.startswith(b"\xef\xbb\xbf") else 0
        if head.startswith(b"<?xml", start):
            start = head.find(b"?>", start)
            if start < 0:
                return False
            start += 2
        chunk = head[start:] if start else head
        last = 0
        while chunk:
            for mark in b"!?":  # memchr for the rare byte, then a look at the one before it
                at = chunk.find(mark)
                while at >= 0:
                    if (chunk[at - 1] if at else last) == 60:  # "<"
                        return False
                    at = chunk.find(mark, at + 1)
            last = chunk[-1]
            chunk = stream.read(SCAN_CHUNK)
        return True
    finally:
        stream.seek(0)
