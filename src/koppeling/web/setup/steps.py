"""The wizard's steps and what each one writes: a new link is created paused and stays so until
the last step activates it (its flows too, so no other button can start it half set up).

choose → credentials (checked live) → flows → settings → start point → preview → activate.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from koppeling.connectors.base import Capability
from koppeling.connectors.errors import ConnectorError
from koppeling.connectors.registry import connector_class
from koppeling.sync.connections import build_connector
from koppeling.sync.cursors import STATE_VERSION
from koppeling.sync.flow_settings import SETTINGS_VERSION
from koppeling.sync.flowkinds import KINDS, FlowKind
from koppeling.sync.models import (
    ActivityEvent,
    Connection,
    Cursor,
    Flow,
    FlowStatus,
    Link,
    LinkStatus,
    Organisation,
)

from ..models import LinkSetup, StartKind
from .codes import SetupCode

__all__ = [
    "STEPS",
    "Step",
    "activate",
    "create_link",
    "kinds_between",
    "needs_of",
    "setup_of",
    "step_states",
]


@dataclass(frozen=True)
class Step:
    name: str  # the URL name in the "setup" namespace
    label: Any


STEPS = (
    Step("new_link", _("Systems")),
    Step("credentials", _("Credentials")),
    Step("flows", _("Flows")),
    Step("settings", _("Settings")),
    Step("start", _("Start point")),
    Step("preview", _("Preview")),
)

#: flows that book the same orders: one link has at most one of them per source
EXCLUSIVE = frozenset({"orders_to_invoices", "orders_to_batch"})


def kinds_between(source_system: str, target_system: str) -> list[FlowKind]:
    """The flow kinds the two systems can carry, in the registry's order."""
    reads = connector_class(source_system).capabilities()
    writes = connector_class(target_system).capabilities()
    return [kind for kind in KINDS.values() if kind.reads in reads and kind.writes in writes]


def default_kinds(source_system: str, target_system: str) -> list[str]:
    names = [k.name for k in kinds_between(source_system, target_system)]
    for preferred in ("orders_to_invoices", "orders_to_batch"):
        if preferred in names:
            return [preferred]
    return names[:1]


def needs_of(link: Link) -> tuple[frozenset[Capability], frozenset[Capability]]:
    """What the source and the target must allow: the flows chosen, else the main default."""
    kinds = [KINDS[f.kind] for f in link.flows.all() if f.kind in KINDS]
    if not kinds:
        kinds = [KINDS[n] for n in default_kinds(link.source.system, link.target.system)]
    return frozenset(k.reads for k in kinds), frozenset(k.writes for k in kinds)


def setup_of(link: Link) -> LinkSetup:
    """The link's set-up record; a link made before the wizard existed counts as activated."""
    found = LinkSetup.objects.filter(link=link).first()
    if found is not None:
        return found
    activated = link.paused_code != SetupCode.NOT_ACTIVATED
    stamp = link.created_at if activated else None
    return LinkSetup.objects.create(
        link=link,
        checked_at=stamp,
        flows_at=stamp,
        settings_at=stamp,
        start_at=stamp,
        previewed_at=stamp,
        activated_at=stamp,
    )


def step_states(setup: LinkSetup) -> dict[str, bool]:
    """Which steps are done (the preview only while it is current)."""
    return {
        "new_link": True,
        "credentials": setup.checked_at is not None,
        "flows": setup.flows_at is not None,
        "settings": setup.settings_at is not None,
        "start": setup.start_at is not None,
        "preview": setup.preview_current(),
    }


def first_open_step(setup: LinkSetup) -> str:
    for name, done in step_states(setup).items():
        if not done:
            return name
    return "preview"


def _unique(model: type, organisation: Organisation, name: str) -> str:
    candidate, n = name[:190], 1
    while model.objects.filter(organisation=organisation, name=candidate).exists():
        n += 1
        candidate = f"{name[:185]} ({n})"
    return candidate


def _log(on: Link, code: str, user: str, /, **params: Any) -> None:
    ActivityEvent.objects.create(
        organisation_id=on.organisation_id, link=on, code=code, params={"user": user, **params}
    )


@transaction.atomic
def create_link(organisation: Organisation, name: str, source_system: str, target_system: str, user) -> Link:
    """A paused link with its two connections (no credentials yet) and its set-up record."""
    source_label = str(connector_class(source_system).label)
    target_label = str(connector_class(target_system).label)
    source = Connection.objects.create(
        organisation=organisation, name=_unique(Connection, organisation, source_label), system=source_system
    )
    target = Connection.objects.create(
        organisation=organisation, name=_unique(Connection, organisation, target_label), system=target_system
    )
    link = Link.objects.create(
        organisation=organisation,
        name=_unique(Link, organisation, name),
        source=source,
        target=target,
        status=LinkStatus.PAUSED,
        paused_code=SetupCode.NOT_ACTIVATED,
    )
    LinkSetup.objects.create(link=link, created_by=user)
    _log(
        link,
        SetupCode.LINK_CREATED,
        user.get_username(),
        link=link.name,
        source=source_label,
        target=target_label,
    )
    return link


def default_settings(kind: FlowKind, statuses: list[tuple[str, str]]) -> dict[str, Any]:
    """A new flow's settings: the model's defaults, the shop's paid, shipped and collected statuses
    ticked (seed 003: "Betaald, Verzonden, Afgehaald en Betaald en verzonden"), matched by their
    names because every shop numbers its statuses its own way."""
    settings: dict[str, Any] = {"version": SETTINGS_VERSION}
    if "statuses" in kind.settings_model.model_fields and statuses:
        chosen = [value for value, label in statuses if _booked_by_default(label)]
        if chosen:
            settings["statuses"] = chosen
    return settings


#: status names that mean the sale happened (nl, en); a cancelled or credited one never does
_DONE_WORDS = ("betaald", "paid", "verzonden", "shipped", "afgehaald", "collected", "picked up")
_NOT_WORDS = ("geannuleerd", "cancel", "gecrediteerd", "credit", "niet betaald", "not paid", "unpaid")


def _booked_by_default(label: str) -> bool:
    text = label.lower()
    return any(w in text for w in _DONE_WORDS) and not any(w in text for w in _NOT_WORDS)


@transaction.atomic
def set_flows(link: Link, names: list[str], user: str, statuses: list[tuple[str, str]]) -> None:
    """The link's flows become ``names``: new ones are added paused, others removed (a flow that
    already booked something is switched off instead, its ledger kept). Nothing starts here: on a
    link that is already active a new flow waits, from today, until a person resumes it."""
    active = link.status == LinkStatus.ACTIVE
    existing = {f.kind: f for f in link.flows.all()}
    for name in names:
        if name in existing:
            flow = existing[name]
            if flow.status == FlowStatus.DISABLED:
                flow.status = FlowStatus.PAUSED
                flow.save(update_fields=["status"])
            continue
        kind = KINDS[name]
        settings = default_settings(kind, statuses)
        if active and "from_date" in kind.settings_model.model_fields:
            settings["from_date"] = timezone.localdate().isoformat()  # never the shop's history
        flow = Flow(
            link=link,
            kind=name,
            source=link.source,
            target=link.target,
            status=FlowStatus.PAUSED,
            settings=settings,
            target_settings={},
        )
        flow.save()
        _log(link, SetupCode.FLOW_ADDED, user, flow=str(kind.label))
    for name, flow in existing.items():
        if name in names:
            continue
        if flow.records.exists():
            if flow.status != FlowStatus.DISABLED:
                flow.status = FlowStatus.DISABLED
                flow.save(update_fields=["status"])
                _log(
                    link,
                    SetupCode.FLOW_DISABLED,
                    user,
                    flow=str(KINDS[name].label) if name in KINDS else name,
                )
        else:
            flow.delete()
            _log(link, SetupCode.FLOW_REMOVED, user, flow=str(KINDS[name].label) if name in KINDS else name)


def start_text(setup: LinkSetup, flow: Flow) -> str:
    settings = flow.settings or {}
    if setup.start_kind == StartKind.NUMBER and settings.get("from_number") is not None:
        return str(_("order %(number)s") % {"number": settings["from_number"]})
    if setup.start_kind == StartKind.DATE and settings.get("from_date"):
        return str(settings["from_date"])
    return str(_("now"))


def next_number_today(flow: Flow, today: dt.date) -> int | None:
    """One more than the highest (numeric) number of the orders placed today: "from now" then
    leaves out today's earlier orders, also when their status changes later. None: not known."""
    if KINDS[flow.kind].reads != Capability.READS_ORDERS:
        return None
    connector = build_connector(flow.source)
    try:
        numbers = [
            int(f.number)
            for f in itertools.islice(connector.fetch_created(today), 5000)  # type: ignore[attr-defined]
            if f.number and str(f.number).isdigit()
        ]
    except (ConnectorError, AttributeError):
        return None
    finally:
        connector.close()
    return max(numbers) + 1 if numbers else None


@transaction.atomic
def activate(link: Link, setup: LinkSetup, user) -> None:
    """Link and flows active. "From now": the cursor starts now and today's earlier orders stay
    out by their number; a date or number start reads from there on the first run."""
    now = timezone.now()
    starts = []
    for flow in link.flows.exclude(status=FlowStatus.DISABLED):
        if setup.start_kind == StartKind.NOW:
            settings = dict(flow.settings or {})
            settings["from_date"] = timezone.localdate(now).isoformat()
            number = next_number_today(flow, timezone.localdate(now))
            settings["from_number"] = number
            flow.settings = settings
            Cursor.objects.update_or_create(
                flow=flow,
                stream="changed",
                defaults={
                    "state": {
                        "version": STATE_VERSION,
                        "last_value": now.isoformat(),
                        "completed_at": None,
                        "last_id": None,
                    }
                },
            )
        flow.status = FlowStatus.ACTIVE
        flow.next_run_at = now
        flow.save(update_fields=["settings", "status", "next_run_at"])
        starts.append(start_text(setup, flow))
    start = ", ".join(dict.fromkeys(starts)) or str(_("now"))
    _log(link, SetupCode.LINK_ACTIVATED, user.get_username(), link=link.name, start=start)
    link.status = LinkStatus.ACTIVE
    link.paused_code = ""
    link.paused_params = {}
    link.save(update_fields=["status", "paused_code", "paused_params"])
    setup.activated_at = now
    setup.activated_by = user
    setup.save(update_fields=["activated_at", "activated_by"])
