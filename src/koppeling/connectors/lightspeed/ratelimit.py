"""The Lightspeed simulator's rate limit: three fixed windows (5 minutes, 1 hour, 1 day) per API key.

Windows are aligned to the clock (the sample ``accountRatelimit.json`` resets at 18:10:00, 19:00:00
and 00:00:00 UTC) [V sample]; headers carry the three values slash-separated in the order
5min/hour/day, ``X-RateLimit-Reset`` in seconds [V: SEOshop webhook docs, NickTacke's live-tested
tracker]. Past any limit the API answers 429 [V]; ``Retry-After`` (seconds until the exhausted
window resets) on that answer is [I] — a client should fall back to ``X-RateLimit-Reset``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from .records import iso

__all__ = ["DEFAULT_LIMITS", "WINDOWS", "RateLimited", "RateWindows"]

WINDOWS = (300, 3600, 86400)
#: The documented defaults [V: Lightspeed staff on community.lightspeedhq.com, jmango360 KB]; shops
#: can have more (the sample shows 1000 / 12000 / 288000).
DEFAULT_LIMITS = (300, 3000, 12000)


class RateLimited(Exception):
    """The call is over a window's limit; ``headers`` belong on the 429 answer."""

    def __init__(self, headers: list[tuple[str, str]]) -> None:
        super().__init__("rate limited")
        self.headers = headers


class RateWindows:
    """Counts calls per window; ``take()`` admits one call or raises ``RateLimited``."""

    def __init__(self, limits: tuple[int, int, int], clock: Callable[[], float]) -> None:
        self.limits = limits
        self.clock = clock
        self._used: list[tuple[int, int]] = [(0, 0)] * len(WINDOWS)  # (window start, calls)

    def state(self) -> list[tuple[int, int, float]]:
        """(limit, used, seconds until reset) per window."""
        now = self.clock()
        out = []
        for i, length in enumerate(WINDOWS):
            start = math.floor(now / length) * length
            used = self._used[i][1] if self._used[i][0] == start else 0
            out.append((self.limits[i], used, start + length - now))
        return out

    def headers(self) -> list[tuple[str, str]]:
        windows = self.state()
        return [
            ("X-RateLimit-Limit", "/".join(str(lim) for lim, _, _ in windows)),
            ("X-RateLimit-Remaining", "/".join(str(max(0, lim - used)) for lim, used, _ in windows)),
            ("X-RateLimit-Reset", "/".join(str(math.ceil(reset)) for _, _, reset in windows)),
        ]

    def take(self) -> list[tuple[str, str]]:
        """Count one call; the headers to send with its answer."""
        windows = self.state()
        exhausted = [math.ceil(reset) for lim, used, reset in windows if used >= lim]
        if exhausted:
            raise RateLimited([*self.headers(), ("Retry-After", str(max(exhausted)))])
        now = self.clock()
        for i, length in enumerate(WINDOWS):
            start = math.floor(now / length) * length
            used = self._used[i][1] if self._used[i][0] == start else 0
            self._used[i] = (start, used + 1)
        return self.headers()

    def body(self) -> dict[str, Any]:
        """``GET /account/ratelimit.json`` [V sample shape]."""
        names = ("limit5Min", "limitHour", "limitDay")
        now = self.clock()
        out = {}
        for name, (limit, used, reset) in zip(names, self.state(), strict=True):
            end = dt.datetime.fromtimestamp(now + reset, dt.UTC).replace(microsecond=0)
            out[name] = {
                "limit": limit,
                "remaining": max(0, limit - used),
                "reset": math.ceil(reset),
                "resetTime": iso(end),
            }
        return {"accountRatelimit": out}
