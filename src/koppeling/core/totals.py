"""How a target computes a document's totals from its lines.

Targets differ, and "what the customer paid, to the cent" depends on it: a target that computes
VAT per line from the amount excluding VAT and rounds per line books something else than one that
sums first and rounds once. Each target connector declares its method (``Connector.totals_method``;
a connector that is not in this repository declares its own the same way); the runtime passes it in
``InvoiceSettings.totals_method`` and core makes lines that this target totals to exactly the amount
paid (``koppeling.core.fitting``): enough unit-price precision, a cent moved between lines, or —
where no set of lines can do it — a correction line, as libAcumulus adds one.

==========================  ========================================================  ==========
method                      what the target computes                                  example
==========================  ========================================================  ==========
``PER_LINE_FROM_EX``        amount = round(qty × unit excl.); VAT = round(amount × r)  Acumulus
``PER_LINE_FROM_INC``       amount = round(qty × unit incl.); VAT = round(amt·r/(1+r))
``PER_INVOICE``             net summed per rate; VAT = round(Σ net × r) once per rate  EN 16931
``AS_SENT``                 takes our line amounts and VAT as sent
==========================  ========================================================  ==========
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["TotalsMethod"]


class TotalsMethod(StrEnum):
    #: VAT = round(quantity × unit price excl. × rate) per line, totals are sums of lines
    PER_LINE_FROM_EX = "per_line_from_ex"
    #: the line amount incl. VAT is given; VAT per line is derived from it
    PER_LINE_FROM_INC = "per_line_from_inc"
    #: lines are summed per VAT rate and VAT is rounded once per rate (the invoice as a whole)
    PER_INVOICE = "per_invoice"
    #: the target takes the amounts we send as they are (it computes nothing)
    AS_SENT = "as_sent"
