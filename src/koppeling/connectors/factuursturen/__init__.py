"""Factuursturen.nl target: paid sales invoices through the Factuursturen REST API v1.

``client.FactuursturenTarget`` is the connector (``api`` its wire protocol, ``translate`` what it
sends, ``settings`` what a flow chooses); ``simulator.FactuursturenSimulator`` imitates the API for
tests, benchmarks and ``koppeling demo`` (helpers in ``sim_model`` and ``sim_http``). Facts,
sources and inferences: ``docs/connectors/factuursturen.md``.
"""

from __future__ import annotations

from . import client  # registers the connector
from .client import FactuursturenTarget
from .settings import FactuursturenSettings

__all__ = ["FactuursturenSettings", "FactuursturenTarget", "client"]
