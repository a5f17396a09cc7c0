"""Errors raised by the domain rules: each names a stable code, the field and a suggested fix."""

from __future__ import annotations


class RuleError(ValueError):
    """An order that cannot become a correct invoice as it stands.

    ``code`` is stable (dashboards filter on it), ``message`` says what is wrong in plain words,
    ``suggestion`` what the shop owner can do about it, ``field`` where (e.g. ``lines[2].vat_rate``).
    """

    def __init__(self, code: str, message: str, *, suggestion: str = "", field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.suggestion = suggestion
        self.field = field

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"[{self.code}] {self.message}{where}"
