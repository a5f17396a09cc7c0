"""Acumulus's answer to invoice_add (XML or JSON), broken anywhere: the invoice was booked, so the
connector either reads the answer or raises one of its errors — and where the answer cannot be read
at all, it says the booking may have been made (``maybe_processed``), so nobody pushes it twice."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import event, given
from hypothesis import strategies as st
from tests.connectors.acumulus.acumulus_helpers import BASE, invoice
from tests.fuzz.strategies import FUZZ

from koppeling.connectors.acumulus.client import AcumulusTarget
from koppeling.connectors.acumulus.simulator import AcumulusSimulator
from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.errors import ConnectorError, TransientError


class Breaking:
    """Answers invoice_add with its real answer, bytes ``start:end`` replaced by ``insert``."""

    def __init__(self, app: Any, start: int, end: int, insert: bytes) -> None:
        self.app, self.start, self.end, self.insert = app, start, end, insert
        self.original = b""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        answered: list[tuple[Any, ...]] = []
        body = b"".join(self.app(environ, lambda *args: answered.append(args)))
        status, headers = answered[0][:2]
        if "invoice_add" in environ.get("PATH_INFO", ""):
            self.original = body
            start, end = sorted((self.start % (len(body) + 1), self.end % (len(body) + 1)))
            body = body[:start] + self.insert + body[end:]
        kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*kept, ("Content-Length", str(len(body)))])
        return [body]


def _readable(body: bytes) -> bool:
    import json

    from lxml import etree

    try:
        data = json.loads(body)
        return isinstance(data, dict) and "status" in data
    except ValueError:
        pass
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return False
    return root is not None and root.find(".//status") is not None


@FUZZ
@given(
    start=st.integers(0, 4000),
    length=st.integers(0, 40),
    insert=st.binary(max_size=20) | st.sampled_from([b"", b"<", b"&", b"\xff\xfe", b"</status>", b'{"']),
)
def test_a_broken_answer_to_a_booking(start, length, insert):
    books = AcumulusSimulator()
    broken = Breaking(books.wsgi, start, start + length, insert)
    http = httpx.Client(transport=httpx.WSGITransport(app=broken))
    target = AcumulusTarget(ConnectionConfig("acumulus", BASE, books.valid_credentials(), {}), http)
    try:
        result = target.push_invoice(invoice("WA8001"))
    except ConnectorError as exc:
        assert exc.code and exc.message
        if not _readable(_broken_body(broken, start, length, insert)):
            assert isinstance(exc, TransientError) and exc.maybe_processed, exc
        event(f"refused: {type(exc).__name__}")
    else:
        assert result.target_id
        event("read")
    assert len(books.entries_with_description_containing("WA8001")) == 1


def _broken_body(broken: Breaking, start: int, length: int, insert: bytes) -> bytes:
    body = broken.original
    a, b = sorted((start % (len(body) + 1), (start + length) % (len(body) + 1)))
    return body[:a] + insert + body[b:]
