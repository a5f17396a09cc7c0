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
