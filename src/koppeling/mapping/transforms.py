"""The registry of named, pure transforms a mapping rule chains: ``trim | upper | lookup {...}``.

A transform is a function ``(value, params, record) -> value`` with declared parameters and the
types it takes and gives, so a mapping can be checked before it runs (``validate``). ``record`` is
the whole source record, read only (conditionals look at another field). A transform raises
``MappingError`` with a code when it cannot map a value; it never does I/O.

Types: ``text``, ``decimal``, ``date``, ``bool``, ``list`` (several sources) and ``any``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from koppeling.core.messages import gettext_noop

from .addresses import split_street
from .codes import MappingCode, MappingError
from .countries import alpha2, alpha3
from .tables import lookup as table_lookup

__all__ = ["TRANSFORMS", "Param", "Transform", "coerce_param", "empty", "get_path", "to_number"]

TYPES = ("text", "decimal", "date", "bool", "list", "any")
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Param:
    type: str  # text, decimal, int, bool, table, any, field, choice
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Transform:
    name: str
    func: Callable[[Any, Mapping[str, Any], Mapping[str, Any]], Any]
    takes: tuple[str, ...]  # the types it accepts ("any": every one)
    gives: str  # a type, or "same"
    params: Mapping[str, Param] = field(default_factory=dict)
    #: one line for the form's help (English; the page translates it)
    help: str = ""


def empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value in ([], ())


def get_path(record: Any, path: str) -> Any:
    """``a.b.0.c`` in nested dicts and lists; None where any step is missing."""
    value = record
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list | tuple) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def to_number(value: Any) -> Decimal:
    """A number as people and APIs write it: 12.5, "12,50", "1.234,56", "€ 7"."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise MappingError(MappingCode.NOT_A_NUMBER, {"value": str(value)})
    if isinstance(value, int | float):
        return Decimal(str(value))
    text = str(value or "").strip().replace("€", "").replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise MappingError(MappingCode.NOT_A_NUMBER, {"value": str(value)[:40]}) from None
    if not number.is_finite():
        raise MappingError(MappingCode.NOT_A_NUMBER, {"value": str(value)[:40]})
    return number


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _textual(fn: Callable[[str], str]) -> Callable[[Any, Mapping[str, Any], Mapping[str, Any]], Any]:
    def apply(value: Any, params: Mapping[str, Any], record: Mapping[str, Any]) -> Any:
        return None if value is None else fn(_text(value))

    return apply


def _title(text: str) -> str:
    """Each word capitalised; Dutch prefixes ("van", "de", "der", "den", "het", "ten", "ter") and
    "'s" stay lower case after the first word: "jan van der berg" -> "Jan van der Berg"."""
    small = {"van", "de", "der", "den", "het", "ten", "ter", "te", "op", "in", "'s", "aan"}
    words = text.split(" ")
    return " ".join(
        w.lower() if i and w.lower() in small else w[:1].upper() + w[1:].lower() for i, w in enumerate(words)
    )


def _concat(value: Any, params: Mapping[str, Any], record: Mapping[str, Any]) -> str:
    parts = value if isinstance(value, list | tuple) else [value]
    texts = [_text(p).strip() for p in parts]
    if params.get("skip_empty", True):
        texts = [t for t in texts if t]
    return str(params.get("separator", " ")).join(texts)


def _coalesce(value: Any, params: Mapping[str, Any], record: Mapping[str, Any]) -> Any:
    parts = value if isinstance(value, list | tuple) else [value]
    return next((p for p in parts if not empty(p)), None)


def _split(value: Any, params: Mapping[str, Any], record: Mapping[str, Any]) -> str:
    street, number, addition = split_street(_text(value))
    part = params.get("part", "street")
    if part == "house_number":
        return f"{number}{('-' + addition) if addition else ''}" if number else ""
    return {"street": street, "number": number, "addition": addition}[part]


def _country(value: Any, params: Mapping[str, Any], record: Mapping[str, Any]) -> Any:
    if empty(value):
        return value
    text = _text(value).strip()
    found = (alpha3 if params.get("to") == "alpha3" else alpha2)(text)
    if found is None and len(text) == 2 and text.isalpha() and params.get("to") != "alpha3":
        found = text.upper()  # an alpha-2 code this table lacks passes as it is
    if found is None:
        raise MappingError(MappingCode.UNKNOWN_COUNTRY, {"value": _text(value)[:40]})
    return found


def _parse_date(value: Any, pattern: str) -> dt.date | dt.datetime:
    if isinstance(value, dt.date):
        return value
    text = _text(value).strip()
    try:
        if pattern == "iso":
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            return moment.date() if len(text) <= 10 else moment
        return dt.datetime.strptime(text, pattern)
    except ValueError:
        raise MappingError(MappingCode.NOT_A_DATE, {"value": text[:40], "format": pattern}) from None


def _date_format(value: Any, params: Mapping[str, Any], record: Mapping[str, Any]) -> Any:
    if empty(value):
        return None
    moment = _parse_date(value, str(params.get("input", "iso")))
    output = str(params.get("output", "iso"))
    if output == "iso":
        return moment.date().isoformat() if isinstance(moment, dt.datetime) else moment.isoformat()
    return moment.strftime(output)


def _lookup(value: Any, params: Mapping[str, Any], record: Mapping[str, Any]) -> Any:
    return table_lookup(params["table"], _text(value), params.get("default", _text(value)))


def _default(value: Any, params: Mapping[str, Any], record: Mapping[str, Any]) -> Any:
    return params["value"] if empty(value) else value


def _number(value: Any, params: Mapping[str, Any], record: Mapping[str, Any]) -> Decimal | None:
    return None if empty(value) else to_number(value)


def _places(params: Mapping[str, Any]) -> Decimal:
    return Decimal(1).scaleb(-int(params.get("places", 2)))


def _round(value: Any, params: Mapping[str, Any], record: Mapping[str, Any]) -> Decimal | None:
    if empty(value):
        return None
    return to_number(value).quantize(_places(params), rounding=ROUND_HALF_UP)


def _vat(inclusive: bool) -> Callable[[Any, Mapping[str, Any], Mapping[str, Any]], Any]:
    def apply(value: Any, params: Mapping[str, Any], record: Mapping[str, Any]) -> Decimal | None:
        if empty(value):
            return None
        factor = 1 + to_number(params["rate"]) / _HUNDRED
        amount = to_number(value) * factor if inclusive else to_number(value) / factor
        return amount.quantize(_places(params), rounding=ROUND_HALF_UP)

    return apply


def _holds(value: Any, params: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    subject = get_path(record, params["field"]) if params.get("field") else value
    op = params.get("op", "equals")
    if op in ("empty", "not_empty"):
        return empty(subject) == (op == "empty")
    wanted = params.get("value")
    same = subject == wanted or (
        not isinstance(subject, bool) and not isinstance(wanted, bool) and _text(subject) == _text(wanted)
    )
    return same == (op == "equals")


def _when(value: Any, params: Mapping[str, Any], record: Mapping[str, Any]) -> Any:
    """If the condition holds: ``then`` (a value) or ``then_field`` (another source field);
    otherwise ``else`` / ``else_field``; a branch not given keeps the value."""
    branch = "then" if _holds(value, params, record) else "else"
    if params.get(f"{branch}_field"):
        return get_path(record, params[f"{branch}_field"])
    return params[branch] if branch in params else value


_VAT_PARAMS = {"rate": Param("decimal", required=True), "places": Param("int", default=2)}
_WHEN_PARAMS = {
    "field": Param("field"),
    "op": Param("choice", default="equals", choices=("equals", "not_equals", "empty", "not_empty")),
    "value": Param("any"),
    "then": Param("any"),
    "then_field": Param("field"),
    "else": Param("any"),
    "else_field": Param("field"),
}

TRANSFORMS: dict[str, Transform] = {
    t.name: t
    for t in (
        Transform(
            "trim",
            _textual(lambda s: " ".join(s.split())),
            ("any",),
            "text",
            help=gettext_noop("Remove spaces at the ends and doubled spaces inside."),
        ),
        Transform("upper", _textual(str.upper), ("any",), "text", help=gettext_noop("UPPER CASE.")),
        Transform("lower", _textual(str.lower), ("any",), "text", help=gettext_noop("lower case.")),
        Transform(
            "title",
            _textual(_title),
            ("any",),
            "text",
            help=gettext_noop("Capitalised Words (van, de stay small)."),
        ),
        Transform("text", _textual(lambda s: s), ("any",), "text", help=gettext_noop("The value as text.")),
        Transform(
            "replace",
            lambda v, p, r: None if v is None else _text(v).replace(p["old"], p.get("new", "")),
            ("any",),
            "text",
            {"old": Param("text", required=True), "new": Param("text", default="")},
            help=gettext_noop("Replace every occurrence of old by new."),
        ),
        Transform(
            "concat",
            _concat,
            ("list", "any"),
            "text",
            {"separator": Param("text", default=" "), "skip_empty": Param("bool", default=True)},
            help=gettext_noop("Join the source fields with the separator."),
        ),
        Transform(
            "coalesce",
            _coalesce,
            ("list", "any"),
            "any",
            help=gettext_noop("The first source field that is not empty."),
        ),
        Transform(
            "split_street",
            _split,
            ("any",),
            "text",
            {
                "part": Param(
                    "choice", default="street", choices=("street", "number", "addition", "house_number")
                )
            },
            help=gettext_noop("Street, house number or addition from one address line (12-A, 12 bis, 12a)."),
        ),
        Transform(
            "country_code",
            _country,
            ("any",),
            "text",
            {"to": Param("choice", default="alpha2", choices=("alpha2", "alpha3"))},
            help=gettext_noop("ISO country code from a name, alpha-3 or alpha-2 code."),
        ),
        Transform(
            "date_format",
            _date_format,
            ("text", "date", "any"),
            "text",
            {"input": Param("text", default="iso"), "output": Param("text", default="iso")},
            help=gettext_noop("Read a date (iso, or a strftime pattern) and write it in another format."),
        ),
        Transform(
            "lookup",
            _lookup,
            ("any",),
            "any",
            {"table": Param("table", required=True), "default": Param("any")},
            help=gettext_noop('A table of values; "*" is the row for every other value.'),
        ),
        Transform(
            "default",
            _default,
            ("any",),
            "same",
            {"value": Param("any", required=True)},
            help=gettext_noop("This value when the source is empty."),
        ),
        Transform(
            "number", _number, ("any",), "decimal", help=gettext_noop("Read a number (12,50 or 12.50).")
        ),
        Transform(
            "round",
            _round,
            ("decimal",),
            "decimal",
            {"places": Param("int", default=2)},
            help=gettext_noop("Round half up to this many decimals."),
        ),
        Transform(
            "vat_exclusive",
            _vat(False),
            ("decimal",),
            "decimal",
            _VAT_PARAMS,
            help=gettext_noop("A price including VAT at the rate, without it."),
        ),
        Transform(
            "vat_inclusive",
            _vat(True),
            ("decimal",),
            "decimal",
            _VAT_PARAMS,
            help=gettext_noop("A price excluding VAT, with VAT at the rate."),
        ),
        Transform(
            "when",
            _when,
            ("any",),
            "any",
            _WHEN_PARAMS,
            help=gettext_noop("If a field equals a value (or is empty): another value or field."),
        ),
    )
}


def coerce_param(param: Param, value: Any) -> tuple[Any, str]:
    """``(value, "")`` as the transform wants it, or ``(None, expected)`` naming what it must be."""
    kind = param.type
    if kind in ("text", "field"):
        return (value, "") if isinstance(value, str) else (None, gettext_noop("text"))
    if kind == "choice":
        return (value, "") if value in param.choices else (None, " | ".join(param.choices))
    if kind == "bool":
        return (value, "") if isinstance(value, bool) else (None, gettext_noop("true | false"))
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10
        return (value, "") if ok else (None, gettext_noop("a whole number 0-10"))
    if kind == "decimal":
        try:
            return format(to_number(value), "f"), ""
        except MappingError:
            return None, "a number"
    if kind == "table":
        ok = isinstance(value, Mapping) and all(isinstance(k, str) for k in value)
        return (
            ({k: _text(v) for k, v in value.items()}, "")
            if ok
            else (None, gettext_noop('a table {"from": "to"}'))
        )
    return value, ""
