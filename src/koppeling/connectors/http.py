"""Building HTTP clients for connectors, with mounts for in-process simulators and call counting.

``mount(base_url, transport)`` lets tests, the demo and benchmarks point a base URL at an
in-process WSGI simulator; nothing else in the client code knows about it.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import threading

import httpx

_MOUNTS: dict[str, httpx.BaseTransport] = {}
_LOCK = threading.Lock()


def mount(base_url: str, transport: httpx.BaseTransport) -> None:
    with _LOCK:
        _MOUNTS[base_url.rstrip("/")] = transport


def unmount(base_url: str) -> None:
    with _LOCK:
        _MOUNTS.pop(base_url.rstrip("/"), None)


def mount_wsgi(base_url: str, app) -> None:
    mount(base_url, httpx.WSGITransport(app=app))


class CallCounter:
    """Counts requests made through the clients it is attached to (thread-safe enough: GIL)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, request: httpx.Request) -> None:
        self.count += 1


def make_client(base_url: str, *, counter: CallCounter | None = None, timeout: float = 30.0) -> httpx.Client:
    transport = None
    key = base_url.rstrip("/")
    with _LOCK:
        for prefix, candidate in _MOUNTS.items():
            if key == prefix or key.startswith(prefix + "/"):
                transport = candidate
                break
    hooks = {"request": [counter]} if counter else {}
    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=10.0),
        event_hooks=hooks,
        headers={"User-Agent": "koppeling/0.1"},
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    )


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` in seconds: delay-seconds (RFC 9110: digits) or an HTTP-date.

    ``None`` when absent or unreadable, so the caller falls back to its own backoff.

    >>> parse_retry_after("120")
    120
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())
