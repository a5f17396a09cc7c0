"""Pure domain: money, VAT, parties, orders and invoices. No Django, no I/O.

Everything here is importable by every other layer; it imports nothing from them.
"""
