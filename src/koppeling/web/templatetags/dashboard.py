"""Small template helpers of the dashboard pages."""

from __future__ import annotations

from typing import Any

from django import template

from ..pages.common import system_label as _system_label

register = template.Library()


@register.filter
def is_in(value: Any, container: Any) -> bool:
    """``{% with can=org_id|is_in:acting %}`` (``with`` takes no ``in`` expression)."""
    try:
        return value in container
    except TypeError:
        return False


@register.filter
def system_label(system: str) -> str:
    """A system's own name ("Acumulus") for its id ("acumulus")."""
    return _system_label(str(system or ""))


@register.filter
def get(mapping: Any, key: Any) -> Any:
    """``{{ row.cells|get:name }}``: a mapping's value, or "" (templates cannot index by variable)."""
    try:
        value = mapping.get(key, "")
    except AttributeError:
        return ""
    return "" if value is None else value


@register.filter
def last_part(name: Any) -> str:
    """``vat_rates.category`` → ``category`` (a column of a settings table)."""
    return str(name or "").rsplit(".", 1)[-1]
