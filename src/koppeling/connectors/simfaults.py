"""Random faults for any simulator: a share of its requests fail the way networks and servers do.

Shared by the simulators' ``random_faults(...)`` knob (generic: knows no system). A faulted
request gets one mode, drawn at random from ``modes``:

- ``server_error``: 500, 502, 503 or 504 without processing (a load balancer's answer);
- ``server_error_after``: processed, then 502 (the booking was made, the answer is lost);
- ``rate_limited``: 429 with ``Retry-After``, not processed;
- ``timeout``: held ``hang_seconds`` (past the client's deadline), not processed;
- ``timeout_after``: processed, then held ``hang_seconds`` before the answer;
- ``drip``: processed, the answer sent a few bytes at a time over up to ``drip_seconds`` (past
  the client's deadline or not);
- ``drop``: the connection closed without an answer, before processing;
- ``drop_after``: processed, then the connection closed without an answer.

Timeouts, drips and drops need a real socket (``simserver``); in-process (``httpx.WSGITransport``)
a drop raises ``httpx.RemoteProtocolError`` in the caller, as the network would.
``injected`` counts what was done per mode; draws come from one seeded generator. ``paths``
limits the faults to requests whose path contains one of them (e.g. ``invoice_add``), ``times``
to that many faults in all (then every request is answered normally).
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx

__all__ = ["FAULT_MODES", "RandomFaults"]

FAULT_MODES = (
    "server_error",
    "server_error_after",
    "rate_limited",
    "timeout",
    "timeout_after",
    "drip",
    "drop",
    "drop_after",
)
_PROCESSED = frozenset({"server_error_after", "timeout_after", "drip", "drop_after"})
_REASONS = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway"}
_REASONS |= {503: "Service Unavailable", 504: "Gateway Timeout"}

App = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _html(status: int) -> bytes:
    reason = _REASONS.get(status, "Error")
    return f"<html><body><h1>{status} {reason}</h1>injected by the simulator</body></html>".encode()


class RandomFaults:
    """Fails ``rate`` of the requests it sees (0 ≤ rate ≤ 1), each in a random mode."""

    def __init__(
        self,
        rate: float = 0.2,
        *,
        modes: Iterable[str] = FAULT_MODES,
        seed: int | None = None,
        hang_seconds: float = 3.0,
        drip_seconds: float = 2.0,
        retry_after: int = 1,
        paths: Iterable[str] | None = None,
        times: int | None = None,
    ) -> None:
        self.modes = tuple(modes)
        unknown = sorted(set(self.modes) - set(FAULT_MODES))
        if unknown or not self.modes:
            raise ValueError(f"unknown fault mode(s) {unknown}; known: {', '.join(FAULT_MODES)}")
        if not 0 <= rate <= 1:
            raise ValueError(f"rate must be between 0 and 1, not {rate}")
        self.rate = rate
        self.hang_seconds = hang_seconds
        self.drip_seconds = drip_seconds
        self.retry_after = retry_after
        self.paths = tuple(paths or ())
        self.times = times
        self.requests = 0
        self.injected: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def draw(self, path: str = "") -> str | None:
        """The mode for the next request (to ``path``), or None (answered normally)."""
        with self._lock:
            self.requests += 1
            if self.paths and not any(part in path for part in self.paths):
                return None
            if self.times is not None and sum(self.injected.values()) >= self.times:
                return None
            if self._rng.random() >= self.rate:
                return None
            mode = self._rng.choice(self.modes)
            self.injected[mode] += 1
            return mode

    def _uniform(self, low: float, high: float) -> float:
        with self._lock:
            return self._rng.uniform(low, high)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any], app: App
    ) -> Iterable[bytes]:
        """Answer one request through ``app``, or fail it."""
        mode = self.draw(str(environ.get("PATH_INFO", "")))
        if mode is None:
            return app(environ, start_response)
        if mode in _PROCESSED:
            captured: list[Any] = []
            body = b"".join(app(environ, lambda *answer: captured.append(answer)))
            if mode == "drip":
                status, headers = captured[0][:2] if captured else ("200 OK", [])
                kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
                start_response(status, [*kept, ("Content-Length", str(len(body)))])
                return self._drip(body)
            if mode == "timeout_after":
                time.sleep(self.hang_seconds)
                return self._status(start_response, 504)
            if mode == "drop_after":
                return self._drop(environ, start_response)
            return self._status(start_response, 502)
        if mode == "rate_limited":
            return self._status(start_response, 429, [("Retry-After", str(self.retry_after))])
        if mode == "timeout":
            time.sleep(self.hang_seconds)
            return self._status(start_response, 504)
        if mode == "drop":
            return self._drop(environ, start_response)
        with self._lock:
            status = self._rng.choice((500, 502, 503, 504))
        return self._status(start_response, status)

    @staticmethod
    def _status(
        start_response: Callable[..., Any], status: int, extra: list[tuple[str, str]] | None = None
    ) -> list[bytes]:
        body = _html(status)
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
        start_response(f"{status} {_REASONS.get(status, 'Error')}", headers + (extra or []))
        return [body]

    def _drip(self, body: bytes) -> Iterator[bytes]:
        total = self._uniform(0.0, self.drip_seconds)
        pieces = max(1, min(len(body), 20))
        size = -(-len(body) // pieces)
        for start in range(0, len(body), size):
            time.sleep(total / pieces)
            yield body[start : start + size]

    @staticmethod
    def _drop(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """Close the client's connection without a word (wsgiref: the socket under ``wsgi.input``)."""
        sock = getattr(getattr(environ.get("wsgi.input"), "raw", None), "_sock", None)
        if not isinstance(sock, socket.socket):  # in-process: what the client's network would raise
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        start_response("200 OK", [("Content-Length", "0")])
        return []
