"""From stored connections to live connector objects."""

from __future__ import annotations

from koppeling.connectors.base import ConnectionConfig, Connector, SourceConnector, TargetConnector
from koppeling.connectors.http import CallCounter, make_client
from koppeling.connectors.registry import connector_class

from .models import Connection


def build_connector(connection: Connection, counter: CallCounter | None = None) -> Connector:
    cls = connector_class(connection.system)
    base_url = connection.base_url or cls.default_base_url
    config = ConnectionConfig(
        system=connection.system,
        base_url=base_url,
        credentials=connection.credentials,
        options=connection.options or {},
    )
    return cls(config, make_client(base_url, counter=counter))


def build_source(connection: Connection, counter: CallCounter | None = None) -> SourceConnector:
    connector = build_connector(connection, counter)
    if not isinstance(connector, SourceConnector):
        raise TypeError(f"{connection} cannot be a source")
    return connector


def build_target(connection: Connection, counter: CallCounter | None = None) -> TargetConnector:
    connector = build_connector(connection, counter)
    if not isinstance(connector, TargetConnector):
        raise TypeError(f"{connection} cannot be a target")
    return connector
