"""One AccountView administration (onderneming) in memory: its tables and what a POST does to them.

The row/field-list POST format and the response keyed by table name are verified ([V], see the
docs); what AccountView does with the rows (auto-numbering, update when the key exists, the checks
below, how stock reservations follow sales orders) is inferred ([I]) or invented ([S]) and listed
in ``docs/connectors/accountview.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ._tables import BUSINESS_OBJECTS, TABLES, BusinessObject, ValueProblem, parse_value

__all__ = ["AVError", "Company", "E"]

_ZERO = Decimal(0)
_CENT = Decimal("0.01")
SALES_JOURNAL, MEMORIAL_JOURNAL = 3, 5  # DJ_TYPE values of the seeded journals ([S])


class E:
    """``ErrorNumbers`` the simulator uses ([S]: the real numbers are not public)."""

    MANDATORY = 1001
    TOO_LONG = 1002
    INVALID = 1003
    UNKNOWN_FIELD = 1004
    UNKNOWN_OBJECT = 1005
    NOT_FOUND = 1006
    DUPLICATE = 1007
    UNBALANCED = 1008
    NO_RIGHT = 2001
    NO_COMPANY = 2002
    SERVER_OFFLINE = 2003
    BAD_PARAMETER = 3001


class AVError(Exception):
    """``{"ErrorType": "AccountViewError", "ErrorNumbers": [...], "ErrorMessage": "..."}``."""

    def __init__(self, status: int, number: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.numbers = [number] if number is not None else None
        self.message = message


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


@dataclass(slots=True)
class Posted:
    """One header row of a POST with its detail rows (values already parsed)."""

    row_id: str
    values: dict[str, Any]
    lines: list[dict[str, Any]]


Rights = Callable[[str], None]  # raises AVError when the user lacks the right ("I" or "U")


class Company:
    def __init__(
        self,
        ident: str,
        code: str,
        description: str,
        now: Callable[[], dt.datetime],
        *,
        auto_number_debtors: bool = True,
    ) -> None:
        self.ident = ident
        self.code = code
        self.description = description
        self.now = now
        self.auto_number_debtors = auto_number_debtors
        self.debtors: dict[str, dict[str, Any]] = {}
        self.articles: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.addresses: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}  # ORD_NR -> header row with "_lines"
        self.pages: dict[str, dict[str, Any]] = {}  # REC_ID -> header row with "_lines"
        self.journals: dict[str, dict[str, Any]] = {}
        self.ledger: dict[str, dict[str, Any]] = {}
        self.vat: dict[str, dict[str, Any]] = {}
        self._counters: dict[str, int] = {"debtor": 10001, "order": 20260001, "rec": 1, "page": 1}

    # ------------------------------------------------------------ reading

    def store(self, bo: BusinessObject) -> dict[str, dict[str, Any]]:
        return getattr(self, bo.store)

    def next_number(self, name: str, width: int = 0) -> str:
        value = self._counters[name]
        self._counters[name] = value + 1
        return str(value).zfill(width) if width else str(value)

    def refresh_stock(self) -> None:
        """QTY_RES = open quantity on open sales orders; QTY_FREE2 = QTY_AVAIL - QTY_RES ([S])."""
        reserved: dict[str, Decimal] = {}
        for order in self.orders.values():
            if order["ORD_STAT"] != 0:
                continue
            for line in order["_lines"]:
                open_qty = max((line["ORD_QTY"] or _ZERO) - (line["DEL_QTY"] or _ZERO), _ZERO)
                reserved[line["ART_CODE"]] = reserved.get(line["ART_CODE"], _ZERO) + open_qty
        for code, article in self.articles.items():
            article["QTY_AVAIL"] = article["QTY_TECH"]
            article["QTY_RES"] = reserved.get(code, _ZERO)
            article["QTY_FREE2"] = article["QTY_AVAIL"] - article["QTY_RES"]

    # ------------------------------------------------------------ writing

    def post(
        self, bo: BusinessObject, posted: list[Posted], book_date: dt.date, rights: Rights
    ) -> dict[str, list[dict[str, Any]]]:
        """Validate every row first, then store them all (all or nothing)."""
        handler = {
            "debtors": self._debtor,
            "articles": self._article,
            "groups": self._group,
            "addresses": self._address,
            "orders": self._order,
            "pages": self._page,
        }[bo.store]
        staged: list[tuple[str, dict[str, Any]]] = []
        for item in posted:
            staged.append(handler(bo, item, book_date, rights, staged))
        now = self.now()
        out: dict[str, list[dict[str, Any]]] = {bo.table: []}
        for detail in bo.details:
            out[detail] = []
        for key, record in staged:
            store = self.store(bo)
            if not record.get("INP_DATE"):
                record["INP_DATE"] = now
            record["CNG_DATE"] = now
            if "CNG_NR" in TABLES[bo.table]:
                record["CNG_NR"] = int(record.get("CNG_NR") or 0) + 1
            store[key] = record
            out[bo.table].append(record)
            for detail in bo.details:
                out[detail].extend(record.get("_lines", ()))
        self.refresh_stock()
        return out

    @staticmethod
    def _require(table: str, values: Mapping[str, Any], skip: Iterable[str] = ()) -> None:
        for name, column in TABLES[table].items():
            if column.mandatory and name not in skip and values.get(name) in (None, ""):
                raise AVError(
                    400, E.MANDATORY, f"Veld {name} ({column.description}) is verplicht in {table}."
                )

    def _exists(self, store: Mapping[str, Any], key: Any, what: str, field: str) -> dict[str, Any]:
        record = store.get(key) if key else None
        if record is None:
            raise AVError(400, E.NOT_FOUND, f"{field}: {what} '{key}' bestaat niet.")
        return record

    def _upsert(
        self,
        bo: BusinessObject,
        item: Posted,
        rights: Rights,
        staged: list[tuple[str, dict[str, Any]]],
        key: str | None,
    ) -> dict[str, Any]:
        existing = self.store(bo).get(key) if key else None
        if key and any(k == key for k, _ in staged):
            raise AVError(400, E.DUPLICATE, f"{bo.key} '{key}' komt meer dan eens voor in deze aanvoer.")
        rights("U" if existing is not None else "I")
        record = dict(existing) if existing is not None else {name: None for name in TABLES[bo.table]}
        record.update({k: v for k, v in item.values.items() if not TABLES[bo.table][k].readonly})
        return record

    def _debtor(
        self,
        bo: BusinessObject,
        item: Posted,
        book_date: dt.date,
        rights: Rights,
        staged: list[tuple[str, dict[str, Any]]],
    ) -> tuple[str, dict[str, Any]]:
        key = item.values.get("SUB_NR") or None
        record = self._upsert(bo, item, rights, staged, key)
        if not record.get("SUB_NR"):
            if not self.auto_number_debtors:
                raise AVError(
                    400, E.MANDATORY, "Veld SUB_NR (Debiteur-/crediteurnummer) is verplicht in CONTACT."
                )
            while True:
                candidate = self.next_number("debtor")
                if candidate not in self.debtors:
                    break
            record["SUB_NR"] = candidate
        self._require("CONTACT", record)
        ledger = self._exists(self.ledger, record["ACCT_NR"], "verzamelrekening", "ACCT_NR")
        if ledger.get("ACCT_TYPE") != 3:
            raise AVError(
                400, E.INVALID, f"ACCT_NR: rekening {record['ACCT_NR']} is geen verzamelrekening debiteuren."
            )
        if record.get("VAT_CODE"):
            self._exists(self.vat, record["VAT_CODE"], "BTW-code", "VAT_CODE")
        record["REC_BLK"] = bool(record.get("REC_BLK"))
        return record["SUB_NR"], record

    def _article(
        self,
        bo: BusinessObject,
        item: Posted,
        book_date: dt.date,
        rights: Rights,
        staged: list[tuple[str, dict[str, Any]]],
    ) -> tuple[str, dict[str, Any]]:
        key = item.values.get("ART_CODE") or None
        record = self._upsert(bo, item, rights, staged, key)
        self._require("ARTICLE", record)
        if record.get("AG_CODE"):
            self._exists(self.groups, record["AG_CODE"], "artikelgroep", "AG_CODE")
        if record.get("VAT_CODE"):
            self._exists(self.vat, record["VAT_CODE"], "BTW-code", "VAT_CODE")
        for name in ("QTY_TECH", "QTY_AVAIL", "QTY_RES", "QTY_FREE2", "QTY_BESTEL", "PX_SELL", "COST_PX"):
            record[name] = record.get(name) or _ZERO
        record["REC_BLK"] = bool(record.get("REC_BLK"))
        return record["ART_CODE"], record

    def _group(
        self,
        bo: BusinessObject,
        item: Posted,
        book_date: dt.date,
        rights: Rights,
        staged: list[tuple[str, dict[str, Any]]],
    ) -> tuple[str, dict[str, Any]]:
        record = self._upsert(bo, item, rights, staged, item.values.get("AG_CODE") or None)
        self._require("ART_GRP", record)
        return record["AG_CODE"], record

    def _insert_only(self, bo: BusinessObject, item: Posted, rights: Rights) -> dict[str, Any]:
        rights("I")
        record = {name: None for name in TABLES[bo.table]}
        record.update({k: v for k, v in item.values.items() if not TABLES[bo.table][k].readonly})
        return record

    def _address(
        self,
        bo: BusinessObject,
        item: Posted,
        book_date: dt.date,
        rights: Rights,
        staged: list[tuple[str, dict[str, Any]]],
    ) -> tuple[str, dict[str, Any]]:
        record = self._insert_only(bo, item, rights)
        self._require("DEL_ADDR", record)
        self._exists(self.debtors, record["SUB_NR"], "debiteur", "SUB_NR")
        record["REC_ID"] = self.next_number("rec", 8)
        return record["REC_ID"], record

    def _order(
        self,
        bo: BusinessObject,
        item: Posted,
        book_date: dt.date,
        rights: Rights,
        staged: list[tuple[str, dict[str, Any]]],
    ) -> tuple[str, dict[str, Any]]:
        record = self._insert_only(bo, item, rights)
        record["ORD_DATE"] = record.get("ORD_DATE") or dt.datetime.combine(book_date, dt.time())
        self._require("SO_HDR", record)
        debtor = self._exists(self.debtors, record["RPL_INV"], "debiteur", "RPL_INV")
        if debtor.get("REC_BLK"):
            raise AVError(400, E.INVALID, f"RPL_INV: debiteur {record['RPL_INV']} is geblokkeerd.")
        record["RPL_DEL"] = record.get("RPL_DEL") or record["RPL_INV"]
        self._exists(self.debtors, record["RPL_DEL"], "debiteur", "RPL_DEL")
        if record.get("DEL_CODE"):
            address = self._exists(self.addresses, record["DEL_CODE"], "afleveradres", "DEL_CODE")
            if address["SUB_NR"] != record["RPL_DEL"]:
                raise AVError(
                    400,
                    E.INVALID,
                    f"DEL_CODE: afleveradres {record['DEL_CODE']} hoort niet bij "
                    f"debiteur {record['RPL_DEL']}.",
                )
        if not item.lines:
            raise AVError(400, E.MANDATORY, "Een verkooporder heeft minstens één regel (SO_LINE) nodig.")
        number = self.next_number("order")
        lines = []
        for index, raw in enumerate(item.lines, start=1):
            line = {name: None for name in TABLES["SO_LINE"]}
            line.update({k: v for k, v in raw.items() if not TABLES["SO_LINE"][k].readonly})
            self._require("SO_LINE", line)
            article = self._exists(self.articles, line["ART_CODE"], "artikel", f"SO_LINE[{index}].ART_CODE")
            if article.get("REC_BLK"):
                raise AVError(
                    400, E.INVALID, f"SO_LINE[{index}].ART_CODE: artikel {line['ART_CODE']} is geblokkeerd."
                )
            if line["ORD_QTY"] <= 0:
                raise AVError(400, E.INVALID, f"SO_LINE[{index}].ORD_QTY moet groter dan 0 zijn.")
            line["ART_PX"] = line["ART_PX"] if line.get("ART_PX") is not None else article["PX_SELL"]
            line["ART_DESC"] = line.get("ART_DESC") or article["ART_DESC1"]
            line["VAT_CODE"] = line.get("VAT_CODE") or article.get("VAT_CODE")
            line["DEL_DATE"] = line.get("DEL_DATE") or record.get("DEL_DATE")
            line.update(ORD_NR=number, LINE_NR=index, DEL_QTY=_ZERO, REC_ID=self.next_number("rec", 8))
            lines.append(line)
        total = sum((_money(line["ORD_QTY"] * line["ART_PX"]) for line in lines), _ZERO)
        record.update(
            ORD_NR=number, ORD_STAT=0, ORD_AMT=total - (record.get("PD_AMT") or _ZERO), _lines=lines
        )
        return number, record

    def _page(
        self,
        bo: BusinessObject,
        item: Posted,
        book_date: dt.date,
        rights: Rights,
        staged: list[tuple[str, dict[str, Any]]],
    ) -> tuple[str, dict[str, Any]]:
        record = self._insert_only(bo, item, rights)
        self._require("DJ_PAGE", record, skip=("PAGE_NR",))
        journal = self._exists(self.journals, record["DJ_CODE"], "dagboek", "DJ_CODE")
        record["TRN_DATE"] = record.get("TRN_DATE") or book_date
        record["PERIOD"] = record.get("PERIOD") or Decimal(record["TRN_DATE"].month)
        if journal["DJ_TYPE"] == SALES_JOURNAL:
            self._exists(self.debtors, record.get("SUB_NR"), "debiteur", "SUB_NR")
            if not record.get("INV_NR"):
                raise AVError(
                    400, E.MANDATORY, "Veld INV_NR (Document-/factuurnummer) is verplicht in een verkoopboek."
                )
            others = [p for p in self.pages.values() if p["DJ_CODE"] == record["DJ_CODE"]]
            others += [p for _, p in staged if p["DJ_CODE"] == record["DJ_CODE"]]
            if any(p.get("INV_NR") == record["INV_NR"] for p in others):
                raise AVError(
                    400,
                    E.DUPLICATE,
                    f"INV_NR: factuurnummer {record['INV_NR']} bestaat al in dagboek {record['DJ_CODE']}.",
                )
        if not item.lines:
            raise AVError(400, E.MANDATORY, "Een dagboekbladzijde heeft minstens één regel (DJ_LINE) nodig.")
        record["PAGE_NR"] = record.get("PAGE_NR") or self.next_number("page")
        record["REC_ID"] = self.next_number("rec", 8)
        lines = []
        for index, raw in enumerate(item.lines, start=1):
            line = {name: None for name in TABLES["DJ_LINE"]}
            line.update({k: v for k, v in raw.items() if not TABLES["DJ_LINE"][k].readonly})
            self._require("DJ_LINE", line)
            self._exists(self.ledger, line["ACCT_NR"], "rekening", f"DJ_LINE[{index}].ACCT_NR")
            if line.get("VAT_CODE"):
                self._exists(self.vat, line["VAT_CODE"], "BTW-code", f"DJ_LINE[{index}].VAT_CODE")
            line.update(
                DJ_CODE=record["DJ_CODE"], PAGE_NR=record["PAGE_NR"], REC_ID=self.next_number("rec", 8)
            )
            line["TRN_DATE"] = line.get("TRN_DATE") or record["TRN_DATE"]
            line["SUB_NR"] = line.get("SUB_NR") or record.get("SUB_NR")
            line["INV_NR"] = line.get("INV_NR") or record.get("INV_NR")
            line["SRC_TYPE"] = line.get("SRC_TYPE") or Decimal(journal["DJ_TYPE"])
            line["SRC_ID"] = line.get("SRC_ID") or record.get("INV_NR") or record["PAGE_NR"]
            line["AMOUNT"] = line.get("AMOUNT") or _ZERO
            line["VAT_AMT"] = line.get("VAT_AMT") or _ZERO
            lines.append(line)
        if journal["DJ_TYPE"] == MEMORIAL_JOURNAL and sum(line["AMOUNT"] for line in lines) != 0:
            raise AVError(400, E.UNBALANCED, "De bladzijde is niet in balans (som van AMOUNT is niet 0).")
        record["PAGE_AMT"] = sum((line["AMOUNT"] + line["VAT_AMT"] for line in lines), _ZERO)
        record["PAGE_VAT"] = sum((line["VAT_AMT"] for line in lines), _ZERO)
        record["_lines"] = lines
        return record["REC_ID"], record

    # ------------------------------------------------------------ parsing a POST body

    @staticmethod
    def parse_rows(
        table: str, definition: Any, rows: Any, *, detail: bool
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """[(RowId, HeaderId, {FIELD: value})] from a ``Definition`` and its ``Rows``."""
        if not isinstance(definition, Mapping):
            raise AVError(400, E.INVALID, "Table.Definition ontbreekt of is ongeldig.")
        lowered = {str(k).lower(): v for k, v in definition.items()}
        name = str(lowered.get("name") or "").upper()
        if name != table:
            raise AVError(
                400, E.INVALID, f"Tabel {name or '(leeg)'} hoort niet bij dit object (verwacht {table})."
            )
        fields = lowered.get("fields")
        if not isinstance(fields, list) or not fields:
            raise AVError(400, E.INVALID, f"Definition.Fields van {table} ontbreekt.")
        names = []
        for entry in fields:
            entry_l = {str(k).lower(): v for k, v in entry.items()} if isinstance(entry, Mapping) else {}
            field_name = str(entry_l.get("name") or "")
            if field_name.lower() in ("rowid", "headerid"):
                names.append(field_name.lower())
                continue
            if field_name.upper() not in TABLES[table]:
                raise AVError(400, E.UNKNOWN_FIELD, f"Onbekend veld {field_name} in tabel {table}.")
            names.append(field_name.upper())
        out = []
        for index, row in enumerate(rows if isinstance(rows, list) else [], start=1):
            row_l = {str(k).lower(): v for k, v in row.items()} if isinstance(row, Mapping) else {}
            values = row_l.get("values")
            if not isinstance(values, list) or len(values) != len(names):
                raise AVError(
                    400,
                    E.INVALID,
                    f"Rij {index} van {table}: aantal waarden ({len(values or [])}) "
                    f"past niet bij de {len(names)} velden.",
                )
            parsed: dict[str, Any] = {}
            row_id = header_id = ""
            for name, raw in zip(names, values, strict=True):
                if name == "rowid":
                    row_id = str(raw)
                elif name == "headerid":
                    header_id = str(raw)
                else:
                    try:
                        parsed[name] = parse_value(TABLES[table][name], raw)
                    except ValueProblem as exc:
                        number = E.TOO_LONG if "lang" in str(exc) else E.INVALID
                        raise AVError(400, number, f"Veld {name} in {table} rij {index}: {exc}.") from None
            out.append((row_id or str(index), header_id, parsed))
        if not out and not detail:
            raise AVError(400, E.INVALID, f"TableData.Data.Rows van {table} is leeg.")
        return out


def business_object(code: str) -> BusinessObject:
    bo = BUSINESS_OBJECTS.get((code or "").strip().upper())
    if bo is None:
        raise AVError(400, E.UNKNOWN_OBJECT, f"Onbekend business object: {code or '(leeg)'}.")
    return bo
