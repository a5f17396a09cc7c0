"""A faithful local imitation of VIES's ``checkVatService`` SOAP endpoint (``checkVatApprox``).

Same message shapes as the WSDL (``urn:ec.europa.eu:taxud:vies:services:checkVat:types``), the same
faults as SOAP ``faultstring`` (``INVALID_INPUT``, ``INVALID_REQUESTER_INFO``, ``MS_UNAVAILABLE``,
``TIMEOUT``, ``SERVER_BUSY`` …, HTTP 500 as VIES sends them), and deterministic answers:

* a number that fails python-stdnum's format / check-digit test → ``INVALID_INPUT``;
* a number in ``invalid`` (by default ``DE123456788``: a correct check digit, not registered) →
  ``valid=false``;
* a country in ``unavailable_countries`` or a number in ``unavailable`` → ``MS_UNAVAILABLE``;
* anything else → ``valid=true`` with a trader name, and a consultation number
  (``requestIdentifier``, ``WAPI`` + 12 characters) when a requester was given.

Knobs: ``fail_next(fault)`` for the next call, ``requests`` (what was asked), an injectable
``today``. Facts and sources: ``docs/connectors/vies.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree
from stdnum.eu import vat as eu_vat

from .client import SOAP_ENV, TYPES

__all__ = ["ViesSimulator"]

DEFAULT_INVALID = frozenset({"DE123456788"})


class ViesSimulator:
    def __init__(
        self,
        *,
        invalid: Iterable[str] = DEFAULT_INVALID,
        unavailable: Iterable[str] = (),
        unavailable_countries: Iterable[str] = (),
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self.invalid = set(invalid)
        self.unavailable = set(unavailable)
        self.unavailable_countries = set(unavailable_countries)
        self.today = today
        self.requests: list[dict[str, str]] = []
        self._next_fault: list[str] = []

    def fail_next(self, fault: str = "MS_UNAVAILABLE") -> None:
        self._next_fault.append(fault)

    # -- WSGI ----------------------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            start_response("405 Method Not Allowed", [("Content-Type", "text/plain")])
            return [b"POST a SOAP envelope"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        status, answer = self.answer(body)
        start_response(status, [("Content-Type", "text/xml; charset=utf-8")])
        return [answer]

    def answer(self, body: bytes) -> tuple[str, bytes]:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        try:
            root = etree.fromstring(body, parser)
        except etree.XMLSyntaxError:
            return _fault("INVALID_INPUT")
        fields = {
            name: (root.findtext(f".//{{{TYPES}}}{name}") or "").strip()
            for name in ("countryCode", "vatNumber", "requesterCountryCode", "requesterVatNumber")
        }
        self.requests.append(fields)
        if self._next_fault:
            return _fault(self._next_fault.pop(0))
        number = fields["countryCode"].upper() + fields["vatNumber"].upper()
        requester = fields["requesterCountryCode"].upper() + fields["requesterVatNumber"].upper()
        if not eu_vat.is_valid(number):
            return _fault("INVALID_INPUT")
        if requester and not eu_vat.is_valid(requester):
            return _fault("INVALID_REQUESTER_INFO")
        if number[:2] in self.unavailable_countries or number in self.unavailable:
            return _fault("MS_UNAVAILABLE")
        valid = number not in self.invalid
        consultation = ""
        if requester:
            digest = hashlib.sha256(f"{number}|{requester}|{len(self.requests)}".encode()).hexdigest()
            consultation = "WAPI" + digest[:12].upper()
        return "200 OK", _response(fields, valid, consultation, self.today())


def _response(fields: dict[str, str], valid: bool, consultation: str, today: dt.date) -> bytes:
    name = "Simulated Trader " + fields["vatNumber"][-4:] if valid else "---"
    parts = [
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>',
        f'<ns2:checkVatApproxResponse xmlns:ns2="{TYPES}">',
        f"<ns2:countryCode>{escape(fields['countryCode'])}</ns2:countryCode>",
        f"<ns2:vatNumber>{escape(fields['vatNumber'])}</ns2:vatNumber>",
        f"<ns2:requestDate>{today.isoformat()}+01:00</ns2:requestDate>",
        f"<ns2:valid>{'true' if valid else 'false'}</ns2:valid>",
        f"<ns2:traderName>{escape(name)}</ns2:traderName>",
        "<ns2:traderCompanyType>---</ns2:traderCompanyType>",
        f"<ns2:traderAddress>{'Simulatiestraat 1, 1000 AA' if valid else '---'}</ns2:traderAddress>",
    ]
    if consultation:
        parts.append(f"<ns2:requestIdentifier>{consultation}</ns2:requestIdentifier>")
    parts.append("</ns2:checkVatApproxResponse></soap:Body></soap:Envelope>")
    return "".join(parts).encode("utf-8")


def _fault(code: str) -> tuple[str, bytes]:
    body = (
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><soap:Fault>'
        f"<faultcode>soap:Server</faultcode><faultstring>{escape(code)}</faultstring>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    )
    return "500 Internal Server Error", body.encode("utf-8")
