"""Asperion: the daily webshop-order file ("Import orders (xml) -> webwinkelfacturen") and its API.

``client.AsperionTarget`` delivers a flow's daily batch as one aXML file of Concept invoices
(``convert`` turns core invoices into it with the flow's ``AsperionSettings``); ``batch_format`` is
our versioned reading of Asperion's aXML order import (``write_orders_xml``, ``read_orders_xml``,
the XSD we validate against); ``simulator.AsperionSimulator`` imitates the place the daily file is
delivered to (keyed by the licence code), the import that turns its orders into Concept invoices
and debtors, and the REST API (api.asperion.nl, OAuth2; writes with ``rest_writes=True``).
``rest.AsperionRestTarget`` (system ``asperion_rest``) is the second delivery mode: each order a
Concept sales invoice over that API (an ``orders_to_invoices`` flow). Facts, sources and what is
inferred: ``docs/connectors/asperion.md``.
"""

from . import client, rest  # noqa: F401 - registers the connectors
