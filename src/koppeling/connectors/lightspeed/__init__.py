"""Lightspeed eCom (C-Series; formerly SEOshop / WebshopApp): read-only order source and its simulator.

``client.LightspeedSource`` reads orders (``api`` classifies every answer, ``translate`` makes them
core ``Order``s: status ``"<paymentStatus>/<status>"``, the shop's invoice number on a 0.00 line);
``simulator.LightspeedSimulator`` is a WSGI imitation of the API (same paths, HTTP Basic key/secret,
wrapped JSON, paging and filters, the three rate-limit windows and their headers, webhooks with an
``X-Signature``); ``records`` builds its seeded, deterministic shop data in the shapes of the real
sample responses. Facts, sources and what is inferred: ``docs/connectors/lightspeed.md``.
"""

from . import client  # noqa: F401 - registers the connector
