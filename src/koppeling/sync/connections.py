"""From stored connections to live connector objects."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.db import transaction

from koppeling.connectors.base import Capability, ConnectionConfig, Connector
from koppeling.connectors.http import CallCounter, make_client
from koppeling.connectors.registry import connector_class

from .models import Connection

__all__ = ["CapabilityMissing", "ConnectionCredentials", "build_connector"]


class CapabilityMissing(TypeError):
    """The connection's system cannot do what a flow asks of it."""


def build_connector(
    connection: Connection, counter: CallCounter | None = None, *, needs: Capability | None = None
) -> Connector:
    cls = connector_class(connection.system)
    if needs is not None and needs not in cls.capabilities():
        raise CapabilityMissing(f"{cls.label} cannot do {needs.value}")
    base_url = connection.base_url or cls.default_base_url
    config = ConnectionConfig(
        system=connection.system,
        base_url=base_url,
        credentials=connection.credentials,
        options=connection.options or {},
    )
    options = connection.options or {}
    client = make_client(
        base_url,
        counter=counter,
        # an operator may shorten (or lengthen) them per connection; the connector's are the default
        deadline=float(options.get("call_deadline_seconds", cls.call_deadline_seconds)),
        max_response_bytes=int(options.get("max_response_bytes", cls.max_response_bytes)),
    )
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
