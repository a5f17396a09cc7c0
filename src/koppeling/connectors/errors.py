"""The error taxonomy every connector speaks (singer-sdk/dlt style), as codes with parameters.

The runtime decides what to do from the class alone:

- ``TransientError``: retry later with backoff (timeouts, 5xx); ``maybe_processed`` says whether
  the other side could have acted on a write, so the runtime looks it up before pushing again;
- ``RateLimited``: the account's limit is reached (an empty shared bucket, or the remote's 429):
  the batch stops, the rest waits until ``retry_after``; no attempt is counted;
- ``AuthError``: credentials refused — pause the link, alert once, touch no record;
- ``QuotaError``: the account may take no more (e.g. a trial cap) — pause and alert once;
- ``DataError``: this one record cannot go — record the reason, go on with the others;
- ``ResponseError``: the other side answered something we cannot read;
- ``NotFound``: the object does not exist there.

An error carries a stable ``code`` and JSON-able ``params``; its text is registered with the
code (``koppeling.core.messages``) and rendered in the reader's language when shown. Text the
remote sent (an error body) goes in the ``remote`` parameter only: the runtime redacts every
credential of the connection from it before anything is stored, mailed or shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from koppeling.core.messages import Outcome, english, english_suggestion, gettext_noop, register

__all__ = [
    "AuthError",
    "ConnectorCode",
    "ConnectorError",
    "DataError",
    "NotFound",
    "QuotaError",
    "RateLimited",
    "ResponseError",
    "TransientError",
]


class ConnectorCode(StrEnum):
    """Codes shared by every connector; each connector adds its own enum for what is its own."""

    CONNECTOR_ERROR = "connector_error"
    TRANSIENT = "transient"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    RATE_LIMITED = "rate_limited"
    AUTH_FAILED = "auth_failed"
    CREDENTIALS_MISSING = "credentials_missing"
    QUOTA_REACHED = "quota_reached"
    DATA_ERROR = "data_error"
    BAD_RESPONSE = "bad_response"
    RESPONSE_TOO_LARGE = "response_too_large"
    NOT_FOUND = "not_found"
    NOT_SEARCHABLE = "not_searchable"
    REQUEST_REJECTED = "request_rejected"
    SERVER_ERROR = "server_error"
    INVALID_FIELD = "invalid_field"
    FIELD_MISSING = "field_missing"
    FIELD_NOT_A_NUMBER = "field_not_a_number"
    FIELD_NOT_A_DATE = "field_not_a_date"
    FIELD_WRONG_TYPE = "field_wrong_type"
    QUANTITY_ZERO = "quantity_zero"
    COUNTRY_MISSING = "country_missing"
    RECORD_UNREADABLE = "record_unreadable"


_RETRY = gettext_noop("Nothing to do: koppeling tries again automatically.")
_FIX_IN_SOURCE = gettext_noop("Open the order in the shop, correct it, and koppeling reads it again.")

register(
    {
        ConnectorCode.CONNECTOR_ERROR: (
            gettext_noop("%(system)s answered with an error: %(remote)s"),
            gettext_noop("If this keeps happening, report it with this message."),
        ),
        ConnectorCode.TRANSIENT: (gettext_noop("%(system)s had a temporary problem: %(remote)s"), _RETRY),
        ConnectorCode.TIMEOUT: (gettext_noop("%(system)s did not answer in time (%(operation)s)."), _RETRY),
        ConnectorCode.UNREACHABLE: (
            gettext_noop("%(system)s could not be reached (%(detail)s)."),
            gettext_noop(
                "koppeling keeps trying; check the system's status page, or the connection's address "
                "if this continues."
            ),
        ),
        ConnectorCode.RATE_LIMITED: (
            gettext_noop("%(system)s's limit for this account is reached; the rest waits its turn."),
            gettext_noop("Nothing to do: koppeling continues when the limit allows it."),
        ),
        ConnectorCode.AUTH_FAILED: (
            gettext_noop("%(system)s refused the credentials: %(remote)s"),
            gettext_noop("Enter new credentials for this connection, then resume the link."),
        ),
        ConnectorCode.CREDENTIALS_MISSING: (
            gettext_noop("The %(system)s connection has no %(fields)s."),
            gettext_noop("Enter the missing credentials for this connection, then resume the link."),
        ),
        ConnectorCode.QUOTA_REACHED: (
            gettext_noop("The %(system)s account takes no more documents: %(remote)s"),
            gettext_noop("Raise the account's limit at %(system)s, then resume the link."),
        ),
        ConnectorCode.DATA_ERROR: (
            gettext_noop("%(system)s refused the record: %(remote)s"),
            gettext_noop("Correct what %(system)s names, then press Verwerk."),
        ),
        ConnectorCode.BAD_RESPONSE: (
            gettext_noop("%(system)s answered something koppeling cannot read (%(detail)s)."),
            gettext_noop(
                "Usually a temporary problem at %(system)s; koppeling tries again. If it persists, check "
                "the connection's address."
            ),
        ),
        ConnectorCode.RESPONSE_TOO_LARGE: (
            gettext_noop("%(system)s sent an answer larger than %(limit)s bytes; it was not read."),
            gettext_noop("Check the connection's address; if it is right, report this to %(system)s."),
        ),
        ConnectorCode.NOT_FOUND: (
            gettext_noop("%(system)s does not know %(what)s."),
            gettext_noop("Check that it still exists in %(system)s."),
        ),
        ConnectorCode.NOT_SEARCHABLE: (
            gettext_noop("%(system)s cannot be searched for %(reference)s: no id of the booking was stored."),
            gettext_noop(
                "Look for %(reference)s in %(system)s; if it is there, mark the record as booked, "
                "otherwise push it again."
            ),
        ),
        ConnectorCode.REQUEST_REJECTED: (
            gettext_noop("%(system)s rejected the request (HTTP %(status)s): %(remote)s"),
            gettext_noop("This is a koppeling bug or an API change; report it with this message."),
        ),
        ConnectorCode.SERVER_ERROR: (
            gettext_noop("%(system)s answered HTTP %(status)s: %(remote)s"),
            _RETRY,
        ),
        ConnectorCode.INVALID_FIELD: (
            gettext_noop("Order %(number)s, %(path)s: the value %(value)s cannot be used."),
            _FIX_IN_SOURCE,
        ),
        ConnectorCode.FIELD_MISSING: (gettext_noop("Order %(number)s, %(path)s: missing."), _FIX_IN_SOURCE),
        ConnectorCode.FIELD_NOT_A_NUMBER: (
            gettext_noop("Order %(number)s, %(path)s: %(value)s is not a number."),
            _FIX_IN_SOURCE,
        ),
        ConnectorCode.FIELD_NOT_A_DATE: (
            gettext_noop("Order %(number)s, %(path)s: %(value)s is not a date (YYYY-MM-DD)."),
            _FIX_IN_SOURCE,
        ),
        ConnectorCode.FIELD_WRONG_TYPE: (
            gettext_noop("Order %(number)s, %(path)s: expected %(expected)s, got %(value)s."),
            _FIX_IN_SOURCE,
        ),
        ConnectorCode.QUANTITY_ZERO: (
            gettext_noop("Order %(number)s, %(path)s: the quantity is 0, so no unit price can be derived."),
            _FIX_IN_SOURCE,
        ),
        ConnectorCode.COUNTRY_MISSING: (
            gettext_noop("Order %(number)s, %(path)s: the customer has no country."),
            _FIX_IN_SOURCE,
        ),
        ConnectorCode.RECORD_UNREADABLE: (
            gettext_noop("Order %(number)s, %(path)s: the record could not be read (%(detail)s)."),
            gettext_noop("This is a koppeling fault or an API change; it has been logged."),
        ),
    }
)


class ConnectorError(Exception):
    """A problem with one call or one record, as a code and parameters.

    ``remote`` is text the other side sent (an error body or message); it is kept as the
    ``remote`` parameter, to be redacted by the runtime before it is stored.
    """

    code: str = ConnectorCode.CONNECTOR_ERROR
    retryable: bool = False

    def __init__(
        self,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        status_code: int | None = None,
        remote: str = "",
    ) -> None:
        if code:
            self.code = str(code)
        self.params: dict[str, Any] = dict(params or {})
        if remote:
            self.params["remote"] = remote[:2000]
        self.params.setdefault("remote", "")
        self.status_code = status_code
        super().__init__(self.message)

    @property
    def outcome(self) -> Outcome:
        return Outcome(self.code, self.params)

    @property
    def message(self) -> str:
        """The English text (logs, exceptions); people see the rendered outcome instead."""
        return english(self.outcome)

    @property
    def suggestion(self) -> str:
        return english_suggestion(self.outcome)

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class TransientError(ConnectorError):
    code = ConnectorCode.TRANSIENT
    retryable = True

    def __init__(
        self,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        retry_after: float | None = None,
        maybe_processed: bool | None = None,
        status_code: int | None = None,
        remote: str = "",
    ) -> None:
        super().__init__(code, params, status_code=status_code, remote=remote)
        self.retry_after = retry_after
        self._maybe_processed = maybe_processed

    @property
    def maybe_processed(self) -> bool:
        """Could the other side have acted on the request before it failed?

        A refused connection, a 429 or a 503 means it did not; a read timeout, a dropped
        connection or a 500/502/504 leaves it open — the runtime then looks the document up (or
        asks for review) before it pushes again, never blindly.
        """
        if self._maybe_processed is not None:
            return self._maybe_processed
        return self.status_code not in (429, 503) and self.status_code is not None


class RateLimited(TransientError):
    """The account's limit is reached: wait ``retry_after`` seconds; nothing was sent."""

    code = ConnectorCode.RATE_LIMITED

    def __init__(
        self,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        retry_after: float | None = None,
        status_code: int | None = None,
        remote: str = "",
        limit: str = "",
    ) -> None:
        super().__init__(
            code,
            params,
            retry_after=retry_after,
            maybe_processed=False,
            status_code=status_code,
            remote=remote,
        )
        self.limit = limit


class AuthError(ConnectorError):
    code = ConnectorCode.AUTH_FAILED


class QuotaError(ConnectorError):
    code = ConnectorCode.QUOTA_REACHED


class DataError(ConnectorError):
    code = ConnectorCode.DATA_ERROR


class ResponseError(DataError):
    code = ConnectorCode.BAD_RESPONSE


class NotFound(ConnectorError):
    code = ConnectorCode.NOT_FOUND
