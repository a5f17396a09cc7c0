"""Outcome codes and their texts: every package says what happened as a code plus parameters.

Nothing koppeling stores for people is prose. A rule that refuses an order, a warning, a skip, a
failed push, an alert: each is an :class:`Outcome` — a stable ``code`` and JSON-able ``params``.
The text is looked up by code and rendered in the reader's language only when it is shown
(``koppeling.sync.outcomes.render``), so a stored outcome reads in Dutch today and in English
tomorrow, and a dashboard can filter on the code.

Each package declares its codes as a ``StrEnum`` and registers English source texts for them with
:func:`register`; the texts are marked with :func:`gettext_noop` so ``make messages`` extracts them
into the Dutch catalogue. Placeholders are ``%(name)s``; a parameter that is missing renders as
``?`` instead of failing, so an old stored outcome never breaks a page.

>>> from enum import StrEnum
>>> class Demo(StrEnum):
...     PRICE_MISSING = "demo_price_missing"
>>> _ = register({Demo.PRICE_MISSING: (
...     gettext_noop("Line %(line)s has no price."), gettext_noop("Set a price in the shop."))})
>>> english(Outcome(Demo.PRICE_MISSING, {"line": 2}))
'Line 2 has no price.'
>>> english(Outcome(Demo.PRICE_MISSING))
'Line ? has no price.'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

__all__ = [
    "Outcome",
    "Text",
    "english",
    "english_suggestion",
    "fill",
    "gettext_noop",
    "jsonable",
    "register",
    "registered_codes",
    "text_of",
]


def gettext_noop(message: str) -> str:
    """Mark ``message`` for the translation catalogue without translating it (xgettext keyword)."""
    return message


@dataclass(frozen=True, slots=True)
class Text:
    """The English source text of one code, and what the reader can do about it."""

    code: str
    text: str
    suggestion: str = ""


_CATALOGUE: dict[str, Text] = {}


def register(texts: Mapping[Any, tuple[str, str] | tuple[str]]) -> dict[str, Text]:
    """Register the texts of a package's codes; a code may have only one text.

    ``texts`` maps a code (a ``StrEnum`` member or a string) to ``(text,)`` or
    ``(text, suggestion)``. Registering the same text again is harmless (modules may be reloaded);
    a second, different text for a code is a programming error.
    """
    added: dict[str, Text] = {}
    for code, value in texts.items():
        key = str(code.value if isinstance(code, Enum) else code)
        entry = Text(key, value[0], value[1] if len(value) > 1 else "")
        known = _CATALOGUE.get(key)
        if known is not None and known != entry:
            raise ValueError(f"outcome code {key!r} registered twice with different texts")
        _CATALOGUE[key] = added[key] = entry
    return added


def text_of(code: str) -> Text | None:
    """The registered text of ``code``, or None for a code nobody registered."""
    return _CATALOGUE.get(str(code))


def registered_codes() -> list[str]:
    """Every code with a text (for the catalogue-completeness test)."""
    return sorted(_CATALOGUE)


#: stored as they are (exact types: an enum that is also a text is stored by its value)
_AS_IS = frozenset({str, int, float, bool})


def jsonable(value: Any) -> Any:
    """A parameter value as stored: Decimals, dates and enums become text; containers recurse."""
    if value is None or value.__class__ in _AS_IS:  # most parameters: plain texts and numbers
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened, as data: a code and its parameters (JSON-able once stored)."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": str(self.code), "params": jsonable(dict(self.params))}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Outcome:
        return cls(str(data.get("code", "")), dict(data.get("params") or {}))

    def __str__(self) -> str:
        return english(self)


class _Lenient(dict):
    """Parameters for ``%``-formatting where a missing name renders as ``?``."""

    def __missing__(self, key: str) -> str:
        return "?"


def fill(template: str, params: Mapping[str, Any] | None) -> str:
    """``template % params`` that never raises: missing names give ``?``, a bad template itself."""
    if not template:
        return ""
    try:
        return template % _Lenient({k: jsonable(v) for k, v in (params or {}).items()})
    except (TypeError, ValueError, KeyError):
        return template


def english(outcome: Outcome) -> str:
    """The untranslated text of an outcome (logs, exception messages); the code if unknown."""
    entry = text_of(outcome.code)
    return fill(entry.text, outcome.params) if entry else str(outcome.code)


def english_suggestion(outcome: Outcome) -> str:
    entry = text_of(outcome.code)
    return fill(entry.suggestion, outcome.params) if entry else ""
