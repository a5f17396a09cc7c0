"""A local imitation of the ECB's eurofxref files: the same XML (gesmes envelope, ECB namespace,
``<Cube time><Cube currency rate/>``) for ``eurofxref-daily.xml`` and ``eurofxref-hist-90d.xml``,
built from a table (by default the shipped fallback), newest day first as the ECB writes it.
Knob: ``fail_next(status)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from koppeling.core.exchange import ExchangeRateTable, load_fallback

__all__ = ["EcbSimulator"]


class EcbSimulator:
    def __init__(self, table: ExchangeRateTable | None = None) -> None:
        self.table = table or load_fallback()
        self._fail: list[int] = []

    def fail_next(self, status: int = 503) -> None:
        self._fail.append(status)

    def xml(self, days: int) -> bytes:
        doc = self.table.as_json()["rates"]
        assert isinstance(doc, dict)
        cubes = []
        for day in sorted(doc, reverse=True)[:days]:
            quotes = "".join(f"<Cube currency='{c}' rate='{r}'/>" for c, r in sorted(doc[day].items()))
            cubes.append(f"<Cube time='{day}'>{quotes}</Cube>")
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/'
            'xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">'
            "<gesmes:subject>Reference rates</gesmes:subject><gesmes:Sender><gesmes:name>European Central "
            f"Bank</gesmes:name></gesmes:Sender><Cube>{''.join(cubes)}</Cube></gesmes:Envelope>"
        ).encode()

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if self._fail:
            status = self._fail.pop(0)
            start_response(f"{status} Error", [("Content-Type", "text/plain")])
            return [b"unavailable"]
        path = environ.get("PATH_INFO", "")
        if path.endswith("eurofxref-daily.xml"):
            body = self.xml(1)
        elif path.endswith("eurofxref-hist-90d.xml"):
            body = self.xml(90)
        else:
            start_response("404 Not Found", [("Content-Type", "text/html")])
            return [b"<html>not found</html>"]
        start_response("200 OK", [("Content-Type", "text/xml")])
        return [body]
