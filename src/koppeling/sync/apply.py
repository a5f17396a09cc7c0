"""Configuration as code: ``koppeling apply FILE.toml`` creates or updates an organisation's
connections and links. Secrets never live in the file: it names environment variables.

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
    schedule_minutes = 60
    [links.shop-to-books.settings]
    statuses = ["3", "6", "7"]
    accounts = { paypal = "2", "*" = "1" }
    cost_centers = { "*" = "1" }
    order_prefix = "WA"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from koppeling.connectors.base import SourceConnector, TargetConnector
from koppeling.connectors.registry import connector_class

from .link_settings import LinkSettings, SettingsError
from .models import Connection, Link, Organisation


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


def load(path: str | Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ApplyError([f"{path}: not valid TOML: {exc}"]) from exc
    except OSError as exc:
        raise ApplyError([f"{path}: {exc.strerror}"]) from exc


def apply_config(
    data: dict[str, Any], *, env: dict[str, str] | None = None, source: str = "file"
) -> ApplyResult:
    env = dict(os.environ) if env is None else env
    problems: list[str] = []
    org_data = data.get("organisation") or {}
    if not org_data.get("name"):
        problems.append(f"{source}: [organisation] needs a name")
    connections = data.get("connections") or {}
    links = data.get("links") or {}
    resolved_creds: dict[str, dict[str, str] | None] = {}
    for key, conn in connections.items():
        where = f"{source}: [connections.{key}]"
        system = conn.get("system", "")
        try:
            cls = connector_class(system)
        except KeyError as exc:
            problems.append(f"{where}: {exc.args[0]}")
            continue
        names = conn.get("credentials_env")
        if names is None:
            resolved_creds[key] = None
            continue
        creds: dict[str, str] = {}
        for field_name, var in names.items():
            if var not in env:
                problems.append(f"{where}: environment variable {var} (for {field_name}) is not set")
            else:
                creds[field_name] = env[var]
        missing = [f for f in cls.credential_fields if f not in names]
        if missing:
            problems.append(f"{where}: credentials_env lacks {', '.join(missing)}")
        resolved_creds[key] = creds
    for key, link in links.items():
        where = f"{source}: [links.{key}]"
        for end, role in (("source", SourceConnector), ("target", TargetConnector)):
            name = link.get(end)
            if name not in connections:
                problems.append(f"{where}: {end} = {name!r} is not a connection in this file")
                continue
            try:
                cls = connector_class(connections[name].get("system", ""))
            except KeyError:
                continue  # reported with the connection
            if not issubclass(cls, role):
                problems.append(
                    f"{where}: {end} = {name!r} is a {cls.label} connection, which cannot be a {end}"
                )
        try:
            LinkSettings.from_dict(link.get("settings") or {})
        except SettingsError as exc:
            problems.extend(f"{where}.settings.{k}: {v}" for k, v in exc.problems.items())
    if problems:
        raise ApplyError(problems)

    with transaction.atomic():
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
            if resolved_creds.get(key) is not None:
                obj.credentials = resolved_creds[key]
            obj.save()
            by_key[key] = obj
            (result.created if created else result.updated).append(f"connection {obj.name}")
        for key, link in links.items():
            obj, created = Link.objects.get_or_create(
                organisation=org,
                name=link.get("name", key),
                defaults={"source": by_key[link["source"]], "target": by_key[link["target"]]},
            )
            obj.source, obj.target = by_key[link["source"]], by_key[link["target"]]
            obj.settings = {"version": 1, **(link.get("settings") or {})}
            obj.schedule_minutes = int(link.get("schedule_minutes", 60))
            obj.save()
            (result.created if created else result.updated).append(f"link {obj.name}")
    return result
