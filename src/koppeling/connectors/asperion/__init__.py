"""Asperion: the daily webshop-order file ("Import orders (xml) -> webwinkelfacturen") and its API.

``batch_format`` is our versioned reading of Asperion's aXML order import (``write_orders_xml``,
``read_orders_xml``, the XSD we validate against); ``simulator.AsperionSimulator`` imitates the
place the daily file is delivered to (keyed by the licence code), the import that turns its orders
into Concept invoices and debtors, and the read side of the REST API (api.asperion.nl, OAuth2). No
connector lives here yet. Facts, sources and what is inferred: ``docs/connectors/asperion.md``.
"""
