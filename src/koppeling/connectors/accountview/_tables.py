"""AccountView tables and business objects as the simulator knows them, and how values look.

Field names, types (C char, N numeric, Y currency, D date, T datetime, L logical, I integer, M memo),
lengths, ``INP_MAND`` and ``FLD_FMT`` ``!`` (upper case) for CONTACT, DJ_PAGE, DJ_LINE, VAT, DAILY
and LEDGER are copied from AccountView's own data dictionary as published in
omniboost/go-accountview.net ``fields/*.json`` ([V]). ARTICLE, ART_GRP, SO_HDR, SO_LINE and DEL_ADDR
field *names* are the ones public clients use (APIcenter's AccountView model, an AccountView.net
Angular app, [V]); their lengths and the fields marked ``sim`` are invented ([S]).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["BUSINESS_OBJECTS", "TABLES", "BusinessObject", "Column", "parse_value", "render_value"]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str
    length: int
    mandatory: bool = False
    upper: bool = False  # FLD_FMT "!"
    description: str = ""
    readonly: bool = False  # maintained by AccountView (change dates, computed totals, stock)


def _t(*rows: tuple[Any, ...]) -> dict[str, Column]:
    return {row[0]: Column(*row) for row in rows}


_RO = True
TABLES: dict[str, dict[str, Column]] = {
    "CONTACT": _t(
        ("SUB_NR", "C", 10, True, True, "Debiteur-/crediteurnummer"),
        ("ACCT_NAME", "C", 40, True, False, "Bedrijfsnaam"),
        ("SRC_CODE", "C", 10, True, True, "Zoekcode bedrijf"),
        ("ACCT_NR", "C", 10, True, True, "Verzamelrekening"),  # mandatory in AR1 (ACCT_REC dictionary)
        ("ADDRESS1", "C", 80, False, False, "Adres"),
        ("ADDR_LINE1", "C", 40, False, False, "Adresregel 1"),
        ("ADDR_LINE2", "C", 40, False, False, "Adresregel 2"),
        ("ST_STREET", "C", 60, False, False, "Straatnaam"),
        ("ST_NR", "C", 10, False, False, "Huisnummer"),
        ("POST_CODE", "C", 10, False, True, "Postcode"),
        ("CITY", "C", 35, False, False, "Plaats"),
        ("BOX_CITY", "C", 35, False, False, "Plaats of plaats postadres"),
        ("CNT_CODE", "C", 2, False, True, "ISO-landcode"),
        ("COUNTRY", "C", 30, False, False, "Land"),
        ("MAIL_BUS", "C", 50, False, False, "E-mail zakelijk"),
        ("MC_MAILB", "C", 50, False, False, "E-mail hoofdcontactpersoon"),
        ("MAIN_CONT", "C", 40, False, False, "Contactpersoon"),
        ("TEL_BUS", "C", 20, False, False, "Telefoon zakelijk"),
        ("TEL_MOB", "C", 20, False, False, "Telefoon mobiel"),
        ("VAT_NR", "C", 14, False, True, "BTW-nummer"),
        ("COC_CODE", "C", 15, False, False, "KvK-nummer"),
        ("IBAN_NR", "C", 34, False, True, "IBAN 1"),
        ("CUR_CODE", "C", 3, False, True, "Valutacode"),
        ("DISC_CODE", "C", 2, False, True, "Code betalingsconditie"),
        ("VAT_CODE", "C", 2, False, True, "BTW-code"),
        ("DEB_NR", "C", 10, False, False, "Extern debiteurnr"),
        ("REC_BLK", "L", 1, False, False, "Geblokkeerd"),
        ("CNG_DATE", "T", 8, False, False, "Datum laatste wijz", _RO),
        ("INP_DATE", "T", 8, False, False, "Invoerdatum", _RO),
        ("CNG_NR", "I", 4, False, False, "Wijzignummer", _RO),
    ),
    "ARTICLE": _t(
        ("ART_CODE", "C", 20, True, True, "Artikelcode"),
        ("ART_DESC1", "C", 40, True, False, "Omschrijving"),
        ("ART_DESC2", "C", 40, False, False, "Omschrijving 2"),
        ("AG_CODE", "C", 10, False, True, "Artikelgroep"),
        ("ART_UNIT", "C", 10, False, False, "Eenheid"),
        ("PX_SELL", "Y", 8, False, False, "Verkoopprijs"),
        ("COST_PX", "Y", 8, False, False, "Kostprijs"),
        ("VAT_CODE", "C", 2, False, True, "BTW-code"),
        ("EAN_CODE", "C", 20, False, False, "EAN-code (sim)"),
        ("QTY_TECH", "N", 12, False, False, "Technische voorraad", _RO),
        ("QTY_AVAIL", "N", 12, False, False, "Beschikbare voorraad", _RO),
        ("QTY_RES", "N", 12, False, False, "Gereserveerd in verkooporders (sim)", _RO),
        ("QTY_FREE2", "N", 12, False, False, "Vrije voorraad", _RO),
        ("QTY_BESTEL", "N", 12, False, False, "In bestelling", _RO),
        ("REC_BLK", "L", 1, False, False, "Geblokkeerd"),
        ("CNG_DATE", "T", 8, False, False, "Wijzigingsdatum", _RO),
        ("INP_DATE", "T", 8, False, False, "Invoerdatum", _RO),
    ),
    "ART_GRP": _t(
        ("AG_CODE", "C", 10, True, True, "Artikelgroep"),
        ("AG_DESC", "C", 40, True, False, "Omschrijving artikelgroep"),
    ),
    "SO_HDR": _t(
        ("ORD_NR", "C", 10, False, True, "Verkoopordernummer (sim)", _RO),
        ("ORD_DATE", "T", 8, True, False, "Verkooporderdatum"),
        ("INV_DATE", "T", 8, False, False, "Factuurdatum"),
        ("DEL_DATE", "T", 8, False, False, "Leverdatum"),
        ("RPL_INV", "C", 10, True, True, "Factuurdebiteur"),
        ("RPL_DEL", "C", 10, False, True, "Verzenddebiteur"),
        ("DEL_CODE", "C", 10, False, True, "Afleveradres"),
        ("COMMENT1", "C", 40, False, False, "Omschrijving verkooporder"),
        ("COMMENT2", "C", 40, False, False, "Omschrijving 2"),
        ("TO_EMAIL", "C", 50, False, False, "E-mail"),
        ("SHIP_MTH", "C", 10, False, True, "Verzendwijze"),
        ("PD_AMT", "Y", 8, False, False, "Kortingsbedrag"),
        ("ORD_AMT", "Y", 8, False, False, "Orderbedrag excl. BTW (sim)", _RO),
        ("ORD_STAT", "N", 1, False, False, "Status: 0 open, 1 geleverd, 2 gefactureerd (sim)", _RO),
        ("CNG_DATE", "T", 8, False, False, "Wijzigingsdatum", _RO),
        ("INP_DATE", "T", 8, False, False, "Invoerdatum", _RO),
    ),
    "SO_LINE": _t(
        ("ORD_NR", "C", 10, False, True, "Verkoopordernummer (sim)", _RO),
        ("LINE_NR", "N", 4, False, False, "Regelnummer (sim)", _RO),
        ("ART_CODE", "C", 20, True, True, "Artikelcode"),
        ("ART_DESC", "C", 40, False, False, "Omschrijving (sim)"),
        ("ORD_QTY", "N", 12, True, False, "Aantal besteld"),
        ("DEL_QTY", "N", 12, False, False, "Aantal geleverd (sim)", _RO),
        ("ART_PX", "Y", 8, False, False, "Verkoopprijs per eenheid"),
        ("VAT_CODE", "C", 2, False, True, "BTW-code (sim)"),
        ("DEL_DATE", "T", 8, False, False, "Leverdatum"),
        ("REC_ID", "C", 10, False, True, "Unieke code", _RO),
    ),
    "DEL_ADDR": _t(
        ("REC_ID", "C", 10, False, True, "Unieke code", _RO),
        ("SUB_NR", "C", 10, True, True, "Debiteurnummer"),
        ("DEL_NAME", "C", 40, True, False, "Naam"),
        ("ADDRESS1", "C", 80, False, False, "Adres"),
        ("POST_CODE", "C", 10, False, True, "Postcode"),
        ("CITY", "C", 35, False, False, "Plaats"),
        ("CNT_CODE", "C", 2, False, True, "ISO-landcode"),
        ("MAIL_BUS", "C", 50, False, False, "E-mail"),
        ("TEL_BUS", "C", 20, False, False, "Telefoon"),
    ),
    "DJ_PAGE": _t(
        ("REC_ID", "C", 10, False, True, "Unieke code (sim)", _RO),
        ("DJ_CODE", "C", 3, True, True, "Dagboekcode"),
        ("PAGE_NR", "C", 10, False, True, "Bladzijdenummer (teken)"),  # mandatory; assigned when empty
        ("HDR_DESC", "C", 40, True, False, "Omschrijving bladzijde"),
        ("SUB_NR", "C", 10, False, True, "Debiteur/Crediteur"),
        ("INV_NR", "C", 12, False, True, "Document-/factuurnummer"),
        ("TRN_DATE", "D", 8, False, False, "Mutatiedatum"),
        ("PERIOD", "N", 3, False, False, "Periode"),
        ("CUR_CODE", "C", 3, False, True, "Valutacode"),
        ("PAGE_AMT", "Y", 8, False, False, "Bladsaldo", _RO),
        ("PAGE_VAT", "Y", 8, False, False, "BTW-bedrag bladzijde", _RO),
        ("CNG_DATE", "T", 8, False, False, "Wijzigingsdatum", _RO),
        ("INP_DATE", "T", 8, False, False, "Invoerdatum", _RO),
    ),
    "DJ_LINE": _t(
        ("REC_ID", "C", 10, False, True, "Unieke code", _RO),  # mandatory; always assigned by the server
        ("DJ_CODE", "C", 3, False, True, "Dagboekcode"),
        ("PAGE_NR", "C", 10, False, True, "Bladzijdenummer (teken)"),
        ("ACCT_NR", "C", 10, True, True, "Rekeningnr"),
        ("SRC_ID", "C", 10, False, True, "Identificatie bron"),
        ("SRC_TYPE", "N", 2, False, False, "Brontype"),
        ("TRN_DATE", "D", 8, False, False, "Mutatiedatum"),
        ("AMOUNT", "Y", 8, False, False, "Mutatiebedrag"),
        ("VAT_AMT", "Y", 8, False, False, "BTW-bedrag"),
        ("VAT_CODE", "C", 2, False, True, "BTW-code"),
        ("BASE_AMT", "Y", 8, False, False, "Basisbedrag BTW"),
        ("TRN_DESC", "C", 40, False, False, "Omschrijving regel"),
        ("SUB_NR", "C", 10, False, True, "Debiteur-/crediteurnummer"),
        ("INV_NR", "C", 12, False, True, "Document-/factuurnummer"),
        ("COST_CODE", "C", 10, False, True, "Kostenplaatscode"),
    ),
    "DAILY": _t(
        ("DJ_CODE", "C", 3, True, True, "Dagboekcode"),
        ("DJ_NAME", "C", 40, True, False, "Dagboeknaam"),
        ("DJ_TYPE", "N", 1, True, False, "Type dagboek (numeriek)"),
        ("DJ_TYPEV", "C", 20, False, False, "Type dagboek"),
        ("DJ_ACCT", "C", 10, False, True, "Gekoppelde rekening"),
    ),
    "LEDGER": _t(
        ("ACCT_NR", "C", 10, True, True, "Rekeningnr"),
        ("ACCT_NAME", "C", 40, True, False, "Omschrijving rekening"),
        ("ACCT_TYPE", "N", 1, False, False, "Rekeningtype"),
        ("VAT_CODE", "C", 2, False, True, "BTW-code"),
        ("REC_BLK", "L", 1, False, False, "Geblokkeerd"),
    ),
    "VAT": _t(
        ("VAT_CODE", "C", 2, True, True, "BTW-code"),
        ("VAT_NAME", "C", 40, True, False, "Omschrijving BTW-code"),
        ("VAT_PCT", "N", 7, False, False, "BTW-percentage"),
        ("VAT_TYPE", "N", 1, True, False, "BTW-type (numeriek)"),
        ("CALC_TYPE", "N", 1, True, False, "BTW-rekenwijze"),
        ("VAT_ACCT", "C", 10, True, True, "Rekeningnr"),
        ("FRM_CODE", "C", 10, True, True, "Rubr.code"),
        ("IS_REVERSE", "L", 1, False, False, "BTW verlegd"),
    ),
}


@dataclass(frozen=True, slots=True)
class BusinessObject:
    """A business-object code: its header table, detail tables and key field."""

    code: str
    description: str
    table: str
    key: str
    details: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()  # always-empty tables the real answer carries (USR_LINK, PAGE_WF)
    writable: bool = True
    store: str = ""
    detail_link: str = ""  # the header field the detail rows share (ORD_NR, REC_ID of the page)
    meta: Mapping[str, str] = field(default_factory=dict)


BUSINESS_OBJECTS: dict[str, BusinessObject] = {
    bo.code: bo
    for bo in (
        BusinessObject("AR1", "Debiteuren", "CONTACT", "SUB_NR", extra=("USR_LINK",), store="debtors"),
        BusinessObject("CON", "Relaties", "CONTACT", "SUB_NR", writable=False, store="debtors"),
        BusinessObject("AK1", "Artikelen", "ARTICLE", "ART_CODE", store="articles"),
        BusinessObject("AG1", "Artikelgroepen", "ART_GRP", "AG_CODE", store="groups"),
        BusinessObject("ADDR", "Afleveradressen", "DEL_ADDR", "REC_ID", store="addresses"),
        BusinessObject(
            "SO1",
            "Verkooporders",
            "SO_HDR",
            "ORD_NR",
            details=("SO_LINE",),
            store="orders",
            detail_link="ORD_NR",
        ),
        BusinessObject(
            "DJ2",
            "Dagboekbladzijden",
            "DJ_PAGE",
            "REC_ID",
            details=("DJ_LINE",),
            store="pages",
            detail_link="PAGE_REC",
        ),
        BusinessObject(
            "DJ2P",
            "Dagboekbladzijden (opvragen)",
            "DJ_PAGE",
            "REC_ID",
            details=("DJ_LINE",),
            extra=("USR_LINK", "PAGE_WF"),
            writable=False,
            store="pages",
            detail_link="PAGE_REC",
        ),
        BusinessObject("DJ1", "Dagboeken", "DAILY", "DJ_CODE", writable=False, store="journals"),
        BusinessObject("GL1", "Grootboekrekeningen", "LEDGER", "ACCT_NR", writable=False, store="ledger"),
        BusinessObject("VA1", "BTW-codes", "VAT", "VAT_CODE", writable=False, store="vat"),
    )
}


class ValueProblem(ValueError):
    """A value that does not fit its column."""


def _parse_datetime(text: str) -> dt.datetime:
    value = text.strip()
    if value.startswith("{^") and value.endswith("}"):
        value = value[2:-1]
    value = value.replace("Z", "").replace(" ", "T")
    if "." in value:
        value = value.split(".", 1)[0]
    parsed = dt.datetime.fromisoformat(value)
    return parsed.replace(tzinfo=None)


def parse_value(column: Column, raw: Any) -> Any:
    """A posted value in our representation (str, Decimal, int, bool, date, datetime, None)."""
    if raw is None:
        return None
    kind = column.type
    if kind in ("C", "M"):
        text = str(raw) if not isinstance(raw, bool) else ("T" if raw else "F")
        if kind == "C" and len(text.rstrip()) > column.length:
            raise ValueProblem(f"te lang (maximaal {column.length} tekens)")
        return text.rstrip().upper() if column.upper else text.rstrip()
    if kind in ("N", "Y", "B", "I"):
        if isinstance(raw, bool):
            raise ValueProblem("geen getal")
        try:
            number = Decimal(str(raw).strip() or "0")
        except InvalidOperation:
            raise ValueProblem(f"geen getal: {raw!r}") from None
        return int(number) if kind == "I" else number
    if kind == "L":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "t", ".t.", "y", "j"):
            return True
        if text in ("0", "false", "f", ".f.", "n", ""):
            return False
        raise ValueProblem(f"geen logische waarde: {raw!r}")
    if kind in ("D", "T"):
        if isinstance(raw, str) and not raw.strip():
            return None
        try:
            moment = _parse_datetime(str(raw))
        except ValueError:
            raise ValueProblem(f"geen geldige datum: {raw!r}") from None
        return moment.date() if kind == "D" else moment
    return raw


def render_value(column: Column, value: Any) -> Any:
    """How AccountView.net writes a value: dates as ``yyyy-mm-dd``, date-times without zone, '' empty."""
    kind = column.type
    if kind in ("D", "T"):
        if value is None:
            return ""
        if kind == "D":
            day = value.date() if isinstance(value, dt.datetime) else value
            return day.isoformat()
        moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    if kind in ("N", "Y", "B"):
        return value if value is not None else Decimal(0)
    if kind == "I":
        return int(value or 0)
    if kind == "L":
        return bool(value)
    return "" if value is None else value
