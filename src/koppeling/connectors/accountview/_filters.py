"""The ``AccountViewData`` read parameters: ``FilterControlSource<n>`` … ``FilterValue<n>``,
``MatchAnyFilter``, the free-form Visual FoxPro ``Filter``, ``SortFields``/``SortOrder``.

Operator names seen in public clients ([V]): ``Equal``, ``NotEqual``, ``Contains``,
``DateOnOrAfterDate``; numeric ``42`` (>=) and ``43`` (<=) from the Ruby client's comments. The
other names below follow the same pattern and are our guess ([S]). String comparisons are
case-sensitive (as FoxPro's ``=``) unless the simulator is told otherwise ([I]).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ._tables import TABLES, Column, ValueProblem, parse_value

__all__ = ["FilterProblem", "build_filters", "sorter"]

Row = Mapping[str, Any]


class FilterProblem(ValueError):
    """A read parameter AccountView.net would refuse."""


_OPERATORS = {
    "equal": "eq",
    "equals": "eq",
    "notequal": "ne",
    "contains": "contains",
    "startswith": "startswith",
    "greaterthan": "gt",
    "greaterthanorequal": "ge",
    "lessthan": "lt",
    "lessthanorequal": "le",
    "dateonorafterdate": "ge",
    "dateonorbeforedate": "le",
    "dateafterdate": "gt",
    "datebeforedate": "lt",
    "42": "ge",
    "43": "le",
}


def _column(source: str, tables: tuple[str, ...]) -> tuple[str, Column]:
    table, _, name = source.strip().upper().rpartition(".")
    candidates = [table] if table in tables else list(tables)
    for candidate in candidates:
        column = TABLES[candidate].get(name)
        if column is not None:
            return candidate, column
    raise FilterProblem(f"Onbekend veld in filter: {source}")


def _typed(column: Column, value_type: str, raw: str) -> Any:
    kind = (value_type or column.type).upper()
    probe = Column(column.name, kind if kind in "CNDTLYI" else column.type, 10_000)
    try:
        value = parse_value(probe, raw)
    except ValueProblem as exc:
        raise FilterProblem(f"Ongeldige filterwaarde voor {column.name}: {exc}") from None
    if column.type == "D" and isinstance(value, dt.datetime):
        return value.date()
    if column.type == "T" and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    return value


def _compare(op: str, left: Any, right: Any, case_sensitive: bool) -> bool:
    if isinstance(left, str) or isinstance(right, str):
        left, right = str(left or "").rstrip(), str(right or "").rstrip()
        if not case_sensitive:
            left, right = left.lower(), right.lower()
        if op == "contains":
            return right in left
        if op == "startswith":
            return left.startswith(right)
    if op in ("contains", "startswith"):
        raise FilterProblem("Contains/StartsWith alleen op tekstvelden")
    if left is None:
        return op == "ne" and right is not None
    if isinstance(left, dt.datetime) and isinstance(right, dt.date) and not isinstance(right, dt.datetime):
        left = left.date()
    if isinstance(left, Decimal | int) and not isinstance(right, Decimal | int):
        try:
            right = Decimal(str(right))
        except InvalidOperation:
            return False
    try:
        return {
            "eq": left == right,
            "ne": left != right,
            "gt": left > right,
            "ge": left >= right,
            "lt": left < right,
            "le": left <= right,
        }[op]
    except TypeError:
        raise FilterProblem("Filterwaarde past niet bij het veldtype") from None


def build_filters(
    query: Mapping[str, str], tables: tuple[str, ...], *, case_sensitive: bool = True
) -> Callable[[Row, Mapping[str, list[Row]]], bool]:
    """A predicate over (header row, detail rows per table) from the request's parameters."""
    params = {k.lower(): v for k, v in query.items()}
    checks: list[Callable[[Row, Mapping[str, list[Row]]], bool]] = []
    for n in range(1, 21):
        source = params.get(f"filtercontrolsource{n}")
        if not source:
            continue
        op_name = (params.get(f"filteroperator{n}") or "Equal").strip().lower()
        op = _OPERATORS.get(op_name)
        if op is None:
            raise FilterProblem(f"Onbekende filteroperator: {params.get(f'filteroperator{n}')}")
        table, column = _column(source, tables)
        value_type = params.get(f"filtervaluetype{n}", "")
        raw = params.get(f"filtervalue{n}", "")
        as_list = params.get(f"filterislistofvalues{n}", "false").strip().lower() in ("true", "1")
        values = [_typed(column, value_type, part) for part in (raw.split(",") if as_list else [raw])]
        checks.append(_check(table, tables[0], column.name, op, values, case_sensitive))
    expression = params.get("filter")
    if expression:
        checks.append(_foxpro(expression, tables, case_sensitive))
    match_any = params.get("matchanyfilter", "false").strip().lower() in ("true", "1")

    def predicate(row: Row, details: Mapping[str, list[Row]]) -> bool:
        if not checks:
            return True
        results = (check(row, details) for check in checks)
        return any(results) if match_any else all(results)

    return predicate


def _check(table: str, header: str, name: str, op: str, values: list[Any], case_sensitive: bool):
    def one(row: Row) -> bool:
        hits = [_compare(op, row.get(name), value, case_sensitive) for value in values]
        return all(hits) if op == "ne" else any(hits)

    def check(row: Row, details: Mapping[str, list[Row]]) -> bool:
        if table == header:
            return one(row)
        return any(one(line) for line in details.get(table, ()))

    return check


_FOX = re.compile(
    r"^\s*(?P<not>!)?\s*(?:EMPTY\(\s*(?P<empty>[\w.]+)\s*\)|(?P<field>[\w.]+)\s*(?P<op>==|=|!=|#|<>|>=|<=|>|<)"
    r"\s*(?P<value>'[^']*'|\"[^\"]*\"|\{\^[^}]*\}|-?\d+(?:\.\d+)?|\.T\.|\.F\.))\s*$",
    re.IGNORECASE,
)


def _foxpro(expression: str, tables: tuple[str, ...], case_sensitive: bool):
    """``a.b='x' AND !EMPTY(a.c)`` style: comparisons and EMPTY(), joined by AND only ([S] subset)."""
    parts = re.split(r"\s+AND\s+", expression.strip(), flags=re.IGNORECASE)
    checks = []
    for part in parts:
        match = _FOX.match(part)
        if not match:
            raise FilterProblem(f"Filterexpressie niet ondersteund door de simulator: {part}")
        negate = bool(match.group("not"))
        if match.group("empty"):
            table, column = _column(match.group("empty"), tables)

            def is_empty(row: Row, details: Mapping[str, list[Row]], n=column.name, neg=negate) -> bool:
                value = row.get(n)
                empty = value in (None, "", 0, False) or (isinstance(value, str) and not value.strip())
                return not empty if neg else empty

            checks.append(is_empty)
            continue
        table, column = _column(match.group("field"), tables)
        op = {
            "==": "eq",
            "=": "eq",
            "!=": "ne",
            "#": "ne",
            "<>": "ne",
            ">=": "ge",
            "<=": "le",
            ">": "gt",
            "<": "lt",
        }[match.group("op")]
        literal = match.group("value").strip("'\"")
        check = _check(table, tables[0], column.name, op, [_typed(column, "", literal)], case_sensitive)
        checks.append((lambda c: lambda r, d: not c(r, d))(check) if negate else check)
    return lambda row, details: all(check(row, details) for check in checks)


def sorter(
    query: Mapping[str, str], table: str, key: str
) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    params = {k.lower(): v for k, v in query.items()}
    fields = [
        f.strip().upper().rpartition(".")[2] for f in (params.get("sortfields") or "").split(",") if f.strip()
    ]
    for name in fields:
        if name not in TABLES[table]:
            raise FilterProblem(f"Onbekend sorteerveld: {name}")
    descending = (params.get("sortorder") or "ascending").strip().lower() in ("descending", "desc")
    names = fields or [key]

    def sort_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
        out = []
        for name in names:
            value = row.get(name)
            out.append((value is not None, value if not isinstance(value, str) else value.upper()))
        return tuple(out)

    return lambda rows: sorted(rows, key=sort_key, reverse=descending)
