"""Visma eAccounting (eKonomi, now "Spiris" / "Bookkeeping & Invoicing") API v2.

Only research and a simulator live here for now: ``simulator.EAccountingSimulator`` imitates the
REST API (OAuth2 token endpoint with refresh-token rotation, customers, articles, orders, invoice
drafts, invoices, reference lists, OData ``$filter``, ``Meta`` paging, scopes, the 600/minute rate
limit and the real error bodies) for tests and ``koppeling demo``. The connector class is written
elsewhere. Facts, their sources and what is verified or inferred: ``docs/connectors/eaccounting.md``.
"""
