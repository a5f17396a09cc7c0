"""A mapping as data: target field <- source path(s) + a chain of named transforms.

Stored as JSON in the flow's settings (``settings["mapping"]``)::

    {"format": 1, "version": 3, "kind": "products",
     "rules": [{"target": "name", "sources": ["ART_DESC1", "EAN_CODE"],
                "transforms": [{"name": "concat", "params": {"separator": " "}}]}]}

``version`` counts the saves (0 is the built-in default, never stored); the ledger row of every
record records the version it was pushed with. ``format`` is the shape of this document; a newer
one than this code knows is refused. Source paths are dotted (``TermsOfPayment.Name``,
``Barcodes.0.Barcode``); ``Rows[].ArticleNumber`` maps every row into ``lines[].sku``.

The form shows a chain as text: ``trim | concat {"separator": " "}`` (:func:`parse_chain`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from koppeling.core.messages import Outcome, gettext_noop

from .codes import MappingCode, problem

__all__ = [
    "FORMAT",
    "Field",
    "MappingSpec",
    "Rule",
    "Schema",
    "Step",
    "format_chain",
    "parse_chain",
]

FORMAT = 1


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "params": dict(self.params)}


@dataclass(frozen=True, slots=True)
class Rule:
    target: str
    sources: tuple[str, ...] = ()
    transforms: tuple[Step, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "sources": list(self.sources),
            "transforms": [s.as_json() for s in self.transforms],
        }


@dataclass(frozen=True, slots=True)
class MappingSpec:
    kind: str
    rules: tuple[Rule, ...]
    version: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "kind": self.kind,
            "rules": [r.as_json() for r in self.rules],
        }

    def rule(self, target: str) -> Rule | None:
        return next((r for r in self.rules if r.target == target), None)

    def with_rule(self, rule: Rule) -> MappingSpec:
        """This mapping with ``rule`` replacing the one for its target (or added)."""
        rules = [r for r in self.rules if r.target != rule.target]
        index = next((i for i, r in enumerate(self.rules) if r.target == rule.target), len(rules))
        rules.insert(index, rule)
        return MappingSpec(self.kind, tuple(rules), self.version)

    @classmethod
    def from_json(cls, data: Any) -> tuple[MappingSpec | None, list[Outcome]]:
        """The spec in ``data``, or None and every structural problem, located."""
        problems: list[Outcome] = []
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                return None, [problem(MappingCode.MALFORMED, "mapping", expected=gettext_noop("JSON"))]
        if not isinstance(data, Mapping):
            return None, [problem(MappingCode.MALFORMED, "mapping", expected=gettext_noop("an object"))]
        fmt = data.get("format", FORMAT)
        if not isinstance(fmt, int) or fmt > FORMAT:
            return None, [problem(MappingCode.VERSION_NEWER, "mapping.format", version=fmt)]
        version = data.get("version", 0)
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            problems.append(
                problem(MappingCode.MALFORMED, "mapping.version", expected=gettext_noop("a whole number"))
            )
        raw_rules = data.get("rules")
        if not isinstance(raw_rules, list):
            problems.append(problem(MappingCode.MALFORMED, "mapping.rules", expected=gettext_noop("a list")))
            raw_rules = []
        rules = [r for i, item in enumerate(raw_rules) if (r := _rule(item, f"rules[{i}]", problems))]
        if problems:
            return None, problems
        return cls(str(data.get("kind", "")), tuple(rules), version), []


def _rule(item: Any, where: str, problems: list[Outcome]) -> Rule | None:
    if not isinstance(item, Mapping) or not isinstance(item.get("target"), str):
        problems.append(problem(MappingCode.MALFORMED, where, expected=gettext_noop("a rule with a target")))
        return None
    sources = item.get("sources", [])
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        problems.append(
            problem(MappingCode.MALFORMED, f"{where}.sources", expected=gettext_noop("a list of fields"))
        )
        return None
    steps: list[Step] = []
    for j, step in enumerate(item.get("transforms") or []):
        if isinstance(step, str):
            step = {"name": step}
        if not isinstance(step, Mapping) or not isinstance(step.get("name"), str):
            problems.append(
                problem(
                    MappingCode.MALFORMED, f"{where}.transforms[{j}]", expected=gettext_noop("a transform")
                )
            )
            continue
        params = step.get("params") or {}
        if not isinstance(params, Mapping):
            problems.append(
                problem(
                    MappingCode.MALFORMED,
                    f"{where}.transforms[{j}].params",
                    expected=gettext_noop("an object"),
                )
            )
            continue
        steps.append(Step(step["name"].strip(), dict(params)))
    clean = tuple(s.strip() for s in sources if s.strip())
    return Rule(item["target"].strip(), clean, tuple(steps))


@dataclass(frozen=True, slots=True)
class Field:
    """A field of a schema: its type and whether a mapping must give it."""

    type: str = "text"
    required: bool = False


@dataclass(frozen=True, slots=True)
class Schema:
    """What a mapping of one kind reads and writes: the source's fields (path -> type) and the
    target fields (the core object's). A source path the schema does not list is accepted when the
    preview record has it (the API's extra fields)."""

    kind: str
    source: Mapping[str, str]
    target: Mapping[str, Field]

    def source_type(self, path: str, preview: Mapping[str, Any] | None = None) -> str | None:
        if path in self.source:
            return self.source[path]
        if preview is not None:
            from .transforms import get_path

            if "[]" not in path and get_path(preview, path) is not None:
                return "any"
        return None


# -- the chain as text ---------------------------------------------------------------------------

_DECODER = json.JSONDecoder()


def parse_chain(text: str, where: str = "transforms") -> tuple[tuple[Step, ...], list[Outcome]]:
    """``trim | concat {"separator": " "} | lookup {"table": {"*": "x"}}`` -> steps."""
    steps: list[Step] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n|":
            i += 1
        if i >= n:
            break
        start = i
        while i < n and (text[i].isalnum() or text[i] == "_"):
            i += 1
        name = text[start:i]
        if not name:
            return (), [problem(MappingCode.CHAIN_SYNTAX, where, position=i + 1)]
        while i < n and text[i] in " \t":
            i += 1
        params: Any = {}
        if i < n and text[i] == "{":
            try:
                params, i = _DECODER.raw_decode(text, i)
            except ValueError:
                return (), [problem(MappingCode.CHAIN_SYNTAX, where, position=i + 1)]
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i < n and text[i] != "|":
            return (), [problem(MappingCode.CHAIN_SYNTAX, where, position=i + 1)]
        steps.append(Step(name, params))
    return tuple(steps), []


def format_chain(steps: tuple[Step, ...] | list[Step]) -> str:
    parts = []
    for step in steps:
        params = json.dumps(dict(step.params), ensure_ascii=False) if step.params else ""
        parts.append(f"{step.name} {params}".strip())
    return " | ".join(parts)
