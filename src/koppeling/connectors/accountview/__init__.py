"""AccountView.net (Visma AccountView Online / AccountView REST API v3).

``client.AccountViewConnector`` books orders as sales orders (SO1) or sales invoices (DJ2),
creates and updates debtors (AR1), and reads articles with their stock (AK1) — the AccountView side
of seed 004 (APIcenter's AccountView ↔ eAccounting). ``api.py`` is the wire protocol (OAuth2,
``X-Company``, the generic ``AccountViewData`` read and row/field-list write), ``settings.py`` what a
flow chooses, ``translate.py`` the rows ⇄ core objects. ``simulator.AccountViewSimulator`` imitates
the ``/api/v3`` endpoints for tests and ``koppeling demo``. Facts, their sources and what is verified
or inferred: ``docs/connectors/accountview.md``.
"""

from . import client  # noqa: F401 - registers the connector
