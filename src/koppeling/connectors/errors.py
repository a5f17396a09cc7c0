"""The error taxonomy every connector speaks (singer-sdk/dlt style).

The engine decides what to do from the class alone:
- ``TransientError``: retry later with backoff (timeouts, 5xx, 429; honours ``retry_after``).
- ``AuthError``: credentials refused — pause the link, alert once, touch no record.
- ``QuotaError``: the account may take no more (e.g. Acumulus trial cap) — pause and alert once.
- ``DataError``: this one record cannot go — record the reason, go on with the others.
- ``ResponseError``: the other side answered something we cannot read; treated per record like
  a data error, but says it is their answer, not the order, that is wrong.
Every error has a stable ``code`` (filterable in the dashboard), a plain ``message`` and a
``suggestion`` that says what to do.
"""

from __future__ import annotations


class ConnectorError(Exception):
    code: str = "connector_error"
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        suggestion: str = "",
        status_code: int | None = None,
        response_excerpt: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.suggestion = suggestion
        self.status_code = status_code
        self.response_excerpt = response_excerpt[:2000]

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class TransientError(ConnectorError):
    code = "transient"
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        maybe_processed: bool | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after
        self._maybe_processed = maybe_processed

    @property
    def maybe_processed(self) -> bool:
        """Could the other side have acted on the request before it failed?

        A refused connection, a 429 or a 503 means it did not; a read timeout, a dropped
        connection or a 500/502/504 leaves it open — the engine then looks the booking up (or asks
        for review) before it pushes again, never blindly.
        """
        if self._maybe_processed is not None:
            return self._maybe_processed
        return self.status_code not in (429, 503) and self.status_code is not None


class AuthError(ConnectorError):
    code = "auth_failed"


class QuotaError(ConnectorError):
    code = "quota_reached"


class DataError(ConnectorError):
    code = "data_error"


class ResponseError(DataError):
    code = "bad_response"


class NotFound(ConnectorError):
    code = "not_found"
