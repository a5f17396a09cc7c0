"""A located problem in an input file: which file, where, which field, what value, and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"  # the record was rejected (not written)
    WARNING = "warning"  # the record was written, but look at this


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem, located precisely enough to find it in the file with a text editor.

    ``line`` is the 1-based line in the file (the CSV row's first line, or the line where the XML
    element starts); ``element`` names the XML element path or the CSV column; ``record`` is the
    order or customer number when one is known.
    """

    file: str
    line: int | None
    element: str
    field: str
    value: str
    reason: str
    severity: Severity = Severity.ERROR
    record: str = ""

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["severity"] = str(self.severity)
        return data

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = f" {self.element}" if self.element else ""
        rec = f" [{self.record}]" if self.record else ""
        value = f" = {self.value!r}" if self.value else ""
        return f"{where}{what}{rec}: {self.field}{value}: {self.reason}"


def clip(value: object, limit: int = 120) -> str:
    """A value as shown in an error message: never longer than ``limit`` characters."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class UnusableInput(Exception):
    """The whole file cannot be read as the export it claims to be (empty, not CSV/XML, a PDF…)."""

    def __init__(self, file: str, reason: str, *, line: int | None = None) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason
        self.line = line

    def as_issue(self) -> Issue:
        return Issue(self.file, self.line, "", "file", "", self.reason)
