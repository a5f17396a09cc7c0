"""Factuursturen.nl target: sales invoices through the Factuursturen REST API v1.

``simulator.FactuursturenSimulator`` imitates the API for tests, benchmarks and ``koppeling demo``
(helpers in ``sim_model`` and ``sim_http``). Facts, sources and inferences:
``docs/connectors/factuursturen.md``.
"""
