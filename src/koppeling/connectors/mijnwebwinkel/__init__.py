"""Mijnwebwinkel (MyOnlineStore Connect API): source connector, translator and simulator.

Facts and sources: ``docs/connectors/mijnwebwinkel.md``; the official OpenAPI description the
simulator follows is ``openapi.yaml`` in this package (MyOnlineStore/public-api-docs, MIT).
"""

from __future__ import annotations

from pathlib import Path

SPEC_PATH = Path(__file__).with_name("openapi.yaml")

from . import client  # noqa: E402,F401 - registers the connector

__all__ = ["SPEC_PATH"]
