"""File conversions that need no sync engine: exports in, import files out.

``strato.convert_strato`` turns Strato Webshop Pro exports into Acumulus import files; ``cli``
exposes it as ``koppeling convert strato``; the web app offers it as an upload page.
"""

from __future__ import annotations

from .strato import StratoOptions, convert_strato
from .summary import Summary

__all__ = ["StratoOptions", "Summary", "convert_strato"]
