"""Lightspeed eCom (C-Series; formerly SEOshop / WebshopApp): the shop's REST API, imitated.

``simulator.LightspeedSimulator`` is a WSGI imitation of the API (same paths, HTTP Basic key/secret,
wrapped JSON, paging and filters, the three rolling rate-limit windows and their headers, webhooks
with an ``X-Signature``); ``records`` builds its seeded, deterministic shop data in the shapes of the
real sample responses. No connector lives here yet. Facts, sources and what is inferred:
``docs/connectors/lightspeed.md``.
"""
