"""Bounded calls: every ``make_client`` call has a total deadline and a response size cap.

Real localhost sockets for the deadline (only the socket backend can stop a drip inside the
headers) and for the streamed 300 MB body; mounted in-process apps for the cap on mounts.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs

import httpx
import pytest

from koppeling.connectors import http as kh
from koppeling.connectors.bounded_http import (
    BoundedTransport,
    ConnectDeadlineExceeded,
    DeadlineExceeded,
    ResponseTooLarge,
    current_deadline,
)
from koppeling.connectors.simserver import serve_wsgi

MiB = 1024 * 1024
DRIP_INTERVAL = 0.5
# Body bytes 1.2 s apart: the socket backend stops the read at the 1.5 s deadline; a check made
# only when a chunk arrives would wait for the byte at 2.4 s (and fail the timing assertions).
BODY_DRIP_INTERVAL = 1.2
SERVER_MAX_SECONDS = 6.0  # a raw server gives up by itself, so an unprotected client cannot hang a test

Respond = Callable[[socket.socket, threading.Event], None]


# ------------------------------------------------------------------ raw socket servers


def _read_request(conn: socket.socket) -> bytes:
    """Read one request head (these tests send no bodies); bounded in size."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        piece = conn.recv(4096)
        if not piece:
            break
        data += piece
    return data


@contextlib.contextmanager
def raw_server(respond: Respond) -> Iterator[str]:
    """Accept one connection on localhost, read the request, run ``respond``; stops by itself."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def run() -> None:
        give_up = time.monotonic() + SERVER_MAX_SECONDS
        while not stop.is_set() and time.monotonic() < give_up:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(SERVER_MAX_SECONDS)
                with contextlib.suppress(OSError):
                    _read_request(conn)
                    respond(conn, stop)
            return

    thread = threading.Thread(target=run, name=f"raw-server-{port}", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def drip(head: bytes, dripped: bytes, interval: float = DRIP_INTERVAL) -> Respond:
    """Send ``head`` at once, then ``dripped`` one byte per ``interval`` (for at most ~6 s)."""

    def respond(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(head)
        give_up = time.monotonic() + SERVER_MAX_SECONDS
        for i in range(len(dripped)):
            if stop.wait(interval) or time.monotonic() > give_up:
                return
            conn.sendall(dripped[i : i + 1])

    return respond


def keep_alive(responses: int) -> Respond:
    """Answer ``responses`` requests on the same connection (so the client must reuse it)."""

    def respond(conn: socket.socket, stop: threading.Event) -> None:
        for i in range(responses):
            if i:
                _read_request(conn)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    return respond


# ------------------------------------------------------------------ WSGI apps


def small_app(environ: dict, start_response: Callable) -> list[bytes]:
    """``hello``, after ``?sleep=`` seconds."""
    time.sleep(float(parse_qs(environ.get("QUERY_STRING", "")).get("sleep", ["0"])[0]))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


def huge_app(environ: dict, start_response: Callable) -> Iterator[bytes]:
    """300 MiB without Content-Length, produced lazily from one 64 KiB chunk (never allocated)."""
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    chunk = b"\0" * 65536
    return (chunk for _ in range(300 * 16))


@pytest.fixture
def small_server() -> Iterator[str]:
    with serve_wsgi(small_app) as server:
        yield server.url


@pytest.fixture
def mounted() -> Iterator[Callable[[str, httpx.BaseTransport], None]]:
    """``mount`` that unmounts after the test."""
    urls: list[str] = []

    def mount(url: str, transport: httpx.BaseTransport) -> None:
        urls.append(url)
        kh.mount(url, transport)

    yield mount
    for url in urls:
        kh.unmount(url)


# ------------------------------------------------------------------ deadline


def test_make_client_deadline_stops_dripping_headers() -> None:
    # given: a status line and headers that arrive one byte per 0.5 s, within the 5 s read timeout
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: " + b"x" * 30 + b"\r\n\r\nok"
    with raw_server(drip(b"", head)) as url, kh.make_client(url, timeout=5.0, deadline=1.5) as client:
        started = time.monotonic()
        # when
        with pytest.raises(DeadlineExceeded) as caught:
            client.get(url + "/orders", params={"token": "s3cret"})
        elapsed = time.monotonic() - started
    # then: a timeout at the deadline, not a connect timeout (the request was sent)
    assert 1.4 <= elapsed < 2.2, elapsed
    assert isinstance(caught.value, httpx.TimeoutException)
    assert not isinstance(caught.value, httpx.ConnectTimeout)
    assert f"GET {url}/orders" in str(caught.value)
    assert "s3cret" not in str(caught.value) and "?" not in str(caught.value)
    assert current_deadline() is None


def test_make_client_deadline_stops_dripping_body() -> None:
    # given: headers at once, then a 100-byte body one byte per 1.2 s
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    with (
        raw_server(drip(head, b"x" * 100, BODY_DRIP_INTERVAL)) as url,
        kh.make_client(url, timeout=5.0, deadline=1.5) as client,
    ):
        started = time.monotonic()
        # when
        with pytest.raises(DeadlineExceeded):
            client.get(url + "/orders")
        elapsed = time.monotonic() - started
    # then
    assert 1.4 <= elapsed < 2.2, elapsed
    assert current_deadline() is None


def test_make_client_deadline_covers_streamed_body() -> None:
    # given: a dripping body read by a ``stream=True`` caller, chunk by chunk
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    dripping = drip(head, b"x" * 100, BODY_DRIP_INTERVAL)
    with raw_server(dripping) as url, kh.make_client(url, timeout=5.0, deadline=1.5) as client:
        started = time.monotonic()
        received = 0
        # when
        with pytest.raises(DeadlineExceeded), client.stream("GET", url + "/export") as response:
            for chunk in response.iter_raw():
                received += len(chunk)
                assert current_deadline() is None  # not set while the caller handles a chunk
        elapsed = time.monotonic() - started
    # then: some bytes got through before the deadline stopped the read
    assert 1.4 <= elapsed < 2.2, elapsed
    assert received == 1


def test_make_client_deadline_is_per_request_across_threads(small_server: str) -> None:
    # given: 4 threads share one client; each does 3 calls of 0.4 s, together longer than the deadline
    counter = kh.CallCounter()
    client = kh.make_client(small_server, counter=counter, deadline=1.0)
    results: list[tuple[int, bytes, float | None]] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(3):
            response = client.get(small_server + "/slow", params={"sleep": "0.4"})
            with lock:
                results.append((response.status_code, response.content, current_deadline()))

    threads = [threading.Thread(target=work) for _ in range(4)]
    # when
    with client:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    # then: every call got its own deadline, none leaked outside its request
    assert results == [(200, b"hello", None)] * 12
    assert counter.count == 12


def test_make_client_deadline_does_not_outlive_a_kept_alive_connection() -> None:
    # given: a server answering twice on one connection, and a deadline shorter than the pause
    with raw_server(keep_alive(2)) as url, kh.make_client(url, deadline=0.5) as client:
        first = client.get(url + "/a")
        time.sleep(0.7)
        # when: the second call reuses the idle connection after the first call's deadline
        second = client.get(url + "/b")
    # then
    assert (first.text, second.text) == ("ok", "ok")
    assert current_deadline() is None


def test_make_client_works_again_after_a_deadline(small_server: str) -> None:
    # given: a client whose previous call ran into its deadline
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    counter = kh.CallCounter()
    with (
        raw_server(drip(head, b"x" * 100)) as url,
        kh.make_client(url, counter=counter, deadline=1.0) as client,
    ):
        with pytest.raises(DeadlineExceeded):
            client.get(url + "/drip")
        # when
        responses = [client.get(small_server + "/fine") for _ in range(3)]
    # then
    assert [r.text for r in responses] == ["hello"] * 3
    assert counter.count == 4
    assert current_deadline() is None


def test_make_client_deadline_checked_between_chunks_of_mounted_app(mounted) -> None:
    # given: an in-process app (no socket) that yields a chunk every 0.2 s
    def slow_app(environ: dict, start_response: Callable) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        for _ in range(20):
            time.sleep(0.2)
            yield b"x"

    mounted("http://slow.sim", httpx.WSGITransport(app=slow_app))
    client = kh.make_client("http://slow.sim", deadline=0.5)
    started = time.monotonic()
    # when
    with pytest.raises(DeadlineExceeded):
        client.get("http://slow.sim/export")
    # then
    assert time.monotonic() - started < 1.0


def test_bounded_transport_keeps_connect_phase_at_the_deadline() -> None:
    # given: a transport whose connect times out only after the deadline
    def handler(request: httpx.Request) -> httpx.Response:
        time.sleep(0.1)
        raise httpx.ConnectTimeout("timed out")

    transport = BoundedTransport(httpx.MockTransport(handler), deadline=0.05)
    # when
    with pytest.raises(ConnectDeadlineExceeded) as caught, httpx.Client(transport=transport) as client:
        client.get("http://books.test/invoices?token=s3cret")
    # then: still a ConnectTimeout, so callers know the request was never sent
    assert isinstance(caught.value, httpx.ConnectTimeout)
    assert isinstance(caught.value, DeadlineExceeded)
    assert "s3cret" not in str(caught.value)


def test_bounded_transport_leaves_an_early_timeout_alone() -> None:
    # given: a read timeout well before the deadline
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out")

    transport = BoundedTransport(httpx.MockTransport(handler), deadline=10.0)
    # when
    with pytest.raises(httpx.ReadTimeout) as caught, httpx.Client(transport=transport) as client:
        client.get("http://books.test/invoices")
    # then
    assert not isinstance(caught.value, DeadlineExceeded)


# ------------------------------------------------------------------ size cap


def test_make_client_caps_a_streamed_huge_body_in_flat_memory() -> None:
    # given: a real server streaming 300 MiB without Content-Length, and a cap of 8 MiB
    cap = 8 * MiB
    with serve_wsgi(huge_app) as server, kh.make_client(server.url, max_response_bytes=cap) as client:
        tracemalloc.start()
        try:
            started = time.monotonic()
            # when
            with pytest.raises(ResponseTooLarge) as caught:
                client.get(server.url + "/export", params={"token": "s3cret"})
            elapsed = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # then: stopped just past the cap, without ever holding much more than it
    assert isinstance(caught.value, httpx.TransportError)
    assert cap < caught.value.size <= cap + MiB
    assert caught.value.cap == cap
    assert peak < 3 * cap, f"peak {peak / MiB:.1f} MiB"
    assert elapsed < 5.0
    message = str(caught.value)
    assert f"cap {cap} bytes" in message and f"GET {server.url}/export" in message
    assert "s3cret" not in message and "?" not in message


def test_make_client_refuses_content_length_over_cap_before_reading() -> None:
    # given: a server that declares 300 MiB and then sends nothing (a read would wait 5 s)
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 314572800\r\n\r\n"
    with (
        raw_server(drip(head, b"")) as url,
        kh.make_client(url, timeout=5.0, max_response_bytes=MiB) as client,
    ):
        started = time.monotonic()
        # when
        with pytest.raises(ResponseTooLarge) as caught:
            client.get(url + "/export")
        elapsed = time.monotonic() - started
    # then
    assert elapsed < 1.0
    assert "Content-Length 314572800 bytes" in str(caught.value)
    assert caught.value.size == 314572800


def test_make_client_caps_a_mounted_wsgi_app(mounted) -> None:
    # given: an in-process simulator mounted for a base URL, answering 300 MiB lazily
    mounted("http://huge.sim", httpx.WSGITransport(app=huge_app))
    client = kh.make_client("http://huge.sim/api", max_response_bytes=MiB)
    # when
    with pytest.raises(ResponseTooLarge) as caught:
        client.get("http://huge.sim/api/orders", params={"partner_token": "s3cret"})
    # then
    assert MiB < caught.value.size <= 2 * MiB
    assert "GET http://huge.sim/api/orders" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_make_client_caps_declared_length_of_a_mounted_transport(mounted) -> None:
    # given: a mounted transport that declares a body over the cap
    big = httpx.MockTransport(lambda request: httpx.Response(200, content=b"x" * 2048))
    mounted("http://big.sim", big)
    client = kh.make_client("http://big.sim", max_response_bytes=1024)
    # when
    with pytest.raises(ResponseTooLarge) as caught:
        client.get("http://big.sim/orders")
    # then
    assert "Content-Length 2048 bytes" in str(caught.value)


def test_make_client_head_ignores_declared_length(mounted) -> None:
    # given: a HEAD answer whose Content-Length describes a body that is not sent
    head = httpx.MockTransport(lambda request: httpx.Response(200, headers={"Content-Length": str(10**9)}))
    mounted("http://head.sim", head)
    client = kh.make_client("http://head.sim", max_response_bytes=1024)
    # when
    response = client.head("http://head.sim/orders")
    # then
    assert response.status_code == 200


# ------------------------------------------------------------------ unchanged behaviour


def test_make_client_small_calls_still_work_and_count(small_server: str) -> None:
    # given
    counter = kh.CallCounter()
    seen: list[str] = []

    def app(environ: dict, start_response: Callable) -> list[bytes]:
        seen.append(environ.get("HTTP_USER_AGENT", ""))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"sim"]

    kh.mount_wsgi("http://plain.sim", app)
    try:
        with (
            kh.make_client(small_server, counter=counter) as network,
            kh.make_client("http://plain.sim", counter=counter) as local,
        ):
            # when
            texts = [network.get(small_server + f"/n/{i}").text for i in range(3)]
            texts.append(local.get("http://plain.sim/x").text)
    finally:
        kh.unmount("http://plain.sim")
    # then
    assert texts == ["hello", "hello", "hello", "sim"]
    assert counter.count == 4
    assert seen == ["koppeling/0.1"]
    assert current_deadline() is None


def test_make_client_rejects_non_positive_bounds() -> None:
    # given / when / then
    with pytest.raises(ValueError, match="deadline"):
        kh.make_client("http://x.test", deadline=0)
    with pytest.raises(ValueError, match="max_response_bytes"):
        kh.make_client("http://x.test", max_response_bytes=0)
