"""Configuratie: every setting of a flow as a form, its schedule, the credentials, where alerts go.

The forms are generated from the settings models themselves (``web.setup.schema``), with the
drop-downs filled live from the two systems (``web.setup.choices``); a bad value is refused next to
its field, nothing is saved half. A change is an activity row saying who changed what (old and new
values in its payload; for credentials only the names of the fields replaced). A changed import
condition takes up again the orders it had skipped: they are read anew with the new settings,
instead of waiting for the nightly sweep with a reason that is no longer true.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import BaseModel

from koppeling.connectors.registry import connector_class
from koppeling.sync.flow_settings import SETTINGS_VERSION, SettingsError, migrate
from koppeling.sync.flowkinds import KINDS
from koppeling.sync.models import ActivityEvent, Flow, ReasonCode, RecordState, Role, RunKind
from koppeling.sync.tasks import enqueue_on_commit, push_record_now, sync_flow

from ..access import can, links_for, require
from ..setup import choices
from ..setup.codes import SetupCode
from ..setup.credentials import CredentialForm, check_connection
from ..setup.labels import label_of
from ..setup.schema import Picklists, SchemaForm
from .common import user_label
from .webhook_switch import webhook_state

log = logging.getLogger(__name__)

#: the import condition a settings field is, and the skip reason it gave
REASON_OF_FIELD = {
    "statuses": ReasonCode.STATUS_NOT_SELECTED,
    "payment_methods": ReasonCode.PAYMENT_METHOD_NOT_SELECTED,
    "countries": ReasonCode.COUNTRY_NOT_SELECTED,
    "from_date": ReasonCode.BEFORE_START_DATE,
    "from_number": ReasonCode.BEFORE_START_NUMBER,
    "currencies": ReasonCode.CURRENCY_NOT_SUPPORTED,
}
#: skipped orders taken up one by one; beyond this a sweep run reads them with the rest
REEVALUATE_ONE_BY_ONE = 200
SCHEDULE_MIN, SCHEDULE_MAX = 5, 24 * 60
#: tuning fields of every flow kind: kept as stored, not shown (operators set them with the CLI)
#: ``mapping`` is the Datamapper's document (``web.mapping_views``): never shown here, never dropped
HIDDEN = ("version", "overlap_minutes", "max_attempts", "mapping")


def _flows(request: HttpRequest):
    return Flow.objects.filter(link__in=links_for(request.user)).select_related(
        "link__organisation", "source", "target"
    )


def _label(flow: Flow) -> str:
    kind = KINDS.get(flow.kind)
    return str(kind.label) if kind else flow.kind


def _target_model(flow: Flow) -> type[BaseModel] | None:
    try:
        return connector_class(flow.target.system).settings_model
    except (KeyError, LookupError, ValueError):
        return None


def _picklists(flow: Flow) -> tuple[Picklists, Picklists, list[str]]:
    """The drop-downs' contents from both systems; a system that cannot answer leaves text fields."""
    problems: list[str] = []
    fetched = []
    for connection, role in ((flow.source, "source"), (flow.target, "target")):
        try:
            got = choices.fetch(connection, role)
        except Exception:  # a system that cannot be asked must not break the page
            log.info("picklists of connection %s not available", connection.pk, exc_info=True)
            got = choices.Fetched()
            problems.append(_("%(name)s could not be asked for its lists.") % {"name": connection.name})
        problems.extend(str(p.text) for p in got.problems)
        fetched.append(got)
    generic, target = choices.picklists(fetched[0], fetched[1])
    return generic, target, problems


class FlowForms:
    """The flow's two settings forms and its schedule, bound to the stored values or a POST."""

    def __init__(self, flow: Flow, picklists: tuple[Picklists, Picklists] | None = None) -> None:
        self.flow = flow
        kind = KINDS[flow.kind]
        generic, target = picklists or (Picklists(), Picklists())
        self.generic = SchemaForm(
            kind.settings_model, _migrated(flow.settings), prefix="s", picklists=generic, exclude=HIDDEN
        )
        model = _target_model(flow)
        self.target = (
            SchemaForm(model, flow.target_settings or {}, prefix="t", picklists=target) if model else None
        )
        self.schedule_minutes: Any = flow.schedule_minutes
        self.daily_at: Any = flow.daily_at.strftime("%H:%M") if flow.daily_at else ""
        self.schedule_error = ""

    @property
    def forms(self) -> list[SchemaForm]:
        return [f for f in (self.generic, self.target) if f is not None]

    def bind(self, post) -> bool:
        """Parse and validate everything; True when all of it is valid (nothing saved yet)."""
        ok = True
        for form in self.forms:
            form.bind(post)
            ok = form.validate() is not None and ok
        ok = self._bind_schedule(post) and ok
        return ok

    def _bind_schedule(self, post) -> bool:
        minutes, daily = str(post.get("schedule_minutes", "")).strip(), str(post.get("daily_at", "")).strip()
        self.schedule_minutes, self.daily_at = minutes, daily
        try:
            value = int(minutes)
        except ValueError:
            self.schedule_error = _("Enter a whole number of minutes.")
            return False
        if not SCHEDULE_MIN <= value <= SCHEDULE_MAX:
            self.schedule_error = _("Between %(low)s and %(high)s minutes.") % {
                "low": SCHEDULE_MIN,
                "high": SCHEDULE_MAX,
            }
            return False
        if daily:
            try:
                dt.time.fromisoformat(daily)
            except ValueError:
                self.schedule_error = _("Enter a time (HH:MM).")
                return False
        return True

    def changes(self) -> dict[str, dict[str, Any]]:
        """What differs from the stored flow: name -> old and new (as the forms validated them)."""
        out: dict[str, dict[str, Any]] = {}
        for form, stored in ((self.generic, self.flow.settings), (self.target, self.flow.target_settings)):
            if form is None or form.instance is None:
                continue
            old = _dumped(form.model, _migrated(stored) if form is self.generic else stored or {})
            new = form.instance.model_dump(mode="json")
            for name in form.names:
                if old.get(name) != new.get(name):
                    out[name] = {"old": old.get(name), "new": new.get(name)}
        minutes = int(self.schedule_minutes)
        daily = dt.time.fromisoformat(self.daily_at) if self.daily_at else None
        if minutes != self.flow.schedule_minutes:
            out["schedule_minutes"] = {"old": self.flow.schedule_minutes, "new": minutes}
        if daily != self.flow.daily_at:
            out["daily_at"] = {"old": _hm(self.flow.daily_at), "new": _hm(daily)}
        return out

    def save(self) -> None:
        flow = self.flow
        flow.settings = {**self.generic.cleaned(), **_kept(flow.settings), "version": SETTINGS_VERSION}
        if self.target is not None:
            version = (flow.target_settings or {}).get("version", 1)
            flow.target_settings = {**self.target.cleaned(), "version": version}
        flow.schedule_minutes = int(self.schedule_minutes)
        flow.daily_at = dt.time.fromisoformat(self.daily_at) if self.daily_at else None
        flow.next_run_at = None  # the new schedule counts from the next dispatch
        flow.save(
            update_fields=["settings", "target_settings", "schedule_minutes", "daily_at", "next_run_at"]
        )


def _migrated(stored: dict | None) -> dict[str, Any]:
    """The stored settings the form edits (the Datamapper's ``mapping`` is not one of them)."""
    stored = {k: v for k, v in (stored or {}).items() if k != "mapping"}
    try:
        return migrate(stored)
    except SettingsError:
        return stored


def _hm(value: dt.time | None) -> str:
    return value.strftime("%H:%M") if value else ""


def _kept(stored: dict | None) -> dict[str, Any]:
    """The hidden tuning fields as stored (the form does not show them, so never drops them)."""
    return {k: v for k, v in (stored or {}).items() if k in HIDDEN and k != "version"}


def _dumped(model: type[BaseModel], stored: dict) -> dict[str, Any]:
    data = {k: v for k, v in stored.items() if k != "version" and k in model.model_fields}
    try:
        return model.model_validate(data).model_dump(mode="json")
    except Exception:  # an invalid stored document: compare with what it says
        return data


def field_names(changes: dict[str, Any]) -> str:
    labels = {"schedule_minutes": _("Run every (minutes)"), "daily_at": _("Once a day at")}
    return ", ".join(str(labels.get(name) or label_of(name)[0]) for name in changes)


def reevaluate_skipped(flow: Flow, changed: set[str], user: str) -> int:
    """Orders skipped by a condition that changed are read again with the new settings."""
    reasons = [REASON_OF_FIELD[name] for name in changed if name in REASON_OF_FIELD]
    if not reasons:
        return 0
    skipped = flow.records.filter(state=RecordState.SKIPPED, reason_code__in=reasons)
    count = skipped.count()
    if not count:
        return 0
    if count <= REEVALUATE_ONE_BY_ONE:
        for source_id in skipped.values_list("source_id", flat=True):
            enqueue_on_commit(push_record_now, flow.pk, source_id)
    else:
        enqueue_on_commit(sync_flow, flow.pk, RunKind.SWEEP)
    ActivityEvent.objects.create(
        organisation_id=flow.link.organisation_id,
        link=flow.link,
        flow=flow,
        code=SetupCode.SKIPPED_REEVALUATED,
        params={"count": count, "user": user},
    )
    return count


def _log_change(flow: Flow, changes: dict[str, Any], user: str) -> None:
    ActivityEvent.objects.create(
        organisation_id=flow.link.organisation_id,
        link=flow.link,
        flow=flow,
        code=SetupCode.FLOW_SETTINGS_CHANGED,
        params={"user": user, "flow": _label(flow), "fields": field_names(changes)},
        payload={"changed": changes},
    )


def _mark_setup_changed(flow: Flow) -> None:
    """A link still being set up asks for a fresh preview after its settings changed."""
    from ..models import LinkSetup

    LinkSetup.objects.filter(link_id=flow.link_id, activated_at__isnull=True).update(
        settings_at=timezone.now()
    )


def _context(request: HttpRequest, flow: Flow, forms: FlowForms, problems: list[str], **extra) -> dict:
    org = flow.link.organisation_id
    credential_forms = extra.pop("credential_forms", None) or {
        "source": CredentialForm(flow.link.source, prefix="source"),
        "target": CredentialForm(flow.link.target, prefix="target"),
    }
    return {
        "flow": flow,
        "flow_label": _label(flow),
        "link": flow.link,
        "flows": [(f, _label(f)) for f in flow.link.flows.order_by("pk")],
        "forms": forms,
        "problems": problems,
        "may_edit": can(request.user, org, Role.MEMBER),
        "may_manage": can(request.user, org, Role.OWNER),
        "credential_forms": credential_forms,
        "notify_email": extra.pop("notify_email", flow.link.organisation.notify_email),
        "notify_error": extra.pop("notify_error", ""),
        "webhook": webhook_state(flow),
        "changes": ActivityEvent.objects.filter(
            link=flow.link,
            code__in=[
                SetupCode.FLOW_SETTINGS_CHANGED,
                SetupCode.SKIPPED_REEVALUATED,
                SetupCode.CREDENTIALS_REPLACED,
                SetupCode.ADDRESS_CHANGED,
                SetupCode.RECIPIENTS_CHANGED,
            ],
        ).order_by("-created_at")[:20],
        **extra,
    }


@login_required
def config_index(request: HttpRequest) -> HttpResponse:
    """Every flow the user can configure, per link (one flow: straight to it)."""
    flows = list(_flows(request).order_by("link__organisation__name", "link__name", "pk"))
    if len(flows) == 1:
        return redirect("pages:config", pk=flows[0].pk)
    rows = [{"flow": f, "label": _label(f)} for f in flows]
    return render(request, "web/pages/config_index.html", {"rows": rows})


@login_required
def link_config(request: HttpRequest, pk: int) -> HttpResponse:
    """A link's Configuratie opens at its first flow."""
    link = get_object_or_404(links_for(request.user), pk=pk)
    flow = link.flows.order_by("pk").first()
    if flow is None:
        messages.info(request, _("%(link)s has no flows yet.") % {"link": link.name})
        return redirect("web:link", pk=link.pk)
    return redirect("pages:config", pk=flow.pk)


@login_required
def config(request: HttpRequest, pk: int) -> HttpResponse:
    flow = get_object_or_404(_flows(request), pk=pk)
    if flow.kind not in KINDS:
        messages.error(request, _("This flow's kind is not known to this koppeling."))
        return redirect("web:link", pk=flow.link_id)
    generic, target, problems = _picklists(flow)
    forms = FlowForms(flow, (generic, target))
    if request.method != "POST":
        return render(request, "web/pages/config.html", _context(request, flow, forms, problems))
    require(request, flow.link.organisation_id, Role.MEMBER)
    if not forms.bind(request.POST):
        messages.error(request, _("Nothing was saved: correct the fields marked below."))
        response = render(request, "web/pages/config.html", _context(request, flow, forms, problems))
        response.status_code = 422
        return response
    changes = forms.changes()
    if not changes:
        messages.info(request, _("Nothing changed."))
        return redirect("pages:config", pk=flow.pk)
    user = user_label(request)
    with transaction.atomic():
        forms.save()
        _log_change(flow, changes, user)
        _mark_setup_changed(flow)
        again = reevaluate_skipped(flow, set(changes), user)
    messages.success(request, _("Settings of %(flow)s saved.") % {"flow": _label(flow)})
    if again:
        messages.info(
            request,
            _("%(count)s orders skipped by the old conditions are read again with the new settings.")
            % {"count": again},
        )
    return redirect("pages:config", pk=flow.pk)


@login_required
def credentials(request: HttpRequest, pk: int, role: str) -> HttpResponse:
    """Replace a connection's credentials field by field; checked live before they are kept."""
    flow = get_object_or_404(_flows(request), pk=pk)
    if request.method != "POST" or role not in ("source", "target"):
        return redirect("pages:config", pk=flow.pk)
    require(request, flow.link.organisation_id, Role.OWNER)
    connection = flow.link.source if role == "source" else flow.link.target
    old_address = connection.base_url
    form = CredentialForm(connection, prefix=role)
    if form.bind(request.POST):
        reads, writes = _needs(flow.link)
        form.check_error = check_connection(connection, reads if role == "source" else writes)
    if form.has_errors or form.check_error is not None:
        connection.refresh_from_db()
        forms = FlowForms(flow)
        other = "target" if role == "source" else "source"
        credential_forms = {
            role: form,
            other: CredentialForm(flow.link.target if role == "source" else flow.link.source, prefix=other),
        }
        messages.error(request, _("Nothing was saved: see the credentials below."))
        response = render(
            request,
            "web/pages/config.html",
            _context(request, flow, forms, [], credential_forms=credential_forms, open_credentials=role),
        )
        response.status_code = 422
        return response
    user = user_label(request)
    with transaction.atomic():
        connection.save()
        choices.forget(connection)
        if form.replaced:
            fields = ", ".join(form.replaced)
            _connection_event(
                flow, SetupCode.CREDENTIALS_REPLACED, user, connection=connection.name, fields=fields
            )
        if old_address != connection.base_url:
            new = connection.base_url
            _connection_event(
                flow, SetupCode.ADDRESS_CHANGED, user, connection=connection.name, old=old_address, new=new
            )
    messages.success(
        request, _("The credentials of %(name)s work and are saved.") % {"name": connection.name}
    )
    return redirect(reverse("pages:config", args=[flow.pk]) + "#credentials")


def _needs(link) -> tuple[frozenset, frozenset]:
    kinds = [KINDS[f.kind] for f in link.flows.all() if f.kind in KINDS]
    return frozenset(k.reads for k in kinds), frozenset(k.writes for k in kinds)


def _connection_event(flow: Flow, code: str, user: str, **params: Any) -> None:
    connection = params.pop("connection", None)
    ActivityEvent.objects.create(
        organisation_id=flow.link.organisation_id,
        link=flow.link,
        code=code,
        params={"user": user, "connection": connection or "", **params},
    )


@login_required
def recipients(request: HttpRequest, pk: int) -> HttpResponse:
    """Where alerts and the daily digest go (empty: every member with an e-mail address)."""
    flow = get_object_or_404(_flows(request), pk=pk)
    if request.method != "POST":
        return redirect("pages:config", pk=flow.pk)
    require(request, flow.link.organisation_id, Role.MEMBER)
    org = flow.link.organisation
    address = str(request.POST.get("notify_email", "")).strip()
    try:
        if address:
            validate_email(address)
    except ValidationError:
        messages.error(request, _("Nothing was saved: see where alerts go."))
        context = _context(
            request,
            flow,
            FlowForms(flow),
            [],
            notify_email=address,
            notify_error=_("Enter a valid e-mail address, or leave it empty for every member."),
        )
        response = render(request, "web/pages/config.html", context)
        response.status_code = 422
        return response
    if address != org.notify_email:
        with transaction.atomic():
            org.notify_email = address
            org.save(update_fields=["notify_email"])
            shown = address or _("every member")
            _connection_event(flow, SetupCode.RECIPIENTS_CHANGED, user_label(request), recipients=str(shown))
        messages.success(request, _("Alerts now go to %(to)s.") % {"to": address or _("every member")})
    return redirect(reverse("pages:config", args=[flow.pk]) + "#recipients")
