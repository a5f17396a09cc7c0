"""Acumulus (SIEL) target: books invoices through the Acumulus XML/JSON web API.

``client.AcumulusTarget`` is the connector; ``simulator.AcumulusSimulator`` imitates the API for
tests, benchmarks and ``koppeling demo``. Facts and their sources: ``docs/connectors/acumulus.md``.
"""

from __future__ import annotations

from .client import AcumulusTarget, acumulus_totals, validate_response

__all__ = ["AcumulusTarget", "acumulus_totals", "validate_response"]
