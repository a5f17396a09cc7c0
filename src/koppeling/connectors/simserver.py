"""Serve any WSGI app (a simulator) on a real localhost socket, in a background thread.

Shared by every connector's simulator: tests mount simulators in-process through
``httpx.WSGITransport`` for speed, and on a socket through this module when a real network
path matters (client timeouts, latency, dropped connections). Generic: knows no system.

Usage::

    server = serve_wsgi(app)
    httpx.get(server.url + "/v1/store")
    server.shutdown()
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

__all__ = ["RunningServer", "serve_wsgi"]


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr (and so no credentials from query strings in any log)."""

    def log_message(self, format: str, *args: Any) -> None:
        return


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a request stuck in a latency sleep never blocks interpreter exit
    block_on_close = False  # shutdown() does not wait for in-flight requests
    allow_reuse_address = True


@dataclass
class RunningServer:
    """A served app: ``url`` (``http://127.0.0.1:PORT``, no trailing slash) and ``shutdown()``."""

    url: str
    host: str
    port: int
    _server: _ThreadingWSGIServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def shutdown(self) -> None:
        """Stop serving and free the port; safe to call twice."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def serve_wsgi(app: Callable[..., Any], host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve ``app`` on ``host:port`` (port 0 = any free port) in a daemon thread; threaded."""
    server = make_server(host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
    real_host, real_port = server.server_address[:2]
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"simserver-{real_port}",
        daemon=True,
    )
    thread.start()
    return RunningServer(
        url=f"http://{real_host}:{real_port}",
        host=str(real_host),
        port=int(real_port),
        _server=server,
        _thread=thread,
    )
