"""Apply a mapping to one record, and check a mapping before anyone saves it.

:func:`validate` refuses a mapping with every reason, each located (``rules[2].sources[0]``):
an unknown source or target field, a target mapped twice, an unknown transform or a bad
parameter, a type that does not fit, a required target without a rule, and — given the preview
record — a transform that fails on it. A caller saves only a mapping with no problems, so a
mapping is never saved half.

:func:`apply` maps one record: ``(mapped, problems)``; a value that fails leaves its target out and
says why, the other targets are mapped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from koppeling.core.messages import Outcome

from .codes import MappingCode, MappingError, problem
from .spec import MappingSpec, Rule, Schema
from .transforms import TRANSFORMS, coerce_param, empty, get_path, to_number

__all__ = ["apply", "validate"]


def _compatible(got: str, wanted: tuple[str, ...] | str) -> bool:
    options = (wanted,) if isinstance(wanted, str) else wanted
    return got == "any" or "any" in options or got in options


def _check_rule(rule: Rule, where: str, schema: Schema, preview: Mapping[str, Any] | None) -> list[Outcome]:
    problems: list[Outcome] = []
    target = schema.target.get(rule.target)
    if target is None:
        problems.append(problem(MappingCode.UNKNOWN_TARGET, f"{where}.target", field=rule.target))
    types: list[str] = []
    for j, source in enumerate(rule.sources):
        kind = schema.source_type(source, preview)
        if kind is None:
            problems.append(problem(MappingCode.UNKNOWN_SOURCE, f"{where}.sources[{j}]", field=source))
        types.append(kind or "any")
    current = types[0] if len(types) == 1 else ("list" if types else "any")
    for j, step in enumerate(rule.transforms):
        at = f"{where}.transforms[{j}]"
        transform = TRANSFORMS.get(step.name)
        if transform is None:
            problems.append(problem(MappingCode.UNKNOWN_TRANSFORM, at, transform=step.name))
            current = "any"
            continue
        for name in step.params:
            if name not in transform.params:
                problems.append(
                    problem(MappingCode.PARAM_UNKNOWN, f"{at}.params.{name}", transform=step.name, param=name)
                )
        for name, param in transform.params.items():
            if name not in step.params:
                if param.required:
                    problems.append(
                        problem(
                            MappingCode.PARAM_MISSING, f"{at}.params.{name}", transform=step.name, param=name
                        )
                    )
                continue
            _, expected = coerce_param(param, step.params[name])
            if expected:
                problems.append(
                    problem(
                        MappingCode.PARAM_INVALID,
                        f"{at}.params.{name}",
                        transform=step.name,
                        param=name,
                        expected=expected,
                    )
                )
            if param.type == "field" and schema.source_type(step.params[name], preview) is None:
                problems.append(
                    problem(MappingCode.UNKNOWN_SOURCE, f"{at}.params.{name}", field=step.params[name])
                )
        if not _compatible(current, transform.takes):
            problems.append(
                problem(
                    MappingCode.TYPE_MISMATCH,
                    at,
                    transform=step.name,
                    expected=" | ".join(transform.takes),
                    got=current,
                )
            )
        current = current if transform.gives == "same" else transform.gives
    if (
        target is not None
        and not _compatible(current, target.type)
        and not (target.type == "list" or (current == "list" and len(rule.sources) <= 1))
    ):
        problems.append(
            problem(
                MappingCode.TARGET_TYPE_MISMATCH,
                where,
                field=rule.target,
                expected=target.type,
                got=current,
            )
        )
    return problems


def validate(
    data: Any, schema: Schema, *, preview: Mapping[str, Any] | None = None
) -> tuple[MappingSpec | None, list[Outcome]]:
    """The mapping in ``data`` and no problems, or None and every problem (nothing to save)."""
    if isinstance(data, MappingSpec):
        spec, problems = data, []
    else:
        spec, problems = MappingSpec.from_json(data)
    if spec is None:
        return None, problems
    seen: set[str] = set()
    for i, rule in enumerate(spec.rules):
        where = f"rules[{i}]"
        if rule.target in seen:
            problems.append(problem(MappingCode.DUPLICATE_TARGET, f"{where}.target", field=rule.target))
        seen.add(rule.target)
        problems.extend(_check_rule(rule, where, schema, preview))
    for name, target in schema.target.items():
        if target.required and name not in seen:
            problems.append(problem(MappingCode.REQUIRED_UNMAPPED, "rules", field=name))
    if not problems and preview is not None:
        _, problems = apply(spec, preview, schema)
    return (None, problems) if problems else (spec, [])


def _as(value: Any, kind: str) -> Any:
    """The value as the target field's type."""
    if value is None or kind in ("any", "list"):
        return value
    if kind == "decimal":
        return None if empty(value) else to_number(value)
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "ja")
    if kind == "date":
        if isinstance(value, dt.date) or empty(value):
            return value or None
        return dt.date.fromisoformat(str(value)[:10])
    if isinstance(value, Decimal):
        return format(value, "f")
    return value if isinstance(value, str) else str(value)


def _value(rule: Rule, record: Mapping[str, Any], where: str, kind: str) -> Any:
    values = [get_path(record, source) for source in rule.sources]
    value: Any = values[0] if len(values) == 1 else (values or None)
    for j, step in enumerate(rule.transforms):
        transform = TRANSFORMS[step.name]
        params = {k: p.default for k, p in transform.params.items() if p.default is not None}
        for name, given in step.params.items():
            params[name] = (
                coerce_param(transform.params[name], given)[0] if name in transform.params else given
            )
        try:
            value = transform.func(value, params, record)
        except MappingError as exc:
            raise MappingError(exc.code, {"location": f"{where}.transforms[{j}]", **exc.params}) from None
    try:
        return _as(value, kind)
    except (MappingError, ValueError):
        raise MappingError(
            MappingCode.NOT_A_NUMBER if kind == "decimal" else MappingCode.NOT_A_DATE,
            {"location": where, "value": str(value)[:40], "format": "iso"},
        ) from None


def _split_list(path: str) -> tuple[str, str]:
    head, _, rest = path.partition("[]")
    return head, rest.lstrip(".")


def apply(
    spec: MappingSpec, record: Mapping[str, Any], schema: Schema | None = None
) -> tuple[dict[str, Any], list[Outcome]]:
    """``record`` mapped by ``spec``: the target values, and what could not be mapped."""
    mapped: dict[str, Any] = {}
    problems: list[Outcome] = []
    for i, rule in enumerate(spec.rules):
        kind = schema.target[rule.target].type if schema and rule.target in schema.target else "any"
        where = f"rules[{i}]"
        try:
            if "[]" in rule.target:
                _apply_rows(rule, record, where, kind, mapped)
            else:
                mapped[rule.target] = _value(rule, record, where, kind)
        except MappingError as exc:
            params = {"location": where, **exc.params}
            problems.append(Outcome(exc.code, params))
        except KeyError:  # an unknown transform: a mapping nobody validated
            problems.append(problem(MappingCode.UNKNOWN_TRANSFORM, where, transform="?"))
    return mapped, problems


def _apply_rows(rule: Rule, record: Mapping[str, Any], where: str, kind: str, mapped: dict[str, Any]) -> None:
    """``lines[].sku <- Rows[].ArticleNumber``: the rule once per row, into one list of objects."""
    target, field = _split_list(rule.target)
    heads = {_split_list(s)[0] for s in rule.sources if "[]" in s}
    rows = get_path(record, next(iter(heads))) if heads else None
    rows = rows if isinstance(rows, list) else []
    out = mapped.setdefault(target, [])
    for n, row in enumerate(rows):
        scope = row if isinstance(row, Mapping) else {}
        sources = tuple(_split_list(s)[1] if "[]" in s else s for s in rule.sources)
        local = Rule(field, sources, rule.transforms)
        while len(out) <= n:
            out.append({})
        out[n][field] = _value(local, {**record, **scope}, f"{where}[{n}]", kind)
