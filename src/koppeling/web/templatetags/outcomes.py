"""Template filters that render stored outcomes (codes + parameters) in the reader's language."""

from __future__ import annotations

from typing import Any

from django import template

from koppeling.sync.models import ReasonCode
from koppeling.sync.outcomes import Rendered, render, render_list

register = template.Library()


def _record_outcome(record: Any):
    if record.error_code:
        return render(record.error_code, record.params)
    if record.reason_code:
        try:
            return Rendered(str(ReasonCode(record.reason_code).label))
        except ValueError:
            return render(record.reason_code, record.params)
    return None


@register.filter
def outcome_text(record: Any) -> str:
    """What happened to a ledger row (its reason or error), rendered."""
    shown = _record_outcome(record)
    return shown.text if shown else ""


@register.filter
def outcome_suggestion(record: Any) -> str:
    shown = _record_outcome(record)
    return shown.suggestion if shown else ""


@register.filter
def warnings_text(record: Any) -> list[str]:
    return [w.text for w in render_list(record.warnings)]


@register.filter
def reconcile_text(record: Any) -> list[str]:
    problems = (record.reconcile or {}).get("problems") or []
    return [p.text for p in render_list(problems)]


@register.filter
def event_text(event: Any) -> str:
    """An activity row, a run's error or an alert: ``code`` + ``params`` (or ``error_*``)."""
    code = (
        getattr(event, "code", None) or getattr(event, "error_code", "") or getattr(event, "paused_code", "")
    )
    params = getattr(event, "params", None)
    if params is None:
        params = getattr(event, "error_params", None) or getattr(event, "paused_params", None) or {}
    return render(code, params).text if code else ""
