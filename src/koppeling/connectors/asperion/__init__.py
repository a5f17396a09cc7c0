"""Asperion: the daily webshop-order file ("Import orders (xml) -> webwinkelfacturen") and its API.

``client.AsperionTarget`` delivers a flow's daily batch as one aXML file of Concept invoices
(``convert`` turns core invoices into it with the flow's ``AsperionSettings``); ``batch_format`` is
our versioned reading of Asperion's aXML order import (``write_orders_xml``, ``read_orders_xml``,
the XSD we validate against); ``simulator.AsperionSimulator`` imitates the place the daily file is
delivered to (keyed by the licence code), the import that turns its orders into Concept invoices
and debtors, and the read side of the REST API (api.asperion.nl, OAuth2). Facts, sources and what
is inferred: ``docs/connectors/asperion.md``.
"""

from . import client  # noqa: F401 - registers the connector
