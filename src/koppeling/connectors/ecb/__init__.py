"""The ECB's euro foreign exchange reference rates: a fetcher for the rates table core uses.

``client.EcbRates`` fetches ``eurofxref-daily.xml`` or ``eurofxref-hist-90d.xml`` and returns a
``koppeling.core.exchange.ExchangeRateTable``; ``simulator.EcbSimulator`` serves the same files.
A scheduled task of the runtime keeps the table up to date; ``core/data/ecb_rates.json`` is the
shipped fallback. Facts and sources: ``docs/connectors/ecb.md``.
"""

from . import client  # noqa: F401  (registers the connector)
