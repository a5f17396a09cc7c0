"""The eAccounting API v2 wire protocol: tokens, requests, answers, and errors as codes.

Every answer goes through :func:`validate_response`, the one place that turns an HTTP outcome into
the connector error taxonomy; every token refresh goes through :class:`Tokens`, which changes the
stored credentials only inside ``Connector.update_credentials`` (the connection's lock), because
Visma's refresh tokens are single-use and rotate: a second exchange of the same token fails with
``invalid_grant`` and a worker that then stored an old pair would kill the link until the owner
re-authorises. Facts and sources: ``docs/connectors/eaccounting.md``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import httpx

from koppeling.core.messages import gettext_noop, register

from .. import jsonbody
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

if TYPE_CHECKING:
    from ..base import Connector

__all__ = [
    "SYSTEM",
    "EAccountingCode",
    "Tokens",
    "decode",
    "encode",
    "retry_after_of",
    "transport_error",
    "validate_response",
]

SYSTEM = "Visma eAccounting"
#: seconds before the stored expiry at which a token counts as expired (clock skew, slow calls)
EXPIRY_SKEW = 60.0
#: wait after a 429 whose body and headers name no delay (the window is one minute)
DEFAULT_RETRY_AFTER = 60.0
_TRY_AGAIN = re.compile(r"try again in\s+(\d+)\s*second", re.IGNORECASE)
_MODULE = re.compile(r"no access to module:\s*([\w.-]+)", re.IGNORECASE)
_SCOPES = re.compile(r"no access to scopes?:\s*([\w:., -]+)", re.IGNORECASE)


class EAccountingCode(StrEnum):
    REFRESH_REFUSED = "ea_refresh_refused"
    CLIENT_REFUSED = "ea_client_refused"
    TOKEN_REFUSED = "ea_token_refused"  # noqa: S105 - a code, not a secret
    SCOPE_MISSING = "ea_scope_missing"
    MODULE_MISSING = "ea_module_missing"
    NOT_AUTHORIZED = "ea_not_authorized"
    REJECTED = "ea_rejected"
    CONFLICT = "ea_conflict"
    QUERY_REJECTED = "ea_query_rejected"
    ARTICLE_UNKNOWN = "ea_article_unknown"
    STOCK_MODULE = "ea_stock_module"
    STOCK_NOT_SET = "ea_stock_not_set"
    NO_CODING = "ea_no_coding"
    NO_UNIT = "ea_no_unit"
    SKU_MISSING = "ea_sku_missing"
    VALUE_TRUNCATED = "ea_value_truncated"
    RECORD_INVALID = "ea_record_invalid"


_RECONNECT = gettext_noop(
    "Connect eAccounting again from the connection page (log in at Visma and allow koppeling), then "
    "resume the link."
)
register(
    {
        EAccountingCode.REFRESH_REFUSED: (
            gettext_noop(
                "Visma refused to renew the eAccounting access (%(remote)s): the authorisation was "
                "withdrawn, expired, or its refresh token was already used."
            ),
            _RECONNECT,
        ),
        EAccountingCode.CLIENT_REFUSED: (
            gettext_noop("Visma refused koppeling's client id or secret for eAccounting (%(remote)s)."),
            gettext_noop(
                "The client id and secret are koppeling's own (from the Visma developer portal); ask "
                "the operator to check them."
            ),
        ),
        EAccountingCode.TOKEN_REFUSED: (
            gettext_noop("eAccounting refused the access token, also after renewing it: %(remote)s"),
            _RECONNECT,
        ),
        EAccountingCode.SCOPE_MISSING: (
            gettext_noop("The eAccounting authorisation lacks the scope %(scope)s (needed to %(purpose)s)."),
            gettext_noop(
                "Connect eAccounting again and allow koppeling the asked permissions (%(scope)s), then "
                "resume the link."
            ),
        ),
        EAccountingCode.MODULE_MISSING: (
            gettext_noop("The eAccounting company has no access to the module %(module)s: %(remote)s"),
            gettext_noop(
                "Activate %(module)s in the eAccounting subscription (the API needs 'api_standard', "
                "sales orders 'order_standard'), then resume the link."
            ),
        ),
        EAccountingCode.NOT_AUTHORIZED: (
            gettext_noop("eAccounting refused the request for this user: %(remote)s"),
            gettext_noop("Give the connected eAccounting user the rights koppeling needs, then resume."),
        ),
        EAccountingCode.REJECTED: (
            gettext_noop("eAccounting refused the record: %(remote)s"),
            gettext_noop(
                "Correct what eAccounting names (in the source or the flow's settings), then retry."
            ),
        ),
        EAccountingCode.CONFLICT: (
            gettext_noop("eAccounting already has such a record: %(remote)s"),
            gettext_noop("Check for a duplicate in eAccounting (same article number or customer number)."),
        ),
        EAccountingCode.QUERY_REJECTED: (
            gettext_noop("eAccounting refused koppeling's query (HTTP %(status)s): %(remote)s"),
            gettext_noop("This is a koppeling bug or an API change; report it with this message."),
        ),
        EAccountingCode.ARTICLE_UNKNOWN: (
            gettext_noop("eAccounting has no article %(sku)s, so its stock cannot be set."),
            gettext_noop("Let the article flow create it first (or create it in eAccounting); it retries."),
        ),
        EAccountingCode.STOCK_MODULE: (
            gettext_noop(
                "eAccounting keeps its own stock for %(sku)s (stock module): the stock balance cannot "
                "be set through the API."
            ),
            gettext_noop(
                "Switch the stock flow off, or switch off the stock module in eAccounting, or let "
                "koppeling mark the article as not managed ('never')."
            ),
        ),
        EAccountingCode.STOCK_NOT_SET: (
            gettext_noop(
                "eAccounting kept %(booked)s as the stock of %(sku)s where koppeling sent %(sent)s."
            ),
            gettext_noop(
                "Check whether the stock module is on in eAccounting; it makes the stock read-only."
            ),
        ),
        EAccountingCode.NO_CODING: (
            gettext_noop("No eAccounting article account coding for %(sku)s (VAT %(rate)s): %(detail)s"),
            gettext_noop(
                "Choose the coding per VAT rate (or a default coding) in the flow's eAccounting settings."
            ),
        ),
        EAccountingCode.NO_UNIT: (
            gettext_noop("No eAccounting unit for %(sku)s (unit %(unit)s): %(detail)s"),
            gettext_noop("Choose the unit mapping (or a default unit) in the flow's eAccounting settings."),
        ),
        EAccountingCode.SKU_MISSING: (
            gettext_noop("Article %(name)s has neither an article number (SKU) nor an EAN."),
            gettext_noop("Give the article an article code in the source; it is read again."),
        ),
        EAccountingCode.VALUE_TRUNCATED: (
            gettext_noop(
                "eAccounting takes at most %(length)s characters in %(field)s; %(sku)s was shortened."
            ),
            gettext_noop("Shorten the text in the source if the cut is not acceptable."),
        ),
        EAccountingCode.RECORD_INVALID: (
            gettext_noop("%(what)s %(number)s, %(path)s: %(detail)s"),
            gettext_noop("Correct the record in eAccounting; koppeling reads it again."),
        ),
    }
)


def _p(**extra: Any) -> dict[str, Any]:
    return {"system": SYSTEM, **extra}


def encode(payload: Any) -> bytes:
    """JSON with Decimals as exact JSON numbers (`jsonbody`: never through a float)."""
    return jsonbody.encode(payload)


def decode(response: httpx.Response, where: str) -> Any:
    """The JSON body with every fraction as a Decimal (never a float)."""
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError as exc:
        content_type = response.headers.get("Content-Type", "no content type")
        raise ResponseError(
            params=_p(detail=f"{where}: not JSON ({content_type}, {len(response.content)} bytes: {exc})"),
            status_code=response.status_code,
        ) from None


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def explain(response: httpx.Response) -> str:
    """The remote's text: ``DeveloperErrorMessage`` plus the located ``Errors``, or ``Message``."""
    body = _body(response)
    message = str(body.get("DeveloperErrorMessage") or body.get("Message") or body.get("error") or "")
    errors = body.get("Errors")
    if isinstance(errors, list):
        located = [
            f"{e.get('Field')}: {e.get('Message')}"
            for e in errors
            if isinstance(e, dict) and e.get("Message")
        ]
        if located and not all(text in message for text in located):
            message = f"{message} ({'; '.join(located)})" if message else "; ".join(located)
    if not message:
        message = response.text.strip()[:300] if "json" in response.headers.get("Content-Type", "") else ""
    return message or response.reason_phrase or f"HTTP {response.status_code}"


def retry_after_of(response: httpx.Response) -> float:
    """Seconds to wait after a 429: ``Retry-After`` if sent (not documented), else the documented
    body's "Try again in N seconds", else a whole window."""
    header = parse_retry_after(response.headers.get("Retry-After"))
    if header is not None:
        return header
    match = _TRY_AGAIN.search(str(_body(response).get("DeveloperErrorMessage") or ""))
    return float(match.group(1)) if match else DEFAULT_RETRY_AFTER


def _forbidden(response: httpx.Response, status: int) -> AuthError:
    body = _body(response)
    remote = explain(response)
    code = body.get("ErrorCode")
    module = _MODULE.search(remote)
    if module:
        return AuthError(
            EAccountingCode.MODULE_MISSING, _p(module=module.group(1)), status_code=status, remote=remote
        )
    scopes = _SCOPES.search(remote)
    if scopes or code == 4006:
        scope = scopes.group(1).strip().rstrip(".") if scopes else "ea:api"
        return AuthError(
            EAccountingCode.SCOPE_MISSING,
            _p(scope=scope, purpose="use this part of the API"),
            status_code=status,
            remote=remote,
        )
    return AuthError(EAccountingCode.NOT_AUTHORIZED, _p(), status_code=status, remote=remote)


def validate_response(response: httpx.Response, *, mutating: bool = False) -> Any:
    """Classify one answer; return the decoded body of a good one (None when it has none).

    - 401 -> ``AuthError`` ``ea_token_refused`` (the caller refreshes once before it gets here);
    - 403 -> ``AuthError`` naming the missing module (4002) or scope (4006), else ``ea_not_authorized``;
    - 429 -> ``RateLimited`` with ``retry_after`` (header, else "Try again in N seconds", else 60);
    - 5xx, 408 -> ``TransientError`` (a 500/502/504 on a write may have been processed);
    - 404 -> ``NotFound``; 400 with ErrorCode 4000 -> ``DataError`` ``ea_conflict``, 6000 ->
      ``ConnectorError`` ``ea_query_rejected`` (our query), other 400/409/422 -> ``DataError``
      ``ea_rejected``; other 4xx -> ``request_rejected``;
    - 2xx that is not JSON -> ``ResponseError``.
    """
    status = response.status_code
    where = f"{response.request.method} {response.request.url.path}"
    if status == 401:
        raise AuthError(EAccountingCode.TOKEN_REFUSED, _p(), status_code=status, remote=explain(response))
    if status == 403:
        raise _forbidden(response, status)
    if status == 429:
        raise RateLimited(
            params=_p(operation=where),
            retry_after=retry_after_of(response),
            status_code=status,
            remote=explain(response),
            limit="600/min",
        )
    if status >= 500 or status == 408:
        raise TransientError(
            ConnectorCode.SERVER_ERROR,
            _p(status=status, operation=where),
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            maybe_processed=None if mutating else False,
            status_code=status,
            remote=explain(response),
        )
    if status == 404:
        raise NotFound(params=_p(what=where), status_code=status, remote=explain(response))
    if status in (400, 409, 422):
        code = _body(response).get("ErrorCode")
        if code == 6000:
            raise ConnectorError(
                EAccountingCode.QUERY_REJECTED,
                _p(status=status),
                status_code=status,
                remote=explain(response),
            )
        chosen = EAccountingCode.CONFLICT if code == 4000 or status == 409 else EAccountingCode.REJECTED
        raise DataError(chosen, _p(), status_code=status, remote=explain(response))
    if 400 <= status < 500:
        raise ConnectorError(
            ConnectorCode.REQUEST_REJECTED, _p(status=status), status_code=status, remote=explain(response)
        )
    if not response.content:
        return None
    return decode(response, where)


def transport_error(exc: httpx.TransportError, operation: str, *, mutating: bool) -> ConnectorError:
    """A call that never got a (whole) answer: a timeout on a write may have been processed."""
    if isinstance(exc, ResponseTooLarge):
        return ResponseError(ConnectorCode.RESPONSE_TOO_LARGE, _p(limit=exc.cap))
    if isinstance(exc, httpx.TimeoutException):
        return TransientError(
            ConnectorCode.TIMEOUT,
            _p(operation=operation),
            maybe_processed=mutating and not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout),
        )
    return TransientError(
        ConnectorCode.UNREACHABLE,
        _p(operation=operation, detail=type(exc).__name__),
        maybe_processed=mutating and not isinstance(exc, httpx.ConnectError),
    )


# --------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------


class Tokens:
    """Keeps one connection's OAuth tokens fresh (refresh before expiry or after a 401).

    ``refresh`` runs its exchange inside ``connector.update_credentials(change)``: ``change`` gets
    the credentials as stored *now*; when another worker already refreshed — the stored refresh
    token is not the one we hold, or the stored access token is another one that is still valid —
    it returns None and we use those. Otherwise it spends the refresh token and returns the new
    pair, which the store writes (under the connection's lock) before anyone uses it. A lock of
    our own keeps the threads of one run from queueing for the store one after another.
    """

    def __init__(
        self,
        connector: Connector,
        token_url: Callable[[], str],
        *,
        clock: Callable[[], float] = time.time,
        basic_auth: bool = True,
    ) -> None:
        self.connector = connector
        self.token_url = token_url
        self.clock = clock
        self.basic_auth = basic_auth
        self._lock = threading.Lock()

    @property
    def credentials(self) -> Mapping[str, str]:
        return self.connector.config.credentials

    def expiring(self, credentials: Mapping[str, str]) -> bool:
        """True when the stored expiry is (nearly) reached; unknown expiry: we learn it from a 401."""
        raw = str(credentials.get("access_token_expires_at") or "").strip()
        if not raw:
            return False
        try:
            return self.clock() >= float(raw) - EXPIRY_SKEW
        except ValueError:
            return True

    def bearer(self) -> str:
        """The access token to send now (refreshed first when it is about to expire)."""
        token = str(self.credentials.get("access_token") or "")
        if not token or self.expiring(self.credentials):
            self.refresh(token, after_401=False)
        return str(self.credentials.get("access_token") or "")

    def refresh(self, stale: str, *, after_401: bool) -> None:
        """Replace ``stale`` (expired, or refused with a 401), unless someone already did."""
        with self._lock:
            mine = self.credentials
            if mine.get("access_token") and mine.get("access_token") != stale and not self.expiring(mine):
                return  # another thread of this run refreshed while we waited for the lock
            held = str(mine.get("refresh_token") or "")

            def change(current: Mapping[str, str]) -> Mapping[str, str] | None:
                if str(current.get("refresh_token") or "") != held:
                    return None  # rotated by another worker: its pair is the one to use
                access = str(current.get("access_token") or "")
                if access and access != stale and not self.expiring(current):
                    return None
                if access and not after_401 and not self.expiring(current):
                    return None
                return self._exchange(current)

            self.connector.update_credentials(change)

    def _exchange(self, current: Mapping[str, str]) -> dict[str, str]:
        refresh_token = str(current.get("refresh_token") or "")
        client_id, secret = str(current.get("client_id") or ""), str(current.get("client_secret") or "")
        missing = [
            name
            for name, value in (
                ("refresh_token", refresh_token),
                ("client_id", client_id),
                ("client_secret", secret),
            )
            if not value
        ]
        if missing:
            raise AuthError(ConnectorCode.CREDENTIALS_MISSING, _p(fields=", ".join(missing)))
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        auth: tuple[str, str] | None = (client_id, secret) if self.basic_auth else None
        if not self.basic_auth:
            form.update(client_id=client_id, client_secret=secret)
        url = self.token_url()
        try:
            response = self.connector.http.post(url, data=form, auth=auth)  # type: ignore[arg-type]
        except httpx.TransportError as exc:
            # the exchange may have happened: the rotated token is then lost and the next refresh
            # gets invalid_grant (the owner reconnects); a grace period at Visma would cover it
            raise transport_error(exc, "POST /connect/token", mutating=False) from None
        return self._tokens(response, current)

    def _tokens(self, response: httpx.Response, current: Mapping[str, str]) -> dict[str, str]:
        status = response.status_code
        if status in (400, 401):
            error = str(_body(response).get("error") or f"HTTP {status}")
            code = (
                EAccountingCode.CLIENT_REFUSED
                if error == "invalid_client"
                else EAccountingCode.REFRESH_REFUSED
            )
            raise AuthError(code, _p(), status_code=status, remote=error)  # never error_description
        if status == 429:
            raise RateLimited(
                params=_p(operation="token"), retry_after=retry_after_of(response), status_code=status
            )
        if status >= 300:
            raise TransientError(
                ConnectorCode.SERVER_ERROR,
                _p(status=status, operation="token"),
                maybe_processed=False,
                status_code=status,
                remote=f"HTTP {status}",
            )
        body = decode(response, "POST /connect/token")
        if not isinstance(body, dict) or not body.get("access_token"):
            raise ResponseError(params=_p(detail="token answer without access_token"), status_code=status)
        new = dict(current)
        new["access_token"] = str(body["access_token"])
        new["refresh_token"] = str(body.get("refresh_token") or current.get("refresh_token") or "")
        try:
            lifetime = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        new["access_token_expires_at"] = str(int(self.clock() + lifetime))
        if body.get("scope"):
            new["scope"] = str(body["scope"])
        new.pop("expires_in", None)
        return new
