"""The Acumulus web API's wire protocol: messages out, answers in, errors as codes.

Every call is ``POST {base}/{stable|dev}/{apiFunction}.php`` with one form field, ``xmlstring``,
holding the whole message. Answers come as JSON (we ask ``<format>json</format>``) or XML (when the
server failed before reading ``<format>``); both are normalised into one shape here, and every
HTTP outcome becomes the connector error taxonomy in :func:`validate_response` — the one place
that classifies Acumulus answers. Facts and sources: ``docs/connectors/acumulus.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any
from xml.sax.saxutils import escape

import httpx
from lxml import etree

from koppeling.core.messages import gettext_noop, register

from ..errors import (
    AuthError,
    ConnectorCode,
    ConnectorError,
    DataError,
    NotFound,
    QuotaError,
    RateLimited,
    ResponseError,
    TransientError,
)
from ..http import ResponseTooLarge, parse_retry_after

__all__ = [
    "AcumulusCode",
    "api_messages",
    "as_list",
    "build_message",
    "normalise",
    "outcome_unknown",
    "parse_body",
    "validate_response",
]

SYSTEM = "Acumulus"

#: codetags of "object not found" answers (libAcumulus Acumulus.php / AcumulusResult::isNotFound)
NOT_FOUND_CODETAGS = frozenset(
    {"XGYBSN000", "BK07TG65N", "7CFBA8K", "AAB6C3AA", "FGY040XX", "XGYTTNF04", "P2XFELO12", "TNFE4035G"}
)
#: the trial account's cap has no public codetag; this is the simulator's (inferred), the text
#: pattern below catches the real one whatever its tag
QUOTA_CODETAGS = frozenset({"SIMTRIAL1"})
_QUOTA_TEXT = re.compile(
    r"(maxim\w*\s+(aantal\s+)?(boekingen|entries|invoices|facturen))|proefaccount|proefperiode|trial",
    re.IGNORECASE,
)
_LOCKED_TEXT = re.compile(r"locked|vergrendeld|afgesloten", re.IGNORECASE)
_XML_INVALID_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


class AcumulusCode(StrEnum):
    BUSY = "acumulus_busy"
    UNAVAILABLE = "acumulus_unavailable"
    OUTCOME_UNKNOWN = "acumulus_outcome_unknown"
    BAD_RESPONSE = "acumulus_bad_response"
    EXCEPTION = "acumulus_exception"
    UNKNOWN_STATUS = "acumulus_unknown_status"
    QUOTA = "acumulus_quota"
    AUTH = "acumulus_auth"
    REJECTED = "acumulus_rejected"
    PERIOD_LOCKED = "acumulus_period_locked"
    NOT_FOUND = "acumulus_not_found"
    UNREACHABLE = "acumulus_unreachable"
    TIMEOUT = "acumulus_timeout"
    CURRENCY = "acumulus_currency"
    NO_LINES = "acumulus_no_lines"
    ICP_VAT_NUMBER_MISSING = "acumulus_icp_vat_number_missing"
    TOTALS_DIFFER = "acumulus_totals_differ"
    TESTMODE = "acumulus_testmode"
    WARNING = "acumulus_warning"
    CONCEPT_NOT_BOOKED = "acumulus_concept_not_booked"
    NOT_BOOKED = "acumulus_not_booked"


_CHECK_FIRST = gettext_noop("Check in Acumulus whether this order was booked before pushing it again.")
_AUTO_RETRY = gettext_noop("Nothing to do: koppeling tries again automatically.")

register(
    {
        AcumulusCode.BUSY: (gettext_noop("Acumulus is busy (HTTP %(status)s)."), _AUTO_RETRY),
        AcumulusCode.UNAVAILABLE: (gettext_noop("Acumulus answered HTTP %(status)s."), _AUTO_RETRY),
        AcumulusCode.OUTCOME_UNKNOWN: (
            gettext_noop("%(detail)s Acumulus may or may not have booked the invoice."),
            _CHECK_FIRST,
        ),
        AcumulusCode.BAD_RESPONSE: (
            gettext_noop("Acumulus answered HTTP %(status)s with a body koppeling cannot read."),
            gettext_noop(
                "Check the Acumulus address of this connection; if it is right, Acumulus or a proxy in "
                "between is misbehaving: koppeling tries again later."
            ),
        ),
        AcumulusCode.EXCEPTION: (
            gettext_noop("Acumulus reported an internal exception (status 3): %(remote)s"),
            gettext_noop("If this keeps happening, contact Acumulus support with the codetag."),
        ),
        AcumulusCode.UNKNOWN_STATUS: (
            gettext_noop("Acumulus answered an unknown status %(api_status)s."),
            gettext_noop("Report this to koppeling; the API may have changed."),
        ),
        AcumulusCode.QUOTA: (
            gettext_noop("The Acumulus account takes no more invoices: %(remote)s"),
            gettext_noop(
                "A trial account books a limited number of entries. Convert the Acumulus trial into a "
                "subscription (Acumulus: Mijn Acumulus), then resume this link."
            ),
        ),
        AcumulusCode.AUTH: (
            gettext_noop("Acumulus refused the account details: %(remote)s"),
            gettext_noop(
                "Check the contract code, user name and password of this Acumulus connection. Use a "
                "user of the type 'API-gebruiker' (API user)."
            ),
        ),
        AcumulusCode.REJECTED: (
            gettext_noop("Acumulus refused the invoice: %(remote)s"),
            gettext_noop(
                "Correct what Acumulus names (often a VAT rate, account or cost center in the "
                "configuration), then press Verwerk."
            ),
        ),
        AcumulusCode.PERIOD_LOCKED: (
            gettext_noop("Acumulus refused the invoice because its period is locked: %(remote)s"),
            gettext_noop(
                "The booking period of this invoice date is locked in Acumulus: unlock it there or "
                "correct the date, then press Verwerk."
            ),
        ),
        AcumulusCode.NOT_FOUND: (
            gettext_noop("Acumulus does not know this object: %(remote)s"),
            gettext_noop("Check that the booking still exists in Acumulus."),
        ),
        AcumulusCode.UNREACHABLE: (gettext_noop("Acumulus cannot be reached (%(detail)s)."), _AUTO_RETRY),
        AcumulusCode.TIMEOUT: (gettext_noop("No complete answer from Acumulus (%(detail)s)."), _AUTO_RETRY),
        AcumulusCode.CURRENCY: (
            gettext_noop("Acumulus books euros only; invoice %(reference)s is in %(currency)s."),
            gettext_noop("Convert the amounts to EUR before pushing (currency conversion)."),
        ),
        AcumulusCode.NO_LINES: (
            gettext_noop("Invoice %(reference)s has no lines."),
            gettext_noop("Check the order in the shop."),
        ),
        AcumulusCode.ICP_VAT_NUMBER_MISSING: (
            gettext_noop("Invoice %(reference)s is an intra-community (ICP) sale without a VAT number."),
            gettext_noop(
                "Ask the customer for a valid EU VAT number and add it in the shop, or book it as a "
                "domestic/OSS sale."
            ),
        ),
        AcumulusCode.TOTALS_DIFFER: (
            gettext_noop(
                "Acumulus will book %(booked_ex)s excl. / %(booked_inc)s incl. VAT where the invoice says "
                "%(total_ex)s / %(total_inc)s (it computes VAT per line from the prices excl. VAT)."
            ),
            gettext_noop("Reconciliation reports the difference; correct the booking in Acumulus if needed."),
        ),
        AcumulusCode.TESTMODE: (
            gettext_noop("Acumulus test mode: the invoice was checked and nothing was stored."),
            gettext_noop("Switch off test mode for this connection, then press Verwerk."),
        ),
        AcumulusCode.WARNING: (gettext_noop("Acumulus warned: %(remote)s"),),
        AcumulusCode.CONCEPT_NOT_BOOKED: (
            gettext_noop("Acumulus concept %(concept)s is not booked yet."),
            gettext_noop("Finish the concept in Acumulus; reconciliation follows."),
        ),
        AcumulusCode.NOT_BOOKED: (
            gettext_noop("Acumulus answered without an entry or concept id: %(detail)s"),
            _CHECK_FIRST,
        ),
    }
)


def _p(**extra: Any) -> dict[str, Any]:
    return {"system": SYSTEM, **extra}


# --------------------------------------------------------------------------------------------
# The quirks of Acumulus answers, handled in one place
# --------------------------------------------------------------------------------------------


def normalise(value: Any) -> Any:
    """Make an Acumulus answer regular: empty ``[]``/``{}`` become ``""``, scalars stay text.

    Acumulus returns every scalar as a string, empty values as ``[]`` or ``{}``, and a list of
    one element unwrapped; ``as_list`` undoes the last quirk where a list is expected.

    >>> normalise({"conceptid": [], "accountnumber": {}, "entryid": "55393014"})
    {'conceptid': '', 'accountnumber': '', 'entryid': '55393014'}
    """
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items()} if value else ""
    if isinstance(value, list):
        return [normalise(item) for item in value] if value else ""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def as_list(value: Any) -> list[Any]:
    """A normalised node that should be a list: ``""`` -> [], one object -> [object].

    >>> as_list(""), as_list({"code": "x"}), as_list([{"code": "x"}, {"code": "y"}])
    ([], [{'code': 'x'}], [{'code': 'x'}, {'code': 'y'}])
    """
    if value in ("", None):
        return []
    if isinstance(value, list):
        return value
    return [value]


def _xml_to_obj(elem: Any) -> Any:
    children = [child for child in elem if isinstance(child.tag, str)]
    if not children:
        return (elem.text or "").strip()
    result: dict[str, Any] = {}
    repeated: set[str] = set()
    for child in children:
        value = _xml_to_obj(child)
        if child.tag in result:
            if child.tag not in repeated:
                result[child.tag] = [result[child.tag]]
                repeated.add(child.tag)
            result[child.tag].append(value)
        else:
            result[child.tag] = value
    return result


def parse_body(response: httpx.Response) -> dict[str, Any] | None:
    """The normalised body of a JSON or XML Acumulus answer; ``None`` if it is neither."""
    content_type = response.headers.get("content-type", "").lower()
    body = response.content
    head = body.lstrip()[:1]
    try:
        if "json" in content_type or (not content_type and head in (b"{", b"[")):
            data = json.loads(body)
        elif "xml" in content_type or (not content_type and head == b"<"):
            root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True))
            data = _xml_to_obj(root)
        else:
            return None
    except (ValueError, etree.XMLSyntaxError):
        return None
    if not isinstance(data, dict):
        return None
    result = normalise(data)
    return result if isinstance(result, dict) else None


def api_messages(body: Mapping[str, Any], kind: str) -> list[tuple[str, str, str]]:
    """``(code, codetag, message)`` of the errors (``kind="error"``) or warnings in a body."""
    block = body.get(kind + "s")
    items = as_list(block.get(kind)) if isinstance(block, dict) else []
    return [
        (str(item.get("code", "")), str(item.get("codetag", "")), str(item.get("message", "")))
        for item in items
        if isinstance(item, dict)
    ]


def _retry_after(response: httpx.Response) -> float | None:
    return parse_retry_after(response.headers.get("retry-after"))


def _format(messages: list[tuple[str, str, str]]) -> str:
    return "; ".join(f"[{code} / {tag}] {text}".strip() for code, tag, text in messages)


def outcome_unknown(detail: str, response: httpx.Response | None = None) -> TransientError:
    """A mutating call whose effect we cannot know: ``maybe_processed`` -> lookup or review."""
    return TransientError(
        AcumulusCode.OUTCOME_UNKNOWN,
        _p(detail=detail),
        maybe_processed=True,
        retry_after=_retry_after(response) if response is not None else None,
        status_code=response.status_code if response is not None else None,
    )


def validate_response(response: httpx.Response, *, mutating: bool = False) -> dict[str, Any]:
    """Classify one Acumulus answer: return its normalised body, or raise the right error.

    ``mutating`` marks calls that change Acumulus (invoice_add): where such a call may have taken
    effect although we got no readable answer, the error is ``TransientError(code=
    "acumulus_outcome_unknown", maybe_processed=True)`` and the runtime looks up / asks for review
    instead of pushing again.

    - 429: ``RateLimited`` (``retry_after`` from ``Retry-After``); 503: ``TransientError``; nothing
      was booked in either case.
    - other 5xx: ``TransientError``; ``outcome_unknown`` if mutating (a gateway error can follow
      a booking we never heard of).
    - a body that is neither JSON nor XML with a basic response (HTML from a proxy or load
      balancer, truncated JSON): ``ResponseError`` for reads and non-2xx; ``outcome_unknown`` for a
      mutating call answered 2xx.
    - ``status`` 3 (exception at Acumulus): ``TransientError``; ``outcome_unknown`` if mutating.
    - ``status`` 1: errors[] decide: the trial cap -> ``QuotaError``; code 403 -> ``AuthError``;
      "not found" (HTTP 404 or known codetags) -> ``NotFound``; anything else -> ``DataError``
      ``acumulus_rejected`` with the Acumulus code, codetag and message as its ``remote`` text
      (and ``codetag`` parameter; also ``error.api_errors``).
    - ``status`` 0 or 2 (warnings): the body; warnings stay in it for the caller.
    """
    status_code = response.status_code
    if status_code == 429:
        raise RateLimited(params=_p(), retry_after=_retry_after(response), status_code=status_code)
    if status_code == 503:
        raise TransientError(
            AcumulusCode.BUSY,
            _p(status=status_code),
            maybe_processed=False,
            retry_after=_retry_after(response),
            status_code=status_code,
        )
    if status_code >= 500:
        if mutating:
            raise outcome_unknown(f"Acumulus answered HTTP {status_code}.", response)
        raise TransientError(
            AcumulusCode.UNAVAILABLE,
            _p(status=status_code),
            maybe_processed=False,
            retry_after=_retry_after(response),
            status_code=status_code,
        )
    body = parse_body(response)
    if body is None or "status" not in body:
        if mutating and 200 <= status_code < 300:
            raise outcome_unknown(f"Acumulus answered HTTP {status_code} with an unreadable body.", response)
        raise ResponseError(AcumulusCode.BAD_RESPONSE, _p(status=status_code), status_code=status_code)
    try:
        api_status = int(body.get("status") or 0)
    except (TypeError, ValueError):
        api_status = -1
    errors = api_messages(body, "error")
    if api_status in (0, 2) and not errors:
        return body
    if api_status == 3:
        if mutating:
            detail = _format(errors) or "no details"
            raise outcome_unknown(f"Acumulus reported an internal exception (status 3): {detail}.", response)
        raise TransientError(
            AcumulusCode.EXCEPTION,
            _p(),
            maybe_processed=False,
            status_code=status_code,
            remote=_format(errors) or "no details",
        )
    if api_status not in (0, 1, 2):
        raise ResponseError(
            AcumulusCode.UNKNOWN_STATUS, _p(api_status=str(body.get("status"))), status_code=status_code
        )
    raise _error_for(errors, status_code)


def _error_for(errors: list[tuple[str, str, str]], status_code: int) -> ConnectorError:
    text = _format(errors) or "no error details"
    codes = {code.split(" ", 1)[0] for code, _, _ in errors}
    tags = {tag for _, tag, _ in errors}
    first_tag = next((tag for _, tag, _ in errors if tag), "")
    params = _p(codetag=first_tag)
    error: ConnectorError
    if tags & QUOTA_CODETAGS or any(_QUOTA_TEXT.search(message) for _, _, message in errors):
        error = QuotaError(AcumulusCode.QUOTA, params, status_code=status_code, remote=text)
    elif "403" in codes or status_code == 403 or "AF1001MCS" in tags:
        error = AuthError(AcumulusCode.AUTH, params, status_code=status_code, remote=text)
    elif status_code == 404 or "404" in codes or tags & NOT_FOUND_CODETAGS:
        error = NotFound(AcumulusCode.NOT_FOUND, params, status_code=status_code, remote=text)
    elif any(_LOCKED_TEXT.search(message) for _, _, message in errors):
        error = DataError(AcumulusCode.PERIOD_LOCKED, params, status_code=status_code, remote=text)
    else:
        error = DataError(AcumulusCode.REJECTED, params, status_code=status_code, remote=text)
    error.api_errors = errors  # type: ignore[attr-defined]
    return error


def transport_error(exc: httpx.TransportError, *, mutating: bool) -> ConnectorError:
    """A call that got no complete answer: refused connections were never sent; the rest may
    have arrived, so a mutating call's outcome is unknown. An answer over the size cap was not
    read: for a booking, whether it was made is unknown; for a read it is an unusable answer."""
    if isinstance(exc, ResponseTooLarge):
        if mutating:
            return outcome_unknown(f"Acumulus sent an answer larger than {exc.cap} bytes; it was not read.")
        return ResponseError(ConnectorCode.RESPONSE_TOO_LARGE, _p(limit=exc.cap))
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return TransientError(AcumulusCode.UNREACHABLE, _p(detail=type(exc).__name__), maybe_processed=False)
    if mutating:
        return outcome_unknown(f"No complete answer from Acumulus ({type(exc).__name__}).")
    return TransientError(AcumulusCode.TIMEOUT, _p(detail=type(exc).__name__), maybe_processed=False)


# --------------------------------------------------------------------------------------------
# Building messages
# --------------------------------------------------------------------------------------------


def _xml(tag: str, value: Any, out: list[str]) -> None:
    if value is None or value == "":
        return
    if isinstance(value, Mapping):
        out.append(f"<{tag}>")
        for key, item in value.items():
            _xml(key, item, out)
        out.append(f"</{tag}>")
    elif isinstance(value, (list, tuple)):
        for item in value:
            _xml(tag, item, out)
    else:
        text = _XML_INVALID_CHARS.sub("", str(value))
        out.append(f"<{tag}>{escape(text)}</{tag}>")


def build_message(submit: Mapping[str, Any]) -> str:
    """The ``xmlstring``: one root element (its name is ignored by the API) around ``submit``."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    _xml("myxml", submit, out)
    return "".join(out)
