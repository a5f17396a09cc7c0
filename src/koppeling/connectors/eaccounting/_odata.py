"""The small part of OData v4 ``$filter`` / ``$orderby`` that the eAccounting simulator understands.

Supported (per developer.vismaonline.com/docs/filtering): comparisons ``eq ne gt ge lt le``,
``and`` / ``or`` / ``not``, parentheses, ``startswith(F,'x')``, ``endswith(F,'x')``,
``contains(F,'x')``; literals: ``'strings'`` (``''`` escapes a quote), numbers, ``true``/``false``,
``null``, unquoted GUIDs and ISO date-times (``2016-12-31T23:59:59.00Z``). String comparisons are
case-insensitive (inferred: SQL Server collation). Anything else raises :class:`ODataError` with the
message shape of Microsoft's OData library.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["ODataError", "compile_filter", "order_by"]

Record = Mapping[str, Any]
Predicate = Callable[[Record], bool]


class ODataError(ValueError):
    """A ``$filter`` / ``$orderby`` the server would refuse (answered as 400, ErrorCode 6000)."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^']|'')*')
      | (?P<dtm>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)
      | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_/]*)
      | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)
_COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
_FUNCTIONS = {"startswith", "endswith", "contains"}


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ODataError(f"Syntax error at position {pos} in '{text}'.")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _parse_datetime(text: str) -> dt.datetime:
    value = text.replace("Z", "+00:00")
    if len(value) == 10:
        value += "T00:00:00+00:00"
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


class _Parser:
    def __init__(self, text: str, fields: Sequence[str], type_name: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0
        self.fields = {name.lower(): name for name in fields}
        self.type_name = type_name

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ODataError(f"Expression expected at position {len(self.text)} in '{self.text}'.")
        self.pos += 1
        return token

    def expect(self, punct: str) -> None:
        kind, value = self.take()
        if kind != "punct" or value != punct:
            raise ODataError(f"'{punct}' expected in '{self.text}'.")

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token and token[0] == "name" and token[1].lower() == word:
            self.pos += 1
            return True
        return False

    def parse(self) -> Predicate:
        predicate = self.or_expr()
        if self.peek() is not None:
            raise ODataError(f"Syntax error: unexpected '{self.peek()[1]}' in '{self.text}'.")  # type: ignore[index]
        return predicate

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.keyword("or"):
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def and_expr(self) -> Predicate:
        parts = [self.unary()]
        while self.keyword("and"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def unary(self) -> Predicate:
        if self.keyword("not"):
            inner = self.unary()
            return lambda r: not inner(r)
        return self.primary()

    def field(self, name: str) -> str:
        real = self.fields.get(name.lower())
        if real is None:
            raise ODataError(
                f"Could not find a property named '{name}' on type 'eAccounting.{self.type_name}'."
            )
        return real

    def literal(self) -> Any:
        kind, value = self.take()
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind == "dtm":
            try:
                return _parse_datetime(value)
            except ValueError:
                raise ODataError(
                    f"The DateTimeOffset text '{value}' should be in format "
                    "'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?'."
                ) from None
        if kind == "guid":
            return uuid.UUID(value)
        if kind == "num":
            try:
                return Decimal(value)
            except InvalidOperation:  # pragma: no cover - the regex only lets numbers through
                raise ODataError(f"Invalid number '{value}'.") from None
        if kind == "name" and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if kind == "name" and value.lower() == "null":
            return None
        raise ODataError(f"Literal expected, found '{value}' in '{self.text}'.")

    def primary(self) -> Predicate:
        kind, value = self.take()
        if kind == "punct" and value == "(":
            inner = self.or_expr()
            self.expect(")")
            return inner
        if kind != "name":
            raise ODataError(f"Property name expected, found '{value}' in '{self.text}'.")
        if value.lower() in _FUNCTIONS and self.peek() == ("punct", "("):
            self.take()
            _, fname = self.take()
            field = self.field(fname)
            self.expect(",")
            needle = self.literal()
            self.expect(")")
            if not isinstance(needle, str):
                raise ODataError(f"The function '{value}' expects a string literal.")
            return _function(value.lower(), field, needle.lower())
        field = self.field(value)
        op_kind, op = self.take()
        if op_kind != "name" or op.lower() not in _COMPARISONS:
            raise ODataError(f"Comparison operator expected after '{value}' in '{self.text}'.")
        return _comparison(field, op.lower(), self.literal())


def _function(name: str, field: str, needle: str) -> Predicate:
    def check(record: Record) -> bool:
        value = record.get(field)
        if value is None:
            return False
        text = str(value).lower()
        if name == "startswith":
            return text.startswith(needle)
        if name == "endswith":
            return text.endswith(needle)
        return needle in text

    return check


def _coerce(value: Any, literal: Any) -> tuple[Any, Any] | None:
    """Both sides in one comparable type, or None when they cannot be compared."""
    if value is None or literal is None:
        return None
    if isinstance(literal, bool) or isinstance(value, bool):
        return (value, literal) if isinstance(value, bool) and isinstance(literal, bool) else None
    if isinstance(literal, dt.datetime):
        try:
            return _parse_datetime(str(value)), literal
        except ValueError:
            return None
    if isinstance(literal, uuid.UUID):
        try:
            return uuid.UUID(str(value)), literal
        except ValueError:
            return None
    if isinstance(literal, Decimal):
        try:
            return Decimal(str(value)), literal
        except InvalidOperation:
            return None
    return str(value).lower(), str(literal).lower()


def _comparison(field: str, op: str, literal: Any) -> Predicate:
    def check(record: Record) -> bool:
        value = record.get(field)
        if op in ("eq", "ne") and (value is None or literal is None):
            same = value is None and literal is None
            return same if op == "eq" else not same
        pair = _coerce(value, literal)
        if pair is None:
            return op == "ne"
        left, right = pair
        if op == "eq":
            return left == right
        if op == "ne":
            return left != right
        if isinstance(left, bool | uuid.UUID):
            raise ODataError(f"The operator '{op}' is not defined for this property type.")
        if op == "gt":
            return left > right
        if op == "ge":
            return left >= right
        if op == "lt":
            return left < right
        return left <= right

    return check


def compile_filter(text: str, fields: Sequence[str], type_name: str) -> Predicate:
    """A predicate over records (dicts with the API's field names) for a ``$filter`` text."""
    if not text.strip():
        raise ODataError("The $filter query option cannot be empty.")
    return _Parser(text, fields, type_name).parse()


def order_by(text: str, fields: Sequence[str], type_name: str) -> Callable[[list[Any]], list[Any]]:
    """A sorter for ``$orderby`` (``Field [asc|desc], ...``)."""
    known = {name.lower(): name for name in fields}
    keys: list[tuple[str, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise ODataError(f"Syntax error in $orderby '{text}'.")
        real = known.get(words[0].lower())
        if real is None:
            raise ODataError(
                f"Could not find a property named '{words[0]}' on type 'eAccounting.{type_name}'."
            )
        keys.append((real, len(words) == 2 and words[1].lower() == "desc"))

    def sort_key(value: Any) -> tuple[int, Any]:
        if value is None:
            return (0, "")
        if isinstance(value, bool | int | Decimal | float):
            return (1, Decimal(str(value)))
        return (2, str(value).lower())

    def apply(records: list[Any]) -> list[Any]:
        out = list(records)
        for name, desc in reversed(keys):
            out.sort(key=lambda r, n=name: sort_key(r.get(n)), reverse=desc)
        return out

    return apply
