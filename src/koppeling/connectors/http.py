"""Building HTTP clients for connectors, with mounts for in-process simulators and call counting.

``mount(base_url, transport)`` lets tests, the demo and benchmarks point a base URL at an
in-process WSGI simulator; nothing else in the client code knows about it.

Every client is bounded (see ``bounded_http``): a total deadline per call and a response
size cap, on top of httpx's per-operation timeouts, so a dripping or huge answer can neither
hang a sync run nor exhaust memory.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import threading

import httpx

from .bounded_http import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_RESPONSE_BYTES,
    BoundedTransport,
    DeadlineExceeded,
    DeadlineHTTPTransport,
    ResponseTooLarge,
    environment_proxy_mounts,
)

__all__ = [
    "CallCounter",
    "DeadlineExceeded",
    "ResponseTooLarge",
    "make_client",
    "mount",
    "mount_wsgi",
    "parse_retry_after",
    "unmount",
]

_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10)
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


def make_client(
    base_url: str,
    *,
    counter: CallCounter | None = None,
    timeout: float = 30.0,
    deadline: float = DEFAULT_DEADLINE,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> httpx.Client:
    """A client for ``base_url``: ``timeout`` per socket operation (connect: 10 s), ``deadline``
    seconds for a whole call (pool wait, connect, send, headers, body) and at most
    ``max_response_bytes`` of body, so no remote can hang a call or exhaust memory.

    Past the deadline a call raises ``DeadlineExceeded`` (an ``httpx.TimeoutException``); a
    larger body raises ``ResponseTooLarge`` (an ``httpx.TransportError``).
    """
    key = base_url.rstrip("/")
    mounted = None
    with _LOCK:
        for prefix, candidate in _MOUNTS.items():
            if key == prefix or key.startswith(prefix + "/"):
                mounted = candidate
                break

    def bounded(inner: httpx.BaseTransport) -> BoundedTransport:
        return BoundedTransport(inner, deadline=deadline, max_response_bytes=max_response_bytes)

    proxies: dict[str, httpx.BaseTransport | None] = {}
    if mounted is None:
        # as before: environment proxies apply to real network calls, not to mounted simulators
        proxies = environment_proxy_mounts(
            lambda url: bounded(DeadlineHTTPTransport(proxy=url, limits=_LIMITS))
        )
    transport = bounded(mounted if mounted is not None else DeadlineHTTPTransport(limits=_LIMITS))
    hooks = {"request": [counter]} if counter else {}
    return httpx.Client(
        transport=transport,
        mounts=proxies,
        timeout=httpx.Timeout(timeout, connect=10.0),
        event_hooks=hooks,
        headers={"User-Agent": "koppeling/0.1"},
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
