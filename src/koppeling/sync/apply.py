"""Configuration as code: ``koppeling apply FILE.toml`` creates or updates an organisation's
connections, links and their flows. Secrets never live in the file: it names environment variables.

Example::

    [organisation]
    name = "Webwinkel De Molen"
    slug = "de-molen"
    notify_email = "boekhouding@demolen.nl"

    [connections.shop]
    system = "mijnwebwinkel"
    base_url = "https://api.myonlinestore.com"       # or a simulator / stand-in
    credentials_env = { partner_token = "MWW_PARTNER_TOKEN", token = "MWW_TOKEN" }

    [connections.books]
    system = "acumulus"
    credentials_env = { contractcode = "ACU_CONTRACT", username = "ACU_USER", password = "ACU_PASSWORD" }

    [links.shop-to-books]
    source = "shop"
    target = "books"

    [links.shop-to-books.flows.orders_to_invoices]      # the key is the flow kind (or set kind = …)
    schedule_minutes = 60                               # or daily_at = "06:00"
    [links.shop-to-books.flows.orders_to_invoices.settings]
    statuses = ["3", "6", "7"]
    order_prefix = "WA"
    [links.shop-to-books.flows.orders_to_invoices.target_settings]
    accounts = { paypal = "2", "*" = "1" }
    cost_centers = { "*" = "1" }

A link written the first landing's way (``schedule_minutes`` and ``[links.X.settings]`` on the link)
still works: it becomes its one "orders → invoices" flow, the Acumulus part of its settings moved
to the flow's target settings. Every problem of the file is reported at once, with its location;
nothing is changed unless all is well.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from koppeling.connectors.registry import connector_class

from .connections import base_url_problem, options_problems, origin
from .flow_settings import SettingsError, split_v1
from .flowkinds import KINDS, kind_of, settings_for
from .models import Connection, Flow, FlowStatus, Link, Organisation

__all__ = ["ApplyError", "ApplyResult", "apply_config", "load"]


class ApplyError(ValueError):
    """The file cannot be applied; ``problems`` lists every located problem, not just the first."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ApplyResult:
    organisation: Organisation
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


@dataclass
class _FlowSpec:
    key: str
    kind: str
    source: str
    target: str
    settings: dict[str, Any]
    target_settings: dict[str, Any]
    schedule_minutes: int = 60
    daily_at: dt.time | None = None
    status: str = FlowStatus.ACTIVE


def load(path: str | Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ApplyError([f"{path}: not valid TOML: {exc}"]) from exc
    except OSError as exc:
        raise ApplyError([f"{path}: {exc.strerror}"]) from exc


def _table(value: Any, where: str, problems: list[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}: expected a table, got {type(value).__name__}")
        return {}
    _no_dates(value, where, problems)
    return value


def _no_dates(value: Any, where: str, problems: list[str]) -> None:
    """TOML dates and times are no setting values (settings are stored as JSON): say where one is."""
    if isinstance(value, dt.date | dt.time):
        problems.append(f'{where}: a TOML date or time is not a value here; write it as text ("{value}")')
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_dates(item, f"{where}.{key}", problems)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _no_dates(item, f"{where}[{index}]", problems)


#: the keys each table of the file may have (a typo is a located problem, not silently ignored)
CONNECTION_KEYS = {"system", "name", "base_url", "options", "credentials_env"}
LINK_KEYS = {"source", "target", "name", "flows", "settings", "schedule_minutes", "daily_at"}
FLOW_KEYS = {
    "kind",
    "source",
    "target",
    "settings",
    "target_settings",
    "schedule_minutes",
    "daily_at",
    "status",
}
ORGANISATION_KEYS = {"name", "slug", "notify_email"}
TOP_KEYS = {"organisation", "connections", "links"}


def _unknown_keys(table: dict[str, Any], known: set[str], where: str, problems: list[str]) -> None:
    for key in table:
        if key not in known:
            problems.append(f"{where}.{key}: unknown setting; known: {', '.join(sorted(known))}")


def _text(
    table: dict[str, Any], key: str, where: str, problems: list[str], *, default: str = "", limit: int = 200
) -> str:
    """``table[key]`` as text: a located problem (and ``default``) when it is of another type."""
    value = table.get(key, default)
    if not isinstance(value, str):
        problems.append(f"{where}.{key}: expected text, got {type(value).__name__} {value!r}"[:300])
        return default
    if len(value) > limit:
        problems.append(f"{where}.{key}: at most {limit} characters, got {len(value)}")
        return default
    if any(ord(ch) < 32 for ch in value):
        problems.append(f"{where}.{key}: contains control characters")
        return default
    return value


def _check_organisation(org: dict[str, Any], where: str, problems: list[str]) -> None:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email, validate_slug

    _unknown_keys(org, ORGANISATION_KEYS, where, problems)
    if not _text(org, "name", where, problems).strip():
        problems.append(f"{where} needs a name")
    slug = _text(org, "slug", where, problems, limit=50)
    email = _text(org, "notify_email", where, problems, limit=254)
    for key, value, check in (("slug", slug, validate_slug), ("notify_email", email, validate_email)):
        try:
            if value:
                check(value)
        except ValidationError:
            problems.append(f"{where}.{key}: {value!r} is not a valid {key.replace('_', ' ')}")


def _check_connection(conn: dict[str, Any], where: str, problems: list[str]) -> None:
    """Types and values of one ``[connections.X]`` table (its system and credentials: the caller)."""
    _unknown_keys(conn, CONNECTION_KEYS, where, problems)
    _text(conn, "name", where, problems)
    url = _text(conn, "base_url", where, problems, limit=500)
    problem = base_url_problem(url)
    if problem:
        problems.append(f"{where}.base_url: {problem}")
    for key, problem in options_problems(conn.get("options", {})).items():
        problems.append(f"{where}.{key}: {problem}")
    _no_dates(conn.get("options", {}), f"{where}.options", problems)


def _moved_without_credentials(
    slug: str, connections: dict[str, Any], resolved: dict[str, Any], source: str, problems: list[str]
) -> None:
    """A stored connection whose address the file changes must come with its credentials again:
    the stored ones were entered for the old address and are never sent to the new one."""
    if not slug:
        return
    stored = {
        c.name: c
        for c in Connection.objects.filter(organisation__slug=slug).exclude(credentials_encrypted="")
    }
    for key, conn in connections.items():
        current = stored.get(conn.get("name", key) if isinstance(conn.get("name", key), str) else key)
        if current is None or resolved.get(key) is not None or not isinstance(conn.get("base_url", ""), str):
            continue
        new = origin(conn.get("base_url", ""))
        if (current.bound_origin() or origin(current.base_url)) != new:
            problems.append(
                f"{source}: [connections.{key}].base_url: the address changes "
                f"({origin(current.base_url) or 'the default'} -> {new or 'the default'}): "
                "give credentials_env too; the stored credentials are never sent to another address"
            )


def _schedule(spec: dict[str, Any], where: str, problems: list[str]) -> tuple[int, dt.time | None]:
    minutes = spec.get("schedule_minutes", 60)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 7 * 24 * 60:
        problems.append(f"{where}.schedule_minutes: expected a whole number of minutes from 1 to 10080")
        minutes = 60
    daily = spec.get("daily_at")
    at: dt.time | None = None
    if daily is not None:
        if isinstance(daily, dt.time):
            at = daily
        else:
            try:
                at = dt.time.fromisoformat(str(daily))
            except ValueError:
                problems.append(f"{where}.daily_at: {daily!r} is not a time (HH:MM)")
    return minutes, at


def _flow_specs(key: str, link: dict[str, Any], where: str, problems: list[str]) -> list[_FlowSpec]:
    flows = _table(link.get("flows"), f"{where}.flows", problems)
    specs: list[_FlowSpec] = []
    if not flows:  # the first landing's shape: one orders → invoices flow
        generic, target = split_v1(_table(link.get("settings"), f"{where}.settings", problems))
        minutes, at = _schedule(link, where, problems)
        specs.append(
            _FlowSpec(
                "orders_to_invoices",
                "orders_to_invoices",
                _end({}, link, "source"),
                _end({}, link, "target"),
                generic,
                target,
                minutes,
                at,
            )
        )
        return specs
    for flow_key, raw in flows.items():
        fwhere = f"{where}.flows.{flow_key}"
        spec = _table(raw, fwhere, problems)
        _unknown_keys(spec, FLOW_KEYS, fwhere, problems)
        for end in ("source", "target"):
            _text(spec, end, fwhere, problems)
        kind = _text(spec, "kind", fwhere, problems, default=flow_key)
        if kind not in KINDS:
            problems.append(f"{fwhere}: unknown flow kind {kind!r}; known: {', '.join(KINDS)}")
            continue
        minutes, at = _schedule(spec, fwhere, problems)
        status = _text(spec, "status", fwhere, problems, default=FlowStatus.ACTIVE)
        if status not in FlowStatus.values:
            problems.append(f"{fwhere}.status: expected one of {', '.join(FlowStatus.values)}")
        specs.append(
            _FlowSpec(
                flow_key,
                kind,
                _end(spec, link, "source"),
                _end(spec, link, "target"),
                _table(spec.get("settings"), f"{fwhere}.settings", problems),
                _table(spec.get("target_settings"), f"{fwhere}.target_settings", problems),
                minutes,
                at,
                status,
            )
        )
    return specs


def _end(spec: dict[str, Any], link: dict[str, Any], end: str) -> str:
    value = spec.get(end, link.get(end, ""))
    return value if isinstance(value, str) else ""  # a wrong type was reported where it stood


def _check_flow(spec: _FlowSpec, connections: dict[str, Any], where: str, problems: list[str]) -> None:
    kind = kind_of(spec.kind)
    classes = {}
    for end, capability in (("source", kind.reads), ("target", kind.writes)):
        name = getattr(spec, end)
        if name not in connections:
            problems.append(f"{where}: {end} = {name!r} is not a connection in this file")
            continue
        try:
            cls = connector_class(str(connections[name].get("system", "")))
        except KeyError:
            continue  # reported with the connection
        if capability not in cls.capabilities():
            problems.append(
                f"{where}: {end} = {name!r} is a {cls.label} connection, which cannot do {capability.value}"
            )
            continue
        classes[end] = cls
    try:
        settings_for(kind, classes.get("target"), spec.settings, spec.target_settings)
    except SettingsError as exc:
        problems.extend(f"{where}.{k}: {v}" for k, v in exc.problems.items())


def _resolve_connections(data: dict[str, Any], env: dict[str, str], source: str, problems: list[str]):
    connections = _table(data.get("connections"), f"{source}: [connections]", problems)
    resolved: dict[str, dict[str, str] | None] = {}
    for key, raw in connections.items():
        where = f"{source}: [connections.{key}]"
        conn = _table(raw, where, problems)
        connections[key] = conn
        _check_connection(conn, where, problems)
        try:
            cls = connector_class(_text(conn, "system", where, problems))
        except KeyError as exc:
            problems.append(f"{where}: {exc.args[0]}")
            continue
        names = conn.get("credentials_env")
        if names is None:
            resolved[key] = None
            continue
        names = _table(names, f"{where}.credentials_env", problems)
        creds: dict[str, str] = {}
        for field_name, var in names.items():
            if not isinstance(var, str):
                problems.append(f"{where}.credentials_env.{field_name}: expected the name of a variable")
            elif var not in env:
                problems.append(f"{where}: environment variable {var} (for {field_name}) is not set")
            else:
                creds[field_name] = env[str(var)]
        missing = [f for f in cls.credential_fields if f not in names]
        if missing:
            problems.append(f"{where}: credentials_env lacks {', '.join(missing)}")
        resolved[key] = creds
    return connections, resolved


def apply_config(
    data: dict[str, Any], *, env: dict[str, str] | None = None, source: str = "file"
) -> ApplyResult:
    env = dict(os.environ) if env is None else env
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ApplyError([f"{source}: expected a TOML document"])
    _unknown_keys(data, TOP_KEYS, f"{source}:", problems)
    org_data = _table(data.get("organisation"), f"{source}: [organisation]", problems)
    _check_organisation(org_data, f"{source}: [organisation]", problems)
    connections, resolved = _resolve_connections(data, env, source, problems)
    links = _table(data.get("links"), f"{source}: [links]", problems)
    plans: dict[str, tuple[dict[str, Any], list[_FlowSpec]]] = {}
    for key, raw in links.items():
        where = f"{source}: [links.{key}]"
        link = _table(raw, where, problems)
        _unknown_keys(link, LINK_KEYS, where, problems)
        _text(link, "name", where, problems)
        for end in ("source", "target"):
            if not isinstance(link.get(end), str):
                problems.append(f"{where}.{end}: expected the name of a connection in this file")
            elif link.get(end) not in connections:
                problems.append(f"{where}: {end} = {link.get(end)!r} is not a connection in this file")
        specs = _flow_specs(key, link, where, problems)
        for spec in specs:
            _check_flow(spec, connections, f"{where}.flows.{spec.key}", problems)
        plans[key] = (link, specs)
    if not problems:
        slug = org_data.get("slug") or slugify(org_data["name"])
        _moved_without_credentials(slug, connections, resolved, source, problems)
    if problems:
        raise ApplyError(problems)
    return _write(org_data, connections, resolved, plans)


@transaction.atomic
def _write(org_data, connections, resolved, plans) -> ApplyResult:
    slug = org_data.get("slug") or slugify(org_data["name"])
    org, created = Organisation.objects.get_or_create(slug=slug, defaults={"name": org_data["name"]})
    result = ApplyResult(org)
    org.name = org_data["name"]
    org.notify_email = org_data.get("notify_email", org.notify_email)
    org.save()
    (result.created if created else result.updated).append(f"organisation {slug}")
    by_key: dict[str, Connection] = {}
    for key, conn in connections.items():
        obj, created = Connection.objects.get_or_create(
            organisation=org, name=conn.get("name", key), defaults={"system": conn["system"]}
        )
        obj.system = conn["system"]
        obj.base_url = conn.get("base_url", "")
        obj.options = conn.get("options", {})
        if resolved.get(key) is not None:
            obj.credentials = resolved[key]
        obj.save()
        by_key[key] = obj
        (result.created if created else result.updated).append(f"connection {obj.name}")
    for key, (link, specs) in plans.items():
        obj, created = Link.objects.get_or_create(
            organisation=org,
            name=link.get("name", key),
            defaults={"source": by_key[link["source"]], "target": by_key[link["target"]]},
        )
        obj.source, obj.target = by_key[link["source"]], by_key[link["target"]]
        obj.save()
        (result.created if created else result.updated).append(f"link {obj.name}")
        for spec in specs:
            _write_flow(obj, spec, by_key, result)
    return result


def _write_flow(link: Link, spec: _FlowSpec, by_key: dict[str, Connection], result: ApplyResult) -> None:
    source, target = by_key[spec.source], by_key[spec.target]
    flow, created = Flow.objects.get_or_create(
        link=link, kind=spec.kind, source=source, defaults={"target": target}
    )
    flow.target = target
    flow.settings = {"version": 2, **{k: v for k, v in spec.settings.items() if k != "version"}}
    flow.target_settings = {"version": 1, **{k: v for k, v in spec.target_settings.items() if k != "version"}}
    flow.schedule_minutes, flow.daily_at, flow.status = spec.schedule_minutes, spec.daily_at, spec.status
    twin = flow.twin()
    if twin:  # the same shop into the same books twice: every order would be booked twice
        raise ApplyError([f"[links.{link.name}].flows.{spec.key}: {twin}"])
    flow.save()
    (result.created if created else result.updated).append(f"flow {link.name}: {spec.kind}")
