"""VIES, the EU's VAT number validation service: the proof a 0 % intra-community supply needs.

``client.ViesChecker`` asks VIES's SOAP service (``checkVatApprox``, with the seller's own number
as requester, so every answer carries a consultation number) and returns a core
``VatNumberCheck``; ``simulator.ViesSimulator`` answers valid, invalid and unavailable as VIES
does. Facts and sources: ``docs/connectors/vies.md``.
"""

from . import client  # noqa: F401  (registers the connector)
