"""The Factuursturen REST API v1 on the wire: requests out, answers in, errors as codes.

Every call is HTTP Basic (account user name + API key) with ``Accept: application/json``; bodies
go form-encoded with PHP bracket keys, as the official PHP class sends them. Creating answers
``201`` with the new number as plain text; a single object comes wrapped (``{"invoice": …}``), a
list bare. :func:`validate_response` is the one place that turns an answer into the error
taxonomy; the codes and their texts are registered here. Facts and sources:
``docs/connectors/factuursturen.md``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from typing import Any

import httpx

from koppeling.core.messages import gettext_noop, register

from ..errors import (
    AuthError,
    ConnectorCode,
    ConnectorError,
    DataError,
    NotFound,
    RateLimited,
    ResponseError,
    TransientError,
)
from ..http import ResponseTooLarge, parse_retry_after

__all__ = ["SYSTEM", "Call", "FactuursturenCode", "parse_json", "transport_error", "validate_response"]

SYSTEM = "Factuursturen"
#: seconds added to "the next clock hour" when a 403 says the hour's calls are used up
RATE_LIMIT_MARGIN = 30


class FactuursturenCode(StrEnum):
    AUTH = "factuursturen_auth"
    FORBIDDEN = "factuursturen_forbidden"
    RATE_LIMITED = "factuursturen_rate_limited"
    UNAVAILABLE = "factuursturen_unavailable"
    OUTCOME_UNKNOWN = "factuursturen_outcome_unknown"
    BAD_RESPONSE = "factuursturen_bad_response"
    TIMEOUT = "factuursturen_timeout"
    UNREACHABLE = "factuursturen_unreachable"
    NOT_FOUND = "factuursturen_not_found"
    REQUEST_REFUSED = "factuursturen_request_refused"
    INVOICE_REFUSED = "factuursturen_invoice_refused"
    DEBTOR_REFUSED = "factuursturen_debtor_refused"
    DEBTOR_EMAIL_INVALID = "factuursturen_debtor_email_invalid"
    VAT_RATE_UNMAPPED = "factuursturen_vat_rate_unmapped"
    EMAIL_MISSING = "factuursturen_email_missing"
    DEBTOR_UNKNOWN = "factuursturen_debtor_unknown"
    CURRENCY_DIFFERS = "factuursturen_currency_differs"
    COUNTRY_UNKNOWN = "factuursturen_country_unknown"
    NO_LINES = "factuursturen_no_lines"
    ICP_VAT_NUMBER_MISSING = "factuursturen_icp_vat_number_missing"
    CATEGORY_UNKNOWN = "factuursturen_category_unknown"
    CATEGORIES_MIXED = "factuursturen_categories_mixed"
    CATEGORIES_MIXED_STOP = "factuursturen_categories_mixed_stop"
    DEBTOR_REUSED = "factuursturen_debtor_reused"
    DEBTOR_FIELD_SHORTENED = "factuursturen_debtor_field_shortened"
    DEBTOR_FIELD_LEFT_OUT = "factuursturen_debtor_field_left_out"
    DEBTOR_TAX_SHIFTED_DIFFERS = "factuursturen_debtor_tax_shifted_differs"
    TOTALS_DIFFER = "factuursturen_totals_differ"
    REFERENCE_AMBIGUOUS = "factuursturen_reference_ambiguous"


_AUTO_RETRY = gettext_noop("Nothing to do: koppeling tries again automatically.")
_CHECK_FIRST = gettext_noop(
    "Nothing to do: koppeling looks the invoice up by its order number before it sends it again."
)
_PRESS_VERWERK = gettext_noop("Correct what is named, then press Verwerk.")

register(
    {
        FactuursturenCode.AUTH: (
            gettext_noop("Factuursturen refused the user name or API key: %(remote)s"),
            gettext_noop(
                "Check the user name (the one you log in with) and the API key of this connection. In "
                "Factuursturen, Instellingen -> Verbindingen, the key must be ticked 'Actief'. Then "
                "resume the link."
            ),
        ),
        FactuursturenCode.FORBIDDEN: (
            gettext_noop("Factuursturen does not allow this API key to do this (HTTP 403): %(remote)s"),
            gettext_noop(
                "Check in Factuursturen (Instellingen -> Verbindingen) that the API key is active and may "
                "create invoices and debtors, then resume the link."
            ),
        ),
        FactuursturenCode.RATE_LIMITED: (
            gettext_noop(
                "Factuursturen's hourly limit for this account is reached (60 invoices an hour); the "
                "rest waits for the next hour."
            ),
            gettext_noop("Nothing to do: koppeling continues when the limit allows it."),
        ),
        FactuursturenCode.UNAVAILABLE: (gettext_noop("Factuursturen answered HTTP %(status)s."), _AUTO_RETRY),
        FactuursturenCode.OUTCOME_UNKNOWN: (
            gettext_noop("%(detail)s Factuursturen may or may not have made the invoice."),
            _CHECK_FIRST,
        ),
        FactuursturenCode.BAD_RESPONSE: (
            gettext_noop("Factuursturen answered HTTP %(status)s with something koppeling cannot read."),
            gettext_noop(
                "Usually a temporary problem at Factuursturen; koppeling tries again. If it persists, "
                "check the address of this connection."
            ),
        ),
        FactuursturenCode.TIMEOUT: (
            gettext_noop("No complete answer from Factuursturen (%(detail)s)."),
            _AUTO_RETRY,
        ),
        FactuursturenCode.UNREACHABLE: (
            gettext_noop("Factuursturen cannot be reached (%(detail)s)."),
            gettext_noop(
                "koppeling keeps trying; check Factuursturen's status, or the address of this connection "
                "if this continues."
            ),
        ),
        FactuursturenCode.NOT_FOUND: (
            gettext_noop("Factuursturen does not know %(what)s."),
            gettext_noop("Check in Factuursturen that it still exists."),
        ),
        FactuursturenCode.REQUEST_REFUSED: (
            gettext_noop("Factuursturen refused a request (HTTP %(status)s): %(remote)s"),
            gettext_noop("This is a koppeling bug or an API change; report it with this message."),
        ),
        FactuursturenCode.INVOICE_REFUSED: (
            gettext_noop("Factuursturen refused the invoice for order %(reference)s: %(remote)s"),
            gettext_noop(
                "Correct what Factuursturen names — often a VAT rate that is not set in your Factuursturen "
                "account, or the VAT mapping in the configuration — then press Verwerk."
            ),
        ),
        FactuursturenCode.DEBTOR_REFUSED: (
            gettext_noop("Factuursturen refused the new debtor for order %(reference)s: %(remote)s"),
            gettext_noop("Correct the customer's details in the shop, then press Verwerk."),
        ),
        FactuursturenCode.DEBTOR_EMAIL_INVALID: (
            gettext_noop(
                "Factuursturen refused the debtor of order %(reference)s: the e-mail address %(email)s is "
                "invalid."
            ),
            gettext_noop(
                "Correct the customer's e-mail address in the shop (one address, like name@example.nl), "
                "then press Verwerk."
            ),
        ),
        FactuursturenCode.VAT_RATE_UNMAPPED: (
            gettext_noop(
                "Order %(reference)s has VAT rate %(rate)s%%, which has no Factuursturen VAT rate and "
                "ledger account (category) in the configuration."
            ),
            gettext_noop(
                "Map VAT rate %(rate)s%% in the configuration of this link (VAT rates -> Factuursturen "
                "VAT rate and category), then press Verwerk."
            ),
        ),
        FactuursturenCode.EMAIL_MISSING: (
            gettext_noop(
                "Order %(reference)s has no e-mail address, so koppeling cannot find or make its debtor."
            ),
            gettext_noop(
                "Add the customer's e-mail address in the shop, or choose a default debtor for orders "
                "without one in the configuration, then press Verwerk."
            ),
        ),
        FactuursturenCode.DEBTOR_UNKNOWN: (
            gettext_noop(
                "The debtor %(clientnr)s chosen in the configuration (%(setting)s) does not exist in "
                "Factuursturen."
            ),
            gettext_noop("Choose an existing debtor number in the configuration, then press Verwerk."),
        ),
        FactuursturenCode.CURRENCY_DIFFERS: (
            gettext_noop(
                "Order %(reference)s is in %(currency)s, but its Factuursturen debtor %(clientnr)s invoices "
                "in %(debtor_currency)s; koppeling never changes an existing debtor."
            ),
            gettext_noop(
                "Change the currency of debtor %(clientnr)s in Factuursturen (or book this order by hand), "
                "then press Verwerk."
            ),
        ),
        FactuursturenCode.COUNTRY_UNKNOWN: (
            gettext_noop(
                "Order %(reference)s: koppeling does not know Factuursturen's code for country %(country)s."
            ),
            gettext_noop("Report this to koppeling; meanwhile book this order by hand in Factuursturen."),
        ),
        FactuursturenCode.NO_LINES: (
            gettext_noop("Order %(reference)s has no lines."),
            gettext_noop("Check the order in the shop."),
        ),
        FactuursturenCode.ICP_VAT_NUMBER_MISSING: (
            gettext_noop(
                "Order %(reference)s is an intra-community (ICP) sale without the customer's VAT number."
            ),
            gettext_noop(
                "Add the customer's EU VAT number in the shop (or book it as a domestic sale), then press "
                "Verwerk."
            ),
        ),
        FactuursturenCode.CATEGORY_UNKNOWN: (
            gettext_noop(
                "Category %(category)s, mapped to VAT rate %(rate)s%% in the configuration, does not exist "
                "in Factuursturen."
            ),
            gettext_noop(
                "Choose one of the categories of your Factuursturen account for VAT rate %(rate)s%%, then "
                "press Verwerk."
            ),
        ),
        FactuursturenCode.CATEGORIES_MIXED: (
            gettext_noop(
                "Order %(reference)s mixes VAT rates mapped to different categories (%(categories)s); "
                "Factuursturen takes one category per invoice, so it is booked on category %(category)s "
                "(the rate with the largest amount)."
            ),
        ),
        FactuursturenCode.CATEGORIES_MIXED_STOP: (
            gettext_noop(
                "Order %(reference)s mixes VAT rates mapped to different categories (%(categories)s); "
                "Factuursturen takes one category per invoice."
            ),
            gettext_noop(
                "Book this order by hand, or allow mixed categories in the configuration (it is then booked "
                "on the category of the largest amount), then press Verwerk."
            ),
        ),
        FactuursturenCode.DEBTOR_REUSED: (
            gettext_noop(
                "Order %(reference)s is booked on the existing debtor %(clientnr)s (same e-mail address "
                "%(email)s), whose %(fields)s differ from the order; koppeling never changes an existing "
                "debtor."
            ),
            gettext_noop(
                "If the order's details are the right ones, update debtor %(clientnr)s in Factuursturen."
            ),
        ),
        FactuursturenCode.DEBTOR_FIELD_SHORTENED: (
            gettext_noop(
                "The new debtor of order %(reference)s: %(field)s was cut to %(limit)s characters, "
                "Factuursturen's maximum."
            ),
        ),
        FactuursturenCode.DEBTOR_FIELD_LEFT_OUT: (
            gettext_noop(
                "The new debtor of order %(reference)s: %(field)s is longer than Factuursturen's %(limit)s "
                "characters and was left out rather than cut."
            ),
            gettext_noop("Add it to the debtor in Factuursturen if you need it."),
        ),
        FactuursturenCode.DEBTOR_TAX_SHIFTED_DIFFERS: (
            gettext_noop(
                "Order %(reference)s is a %(regime)s sale, but the existing debtor %(clientnr)s has 'BTW "
                "verlegd' (tax shifted) set to %(tax_shifted)s; koppeling never changes an existing debtor."
            ),
            gettext_noop(
                "Check the VAT text on invoice %(reference)s and the debtor's setting in Factuursturen."
            ),
        ),
        FactuursturenCode.TOTALS_DIFFER: (
            gettext_noop(
                "Factuursturen computes %(booked_ex)s excl. / %(booked_inc)s incl. VAT where the order says "
                "%(total_ex)s / %(total_inc)s: it rounds the VAT once per rate, the shop per line."
            ),
            gettext_noop(
                "A cent of rounding; reconciliation reports it if it is above the tolerance of this link."
            ),
        ),
        FactuursturenCode.REFERENCE_AMBIGUOUS: (
            gettext_noop("Factuursturen holds %(count)s invoices for order %(reference)s (%(ids)s)."),
            gettext_noop(
                "Delete the duplicate invoice in Factuursturen, then mark the record as booked with the "
                "remaining one."
            ),
        ),
    }
)


def _p(**extra: Any) -> dict[str, Any]:
    return {"system": SYSTEM, **extra}


class Call(StrEnum):
    """What a request is for: decides what an unclear answer means."""

    READ = "read"  # nothing changes: an unclear answer is an unusable answer
    CREATE_DEBTOR = "create_debtor"  # the invoice was certainly not sent yet
    BOOK = "book"  # POST invoices: an unclear answer may hide a booked invoice


def parse_json(response: httpx.Response) -> Any:
    """The JSON body (decimals as ``Decimal``), or raises ``ValueError``."""
    return json.loads(response.content, parse_float=Decimal)


def seconds_to_next_hour(clock: Callable[[], float] = time.time) -> int:
    """Until the next clock hour (the research: "remaining calls for this hour"), plus a margin.

    >>> seconds_to_next_hour(lambda: 7200.0 + 3000)
    630
    """
    now = clock()
    return int(3600 - now % 3600) + RATE_LIMIT_MARGIN


def outcome_unknown(detail: str, status: int | None = None) -> TransientError:
    """A booking whose effect we cannot know: the runtime searches the reference before retrying."""
    return TransientError(
        FactuursturenCode.OUTCOME_UNKNOWN, _p(detail=detail), maybe_processed=True, status_code=status
    )


def validate_response(
    response: httpx.Response, call: Call = Call.READ, *, clock: Callable[[], float] = time.time
) -> httpx.Response:
    """Classify one answer: return it when it is a success, or raise the right error.

    - 401 -> ``AuthError``; 403 with ``X-RateLimit-Remaining: 0`` -> ``RateLimited`` until the next
      clock hour (never an auth error); any other 403 -> ``AuthError`` (the key may not do this);
    - 429 -> ``RateLimited`` (``Retry-After``); 503 -> ``TransientError``, nothing processed;
    - other 5xx -> ``TransientError``; for a booking ``maybe_processed`` (a gateway can lose the
      answer of an invoice that was made);
    - 404 -> ``NotFound``; other 4xx -> ``DataError`` with the remote text (the connector names what
      was refused).
    """
    status = response.status_code
    remote = response.text[:500] if status >= 400 else ""
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    if status == 401:
        raise AuthError(FactuursturenCode.AUTH, _p(), status_code=status, remote=remote)
    if status == 403 and response.headers.get("x-ratelimit-remaining", "").strip() == "0":
        wait = retry_after if retry_after is not None else seconds_to_next_hour(clock)
        raise RateLimited(
            FactuursturenCode.RATE_LIMITED, _p(), retry_after=wait, status_code=status, remote=remote
        )
    if status == 403:
        raise AuthError(FactuursturenCode.FORBIDDEN, _p(), status_code=status, remote=remote)
    if status == 429:
        raise RateLimited(
            FactuursturenCode.RATE_LIMITED, _p(), retry_after=retry_after, status_code=status, remote=remote
        )
    if status >= 500:
        if call is Call.BOOK and status != 503:
            raise outcome_unknown(f"Factuursturen answered HTTP {status}.", status)
        raise TransientError(
            FactuursturenCode.UNAVAILABLE,
            _p(status=status),
            maybe_processed=False,
            retry_after=retry_after,
            status_code=status,
        )
    if status == 404:
        raise NotFound(FactuursturenCode.NOT_FOUND, _p(what=response.request.url.path), status_code=status)
    if status >= 400:
        raise DataError(
            FactuursturenCode.REQUEST_REFUSED, _p(status=status), status_code=status, remote=remote
        )
    if status >= 300:
        raise ResponseError(FactuursturenCode.BAD_RESPONSE, _p(status=status), status_code=status)
    return response


def transport_error(exc: httpx.TransportError, call: Call) -> ConnectorError:
    """A call without a complete answer: a refused connection was never sent; anything else may
    have arrived, so a booking's outcome is unknown (a read or a debtor is simply retried)."""
    if isinstance(exc, ResponseTooLarge):
        if call is Call.BOOK:
            return outcome_unknown(f"Factuursturen sent an answer larger than {exc.cap} bytes.")
        return ResponseError(ConnectorCode.RESPONSE_TOO_LARGE, _p(limit=exc.cap))
    detail = type(exc).__name__
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return TransientError(FactuursturenCode.UNREACHABLE, _p(detail=detail), maybe_processed=False)
    if call is Call.BOOK:
        return outcome_unknown(f"No complete answer from Factuursturen ({detail}).")
    return TransientError(FactuursturenCode.TIMEOUT, _p(detail=detail), maybe_processed=False)


def bad_response(response: httpx.Response, detail: str, call: Call = Call.READ) -> ConnectorError:
    """A 2xx we cannot read: for a booking the invoice may exist, else the answer is unusable."""
    if call is Call.BOOK:
        return outcome_unknown(f"Factuursturen answered HTTP {response.status_code} ({detail}).")
    return ResponseError(
        FactuursturenCode.BAD_RESPONSE, _p(status=response.status_code), status_code=response.status_code
    )
