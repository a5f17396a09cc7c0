"""Bounded outbound calls: a total deadline and a response size cap for every httpx request.

httpx timeouts are per socket operation, so a remote that drips one byte just inside the read
timeout keeps a call alive forever, and nothing limits how much of a body is buffered. Two
layers fix that:

* ``BoundedTransport`` wraps any transport. Per request it computes an absolute deadline and
  keeps it in a ``ContextVar`` while the request is sent, while headers arrive and while each
  body chunk is read; it caps the body (``Content-Length`` up front, bytes counted while
  streaming) and turns a timeout at the deadline into ``DeadlineExceeded``.
* ``DeadlineHTTPTransport`` (an ``httpx.HTTPTransport``) gives its httpcore pool a network
  backend whose socket reads/writes/connects use ``min(timeout, time left)`` and fail once
  the deadline in that ``ContextVar`` has passed. Only there can a drip *inside the headers*
  be stopped: httpx parses headers before any hook of ours runs again.

The ``ContextVar`` is per thread (and per asyncio task), so one client shared by several
threads gives every request its own deadline, and it is reset after each request and each
chunk, so an idle keep-alive connection carries no stale deadline into the next request.
"""

from __future__ import annotations

import contextvars
import ssl
import time
import typing
from collections.abc import Iterable, Iterator
from types import TracebackType

import httpcore
import httpx

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "BoundedTransport",
    "ConnectDeadlineExceeded",
    "DeadlineBackend",
    "DeadlineExceeded",
    "DeadlineHTTPTransport",
    "PoolDeadlineExceeded",
    "ResponseTooLarge",
    "current_deadline",
    "environment_proxy_mounts",
    "safe_url",
]

DEFAULT_DEADLINE = 60.0
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024

# A timeout that fires this close to the deadline is the deadline (socket timeouts are rounded).
_SLACK = 0.01

# Absolute ``time.monotonic()`` deadline of the request in progress in this context, or None.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "koppeling_http_deadline", default=None
)


def current_deadline() -> float | None:
    """The monotonic deadline of the request being sent or read in this context (None outside one)."""
    return _DEADLINE.get()


def safe_url(url: httpx.URL) -> str:
    """``scheme://host[:port]/path`` only: no credentials, no query string (APIs put tokens there)."""
    path = url.raw_path.split(b"?", 1)[0].decode("ascii", "replace")
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}{path}"


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class DeadlineExceeded(httpx.TimeoutException):
    """The total deadline of a call passed; a timeout, so a mutating call may have been processed."""


class ConnectDeadlineExceeded(DeadlineExceeded, httpx.ConnectTimeout):
    """The deadline passed while connecting: still a ``ConnectTimeout``, the request was never sent."""


class PoolDeadlineExceeded(DeadlineExceeded, httpx.PoolTimeout):
    """The deadline passed waiting for a pooled connection: still a ``PoolTimeout``, never sent."""


class ResponseTooLarge(httpx.TransportError):
    """The response body is (or declares itself) larger than the cap; the body is not kept.

    A ``TransportError``: callers already treat it as "no usable answer".
    """

    def __init__(self, message: str, *, request: httpx.Request | None = None, size: int = 0, cap: int = 0):
        super().__init__(message, request=request)
        self.size = size
        self.cap = cap


def _deadline_error(exc: httpx.TimeoutException, request: httpx.Request, seconds: float) -> DeadlineExceeded:
    """The ``DeadlineExceeded`` that keeps the phase of ``exc`` (connect and pool waits were never sent)."""
    cls: type[DeadlineExceeded] = DeadlineExceeded
    if isinstance(exc, httpx.ConnectTimeout):
        cls = ConnectDeadlineExceeded
    elif isinstance(exc, httpx.PoolTimeout):
        cls = PoolDeadlineExceeded
    where = f"{request.method} {safe_url(request.url)}"
    return cls(f"Deadline of {seconds:g} s exceeded ({type(exc).__name__}) for {where}", request=request)


def _passed(deadline: float) -> bool:
    return time.monotonic() >= deadline - _SLACK


# --------------------------------------------------------------------------------------------
# Socket level: an httpcore network backend that honours the deadline
# --------------------------------------------------------------------------------------------


def _clamp(timeout: float | None, error: type[httpcore.TimeoutException]) -> float | None:
    """``timeout`` shortened to the time left before this context's deadline; raise once it passed."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("deadline exceeded")
    return remaining if timeout is None else min(timeout, remaining)


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every socket operation ends by the deadline of the current request."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout, httpcore.ConnectTimeout))
        return DeadlineStream(inner)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """Wraps a backend (default: httpcore's sync sockets) so its streams honour the deadline."""

    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        self._inner = inner if inner is not None else httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host,
            port,
            timeout=_clamp(timeout, httpcore.ConnectTimeout),
            local_address=local_address,
            socket_options=socket_options,
        )
        return DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(
            path, timeout=_clamp(timeout, httpcore.ConnectTimeout), socket_options=socket_options
        )
        return DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


# --- The only reliance on httpx/httpcore internals (httpx 0.28/0.29, httpcore 1.0) ----------


class DeadlineHTTPTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` (same arguments, proxies included) on a ``DeadlineBackend``.

    On its own it only enforces a deadline set by a ``BoundedTransport`` around it.
    """

    def __init__(self, **kwargs: typing.Any) -> None:
        super().__init__(**kwargs)
        # PRIVATE: httpx builds its httpcore pool (ConnectionPool, HTTPProxy or SOCKSProxy) in
        # ``self._pool`` and has no argument to pass a network backend through; each of those
        # pools reads ``self._network_backend`` whenever it opens a connection, so swapping it
        # here, before any connection exists, covers direct and proxied calls. If a future
        # version moves either attribute, fail loudly rather than run calls unbounded.
        pool = getattr(self, "_pool", None)
        if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
            raise RuntimeError("httpx/httpcore internals changed: cannot install the deadline backend")
        pool._network_backend = DeadlineBackend(pool._network_backend)


def environment_proxy_mounts(
    make: typing.Callable[[str], httpx.BaseTransport],
) -> dict[str, httpx.BaseTransport | None]:
    """httpx's mounts for HTTP(S)_PROXY / ALL_PROXY / NO_PROXY, with ``make(proxy_url)`` transports.

    A client given ``transport=`` ignores the environment's proxies; this restores them with
    bounded transports. PRIVATE: ``httpx._utils.get_environment_proxies`` (stable since 0.18)
    is what ``httpx.Client`` itself uses; reused so the patterns match httpx exactly.
    """
    from httpx._utils import get_environment_proxies

    return {pattern: None if url is None else make(url) for pattern, url in get_environment_proxies().items()}


# --- end of internals ----------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Request level: deadline scope, size cap, error mapping
# --------------------------------------------------------------------------------------------


class _BoundedStream(httpx.SyncByteStream):
    """A response body read chunk by chunk under the request's deadline, failing past the cap."""

    def __init__(
        self, inner: httpx.SyncByteStream, *, owner: BoundedTransport, request: httpx.Request, deadline: float
    ):
        self._inner = inner
        self._owner = owner
        self._request = request
        self._deadline = deadline
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        owner, request = self._owner, self._request
        chunks = iter(self._inner)
        size = 0
        while True:
            token = _DEADLINE.set(self._deadline)
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            except httpx.TimeoutException as exc:
                if _passed(self._deadline):
                    raise _deadline_error(exc, request, owner.deadline) from exc
                raise
            finally:
                _DEADLINE.reset(token)
            size += len(chunk)
            if size > owner.max_response_bytes:
                self.close()
                raise ResponseTooLarge(
                    f"Response too large: {size} bytes read, cap {owner.max_response_bytes} bytes, "
                    f"for {request.method} {safe_url(request.url)}",
                    request=request,
                    size=size,
                    cap=owner.max_response_bytes,
                )
            if time.monotonic() > self._deadline:
                # Only reached without a socket (in-process transports) or on a chunk that just
                # made it: the socket backend fails the next read anyway.
                self.close()
                raise _deadline_error(httpx.ReadTimeout("deadline exceeded"), request, owner.deadline)
            yield chunk

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._inner.close()


class BoundedTransport(httpx.BaseTransport):
    """Wraps ``inner`` so each request has a total deadline and a response size cap.

    The deadline covers waiting for a pooled connection, connect, send, headers and the whole
    body (for ``stream=True`` callers it keeps running while they consume the body). It is
    enforced on the socket only when ``inner`` is a ``DeadlineHTTPTransport``; on other
    transports it is checked between body chunks. The cap counts body bytes as received
    (before any content decoding) and applies to every transport.
    """

    def __init__(
        self,
        inner: httpx.BaseTransport,
        *,
        deadline: float = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        if not deadline > 0:
            raise ValueError(f"deadline must be a positive number of seconds, not {deadline!r}")
        if not max_response_bytes > 0:
            raise ValueError(f"max_response_bytes must be positive, not {max_response_bytes!r}")
        self.inner = inner
        self.deadline = float(deadline)
        self.max_response_bytes = int(max_response_bytes)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self.deadline
        original = request.extensions
        timeouts = dict(original.get("timeout") or {})
        pool = timeouts.get("pool")
        timeouts["pool"] = self.deadline if pool is None else min(pool, self.deadline)
        request.extensions = {**original, "timeout": timeouts}
        token = _DEADLINE.set(deadline)
        try:
            response = self.inner.handle_request(request)
        except httpx.TimeoutException as exc:
            if _passed(deadline):
                raise _deadline_error(exc, request, self.deadline) from exc
            raise
        finally:
            _DEADLINE.reset(token)
            request.extensions = original
        self._check_declared_length(request, response)
        assert isinstance(response.stream, httpx.SyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_BoundedStream(response.stream, owner=self, request=request, deadline=deadline),
            extensions=response.extensions,
        )

    def _check_declared_length(self, request: httpx.Request, response: httpx.Response) -> None:
        """Refuse a body whose ``Content-Length`` is over the cap before reading any of it."""
        if request.method == "HEAD" or response.status_code < 200 or response.status_code in (204, 304):
            return
        declared = response.headers.get("content-length", "")
        values = {value.strip() for value in declared.split(",")}
        if len(values) != 1 or not (value := values.pop()).isdigit():
            return  # absent or malformed: the streaming count still applies
        size = int(value)
        if size > self.max_response_bytes:
            response.close()
            raise ResponseTooLarge(
                f"Response too large: Content-Length {size} bytes, cap {self.max_response_bytes} bytes, "
                f"for {request.method} {safe_url(request.url)}",
                request=request,
                size=size,
                cap=self.max_response_bytes,
            )

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> BoundedTransport:
        self.inner.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        self.inner.__exit__(exc_type, exc_value, traceback)
