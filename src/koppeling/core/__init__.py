"""Pure domain: money, VAT, parties, orders and invoices. No Django, no I/O.

Everything here is importable by every other layer; it imports nothing from them. Importing the
package registers the English texts of its outcome codes (``codes`` and ``texts`` import only the
standard library and ``messages``, so this stays cheap and cycle-free).
"""

from koppeling.core import texts as _texts  # noqa: F401  (registers the texts of the core's codes)
