"""Errors raised by the domain rules: each is a stable code, its parameters and the field concerned.

>>> err = RuleError(RuleCode.LINE_AMOUNT_MISSING, {"line": 2, "description": "Boek"}, field="lines[1]")
>>> str(err)
'[line_amount_missing] line 2 (Boek) has no price (neither excluding nor including VAT) (lines[1])'
>>> err.outcome.as_dict()
{'code': 'line_amount_missing', 'params': {'line': 2, 'description': 'Boek'}}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from koppeling.core.codes import RuleCode
from koppeling.core.messages import Outcome, english, english_suggestion

__all__ = ["RuleCode", "RuleError"]


class RuleError(ValueError):
    """An order that cannot become a correct invoice as it stands.

    ``code`` is stable (dashboards filter on it), ``params`` are the facts (line, amounts, rates,
    countries, dates) its text is rendered from, ``field`` says where (e.g. ``lines[2].vat_rate``).
    ``outcome`` is what is stored and shown in the reader's language; ``message`` and
    ``suggestion`` are its English rendering, for logs and ``str()``.
    """

    def __init__(
        self, code: RuleCode | str, params: Mapping[str, Any] | None = None, *, field: str = ""
    ) -> None:
        self.code = code
        self.params: dict[str, Any] = dict(params or {})
        self.field = field
        super().__init__(self.message)

    @property
    def outcome(self) -> Outcome:
        return Outcome(self.code, self.params)

    @property
    def message(self) -> str:
        """What is wrong, in English (people see the outcome rendered in their language)."""
        return english(self.outcome)

    @property
    def suggestion(self) -> str:
        """What the shop owner can do about it, in English."""
        return english_suggestion(self.outcome)

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"[{self.code}] {self.message}{where}"

    def __reduce__(self) -> tuple[Any, ...]:
        # ValueError pickles its args (the message); rebuild from the code and parameters instead
        return (type(self), (self.code, self.params), {"field": self.field})
