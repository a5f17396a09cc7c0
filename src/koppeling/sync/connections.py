"""From stored connections to live connector objects — and the rules a connection's address and
credentials must keep before anything is sent (issue 13).

* **https only for real systems.** Plain ``http://`` is allowed for this machine (``localhost``,
  loopback addresses), for names that cannot be a public host (one label such as ``acumulus-sim``;
  the reserved ``.localhost`` ``.test`` ``.example`` ``.invalid``, and ``.sim`` for simulators),
  for an in-process simulator (mounted, nothing leaves the process) and for the hosts an operator
  lists in ``KOPPELING_HTTP_HOSTS``. Checked where connections are saved (``Connection.clean``),
  by ``koppeling apply``, and again here before the first request.
* **Credentials belong to the address they were entered for.** The encrypted credentials carry
  the origin of the base URL they were saved with (``Connection``); a base URL changed since — in
  a form, or behind the model's back — makes every call of that connector fail with an
  authentication error (the link pauses and alerts) before anything is sent.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from koppeling.connectors import http as connector_http
from koppeling.connectors.base import Capability, ConnectionConfig, Connector
from koppeling.connectors.errors import AuthError
from koppeling.connectors.http import CallCounter, make_client
from koppeling.connectors.registry import connector_class
from koppeling.core.messages import gettext_noop, register

from .models import Connection, Flow, Link, Organisation

log = logging.getLogger(__name__)

__all__ = [
    "CapabilityMissing",
    "ConnectionCode",
    "ConnectionCredentials",
    "base_url_problem",
    "build_connector",
    "flow_twin",
    "options_problems",
    "organisation_kept",
    "origin",
    "rotate_credentials",
]

#: top-level names no public API lives under: simulators and stand-ins only
LOCAL_SUFFIXES = (".localhost", ".test", ".example", ".invalid", ".sim")


class ConnectionCode(StrEnum):
    INSECURE_BASE_URL = "connection_insecure_base_url"
    CREDENTIALS_FOR_OTHER_ADDRESS = "connection_credentials_for_other_address"


register(
    {
        ConnectionCode.INSECURE_BASE_URL: (
            gettext_noop("%(system)s: the address %(url)s is plain http; credentials go only over https."),
            gettext_noop(
                "Use the https:// address of the system (or list a local stand-in in KOPPELING_HTTP_HOSTS)."
            ),
        ),
        ConnectionCode.CREDENTIALS_FOR_OTHER_ADDRESS: (
            gettext_noop(
                "%(system)s: the credentials were entered for %(bound)s, but the connection now points at "
                "%(url)s; nothing was sent."
            ),
            gettext_noop("Enter the credentials again for the new address, then resume the link."),
        ),
    }
)


class CapabilityMissing(TypeError):
    """The connection's system cannot do what a flow asks of it."""


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-cased, without a default port ("" for "")."""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    scheme = parts.scheme.lower()
    default = {"http": 80, "https": 443}.get(scheme)
    netloc = f"[{host}]" if ":" in host else host
    if port and port != default:
        netloc += f":{port}"
    return f"{scheme}://{netloc}"


def _local_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(LOCAL_SUFFIXES):
        return True
    if host in {h.strip().lower() for h in settings.KOPPELING.get("HTTP_HOSTS", [])}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return "." not in host  # one label: a name on this network (a container), never a public API


def _mounted(url: str) -> bool:
    """An in-process simulator (``connectors.http.mount``): nothing goes over any network."""
    key = url.rstrip("/")
    mounts = getattr(connector_http, "_MOUNTS", {})
    return any(key == prefix or key.startswith(prefix + "/") for prefix in list(mounts))


def base_url_problem(url: str, *, runtime: bool = False) -> str | None:
    """Why ``url`` may not be a connection's address (for located errors), or None."""
    if not url:
        return None  # the system's real API (the connector's https default)
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. an unbalanced "[" (taken for an IPv6 address)
        return _("%(url)r is not a valid address") % {"url": url}
    try:
        parts.port  # noqa: B018  (raises for a port that is not a number)
    except ValueError:
        return _("%(url)r has a port that is not a number") % {"url": url}
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("%(url)r is not an http(s) address") % {"url": url}
    if parts.username or parts.password:
        return _("the address must not contain a user name or password (use the credentials)")
    if parts.scheme == "http" and not _local_host(parts.hostname) and not (runtime and _mounted(url)):
        return _(
            "%(url)s is plain http: only https is allowed for a real system "
            "(http only for localhost, simulators and KOPPELING_HTTP_HOSTS)"
        ) % {"url": url}
    return None


def options_problems(options: Any) -> dict[str, str]:
    """What is wrong with a connection's ``options`` the runtime itself reads (key -> problem)."""
    if not isinstance(options, Mapping):
        return {
            "options": _("expected a table of name = value, got %(type)s") % {"type": type(options).__name__}
        }
    problems: dict[str, str] = {}
    for key, low, high in (("call_deadline_seconds", 0.1, 3600), ("max_response_bytes", 1024, 2**31)):
        if key not in options:
            continue
        value = options[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            problems[f"options.{key}"] = _("expected a number from %(low)s to %(high)s, got %(value)r") % {
                "low": f"{low:g}",
                "high": f"{high:g}",
                "value": value,
            }
    limits = options.get("rate_limits", [])
    if not isinstance(limits, list) or not all(isinstance(item, Mapping) for item in limits):
        problems["options.rate_limits"] = _("expected a list of tables")
    return problems


def _refusal(connection: Connection, cls: type[Connector], base_url: str) -> AuthError | None:
    params = {"system": cls.label, "url": origin(base_url) or cls.default_base_url}
    problem = base_url_problem(connection.base_url, runtime=True)
    if problem:
        return AuthError(ConnectionCode.INSECURE_BASE_URL, params)
    if connection.credentials_encrypted and not connection.credentials_bound_here():
        return AuthError(
            ConnectionCode.CREDENTIALS_FOR_OTHER_ADDRESS,
            {**params, "bound": connection.bound_origin() or "?"},
        )
    return None


def _refuse_every_request(error: AuthError) -> Callable[[Any], None]:
    def refuse(request: Any) -> None:
        raise error

    return refuse


def build_connector(
    connection: Connection, counter: CallCounter | None = None, *, needs: Capability | None = None
) -> Connector:
    cls = connector_class(connection.system)
    if needs is not None and needs not in cls.capabilities():
        raise CapabilityMissing(f"{cls.label} cannot do {needs.value}")
    base_url = connection.base_url or cls.default_base_url
    options = connection.options if isinstance(connection.options, Mapping) else {}
    refusal = _refusal(connection, cls, base_url)
    config = ConnectionConfig(
        system=connection.system,
        base_url=base_url,
        credentials=connection.credentials,  # kept: the redactor needs them; the hook sends none
        options=dict(options),
    )
    bad = options_problems(options)
    client = make_client(
        base_url,
        counter=counter,
        # an operator may shorten (or lengthen) them per connection; the connector's are the default
        deadline=cls.call_deadline_seconds
        if "options.call_deadline_seconds" in bad
        else float(options.get("call_deadline_seconds", cls.call_deadline_seconds)),
        max_response_bytes=cls.max_response_bytes
        if "options.max_response_bytes" in bad
        else int(options.get("max_response_bytes", cls.max_response_bytes)),
    )
    if refusal is not None:  # before any other hook: not one byte leaves with these credentials
        hooks = client.event_hooks
        client.event_hooks = {**hooks, "request": [_refuse_every_request(refusal), *hooks.get("request", [])]}
    return cls(
        config, client, credential_store=ConnectionCredentials(connection.pk) if connection.pk else None
    )


class ConnectionCredentials:
    """A connection's stored credentials, changed under a row lock (``select_for_update``).

    On PostgreSQL the lock makes a second worker wait, then see the first one's refreshed token; on
    SQLite writes are serialised anyway (``transaction_mode = IMMEDIATE``).
    """

    def __init__(self, connection_id: int) -> None:
        self.connection_id = connection_id

    def update(self, change: Callable[[Mapping[str, str]], Mapping[str, str] | None]) -> Mapping[str, str]:
        with transaction.atomic():
            row = Connection.objects.select_for_update().get(pk=self.connection_id)
            current = row.credentials
            new = change(current)
            if new is not None and dict(new) != current:
                row.credentials = dict(new)
                row.save(update_fields=["credentials_encrypted", "updated_at"])
                return dict(new)
            return current


def rotate_credentials() -> tuple[int, list[int]]:
    """Re-encrypt every connection's credentials (and every organisation's alert webhook) under
    the first of ``KOPPELING_FERNET_KEYS``.

    Run after putting a new key first; afterwards the old keys can be removed. The sealed value
    (credentials and the address they are bound to) is kept as it is, only its key changes.
    Returns (how many connections were re-encrypted, the ids of those no key could read); an
    alert webhook no key reads is dropped with a warning in the log (the owner sets it again).
    """
    done, unreadable = _rotate(Connection, "credentials_encrypted")
    _hooks, lost = _rotate(Organisation, "alert_webhook_encrypted")
    if lost:
        log.warning("alert webhooks of organisation(s) %s could not be read with any key: dropped", lost)
        Organisation.objects.filter(pk__in=lost).update(alert_webhook_encrypted="")
    return done, unreadable


def _rotate(model: type[Connection] | type[Organisation], field: str) -> tuple[int, list[int]]:
    from cryptography.fernet import InvalidToken

    from . import crypto

    done, unreadable = 0, []
    for pk, token in model.objects.exclude(**{field: ""}).values_list("pk", field):
        try:
            rotated = crypto.rotate(token)
        except InvalidToken:
            unreadable.append(pk)
            continue
        with transaction.atomic():  # only if nobody entered new values meanwhile
            done += model.objects.filter(pk=pk, **{field: token}).update(**{field: rotated})
    return done, unreadable


def _account(conn: Connection) -> tuple:
    """What makes two connections the same account: system, host and credentials."""
    return (conn.system, origin(conn.base_url), tuple(sorted(conn.credentials.items())))


def flow_twin(flow: Flow) -> str | None:
    """Another flow of this kind from the same account into the same account (the same shop into
    the same books by two links books every order twice): why ``flow`` is refused, or None."""
    if not (flow.source_id and flow.target_id):
        return None
    source, target = _account(flow.source), _account(flow.target)
    if not source[2] or not target[2]:
        return None  # no credentials yet: nothing to compare
    others = (
        Flow.objects.filter(
            kind=flow.kind, source__system=flow.source.system, target__system=flow.target.system
        )
        .exclude(pk=flow.pk)
        .select_related("source", "target", "link")
    )
    for other in others:
        if _account(other.source) == source and _account(other.target) == target:
            if other.link.organisation_id == flow.link.organisation_id:
                return _(
                    "The link “%(link)s” already moves this shop's data into these books (%(kind)s)."
                ) % {
                    "link": other.link.name,
                    "kind": flow.kind,
                }
            return _("Another organisation's link already moves this shop's data into these books.")
    return None


def organisation_kept(connection: Connection) -> None:
    """A connection in use by links or flows cannot move to another organisation."""
    before = Connection.objects.filter(pk=connection.pk).values_list("organisation_id", flat=True).first()
    if before is None or before == connection.organisation_id:
        return
    used = (
        Link.objects.filter(Q(source=connection) | Q(target=connection)).exists()
        or Flow.objects.filter(Q(source=connection) | Q(target=connection)).exists()
    )
    if used:
        raise ValidationError(
            {"organisation": _("This connection is used by links; it stays in its organisation.")}
        )
