"""The Datamapper's outcome codes: why a mapping is refused, why a value could not be mapped.

Every problem carries ``location`` (where in the mapping: ``rules[2].transforms[0].params.rate``)
so the form can put the reason next to the row it belongs to.
"""

from __future__ import annotations

from enum import StrEnum

from koppeling.core.messages import Outcome, gettext_noop, register

__all__ = ["MappingCode", "MappingError", "MappingRefused", "problem"]


class MappingCode(StrEnum):
    MALFORMED = "mapping_malformed"
    VERSION_NEWER = "mapping_version_newer"
    VERSION_STALE = "mapping_version_stale"
    UNKNOWN_SOURCE = "mapping_unknown_source"
    UNKNOWN_TARGET = "mapping_unknown_target"
    DUPLICATE_TARGET = "mapping_duplicate_target"
    REQUIRED_UNMAPPED = "mapping_required_unmapped"
    UNKNOWN_TRANSFORM = "mapping_unknown_transform"
    PARAM_MISSING = "mapping_param_missing"
    PARAM_UNKNOWN = "mapping_param_unknown"
    PARAM_INVALID = "mapping_param_invalid"
    TYPE_MISMATCH = "mapping_type_mismatch"
    TARGET_TYPE_MISMATCH = "mapping_target_type_mismatch"
    NOT_A_NUMBER = "mapping_not_a_number"
    NOT_A_DATE = "mapping_not_a_date"
    UNKNOWN_COUNTRY = "mapping_unknown_country"
    CHAIN_SYNTAX = "mapping_chain_syntax"


class MappingError(ValueError):
    """A transform could not map one value (carries its outcome; the caller adds the location)."""

    def __init__(self, code: MappingCode, params: dict | None = None) -> None:
        super().__init__(code.value)
        self.code = code
        self.params = dict(params or {})

    def outcome(self, location: str) -> Outcome:
        return Outcome(self.code, {"location": location, **self.params})


def problem(code: MappingCode, location: str, **params: object) -> Outcome:
    return Outcome(code, {"location": location, **params})


register(
    {
        MappingCode.MALFORMED: (
            gettext_noop("%(location)s: expected %(expected)s."),
            gettext_noop("Reset the mapping to the default and make the change again."),
        ),
        MappingCode.VERSION_NEWER: (
            gettext_noop("%(location)s: mapping version %(version)s is newer than this koppeling knows."),
        ),
        MappingCode.VERSION_STALE: (
            gettext_noop(
                "The mapping was changed by someone else meanwhile (now version %(stored)s, "
                "you edited version %(edited)s)."
            ),
            gettext_noop("Reload the page and make your change again."),
        ),
        MappingCode.UNKNOWN_SOURCE: (
            gettext_noop("%(location)s: the source field %(field)s is unknown."),
            gettext_noop("Choose one of the fields the source sends (see the source record)."),
        ),
        MappingCode.UNKNOWN_TARGET: (gettext_noop("%(location)s: the target field %(field)s is unknown."),),
        MappingCode.DUPLICATE_TARGET: (
            gettext_noop("%(location)s: the target field %(field)s has a rule already."),
        ),
        MappingCode.REQUIRED_UNMAPPED: (
            gettext_noop("The required target field %(field)s has no rule."),
            gettext_noop("Add a rule for it, or reset the mapping to the default."),
        ),
        MappingCode.UNKNOWN_TRANSFORM: (
            gettext_noop("%(location)s: there is no transform called %(transform)s."),
        ),
        MappingCode.PARAM_MISSING: (
            gettext_noop("%(location)s: %(transform)s needs the parameter %(param)s."),
        ),
        MappingCode.PARAM_UNKNOWN: (gettext_noop("%(location)s: %(transform)s has no parameter %(param)s."),),
        MappingCode.PARAM_INVALID: (
            gettext_noop("%(location)s: parameter %(param)s of %(transform)s must be %(expected)s."),
        ),
        MappingCode.TYPE_MISMATCH: (
            gettext_noop("%(location)s: %(transform)s takes %(expected)s but gets %(got)s."),
        ),
        MappingCode.TARGET_TYPE_MISMATCH: (
            gettext_noop("%(location)s: the target field %(field)s takes %(expected)s but gets %(got)s."),
            gettext_noop("Add a transform that makes it so (number, text, date_format)."),
        ),
        MappingCode.NOT_A_NUMBER: (gettext_noop("%(location)s: %(value)s is not a number."),),
        MappingCode.NOT_A_DATE: (
            gettext_noop("%(location)s: %(value)s is not a date in the format %(format)s."),
        ),
        MappingCode.UNKNOWN_COUNTRY: (
            gettext_noop("%(location)s: %(value)s is not a country koppeling knows."),
            gettext_noop("Use the two-letter ISO code, or a lookup table for this value."),
        ),
        MappingCode.CHAIN_SYNTAX: (
            gettext_noop("%(location)s: the transforms cannot be read at character %(position)s."),
            gettext_noop('Write them as: trim | concat {"separator": " "}'),
        ),
    }
)


class MappingRefused(ValueError):
    """A stored or submitted mapping that does not pass ``validate``: every problem, located."""

    def __init__(self, problems: list[Outcome]) -> None:
        super().__init__("; ".join(f"{p.params.get('location', '')}: {p.code}" for p in problems))
        self.problems = problems
