"""What a connector whose translation goes through a mapping offers (a mixin, no I/O here).

The runtime hands a flow's stored mapping to its source connector (``use_mapping``) before the
run reads anything; without one the connector's default applies (version 0). The web preview asks
the same connector for a recent raw record, maps it, and asks the target connector what it would
receive (``mapping_payload``), so the page shows exactly what a run would do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .check import validate
from .codes import MappingCode, MappingRefused
from .spec import MappingSpec, Schema

__all__ = ["MappedSource"]


class MappedSource:
    """Mixin: ``mapping_kinds`` lists the flow kinds this connector reads through a mapping."""

    mapping_kinds: ClassVar[tuple[str, ...]] = ()

    def mapping_schema(self, kind: str) -> Schema:
        raise NotImplementedError

    def default_mapping(self, kind: str) -> MappingSpec:
        raise NotImplementedError

    def _mappings(self) -> dict[str, MappingSpec]:
        found = self.__dict__.get("_flow_mappings")
        if found is None:
            found = self.__dict__["_flow_mappings"] = {}
        return found

    def use_mapping(self, kind: str, data: Mapping[str, Any] | None) -> MappingSpec | None:
        """Read ``kind`` through ``data`` (None: the default). A mapping that no longer passes
        the checks raises ``MappingRefused``: a run never maps with half a mapping. A kind this
        connector reads without a mapping gives None."""
        if kind not in self.mapping_kinds:
            return None  # this connector reads that kind without a mapping
        if data is None:
            spec = self.default_mapping(kind)
        else:
            schema = self.mapping_schema(kind)
            checked, problems = validate(data, schema)
            unknown = {str(p.params.get("field")) for p in problems if p.code == MappingCode.UNKNOWN_SOURCE}
            if checked is None and unknown and len(unknown) == len(problems):
                # fields the preview record had (the API's extra fields): the source may confirm them
                known = set(self.extra_source_fields(kind, unknown)) & unknown
                if known:
                    schema = Schema(
                        schema.kind, {**schema.source, **dict.fromkeys(known, "any")}, schema.target
                    )
                    checked, problems = validate(data, schema)
            if checked is None:
                raise MappingRefused(problems)
            spec = checked
        self._mappings()[kind] = spec
        return spec

    def extra_source_fields(self, kind: str, fields: set[str]) -> set[str]:
        """Which of ``fields`` (not in the schema) the source has after all, e.g. an administration's
        own fields; by default none."""
        return set()

    def mapping_for(self, kind: str) -> MappingSpec:
        return self._mappings().get(kind) or self.default_mapping(kind)

    def mapping_records(self, kind: str, source_id: str = "", limit: int = 1) -> list[dict[str, Any]]:
        """Raw source records for the preview: ``source_id``'s, else the first ``limit`` ones."""
        raise NotImplementedError

    def mapped_item(self, kind: str, record: Mapping[str, Any], spec: MappingSpec) -> Any:
        """``record`` as the core object ``spec`` makes of it (raises the connector's DataError)."""
        raise NotImplementedError
