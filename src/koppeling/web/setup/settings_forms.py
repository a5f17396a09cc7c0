"""A flow's two settings documents as forms: the kind's (which orders, the invoice rules) and the
target's own (accounts, cost centers …), with the two systems' lists in the drop-downs.

Both are validated by their pydantic models (every problem next to its field) and then once more
as the runtime reads them (``sync.flowkinds.settings_for``), so what is saved is what will run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from koppeling.connectors.registry import connector_class
from koppeling.sync.flow_settings import SETTINGS_VERSION, SettingsError
from koppeling.sync.flowkinds import KINDS, settings_for
from koppeling.sync.models import Flow, FlowStatus, Link
from koppeling.sync.outcomes import Rendered

from . import choices
from .labels import MAIN_FIELDS, START_FIELDS
from .schema import Field, SchemaForm

__all__ = ["FlowForms", "flow_forms", "save_flow_forms"]


@dataclass
class FlowForms:
    flow: Flow
    label: str
    generic: SchemaForm
    target: SchemaForm | None
    target_label: str
    #: what a system could not list (its field stays a text field)
    unavailable: list[Rendered] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    valid: bool = False

    @property
    def main_fields(self) -> list[Field]:
        return [f for f in self.generic.fields if f.name in MAIN_FIELDS]

    @property
    def more_fields(self) -> list[Field]:
        return [f for f in self.generic.fields if f.name not in MAIN_FIELDS]

    @property
    def more_has_errors(self) -> bool:
        return any(f.error or any(r.error for r in f.rows) for f in self.more_fields)

    @property
    def has_errors(self) -> bool:
        return bool(self.problems or self.generic.errors or self.generic.non_field_errors) or bool(
            self.target and (self.target.errors or self.target.non_field_errors)
        )


def _forms_of(
    flow: Flow, source: choices.Fetched, target: choices.Fetched, post: QueryDict | None
) -> FlowForms:
    kind = KINDS[flow.kind]
    generic_lists, target_lists = choices.picklists(source, target)
    generic = SchemaForm(
        kind.settings_model,
        {k: v for k, v in (flow.settings or {}).items() if k != "mapping"},  # the Datamapper's
        prefix=f"f{flow.pk}",
        picklists=generic_lists,
        exclude=("version", *START_FIELDS),
    )
    target_cls = connector_class(flow.target.system)
    model = target_cls.settings_model
    target_form = (
        SchemaForm(model, flow.target_settings, prefix=f"t{flow.pk}", picklists=target_lists)
        if model is not None
        else None
    )
    made = FlowForms(
        flow=flow,
        label=str(kind.label),
        generic=generic,
        target=target_form,
        target_label=str(target_cls.label),
        unavailable=[*source.problems, *target.problems],
    )
    if post is None:
        return made
    generic.bind(post)
    ok = generic.validate() is not None
    if target_form is not None:
        target_form.bind(post)
        ok = target_form.validate() is not None and ok
    if ok:
        new_generic, new_target = _documents(made)
        try:
            settings_for(kind, target_cls, new_generic, new_target)
        except SettingsError as exc:
            made.problems = [f"{where}: {problem}" for where, problem in exc.problems.items()]
            ok = False
    made.valid = ok
    return made


def flow_forms(link: Link, *, post: QueryDict | None = None) -> list[FlowForms]:
    """The forms of every flow of ``link`` that is not switched off (bound to ``post`` if given)."""
    flows = list(
        link.flows.exclude(status=FlowStatus.DISABLED).select_related("source", "target").order_by("pk")
    )
    if not flows:
        return []
    source = choices.fetch(link.source, "source")
    target = choices.fetch(link.target, "target")
    return [_forms_of(flow, source, target, post) for flow in flows]


def _documents(made: FlowForms) -> tuple[dict[str, Any], dict[str, Any]]:
    generic = {"version": SETTINGS_VERSION, **made.generic.cleaned()}
    mapping = (made.flow.settings or {}).get("mapping")
    if mapping:  # the Datamapper's (``web.mapping_views``): the wizard neither shows nor drops it
        generic["mapping"] = mapping
    target = made.target.cleaned() if made.target is not None else {}
    return generic, target


def _changes(before: dict[str, Any], after: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out = {}
    for key in sorted(set(before) | set(after)):
        if key == "version":
            continue
        if before.get(key) != after.get(key):
            out[f"{prefix}{key}"] = {"before": before.get(key), "after": after.get(key)}
    return out


def save_flow_forms(made: FlowForms) -> dict[str, Any]:
    """Store a valid flow's two documents; what changed, by setting (for the activity log)."""
    generic, target = _documents(made)
    flow = made.flow
    changed = {
        **_changes(dict(flow.settings or {}), generic),
        **_changes(dict(flow.target_settings or {}), target, "target."),
    }
    flow.settings, flow.target_settings = generic, target
    flow.save(update_fields=["settings", "target_settings"])
    return changed
