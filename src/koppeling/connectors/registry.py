"""Which connector class serves which system name; connectors register on import."""

from __future__ import annotations

import importlib

from .base import Connector

_KNOWN = {
    "mijnwebwinkel": "koppeling.connectors.mijnwebwinkel.client:MijnwebwinkelSource",
    "acumulus": "koppeling.connectors.acumulus.client:AcumulusTarget",
}


def systems() -> list[str]:
    return sorted(_KNOWN)


def connector_class(system: str) -> type[Connector]:
    try:
        dotted = _KNOWN[system]
    except KeyError:
        raise KeyError(f"unknown system {system!r}; known: {', '.join(systems())}") from None
    module, _, name = dotted.partition(":")
    return getattr(importlib.import_module(module), name)
