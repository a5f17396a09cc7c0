"""Which connector class serves which system: connectors join by themselves.

A connector package decorates its class with :func:`register` in its ``__init__`` (or a module it
imports). :func:`discover` imports every subpackage of ``koppeling.connectors`` and every package
named by the ``koppeling.connectors`` entry-point group, so a new system is a new folder (or an
installed plug-in) and nothing else changes.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import threading
from importlib import metadata
from typing import TypeVar

from .base import Capability, Connector

__all__ = ["connector_class", "discover", "register", "systems", "systems_with"]

log = logging.getLogger(__name__)

_REGISTRY: dict[str, type[Connector]] = {}
_LOCK = threading.Lock()
_discovered = False

ENTRY_POINT_GROUP = "koppeling.connectors"
C = TypeVar("C", bound=type[Connector])


def register(cls: C) -> C:
    """Class decorator: make ``cls`` the connector of ``cls.system``."""
    known = _REGISTRY.get(cls.system)
    if known is not None and known.__qualname__ != cls.__qualname__:
        raise ValueError(
            f"system {cls.system!r} is already served by {known.__module__}.{known.__qualname__}"
        )
    _REGISTRY[cls.system] = cls
    return cls


def discover() -> None:
    """Import every connector package once (built in and plug-ins) so they register."""
    global _discovered
    with _LOCK:
        if _discovered:
            return
        package = importlib.import_module("koppeling.connectors")
        for info in pkgutil.iter_modules(package.__path__):
            if info.ispkg:
                importlib.import_module(f"koppeling.connectors.{info.name}")
        for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                entry.load()
            except Exception:  # a broken plug-in must not stop the built-in connectors
                log.exception("connector plug-in %s could not be loaded", entry.name)
        _discovered = True


def systems() -> list[str]:
    discover()
    return sorted(_REGISTRY)


def systems_with(capability: Capability) -> list[str]:
    """The systems that can do ``capability`` (for the wizard's drop-downs)."""
    discover()
    return sorted(name for name, cls in _REGISTRY.items() if capability in cls.capabilities())


def connector_class(system: str) -> type[Connector]:
    discover()
    try:
        return _REGISTRY[system]
    except KeyError:
        raise KeyError(f"unknown system {system!r}; known: {', '.join(sorted(_REGISTRY))}") from None
