"""Strato Webshop Pro: readers for its export files (no API).

* ``customers.CustomerReader`` — ``Klanten.csv`` (customers export, "Codering: Unicode (UTF-8)");
* ``orders.OrderReader`` — ``Bestellingen.xml`` (orders export "als XML-bestand"), streaming.

Strato publishes neither format; both readings are inferred and versioned (``strato-klanten/1``,
``strato-bestellingen/1``) and tolerant by design. Facts, sources and what is inferred:
``docs/connectors/strato.md``. The conversion to Acumulus import files is ``koppeling.convert``.
"""

from __future__ import annotations

from .customers import Customer, CustomerReader
from .issues import Issue, Severity, UnusableInput
from .orders import OrderError, OrderReader, StratoLine, StratoOrder, WrongEncoding

__all__ = [
    "Customer",
    "CustomerReader",
    "Issue",
    "OrderError",
    "OrderReader",
    "Severity",
    "StratoLine",
    "StratoOrder",
    "UnusableInput",
    "WrongEncoding",
]
