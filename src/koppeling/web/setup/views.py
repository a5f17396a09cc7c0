"""The link wizard: systems → credentials (checked live) → flows → settings → start point →
preview → activate. Every page is scoped to the person's organisations (404 otherwise); creating a
link and entering credentials is for owners, the other steps for members; read-only members see
the steps but cannot change them. A link stays paused until the last step activates it; after
that the same pages are its Configuratie.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from koppeling.connectors.base import Capability
from koppeling.connectors.errors import ConnectorError, NotFound
from koppeling.connectors.registry import connector_class
from koppeling.sync.connections import build_connector
from koppeling.sync.flowkinds import KINDS
from koppeling.sync.models import Connection, FlowStatus, Link, LinkStatus, Role
from koppeling.sync.outcomes import render as render_code

from ..access import can, current_organisation, links_for, require
from ..models import LinkSetup, StartKind
from . import steps
from .codes import SetupCode
from .credentials import CredentialForm, check_connection
from .preview import preview_link
from .settings_forms import FlowForms, flow_forms, save_flow_forms
from .systems import READS, WRITES, systems_that

#: a preview older than this is made again before the link may be activated
PREVIEW_VALID = dt.timedelta(hours=1)


def _link(request: HttpRequest, pk: int, needed: str = Role.READ_ONLY) -> tuple[Link, LinkSetup]:
    link = get_object_or_404(
        links_for(request.user).select_related("source", "target", "organisation"), pk=pk
    )
    require(request, link.organisation_id, needed)
    return link, steps.setup_of(link)


def _context(
    request: HttpRequest, link: Link, setup: LinkSetup, current: str, **extra: Any
) -> dict[str, Any]:
    states = steps.step_states(setup)
    return {
        "link": link,
        "setup": setup,
        "activated": setup.activated_at is not None,
        "steps": [
            {"name": s.name, "label": s.label, "done": states[s.name], "current": s.name == current}
            for s in steps.STEPS
        ],
        "may_edit": can(request.user, link.organisation_id, Role.MEMBER),
        "may_manage": can(request.user, link.organisation_id, Role.OWNER),
        **extra,
    }


def _user(request: HttpRequest) -> str:
    return request.user.get_username()


def _log(on: Link, code: str, request: HttpRequest, /, *, payload: dict | None = None, **params: Any) -> None:
    from koppeling.sync.models import ActivityEvent

    ActivityEvent.objects.create(
        organisation_id=on.organisation_id,
        link=on,
        code=code,
        params={"user": _user(request), **params},
        payload=payload or {},
    )


# -- 1. systems ----------------------------------------------------------------------------------------


@login_required
def new_link(request: HttpRequest) -> HttpResponse:
    """Choose the shop and the accounting package; creates the (paused) link and its connections."""
    organisation = current_organisation(request)
    if organisation is None:
        messages.info(request, _("Create an organisation first: a link belongs to one."))
        return redirect("accounts:organisations")
    may = can(request.user, organisation, Role.OWNER)
    sources, targets = systems_that(READS), systems_that(WRITES)
    chosen = {
        "source": request.POST.get("source", ""),
        "target": request.POST.get("target", ""),
        "name": request.POST.get("name", "").strip(),
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        require(request, organisation, Role.OWNER)
        if chosen["source"] not in dict(sources):
            errors["source"] = _("Choose the system the orders come from.")
        if chosen["target"] not in dict(targets):
            errors["target"] = _("Choose the system they go to.")
        if not errors and chosen["source"] == chosen["target"]:
            errors["target"] = _("Choose another system than the source.")
        if not errors and not steps.kinds_between(chosen["source"], chosen["target"]):
            errors["target"] = _("Nothing can move from %(source)s to %(target)s.") % {
                "source": dict(sources)[chosen["source"]],
                "target": dict(targets)[chosen["target"]],
            }
        if len(chosen["name"]) > 150:
            errors["name"] = _("At most %(n)s characters.") % {"n": 150}
        if not errors:
            name = chosen["name"] or f"{dict(sources)[chosen['source']]} → {dict(targets)[chosen['target']]}"
            link = steps.create_link(organisation, name, chosen["source"], chosen["target"], request.user)
            return redirect("setup:credentials", link.pk)
    drafts = (
        links_for(request.user)
        .filter(organisation=organisation, paused_code=SetupCode.NOT_ACTIVATED)
        .order_by("-created_at")[:10]
    )
    return render(
        request,
        "web/setup/choose.html",
        {
            "organisation": organisation,
            "sources": sources,
            "targets": targets,
            "chosen": chosen,
            "errors": errors,
            "may_manage": may,
            "drafts": drafts,
            "steps": [
                {"name": s.name, "label": s.label, "done": False, "current": s.name == "new_link"}
                for s in steps.STEPS
            ],
        },
        status=400 if errors else 200,
    )


@login_required
def resume(request: HttpRequest, pk: int) -> HttpResponse:
    """A link's set-up where it stopped (its first open step); an active link's Configuratie."""
    link, setup = _link(request, pk)
    if setup.activated_at is not None:  # set up: its Configuratie (web.pages.config) takes over
        try:
            return redirect(reverse("pages:config_link", args=[link.pk]))
        except NoReverseMatch:
            return redirect("setup:settings", link.pk)
    return redirect(f"setup:{steps.first_open_step(setup)}", link.pk)


# -- 2. credentials --------------------------------------------------------------------------------------


def _picklist_summary(link: Link) -> list[str]:
    from . import choices

    lines = []
    for connection, role in ((link.source, "source"), (link.target, "target")):
        got = choices.fetch(connection, role, fresh=True)
        for name, items in got.lists.items():
            lines.append(
                _("%(system)s: %(count)s %(what)s")
                % {
                    "system": connector_class(connection.system).label,
                    "count": len(items),
                    "what": _list_name(name),
                }
            )
    return lines


def _list_name(name: str) -> str:
    return {
        "statuses": _("order statuses"),
        "payment_methods": _("payment methods"),
        "accounts": _("accounts"),
        "cost_centers": _("cost centers"),
        "categories": _("categories"),
        "taxes": _("VAT rates"),
    }.get(name, name)


@login_required
def credentials(request: HttpRequest, pk: int) -> HttpResponse:
    link, setup = _link(request, pk)
    forms = [CredentialForm(link.source, "source"), CredentialForm(link.target, "target")]
    if request.method == "POST":
        require(request, link.organisation_id, Role.OWNER)
        bound = [form.bind(request.POST) for form in forms]
        if all(bound):
            source_needs, target_needs = steps.needs_of(link)
            for form, needs in zip(forms, (source_needs, target_needs), strict=True):
                form.check_error = check_connection(form.connection, needs)
            if not any(form.check_error for form in forms):
                with transaction.atomic():
                    for form in forms:
                        form.connection.save()
                        if form.replaced:
                            _log(
                                link,
                                SetupCode.CREDENTIALS_REPLACED,
                                request,
                                fields=", ".join(form.replaced),
                                connection=form.connection.name,
                            )
                    setup.checked_at = timezone.now()
                    setup.save(update_fields=["checked_at"])
                found = _picklist_summary(link)
                messages.success(
                    request,
                    _("Both systems answered: the credentials work.")
                    + (" " + _("Found: %(lists)s.") % {"lists": "; ".join(found)} if found else ""),
                )
                if setup.activated_at is not None:
                    return redirect("setup:credentials", link.pk)
                return redirect("setup:flows", link.pk)
        for form in forms:  # nothing is kept from a failed attempt: the stored connection stays
            form.connection = Connection.objects.get(pk=form.connection.pk)
    return render(
        request,
        "web/setup/credentials.html",
        _context(request, link, setup, "credentials", forms=forms),
        status=400 if request.method == "POST" else 200,
    )


# -- 3. flows --------------------------------------------------------------------------------------------


@login_required
def flows(request: HttpRequest, pk: int) -> HttpResponse:
    link, setup = _link(request, pk)
    if setup.checked_at is None:
        messages.info(request, _("First enter the credentials, so the systems can be asked what they offer."))
        return redirect("setup:credentials", link.pk)
    possible = steps.kinds_between(link.source.system, link.target.system)
    current = [f.kind for f in link.flows.exclude(status=FlowStatus.DISABLED)] or steps.default_kinds(
        link.source.system, link.target.system
    )
    error = ""
    if request.method == "POST":
        require(request, link.organisation_id, Role.MEMBER)
        chosen = [k for k in request.POST.getlist("kinds") if k in {p.name for p in possible}]
        current = chosen
        if not chosen:
            error = _("Choose at least one flow.")
        elif len(steps.EXCLUSIVE.intersection(chosen)) > 1:
            error = _(
                "Choose invoices per order or one document per day, not both: the orders would be "
                "booked twice."
            )
        if not error:
            from . import choices

            statuses = choices.fetch(link.source, "source").lists.get("statuses", [])
            try:
                with transaction.atomic():
                    steps.set_flows(link, chosen, _user(request), statuses)
                    twin = next((t for t in (f.twin() for f in link.flows.all()) if t), None)
                    if twin:
                        raise _Refused(twin)
            except _Refused as exc:
                error = str(exc)
            else:
                setup.flows_at = timezone.now()
                setup.save(update_fields=["flows_at"])
                if setup.activated_at is not None and link.flows.filter(status=FlowStatus.PAUSED).exists():
                    messages.info(
                        request,
                        _(
                            "A new flow waits, from today on: check its settings, "
                            "then resume it in the configuration."
                        ),
                    )
                return redirect("setup:settings", link.pk)
    options = [
        {"name": k.name, "label": k.label, "checked": k.name in current, "help": _kind_help(k.name)}
        for k in possible
    ]
    return render(
        request,
        "web/setup/flows.html",
        _context(request, link, setup, "flows", options=options, error=error),
        status=400 if error else 200,
    )


class _Refused(Exception):
    """Undo the flows just set: another link already moves this shop into these books."""


def _kind_help(name: str) -> str:
    return {
        "orders_to_invoices": _("Every order that meets the conditions becomes one invoice, once."),
        "credit_orders_to_notes": _("Credit orders become credit notes that name the invoice they credit."),
        "orders_to_batch": _(
            "One document per day with all the day's orders (for packages that import a daily file)."
        ),
        "products": _("Articles are created in the target; updated only if you allow it."),
        "stock": _("The available stock is written to the target."),
        "customers": _("Customers are matched on e-mail, created when unknown."),
    }.get(name, "")


# -- 4. settings -----------------------------------------------------------------------------------------


@login_required
def settings(request: HttpRequest, pk: int) -> HttpResponse:
    link, setup = _link(request, pk)
    if setup.flows_at is None or not link.flows.exists():
        return redirect("setup:flows", link.pk)
    forms: list[FlowForms] = flow_forms(link)
    invalid = False
    if request.method == "POST":
        require(request, link.organisation_id, Role.MEMBER)
        forms = flow_forms(link, post=request.POST)
        if all(f.valid for f in forms):
            with transaction.atomic():
                for f in forms:
                    changed = save_flow_forms(f)
                    if changed:
                        _log(
                            link,
                            SetupCode.FLOW_SETTINGS_CHANGED,
                            request,
                            flow=f.label,
                            fields=", ".join(sorted(changed)),
                            payload={"changed": changed},
                        )
                setup.settings_at = timezone.now()
                setup.save(update_fields=["settings_at"])
            if setup.activated_at is not None:
                messages.success(request, _("Settings saved."))
                return redirect("setup:settings", link.pk)
            return redirect("setup:start", link.pk)
        invalid = True
    return render(
        request,
        "web/setup/settings.html",
        _context(request, link, setup, "settings", forms=forms, invalid=invalid),
        status=400 if invalid else 200,
    )


# -- 5. start point --------------------------------------------------------------------------------------


def _order_flows(link: Link):
    return [
        f
        for f in link.flows.exclude(status=FlowStatus.DISABLED)
        if KINDS[f.kind].reads == Capability.READS_ORDERS
    ]


def _start_problem(link: Link, kind: str, date_raw: str, number_raw: str) -> tuple[str, str, Any]:
    """``(field, problem, value)`` of the posted start point ('' problem: fine); a number's value
    is ``(number, the date it was placed)``."""
    if kind == StartKind.DATE:
        try:
            value = dt.date.fromisoformat(date_raw)
        except ValueError:
            return "date", _("Enter a date (YYYY-MM-DD)."), None
        if value > timezone.localdate() + dt.timedelta(days=366):
            return "date", _("At most a year ahead."), None
        return "", "", value
    if kind == StartKind.NUMBER:
        if not number_raw.isdigit():
            return "number", _("Enter an order number (digits only)."), None
        connector = build_connector(link.source)
        try:
            found = connector.fetch_one(number_raw)  # type: ignore[attr-defined]
        except NotFound:
            shown = render_code(SetupCode.START_NUMBER_UNKNOWN, {"number": number_raw})
            return "number", f"{shown.text} {shown.suggestion}", None
        except ConnectorError as exc:
            return "number", render_code(exc.code, {}).text, None
        finally:
            connector.close()
        # orders after it are not older: its date bounds what the first run reads
        placed = getattr(found.item, "date", None) if found is not None else None
        return "", "", (int(number_raw), placed)
    return "", "", None


@login_required
def start(request: HttpRequest, pk: int) -> HttpResponse:
    link, setup = _link(request, pk)
    if setup.activated_at is not None:
        messages.info(request, _("This link is active: its start date and start number are in the settings."))
        return redirect("setup:settings", link.pk)
    if setup.settings_at is None:
        return redirect("setup:settings", link.pk)
    order_flows = _order_flows(link)
    first = order_flows[0].settings if order_flows else {}
    values = {
        "kind": setup.start_kind,
        "date": str(first.get("from_date") or timezone.localdate().isoformat()),
        "number": str(first.get("from_number") or ""),
    }
    errors: dict[str, str] = {}
    value: Any = None
    if request.method == "POST":
        require(request, link.organisation_id, Role.MEMBER)
        values = {
            "kind": request.POST.get("start_kind", StartKind.NOW),
            "date": request.POST.get("from_date", "").strip(),
            "number": request.POST.get("from_number", "").strip(),
        }
        if values["kind"] not in StartKind.values:
            errors["kind"] = _("Choose one of the options.")
        else:
            where, problem, value = _start_problem(link, values["kind"], values["date"], values["number"])
            if problem:
                errors[where] = problem
        if not errors:
            with transaction.atomic():
                for flow in order_flows:
                    settings_doc = dict(flow.settings or {})
                    settings_doc.pop("from_date", None)
                    settings_doc.pop("from_number", None)
                    if values["kind"] == StartKind.DATE:
                        settings_doc["from_date"] = value.isoformat()
                    elif values["kind"] == StartKind.NUMBER:
                        number, placed = value
                        settings_doc["from_number"] = number
                        if placed is not None:
                            settings_doc["from_date"] = placed.isoformat()
                    flow.settings = settings_doc
                    flow.save(update_fields=["settings"])
                setup.start_kind = values["kind"]
                setup.start_at = timezone.now()
                setup.save(update_fields=["start_kind", "start_at"])
                _log(
                    link,
                    SetupCode.START_POINT_SET,
                    request,
                    flow=link.name,
                    start=steps.start_text(setup, order_flows[0]) if order_flows else _("now"),
                )
            return redirect("setup:preview", link.pk)
    return render(
        request,
        "web/setup/start.html",
        _context(request, link, setup, "start", values=values, errors=errors, has_orders=bool(order_flows)),
        status=400 if errors else 200,
    )


# -- 6. preview and activation ---------------------------------------------------------------------------


def _ready(setup: LinkSetup) -> bool:
    states = steps.step_states(setup)
    return (
        all(states.values())
        and setup.previewed_at is not None
        and timezone.now() - setup.previewed_at < PREVIEW_VALID
    )


@login_required
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    link, setup = _link(request, pk)
    if setup.activated_at is None and setup.start_at is None:
        return redirect("setup:start", link.pk)
    previews = preview_link(link, setup)
    if not any(p.problem for p in previews) and setup.activated_at is None:
        setup.previewed_at = timezone.now()
        setup.save(update_fields=["previewed_at"])
    return render(
        request,
        "web/setup/preview.html",
        _context(request, link, setup, "preview", previews=previews, ready=_ready(setup)),
    )


@login_required
def activate(request: HttpRequest, pk: int) -> HttpResponse:
    link, setup = _link(request, pk, Role.MEMBER)
    if request.method != "POST":
        return redirect("setup:preview", link.pk)
    if setup.activated_at is not None and link.status == LinkStatus.ACTIVE:
        messages.info(request, _("%(link)s is already active.") % {"link": link.name})
        return redirect("web:link", link.pk)
    if not _ready(setup):
        messages.error(request, _("Look at the preview first: it shows what will be booked."))
        return redirect(f"setup:{steps.first_open_step(setup)}", link.pk)
    steps.activate(link, setup, request.user)
    messages.success(
        request, _("%(link)s is active. New orders are booked from the start point on.") % {"link": link.name}
    )
    return redirect(reverse("web:link", args=[link.pk]))


@login_required
def discard(request: HttpRequest, pk: int) -> HttpResponse:
    """Throw away a set-up that was never activated: the link, its flows and its connections."""
    link, setup = _link(request, pk, Role.OWNER)
    if request.method != "POST":
        return redirect("setup:resume", link.pk)
    if setup.activated_at is not None or link.records.exists():
        messages.error(request, _("Only a link that was never activated can be thrown away here."))
        return redirect("setup:resume", link.pk)
    name, connections = link.name, [link.source_id, link.target_id]
    with transaction.atomic():
        link.delete()
        Connection.objects.filter(pk__in=connections, links_out__isnull=True, links_in__isnull=True).delete()
    messages.success(request, _("The set-up of %(link)s was thrown away.") % {"link": name})
    return redirect("setup:new_link")
