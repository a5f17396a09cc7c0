"""Forms generated from the settings models (pydantic): every setting a field with a real widget.

A model's fields become form fields by their type: a yes/no a checkbox, a fixed set of values a
drop-down, a list of statuses a group of checkboxes when the source gives the list (else a comma
list), a mapping (payment method → account) a table of rows with a drop-down where the target
gives its accounts, a mapping to a small model (VAT rate → rate and category) a table with one
column per field, a nested model a group of fields, anything else JSON. Posted values are parsed
back into the settings document and validated by the model itself; every problem is put next to
the field (and the row) it is about, in the reader's language where pydantic's error type is
known. Nothing here raises for bad input.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _
from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

from .labels import choice_label, label_of

__all__ = ["Field", "Picklists", "Row", "SchemaForm"]

#: empty rows offered under a mapping, to add entries without JavaScript
SPARE_ROWS = 2


@dataclass
class Picklists:
    """Live choices for one settings model: values per field path, suggested keys per mapping."""

    values: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    keys: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: value picklists that are complete: a value outside one is refused (a typo'd account id)
    strict: frozenset[str] = frozenset()


@dataclass
class Row:
    key: str = ""
    value: Any = ""
    error: str = ""
    #: per column of a model mapping: name -> value
    cells: dict[str, Any] = field(default_factory=dict)
    index: int = 0


@dataclass
class Field:
    name: str
    input: str
    kind: str  # checkbox select checks list text number date time mapping model_mapping group json
    label: str
    help: str = ""
    value: Any = None
    choices: list[tuple[str, str]] = field(default_factory=list)
    nullable: bool = False
    required: bool = False
    error: str = ""
    rows: list[Row] = field(default_factory=list)
    key_choices: list[tuple[str, str]] = field(default_factory=list)
    value_choices: list[tuple[str, str]] = field(default_factory=list)
    columns: list[Field] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    step: str = "any"
    minimum: Any = None
    maximum: Any = None
    max_length: int | None = None

    @property
    def selected(self) -> set[str]:
        return {str(v) for v in (self.value or [])} if self.kind == "checks" else set()

    @property
    def shown(self) -> str:
        """The value as a text input shows it."""
        if self.kind == "list":
            return ", ".join(str(v) for v in (self.value or []))
        if self.kind == "json":
            return self.value if isinstance(self.value, str) else json.dumps(self.value or {}, indent=1)
        return "" if self.value is None else str(self.value)

    @property
    def leaf(self) -> str:
        """The last part of the name (a column's own name inside its mapping)."""
        return self.name.rsplit(".", 1)[-1]

    @property
    def row_count(self) -> int:
        return len(self.rows)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """``(type, nullable)``: ``X | None`` → ``(X, True)``; ``Annotated[X, …]`` → ``X``."""
    nullable = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            nullable = nullable or len(args) < len(typing.get_args(annotation))
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation, nullable


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _constraints(info: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for meta in getattr(info, "metadata", []) or []:
        for name in ("ge", "gt", "le", "lt", "max_length"):
            value = getattr(meta, name, None)
            if value is not None:
                out[name] = value
    return out


class SchemaForm:
    """The fields of one settings model under ``prefix``, bound to stored data or a POST.

    ``exclude`` leaves fields out (they keep their stored value); ``only`` shows just those.
    """

    def __init__(
        self,
        model: type[BaseModel],
        stored: Mapping[str, Any] | None,
        *,
        prefix: str,
        picklists: Picklists | None = None,
        exclude: tuple[str, ...] = ("version",),
        only: tuple[str, ...] | None = None,
    ) -> None:
        self.model = model
        self.prefix = prefix
        self.picklists = picklists or Picklists()
        self.stored = {k: v for k, v in dict(stored or {}).items() if k != "version"}
        names = [n for n in model.model_fields if n not in exclude and n != "version"]
        self.names = [n for n in names if only is None or n in only]
        self.errors: dict[str, str] = {}
        self.non_field_errors: list[str] = []
        self.data: dict[str, Any] = {}
        self.instance: BaseModel | None = None
        self.fields = [self._field(n, model.model_fields[n], self._current(n)) for n in self.names]

    # -- building ----------------------------------------------------------------------------------

    def _current(self, name: str) -> Any:
        if name in self.stored:
            return to_jsonable_python(self.stored[name])
        info = self.model.model_fields[name]
        if info.is_required():
            return None
        return to_jsonable_python(info.get_default(call_default_factory=True))

    def _field(self, name: str, info: Any, value: Any, *, path: str = "") -> Field:
        path = f"{path}.{name}" if path else name
        tp, nullable = _unwrap(info.annotation)
        label, help_text = label_of(name)
        made = Field(
            name=path,
            input=f"{self.prefix}-{path}",
            kind="text",
            label=label,
            help=help_text,
            value=value,
            nullable=nullable,
            required=info.is_required(),
        )
        limits = _constraints(info)
        made.minimum = limits.get("ge", limits.get("gt"))
        made.maximum = limits.get("le", limits.get("lt"))
        made.max_length = limits.get("max_length")
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if tp is bool:
            made.kind = "checkbox"
        elif origin is typing.Literal:
            made.kind = "select"
            made.choices = [(str(a), choice_label(name, str(a))) for a in args]
        elif isinstance(tp, type) and issubclass(tp, enum.Enum):
            made.kind = "select"
            made.choices = [(str(m.value), choice_label(name, str(m.value))) for m in tp]
        elif tp in (int, float, Decimal):
            made.kind, made.step = "number", "1" if tp is int else "any"
        elif tp is dt.date:
            made.kind = "date"
        elif tp is dt.time:
            made.kind = "time"
            if isinstance(value, str):
                made.value = value[:5]
        elif origin in (tuple, list, set, frozenset):
            choices = self.picklists.values.get(path)
            made.kind = "checks" if choices else "list"
            if choices:
                known = {c for c, _label in choices}
                extra = [(str(v), str(v)) for v in (value or []) if str(v) not in known]
                made.choices = [*choices, *extra]
        elif origin is dict:
            self._mapping(made, args, value)
        elif _is_model(tp):
            made.kind = "group"
            current = value if isinstance(value, dict) else {}
            made.children = [
                self._field(
                    n,
                    i,
                    current.get(n, to_jsonable_python(i.get_default(call_default_factory=True))),
                    path=path,
                )
                for n, i in tp.model_fields.items()
            ]
        elif tp is not str:
            made.kind = "json"
        return made

    def _mapping(self, made: Field, args: tuple[Any, ...], value: Any) -> None:
        value_tp = _unwrap(args[1])[0] if len(args) == 2 else str
        made.key_choices = self.picklists.keys.get(made.name, [])
        current = value if isinstance(value, dict) else {}
        if _is_model(value_tp):
            made.kind = "model_mapping"
            made.columns = [self._field(n, i, None, path=made.name) for n, i in value_tp.model_fields.items()]
            for column in made.columns:
                column.value_choices = self.picklists.values.get(column.name, [])
            made.rows = [
                Row(key=str(k), cells=dict(v) if isinstance(v, dict) else {}, index=i)
                for i, (k, v) in enumerate(current.items())
            ]
        elif (
            typing.get_origin(value_tp) is dict
            or _is_model(value_tp)
            or value_tp not in (str, int, float, Decimal)
        ):
            made.kind = "json"
            return
        else:
            made.kind = "mapping"
            made.value_choices = self.picklists.values.get(made.name, [])
            made.rows = [Row(key=str(k), value=v, index=i) for i, (k, v) in enumerate(current.items())]
        start = len(made.rows)
        made.rows += [Row(index=start + n) for n in range(SPARE_ROWS)]

    # -- binding a POST ---------------------------------------------------------------------------

    def bind(self, post: QueryDict) -> dict[str, Any]:
        """The settings document the POST describes (fields not shown keep their stored value)."""
        data = dict(self.stored)
        for made in self.fields:
            try:
                data[made.name] = self._parse(made, post)
            except ValueError as exc:
                self.errors[made.name] = str(exc)
                made.error = str(exc)
        self.data = data
        return data

    def _parse(self, made: Field, post: QueryDict) -> Any:
        raw = post.get(made.input, "")
        raw = raw.strip() if isinstance(raw, str) else raw
        kind = made.kind
        if kind == "checkbox":
            made.value = made.input in post
            return made.value
        if kind == "checks":
            made.value = [v for v in post.getlist(made.input) if v.strip()]
            return made.value
        if kind == "list":
            made.value = [p.strip() for p in raw.replace(";", ",").replace("\n", ",").split(",") if p.strip()]
            return made.value
        if kind == "json":
            made.value = raw
            if not raw:
                return None if made.nullable else {}
            try:
                return json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    _("Not valid JSON (line %(line)s): %(problem)s")
                    % {"line": exc.lineno, "problem": exc.msg}
                ) from None
        if kind == "group":
            return {child.name.rsplit(".", 1)[1]: self._parse(child, post) for child in made.children}
        if kind in ("mapping", "model_mapping"):
            return self._parse_rows(made, post)
        made.value = raw
        if raw == "" and (made.nullable or kind in ("number", "date", "time")):
            return None if made.nullable else raw
        return raw

    def _parse_rows(self, made: Field, post: QueryDict) -> dict[str, Any]:
        try:
            count = min(int(post.get(f"{made.input}-rows", "0")), 500)
        except ValueError:
            count = 0
        rows: list[Row] = []
        out: dict[str, Any] = {}
        problem = ""
        for i in range(count):
            base = f"{made.input}-{i}"
            row = Row(key=post.get(f"{base}-key", "").strip(), index=i)
            if made.kind == "model_mapping":
                for column in made.columns:
                    sub = column.name.rsplit(".", 1)[1]
                    cell = post.get(f"{base}-{sub}", "").strip()
                    if column.kind == "checkbox":
                        row.cells[sub] = f"{base}-{sub}" in post
                    elif cell:
                        row.cells[sub] = cell
                filled = bool(row.key) or any(v not in ("", False) for v in row.cells.values())
                entry: Any = dict(row.cells)
            else:
                row.value = post.get(f"{base}-value", "").strip()
                filled = bool(row.key or row.value)
                entry = row.value
            if not filled:
                continue
            if not row.key:
                row.error = _("Enter what this row is for (the left column).")
            elif row.key in out:
                row.error = _("%(key)s is in the table twice.") % {"key": row.key}
            problem = problem or row.error
            rows.append(row)
            if not row.error:
                out[row.key] = entry
        made.rows = [*rows, *(Row(index=len(rows) + n) for n in range(SPARE_ROWS))]
        for n, row in enumerate(made.rows):
            row.index = n
        if problem:
            raise ValueError(problem)
        return out

    # -- validation ------------------------------------------------------------------------------

    def validate(self) -> BaseModel | None:
        """The model built from the bound data, or None with every problem located."""
        clean = {k: v for k, v in self.data.items() if not (v is None and k in self.errors)}
        try:
            self.instance = self.model.model_validate(clean)
        except ValidationError as exc:
            for error in exc.errors():
                self._locate(error)
            self.instance = None
        if self.errors or self.non_field_errors:
            self.instance = None
        if self.instance is not None:
            self._check_picklists()
        return self.instance

    def _locate(self, error: Mapping[str, Any]) -> None:
        loc = [str(p) for p in error.get("loc", ())]
        message = friendly(error)
        by_name = {f.name: f for f in self._all_fields()}
        for cut in range(len(loc), 0, -1):
            name = ".".join(loc[:cut])
            target = by_name.get(name)
            if target is None:
                continue
            rest = loc[cut:]
            if target.kind in ("mapping", "model_mapping") and rest:
                key = rest[0]
                for row in target.rows:
                    if row.key == key:
                        where = f" ({label_of(rest[1])[0]})" if len(rest) > 1 and rest[1] != "[key]" else ""
                        row.error = f"{message}{where}"
                        break
                message = f"{key}: {message}"
            elif rest and target.kind in ("checks", "list"):
                message = f"{message}"
            self._add(target, message)
            return
        self.non_field_errors.append(message)

    def _add(self, target: Field, message: str) -> None:
        target.error = f"{target.error} {message}".strip() if target.error else message
        self.errors[target.name] = target.error

    def _all_fields(self):
        for made in self.fields:
            yield made
            yield from made.children

    def _check_picklists(self) -> None:
        """A value outside a complete picklist is a typo (an account the target does not have)."""
        for made in self._all_fields():
            if made.name in self.picklists.strict and made.kind == "mapping":
                known = {c for c, _label in made.value_choices}
                for row in made.rows:
                    if row.key and str(row.value) not in known:
                        row.error = _("%(value)s is not one of the choices the system gave.") % {
                            "value": row.value
                        }
                        self._add(made, f"{row.key}: {row.error}")
            if made.name in self.picklists.strict and made.kind == "checks":
                known = {c for c, _label in self.picklists.values.get(made.name, [])}
                unknown = [v for v in made.value or [] if str(v) not in known]
                if unknown:
                    self._add(
                        made, _("Not known there: %(values)s.") % {"values": ", ".join(map(str, unknown))}
                    )
            for column in made.columns:
                if column.name in self.picklists.strict:
                    sub = column.name.rsplit(".", 1)[1]
                    known = {c for c, _label in column.value_choices}
                    for row in made.rows:
                        cell = row.cells.get(sub)
                        if row.key and cell not in (None, "") and str(cell) not in known:
                            row.error = _("%(value)s is not one of the choices the system gave.") % {
                                "value": cell
                            }
                            self._add(made, f"{row.key}: {row.error}")
        if self.errors:
            self.instance = None

    def cleaned(self) -> dict[str, Any]:
        """The validated document as stored: only what differs from the model's defaults."""
        assert self.instance is not None
        return self.instance.model_dump(mode="json", exclude_defaults=True)


#: pydantic's error types people meet in these forms, in their language
def friendly(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    ctx = dict(error.get("ctx") or {})
    texts = {
        "missing": _("This is needed."),
        "int_parsing": _("Enter a whole number."),
        "int_from_float": _("Enter a whole number."),
        "decimal_parsing": _("Enter a number."),
        "float_parsing": _("Enter a number."),
        "date_parsing": _("Enter a date (YYYY-MM-DD)."),
        "date_from_datetime_parsing": _("Enter a date (YYYY-MM-DD)."),
        "time_parsing": _("Enter a time (HH:MM)."),
        "bool_parsing": _("Choose yes or no."),
        "literal_error": _("Choose one of the options."),
        "enum": _("Choose one of the options."),
        "extra_forbidden": _("This setting does not exist here."),
        "dict_type": _("Enter a table of values."),
        "too_short": _("Add at least %(min_length)s.") % {"min_length": ctx.get("min_length", 1)},
    }
    if kind in texts:
        return texts[kind]
    if kind in ("greater_than_equal", "greater_than"):
        return _("At least %(limit)s.") % {"limit": ctx.get("ge", ctx.get("gt"))}
    if kind in ("less_than_equal", "less_than"):
        return _("At most %(limit)s.") % {"limit": ctx.get("le", ctx.get("lt"))}
    if kind == "string_too_long":
        return _("At most %(n)s characters.") % {"n": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("At least %(n)s characters.") % {"n": ctx.get("min_length")}
    return str(error.get("msg", "")).removeprefix("Value error, ")
