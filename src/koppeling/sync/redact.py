"""Keep credentials out of everything koppeling stores, mails, logs or shows.

Remote systems echo what they were sent: an error body may contain the API key, a token from the
query string, or the Basic-auth header. Every remote text becomes an outcome *parameter* only
after :class:`Redactor` replaced each credential of that connection — as written, URL-encoded,
and inside ``Basic`` base64 — with ``***``.

>>> r = Redactor(["s3cret-key", "jan"])
>>> r.text("401: key s3cret-key refused for jan")
'401: key *** refused for ***'
>>> Redactor(["p@ss/w0rd"]).params({"remote": "password=p%40ss%2Fw0rd", "count": 2})
{'remote': 'password=***', 'count': 2}
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "Redactor"]

MASK = "***"
#: shorter values are too likely to occur by chance (and too weak to be secrets worth hiding)
MIN_SECRET_LENGTH = 3


class Redactor:
    """Replaces the given secrets, in their common encodings, in text and nested parameters."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = {str(s) for s in secrets if s and len(str(s)) >= MIN_SECRET_LENGTH}
        forms: set[str] = set()
        for value in values:
            forms.update(_encodings(value))
        for left, right in itertools.permutations(values, 2):  # user:password in Basic auth
            forms.add(base64.b64encode(f"{left}:{right}".encode()).decode())
        ordered = sorted(forms, key=len, reverse=True)  # longest first: no partial leftovers
        self._pattern = re.compile("|".join(re.escape(f) for f in ordered)) if ordered else None

    def text(self, value: str) -> str:
        if self._pattern is None or not value:
            return value
        return self._pattern.sub(MASK, value)

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value

    def params(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        return {str(k): self.value(v) for k, v in (params or {}).items()}


def _encodings(value: str) -> set[str]:
    encoded = {value, quote(value, safe=""), quote_plus(value, safe="")}
    encoded.add(base64.b64encode(value.encode()).decode())
    return {e for e in encoded if len(e) >= MIN_SECRET_LENGTH}
