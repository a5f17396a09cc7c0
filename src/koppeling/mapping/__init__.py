"""The Datamapper: a flow's field mapping as data, checked, previewed and applied.

- ``transforms``: the registry of named, pure transforms (trim, case, concat, street and house
  number, country codes, dates, lookup tables, defaults, rounding, VAT in/excl., conditionals);
- ``spec``: a mapping (target field <- source paths + transform chain), JSON, versioned;
- ``check``: :func:`validate` (every problem, located; nothing half saved) and :func:`apply`;
- ``defaults``: the default mapping per flow kind and source system, and each kind's targets;
- ``tables``: lookup tables with a ``*`` default (payment methods, VAT rates -> target ids).

Pure: imports only ``koppeling.core``. See ``docs/mapping.md``.
"""

from .check import apply, validate
from .codes import MappingCode, MappingError
from .defaults import TARGETS, default_mapping
from .spec import Field, MappingSpec, Rule, Schema, Step, format_chain, parse_chain
from .transforms import TRANSFORMS

__all__ = [
    "TARGETS",
    "TRANSFORMS",
    "Field",
    "MappingCode",
    "MappingError",
    "MappingSpec",
    "Rule",
    "Schema",
    "Step",
    "apply",
    "default_mapping",
    "format_chain",
    "parse_chain",
    "validate",
]
