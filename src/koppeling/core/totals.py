"""How a target computes a document's totals from its lines.

Targets differ, and "what the customer paid, to the cent" depends on it: a target that computes
VAT per line from the amount excluding VAT and rounds per line books something else than one that
sums first and rounds once. Each target connector declares its method; core uses it to make lines
that this target totals to exactly the amount paid.
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
