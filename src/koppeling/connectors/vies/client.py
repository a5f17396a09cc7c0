"""The VIES client: one VAT number in, a ``VatNumberCheck`` (valid / invalid / unavailable) out.

VIES is the European Commission's SOAP service ``checkVatService``
(WSDL https://ec.europa.eu/taxation_customs/vies/checkVatService.wsdl, the same python-stdnum's
``stdnum.eu.vat.check_vies_approx`` calls through zeep). We speak its ``checkVatApprox`` operation
directly over ``httpx`` — the one HTTP stack every connector uses, mountable on the in-process
simulator — instead of adding zeep: the message is one small, fixed envelope. python-stdnum
compacts and pre-validates the number, so VIES is only asked about numbers that can be valid.

``checkVatApprox`` with the requester's own VAT number makes VIES return a ``requestIdentifier``,
the consultation number the Belastingdienst accepts as proof that the buyer's number was checked
(keep it with the invoice). Faults (``MS_UNAVAILABLE``, ``TIMEOUT``, ``SERVICE_UNAVAILABLE``,
``MS_MAX_CONCURRENT_REQ``, ``GLOBAL_MAX_CONCURRENT_REQ``, ``SERVER_BUSY``) and transport failures
become ``UNAVAILABLE`` — an answer, not an exception, so the rules can hold or book per the link's
setting; ``INVALID_INPUT`` becomes ``INVALID``; ``INVALID_REQUESTER_INFO`` is a configuration error
(``DataError``): the seller's own number is wrong.

The runtime caches answers: ``VatNumberCheck.valid_until`` is ``checked_at`` plus
``CACHE_VALID`` for a valid or invalid answer (VAT registrations change rarely; re-check before a
new ICP after that) and ``UNAVAILABLE_RETRY`` for an unavailable one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar
from xml.sax.saxutils import escape

import httpx
from lxml import etree
from stdnum.eu import vat as eu_vat

from koppeling.core.facts import VatCheckStatus, VatNumberCheck, compact_vat_number
from koppeling.core.messages import gettext_noop, register

from ..base import ConnectionConfig, Connector
from ..errors import DataError, ResponseError
from ..http import make_client
from ..registry import register as register_connector

__all__ = ["CACHE_VALID", "UNAVAILABLE_FAULTS", "ViesChecker", "ViesCode"]

SYSTEM = "VIES"
CACHE_VALID = dt.timedelta(days=30)
UNAVAILABLE_RETRY = dt.timedelta(minutes=15)
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
TYPES = "urn:ec.europa.eu:taxud:vies:services:checkVat:types"
#: faults that mean "cannot answer now" (VIES technical information, checkVatService.wsdl)
UNAVAILABLE_FAULTS = frozenset(
    {
        "MS_UNAVAILABLE",
        "TIMEOUT",
        "SERVICE_UNAVAILABLE",
        "MS_MAX_CONCURRENT_REQ",
        "GLOBAL_MAX_CONCURRENT_REQ",
        "SERVER_BUSY",
        "IP_BLOCKED",
        "VAT_BLOCKED",
    }
)


class ViesCode:
    REQUESTER_INVALID = "vies_requester_invalid"
    BAD_ANSWER = "vies_bad_answer"


register(
    {
        ViesCode.REQUESTER_INVALID: (
            gettext_noop("VIES refused the seller's own VAT number %(requester)s as requester (%(remote)s)."),
            gettext_noop("Correct the shop's own VAT number in the VIES connection settings."),
        ),
        ViesCode.BAD_ANSWER: (
            gettext_noop("VIES answered something koppeling cannot read (%(detail)s)."),
            gettext_noop("Nothing to do: koppeling tries again automatically."),
        ),
    }
)

_ENVELOPE = (
    '<soapenv:Envelope xmlns:soapenv="{env}" xmlns:urn="{types}"><soapenv:Body>'
    "<urn:checkVatApprox><urn:countryCode>{country}</urn:countryCode><urn:vatNumber>{number}</urn:vatNumber>"
    "<urn:requesterCountryCode>{rcountry}</urn:requesterCountryCode>"
    "<urn:requesterVatNumber>{rnumber}</urn:requesterVatNumber></urn:checkVatApprox>"
    "</soapenv:Body></soapenv:Envelope>"
)


@register_connector
class ViesChecker(Connector):
    """Checks customers' VAT numbers against VIES (no flow capability: the runtime calls it).

    Credentials: ``requester_vat_number`` — the shop's own VAT number (NL…B01), so that every
    answer carries a consultation number.
    """

    system: ClassVar[str] = "vies"
    label: ClassVar[str] = "VIES (EU VAT number check)"
    credential_fields: ClassVar[tuple[str, ...]] = ("requester_vat_number",)
    default_base_url: ClassVar[str] = "https://ec.europa.eu/taxation_customs/vies/services/checkVatService"
    max_in_flight: ClassVar[int] = 2
    call_deadline_seconds: ClassVar[float] = 20.0

    def __init__(self, config: ConnectionConfig, http: httpx.Client | None = None, **kwargs: Any) -> None:
        base = config.base_url or self.default_base_url
        super().__init__(config, http or make_client(base, deadline=self.call_deadline_seconds), **kwargs)
        self._url = base

    def check(self) -> None:
        """The requester number must itself be valid: VIES is asked about it."""
        own = str(self.config.credentials.get("requester_vat_number", ""))
        result = self.check_number(own)
        if result.status is VatCheckStatus.INVALID:
            raise DataError(ViesCode.REQUESTER_INVALID, {"system": SYSTEM, "requester": own})

    def check_number(self, number: str, *, now: dt.datetime | None = None) -> VatNumberCheck:
        """Ask VIES about ``number`` (with its country prefix, ``EL`` for Greece, ``XI`` for NI)."""
        compact = compact_vat_number(number)
        at = now or dt.datetime.now(dt.UTC)
        if len(compact) < 3 or not eu_vat.is_valid(compact):
            return VatNumberCheck(
                compact, VatCheckStatus.INVALID, at, source="format check", valid_until=at + CACHE_VALID
            )
        requester = compact_vat_number(str(self.config.credentials.get("requester_vat_number", "")))
        body = _ENVELOPE.format(
            env=SOAP_ENV,
            types=TYPES,
            country=escape(compact[:2]),
            number=escape(compact[2:]),
            rcountry=escape(requester[:2]),
            rnumber=escape(requester[2:]),
        )
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": ""}
        try:
            response = self.http.post(self._url, content=body.encode("utf-8"), headers=headers)
        except httpx.HTTPError as exc:
            return _unavailable(compact, at, type(exc).__name__)
        return parse_answer(response.status_code, response.content, compact, at, requester)


def _unavailable(number: str, at: dt.datetime, detail: str) -> VatNumberCheck:
    return VatNumberCheck(
        number, VatCheckStatus.UNAVAILABLE, at, detail=detail, valid_until=at + UNAVAILABLE_RETRY
    )


def _text(root: etree._Element, name: str) -> str:
    found = root.find(f".//{{{TYPES}}}{name}")
    return (found.text or "").strip() if found is not None else ""


def parse_answer(
    status: int, content: bytes, number: str, at: dt.datetime, requester: str = ""
) -> VatNumberCheck:
    """A VIES SOAP answer (or fault) as a ``VatNumberCheck``; see the module docstring."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError:
        if status >= 500 or status == 429:
            return _unavailable(number, at, f"HTTP {status}")
        raise ResponseError(
            ViesCode.BAD_ANSWER, {"system": SYSTEM, "detail": f"HTTP {status}, not XML"}
        ) from None
    fault = root.find(f".//{{{SOAP_ENV}}}Fault")
    if fault is not None:
        code = (fault.findtext("faultstring") or "").strip()
        if code == "INVALID_INPUT":
            return VatNumberCheck(
                number, VatCheckStatus.INVALID, at, detail=code, valid_until=at + CACHE_VALID
            )
        if code == "INVALID_REQUESTER_INFO":
            raise DataError(
                ViesCode.REQUESTER_INVALID, {"system": SYSTEM, "requester": requester}, remote=code
            )
        return _unavailable(number, at, code or "fault")
    valid = _text(root, "valid").lower()
    if valid not in ("true", "false"):
        raise ResponseError(ViesCode.BAD_ANSWER, {"system": SYSTEM, "detail": "no <valid> in the answer"})
    day = _text(root, "requestDate")[:10]
    checked = at
    if day:
        try:
            checked = dt.datetime.combine(dt.date.fromisoformat(day), at.timetz())
        except ValueError:
            checked = at
    return VatNumberCheck(
        number,
        VatCheckStatus.VALID if valid == "true" else VatCheckStatus.INVALID,
        checked,
        consultation_number=_text(root, "requestIdentifier"),
        name=_text(root, "traderName"),
        address=_text(root, "traderAddress"),
        valid_until=at + CACHE_VALID,
    )
