"""The Lightspeed eCom wire protocol: URLs, outcome codes, and the ONE place that classifies answers.

Every answer goes through :func:`validate_response`, which turns HTTP outcomes into the connector
error taxonomy: 401 refused key/secret, 403 a missing permission, 404 with "Unknown or inactive
language." a wrong shop language, 429 the account's limit (``Retry-After``, else the exhausted
window's ``X-RateLimit-Reset``), 5xx a temporary problem, any other 4xx a request we should not
have made. Facts and sources: ``docs/connectors/lightspeed.md``.

Credentials travel only in the ``Authorization`` header (HTTP Basic), never in a URL, so no
parameter of an error can hold one; the error body's own text (which a misbehaving server could
fill with anything) is passed only as ``remote``, which the runtime redacts.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import httpx

from koppeling.connectors.errors import (
    AuthError,
    ConnectorCode,
    ConnectorError,
    NotFound,
    RateLimited,
    ResponseError,
    TransientError,
)
from koppeling.connectors.http import parse_retry_after
from koppeling.core.messages import gettext_noop, register

__all__ = [
    "CLUSTERS",
    "SYSTEM",
    "WINDOWS",
    "LightspeedCode",
    "params",
    "rate_limit_wait",
    "unwrap",
    "validate_response",
]

SYSTEM = "Lightspeed"
#: [V] SEOshop/API-PHP-Client SERVER_EU1_LIVE / SERVER_US1_LIVE; NickTacke BASE_URLS
CLUSTERS = {"eu1": "https://api.webshopapp.com", "us1": "https://api.shoplightspeed.com"}
#: the order of the three values in every ``X-RateLimit-*`` header [V NickTacke rate-limit.ts]
WINDOWS = ("calls_5min", "calls_hour", "calls_day")


class LightspeedCode(StrEnum):
    CREDENTIALS_REFUSED = "ls_credentials_refused"
    PERMISSION_MISSING = "ls_permission_missing"
    LANGUAGE_UNKNOWN = "ls_language_unknown"
    CLUSTER_UNKNOWN = "ls_cluster_unknown"
    UNWRAPPED = "ls_unwrapped_answer"
    SINCE_ID_IGNORED = "ls_since_id_ignored"


_KEY_SUGGESTION = gettext_noop(
    "In Lightspeed eCom open Instellingen -> Ontwikkelaars (Settings -> Developers), check that the "
    "API key is enabled, copy its key and secret into this connection and resume the link."
)
register(
    {
        LightspeedCode.CREDENTIALS_REFUSED: (
            gettext_noop("Lightspeed refused the API key and secret: %(remote)s"),
            _KEY_SUGGESTION,
        ),
        LightspeedCode.PERMISSION_MISSING: (
            gettext_noop(
                "Lightspeed refused reading %(resource)s: the API key lacks that permission (%(remote)s)."
            ),
            gettext_noop(
                "Give the API key read permission for orders and invoices in Lightspeed eCom "
                "(Settings -> Developers), then resume the link. koppeling needs no write permission."
            ),
        ),
        LightspeedCode.LANGUAGE_UNKNOWN: (
            gettext_noop("Lightspeed does not know the shop language %(language)s: %(remote)s"),
            gettext_noop(
                "Set the connection's language to one of the shop's active languages (two letters, e.g. nl), "
                "then resume the link."
            ),
        ),
        LightspeedCode.CLUSTER_UNKNOWN: (
            gettext_noop("The Lightspeed connection names the cluster %(cluster)s; known are %(known)s."),
            gettext_noop(
                "Set the connection's cluster to eu1 (Europe) or us1 (America), then resume the link."
            ),
        ),
        LightspeedCode.UNWRAPPED: (
            gettext_noop("Lightspeed answered %(operation)s without the expected %(key)s (%(detail)s)."),
            gettext_noop(
                "Usually a temporary problem at Lightspeed; koppeling tries again. If it persists, check "
                "the connection's address."
            ),
        ),
        LightspeedCode.SINCE_ID_IGNORED: (
            gettext_noop(
                "Lightspeed returned the same orders again after id %(since_id)s (since_id ignored)."
            ),
            gettext_noop("Report this to koppeling; the run stops so no order is missed."),
        ),
    }
)


def params(**extra: Any) -> dict[str, Any]:
    return {"system": SYSTEM, **extra}


def _explain(response: httpx.Response) -> str:
    """The error body's ``error.message`` [V PHP client], else the reason phrase."""
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return response.reason_phrase or "no details"


def _values(header: str | None) -> list[float]:
    try:
        return [float(part) for part in (header or "").split("/")] if header else []
    except ValueError:
        return []


def rate_limit_wait(response: httpx.Response) -> tuple[float | None, str]:
    """Seconds to wait after a 429 and which window is exhausted.

    ``Retry-After`` when the answer has it [I: only the SDKs' handling], else the reset of the
    exhausted window (``X-RateLimit-Remaining`` 0) from ``X-RateLimit-Reset`` [V headers]; with no
    exhausted window named, the soonest reset.
    """
    resets = _values(response.headers.get("X-RateLimit-Reset"))
    remaining = _values(response.headers.get("X-RateLimit-Remaining"))
    exhausted = [i for i, left in enumerate(remaining) if left <= 0 and i < len(resets)]
    window = WINDOWS[exhausted[-1]] if exhausted and exhausted[-1] < len(WINDOWS) else ""
    retry = parse_retry_after(response.headers.get("Retry-After"))
    if retry is None and resets:
        retry = max(resets[i] for i in exhausted) if exhausted else min(resets)
    return retry, window


def validate_response(response: httpx.Response, operation: str, *, language: str) -> dict[str, Any]:
    """Classify one answer (see the module docstring); the decoded body of a good one.

    ``operation`` is ``"GET orders.json"``-like: a path without host or credentials.
    """
    status = response.status_code
    remote = "" if 200 <= status < 300 else _explain(response)
    if status == 401:
        raise AuthError(LightspeedCode.CREDENTIALS_REFUSED, params(), status_code=status, remote=remote)
    if status == 403:
        resource = operation.split(" ", 1)[-1].split("/", 1)[0].removesuffix(".json")
        raise AuthError(
            LightspeedCode.PERMISSION_MISSING, params(resource=resource), status_code=status, remote=remote
        )
    if status == 404 and "language" in remote.lower():
        raise AuthError(
            LightspeedCode.LANGUAGE_UNKNOWN, params(language=language), status_code=status, remote=remote
        )
    if status == 404:
        raise NotFound(params=params(what=operation), status_code=status, remote=remote)
    if status == 429:
        retry, window = rate_limit_wait(response)
        raise RateLimited(
            params=params(operation=operation),
            retry_after=retry,
            status_code=status,
            remote=remote,
            limit=window,
        )
    if status >= 500 or status == 408:
        raise TransientError(
            ConnectorCode.SERVER_ERROR,
            params(status=status, operation=operation),
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            status_code=status,
            remote=remote,
        )
    if not 200 <= status < 300:
        raise ConnectorError(
            ConnectorCode.REQUEST_REJECTED, params(status=status), status_code=status, remote=remote
        )
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        kind = response.headers.get("Content-Type", "no content type")
        detail = f"{operation}: not JSON ({kind}, {len(response.content)} bytes: {exc})"
        raise ResponseError(params=params(detail=detail), status_code=status) from None
    if not isinstance(body, dict):
        detail = f"{operation}: a JSON {type(body).__name__} where a wrapped object was expected"
        raise ResponseError(params=params(detail=detail), status_code=status)
    return body


def unwrap(body: dict[str, Any], key: str, expect: type, operation: str) -> Any:
    """``body[key]`` of the type expected (answers are wrapped in the resource name [V])."""
    value = body.get(key)
    if not isinstance(value, expect):
        found = ", ".join(sorted(body)[:5]) or "nothing"
        raise ResponseError(
            LightspeedCode.UNWRAPPED, params(operation=operation, key=key, detail=f"found {found}")
        )
    return value
