"""Acumulus (SIEL) target: books invoices and credit notes through the Acumulus web API.

``client.AcumulusTarget`` is the connector (``api`` its wire protocol); ``simulator.AcumulusSimulator``
imitates the API for tests, benchmarks and ``koppeling demo``; ``csvimport`` writes Acumulus import
files. Facts and their sources: ``docs/connectors/acumulus.md``.
"""

from __future__ import annotations

from .client import AcumulusSettings, AcumulusTarget, acumulus_totals, validate_response

__all__ = ["AcumulusSettings", "AcumulusTarget", "acumulus_totals", "validate_response"]
