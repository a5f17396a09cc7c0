"""The Datamapper page: a flow's mapping as a form, with a live preview on a real recent record.

The preview reads one record of the flow from its source (the latest one in the ledger, or one
the user names), maps it with the mapping as it stands in the form, and shows three columns:
the source record, the mapped record, and what the target would receive. It changes nothing.

Saving checks the mapping against the source's fields and the preview record (unknown field,
unknown transform or bad parameter, type mismatch, required field without a rule, a transform
that fails on the record) and refuses it with every reason, nothing saved; otherwise it stores
the whole mapping one version up in ``flow.settings["mapping"]`` and clears the flow's cursor, so
the next run reads every record again through the new mapping (unchanged results are not
re-sent: the fingerprints decide). Read-only members look; members and owners save.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from koppeling.connectors.errors import ConnectorError
from koppeling.connectors.registry import connector_class
from koppeling.core.messages import Outcome, gettext_noop
from koppeling.mapping import TRANSFORMS, MappingSpec, Rule, format_chain, parse_chain, validate
from koppeling.mapping.codes import MappingCode, MappingRefused, problem
from koppeling.sync.connections import build_connector
from koppeling.sync.flowkinds import KINDS, settings_for
from koppeling.sync.models import ActivityEvent, Cursor, Flow, Role, SyncRecord
from koppeling.sync.outcomes import render as render_outcome
from koppeling.sync.review import retry_failed

from .access import can, require
from .setup.codes import SetupCode

__all__ = ["flow_mapping", "mapping_preview", "store_mapping"]


def _flow(request: HttpRequest, pk: int) -> Flow:
    """The flow, if the user is a member of its organisation (else 404) and its source reads
    this kind through a mapping (else 404: there is nothing to map)."""
    flow = get_object_or_404(Flow.objects.select_related("link", "source", "target"), pk=pk)
    require(request, flow.link.organisation_id, Role.READ_ONLY)
    try:
        cls = connector_class(flow.source.system)
    except KeyError:
        raise Http404 from None
    if flow.kind not in getattr(cls, "mapping_kinds", ()):
        raise Http404
    return flow


def stored_version(flow: Flow) -> int:
    mapping = (flow.settings or {}).get("mapping") or {}
    return int(mapping.get("version", 0) or 0) if isinstance(mapping, Mapping) else 0


def store_mapping(flow: Flow, spec: MappingSpec, *, edited: int | None = None, user: str = "") -> MappingSpec:
    """Save ``spec`` (already validated) as the flow's mapping, one version up; ``edited`` is the
    version the user started from — if someone saved meanwhile, ``MappingRefused`` (stale).
    The flow's failed records are tried again with it, and the activity log says who saved it."""
    with transaction.atomic():
        row = Flow.objects.select_for_update().get(pk=flow.pk)
        current = stored_version(row)
        if edited is not None and edited != current:
            raise MappingRefused(
                [problem(MappingCode.VERSION_STALE, "mapping.version", stored=current, edited=edited)]
            )
        saved = MappingSpec(row.kind, spec.rules, current + 1)
        row.settings = {**(row.settings or {}), "mapping": saved.as_json()}
        row.save(update_fields=["settings"])
        # the next run reads every record again through the new mapping (fingerprints decide)
        Cursor.objects.filter(flow=row).delete()
        retried = retry_failed(row.pk)
        ActivityEvent.objects.create(
            organisation_id=flow.link.organisation_id,
            link_id=row.link_id,
            flow=row,
            code=SetupCode.MAPPING_SAVED,
            params={"version": saved.version, "user": user or "?", "count": retried},
        )
    flow.settings = row.settings
    return saved


# -- the form ------------------------------------------------------------------------------------


@dataclass
class Row:
    target: str = ""
    sources: str = ""
    transforms: str = ""
    problems: list[Any] = field(default_factory=list)


def _rows_of(spec: MappingSpec) -> list[Row]:
    return [Row(r.target, ", ".join(r.sources), format_chain(r.transforms)) for r in spec.rules]


def _spec_from_post(request: HttpRequest, kind: str) -> tuple[MappingSpec | None, list[Row], list[Outcome]]:
    """The mapping the form holds, its rows as typed (to show them again), and what cannot be read."""
    targets = request.POST.getlist("target")
    sources = request.POST.getlist("sources")
    chains = request.POST.getlist("transforms")
    rows: list[Row] = []
    rules: list[Rule] = []
    problems: list[Outcome] = []
    for i, target in enumerate(targets):
        row = Row(target.strip(), _at(sources, i).strip(), _at(chains, i).strip())
        if not (row.target or row.sources or row.transforms):
            continue  # an empty row: not a rule (that is how a rule is removed)
        index = len(rows)
        rows.append(row)
        steps, chain_problems = parse_chain(row.transforms, f"rules[{index}].transforms")
        problems.extend(chain_problems)
        if not row.target:
            problems.append(
                problem(
                    MappingCode.MALFORMED, f"rules[{index}].target", expected=gettext_noop("a target field")
                )
            )
        paths = tuple(s.strip() for s in row.sources.split(",") if s.strip())
        rules.append(Rule(row.target, paths, steps))
    if problems:
        return None, rows, problems
    return MappingSpec(kind, tuple(rules)), rows, []


def _at(values: list[str], i: int) -> str:
    return values[i] if i < len(values) else ""


# -- the preview ---------------------------------------------------------------------------------


@dataclass
class Preview:
    record: dict[str, Any] | None = None
    source_id: str = ""
    mapped: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] | None = None
    problems: list[Outcome] = field(default_factory=list)
    #: why there is no record or no payload (a rendered outcome), if so
    notice: Any = None


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _recent_source_id(flow: Flow) -> str:
    return (
        SyncRecord.objects.filter(flow=flow)
        .order_by("-updated_at", "-pk")
        .values_list("source_id", flat=True)
        .first()
        or ""
    )


def _read_record(flow: Flow, source: Any, wanted: str) -> tuple[dict[str, Any] | None, str]:
    """The record to preview on: ``wanted``, else the flow's latest, else the source's first."""
    chosen = wanted or _recent_source_id(flow)
    records = source.mapping_records(flow.kind, chosen, 1) if chosen else []
    if not records and not wanted:
        records = source.mapping_records(flow.kind, "", 1)
    if not records:
        return None, chosen
    record = records[0]
    return record, chosen or str(record.get("Id") or record.get("ART_CODE") or "")


def _target_payload(flow: Flow, item: Any) -> dict[str, Any] | None:
    """What the target connector would send for ``item`` (None when it cannot say)."""
    target = build_connector(flow.target)
    try:
        payload = getattr(target, "mapping_payload", None)
        if payload is None:
            return None
        settings = target_settings = None
        try:
            clean = {k: v for k, v in (flow.settings or {}).items() if k != "mapping"}
            settings, target_settings = settings_for(
                KINDS[flow.kind], type(target), clean, flow.target_settings
            )
        except ValueError:
            pass  # invalid settings: the payload with the defaults
        return _jsonable(payload(flow.kind, item, target_settings, flow_settings=settings))
    finally:
        target.close()


def build_preview(flow: Flow, spec: MappingSpec | None, wanted: str = "") -> Preview:
    """Read one record, map it with ``spec``, and ask the target what it would receive."""
    preview = Preview()
    source = build_connector(flow.source)
    try:
        record, preview.source_id = _read_record(flow, source, wanted.strip())
        if record is None:
            preview.notice = _("The source has no record to preview on yet.")
            return preview
        preview.record = _jsonable(record)
        if spec is None:
            return preview
        checked, preview.problems = validate(spec, source.mapping_schema(flow.kind), preview=record)
        if checked is None:
            return preview
        from koppeling.mapping import apply

        mapped, _problems = apply(checked, record, source.mapping_schema(flow.kind))
        preview.mapped = _jsonable(mapped)
        try:
            item = source.mapped_item(flow.kind, record, checked)
        except ConnectorError as exc:
            preview.problems = [exc.outcome]
            return preview
    except ConnectorError as exc:
        preview.notice = render_outcome(str(exc.code), exc.params).text
        return preview
    finally:
        source.close()
    try:
        preview.payload = _target_payload(flow, item)
    except ConnectorError as exc:
        preview.notice = render_outcome(str(exc.code), exc.params).text
    return preview


# -- the pages -----------------------------------------------------------------------------------


def _render(outcome: Outcome) -> Any:
    """A problem in the reader's language; ``expected`` ("a number" …) is a catalogue text too."""
    params = dict(outcome.params)
    if isinstance(params.get("expected"), str):
        params["expected"] = _(params["expected"])
    return render_outcome(str(outcome.code), params)


def _attach(rows: list[Row], problems: list[Outcome]) -> list[Any]:
    """Each problem rendered, next to its row where it has one; the rest for the top of the form."""
    general = []
    for outcome in problems:
        rendered = _render(outcome)
        location = str(outcome.params.get("location", ""))
        index = _rule_index(location)
        if index is not None and index < len(rows):
            rows[index].problems.append(rendered)
        else:
            general.append(rendered)
    return general


def _rule_index(location: str) -> int | None:
    if not location.startswith("rules["):
        return None
    number = location[len("rules[") :].split("]", 1)[0]
    return int(number) if number.isdigit() else None


def _context(flow: Flow, request: HttpRequest, rows: list[Row], preview: Preview, problems: list[Outcome]):
    source_cls = connector_class(flow.source.system)
    target_cls = connector_class(flow.target.system)
    return {
        "flow": flow,
        "link": flow.link,
        "kind_label": KINDS[flow.kind].label if flow.kind in KINDS else flow.kind,
        "source_label": source_cls.label,
        "target_label": target_cls.label,
        "rows": [*rows, Row()],  # one empty row to add a rule
        "version": stored_version(flow),
        "general": _attach(rows, problems),
        "problems": problems,
        "all_problems": [_render(p) for p in problems],
        "preview": preview,
        "preview_json": {
            "record": json.dumps(preview.record, indent=2, ensure_ascii=False) if preview.record else "",
            "payload": json.dumps(preview.payload, indent=2, ensure_ascii=False) if preview.payload else "",
        },
        "can_save": can(request.user, flow.link.organisation_id, Role.MEMBER),
        "targets": list(_targets(flow)),
        "transforms": sorted(TRANSFORMS.values(), key=lambda t: t.name),
    }


def _targets(flow: Flow):
    from koppeling.mapping import TARGETS

    yield from TARGETS.get(flow.kind, {}).items()


def _current(flow: Flow) -> MappingSpec:
    """The flow's stored mapping, else the source connector's default."""
    source = build_connector(flow.source)
    try:
        stored = (flow.settings or {}).get("mapping")
        if stored:
            spec, _problems = MappingSpec.from_json(stored)
            if spec is not None:
                return spec
        return source.default_mapping(flow.kind)
    finally:
        source.close()


@login_required
@require_http_methods(["GET", "POST"])
def flow_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the form and a preview. POST ``save``: check, then store (members) or refuse, nothing
    saved. POST ``reset``: the default rules, saved as the next version. POST ``preview``: the
    page with the preview of the form's mapping (without JavaScript)."""
    flow = _flow(request, pk)
    if request.method == "GET":
        spec = _current(flow)
        preview = build_preview(flow, spec, request.GET.get("record", ""))
        return render(request, "web/mapping/flow.html", _context(flow, request, _rows_of(spec), preview, []))
    action = request.POST.get("action", "save")
    if action == "preview":  # without JavaScript: the whole page, nothing saved
        spec, rows, problems = _spec_from_post(request, flow.kind)
        preview = build_preview(flow, spec, request.POST.get("record", ""))
        context = _context(flow, request, rows, preview, problems or preview.problems)
        return render(request, "web/mapping/flow.html", context)
    require(request, flow.link.organisation_id, Role.MEMBER)
    if action == "reset":
        source = build_connector(flow.source)
        try:
            default = source.default_mapping(flow.kind)
        finally:
            source.close()
        spec, rows, problems = default, _rows_of(default), []
    else:
        spec, rows, problems = _spec_from_post(request, flow.kind)
    preview = build_preview(flow, spec, request.POST.get("record", ""))
    problems = problems or preview.problems
    if spec is not None and not problems:
        try:
            saved = store_mapping(flow, spec, edited=_edited(request), user=request.user.get_username())
        except MappingRefused as exc:
            problems = exc.problems
        else:
            messages.success(request, _("Mapping saved as version %(version)s.") % {"version": saved.version})
            return redirect("mapping:flow", pk=flow.pk)
    context = _context(flow, request, rows, preview, problems)
    context["refused"] = True
    return render(request, "web/mapping/flow.html", context, status=400)


def _edited(request: HttpRequest) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else None


@login_required
@require_POST
def mapping_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The preview of the mapping as the form holds it now (htmx swaps it in); changes nothing, so
    read-only members may use it too."""
    flow = _flow(request, pk)
    spec, rows, problems = _spec_from_post(request, flow.kind)
    preview = build_preview(flow, spec, request.POST.get("record", ""))
    context = _context(flow, request, rows, preview, problems or preview.problems)
    return render(request, "web/mapping/_preview.html", context)
