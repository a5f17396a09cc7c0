"""Visma eAccounting (eKonomi, now "Spiris" / "Bookkeeping & Invoicing") API v2.

``client.EAccountingConnector`` reads sales orders and customers and writes articles and stock
(seed 004: the eAccounting side of APIcenter's AccountView ↔ eAccounting link); ``api.py`` is the
wire protocol (OAuth2 with rotating refresh tokens, the error bodies, the 600/minute limit),
``translate.py`` the records ⇄ core objects. ``simulator.EAccountingSimulator`` imitates the REST
API for tests and ``koppeling demo``. Facts, their sources and what is verified or inferred:
``docs/connectors/eaccounting.md``.
"""

from . import client  # noqa: F401 - registers the connector
