"""Asperion as a koppeling batch target: the day's orders as one aXML file for "Import orders (xml)".

Seed 002: paid orders become **Concept** invoices through one XML file a day that the licence
code "places in the merchant's Asperion environment"; the merchant imports it there (Extra >
Im-/Export Basis > Import orders (xml) > Webwinkelfacturen.nl > Synchroniseren). How the file gets
there is a partner arrangement with no public description [I]; this connector delivers to the drop
the research settled on and the simulator imitates::

    PUT {address}/import/orders/{licence_code}/{file}.xml   (the XML)    201 / 200 / 409 / 422 / 413
    GET {address}/import/orders/{licence_code}/{file}.xml   (its status)  200 / 404

Exactly once: the file name is a function of the batch reference (``convert.file_name``), so the
same batch always lands under the same name; ``push_batch`` first looks the name up and never
uploads a batch that is already there, and the bytes themselves are deterministic (``CreatedAt``
is the end of the batch period), so even a repeated upload is the same file. A lost answer is
resolved by ``find_batch`` (``Findability.BY_REFERENCE``). Whether Asperion's import skips an
order number it imported before is unknown [I]: koppeling puts each order in exactly one batch.

The licence code is the only credential; it travels in the drop's path, so no URL ever goes into
an error parameter (operations are written ``PUT import/orders/***/<file>``). A wrong licence code
cannot be detected [V seed]: ``check`` can only refuse one that has no licence code's form.

The second delivery mode, concept sales invoices one by one over the REST API
(``POST /v1/salesinvoiceswithlines``, OAuth2), is ``rest.AsperionRestTarget`` (system
``asperion_rest``): a link chooses it with an ``orders_to_invoices`` flow into such a connection —
see docs/connectors/asperion.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any, ClassVar, NoReturn
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from koppeling.core.messages import Outcome
from koppeling.core.totals import TotalsMethod

from ..base import (
    BatchDocument,
    BatchImport,
    ConnectionConfig,
    Connector,
    Findability,
    PushResult,
    WritesBatches,
)
from ..errors import (
    AuthError,
    ConnectorCode,
    ConnectorError,
    DataError,
    RateLimited,
    ResponseError,
    TransientError,
)
from ..http import ResponseTooLarge, parse_retry_after
from ..registry import register
from .convert import SYSTEM, AsperionCode, AsperionSettings, batch_file, file_name, to_axml_order

__all__ = ["AsperionSettings", "AsperionTarget", "file_name"]

#: a licence code must be usable as one path segment [I: the real format is unpublished]
_LICENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{3,63}")


def _params(**extra: Any) -> dict[str, Any]:
    return {"system": SYSTEM, **extra}


def _remote(response: httpx.Response) -> tuple[str, dict[str, Any]]:
    """(text, body) of a problem+json answer (``title``/``detail``, ``errors``, ``line``)."""
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase, {}
    if not isinstance(body, dict):
        return str(body)[:300], {}
    text = ": ".join(str(body[k]) for k in ("title", "detail") if body.get(k)) or response.reason_phrase
    return text, body


def raise_refused(response: httpx.Response, operation: str, text: str) -> NoReturn:
    """The error for a non-2xx answer of Asperion (its drop and its REST API answer alike):
    refused credentials, its limit, a passing server fault, or a refusal of the request."""
    status = response.status_code
    if status in (401, 403):
        raise AuthError(ConnectorCode.AUTH_FAILED, _params(), status_code=status, remote=text)
    if status == 429:
        retry = parse_retry_after(response.headers.get("Retry-After"))
        raise RateLimited(
            params=_params(operation=operation), retry_after=retry, status_code=status, remote=text
        )
    if status >= 500 or status == 408:
        retry = parse_retry_after(response.headers.get("Retry-After"))
        raise TransientError(
            ConnectorCode.SERVER_ERROR,
            _params(status=status, operation=operation),
            retry_after=retry,
            status_code=status,
            remote=text,
        )
    raise ConnectorError(
        ConnectorCode.REQUEST_REJECTED, _params(status=status), status_code=status, remote=text
    )


@register
class AsperionTarget(Connector, WritesBatches):
    """Delivers a flow's daily batch to Asperion as one aXML file (Concept invoices).

    Per-flow choices (payment methods -> betaalwijzen, VAT rates -> hoog/laag/nul) are
    ``AsperionSettings``. The connection's address is the file drop (there is no public default).
    """

    system: ClassVar[str] = "asperion"
    label: ClassVar[str] = "Asperion"
    credential_fields: ClassVar[tuple[str, ...]] = ("licence_code",)
    default_base_url: ClassVar[str] = ""  # the drop's address is a partner arrangement [I]
    findable: ClassVar[Findability] = Findability.BY_REFERENCE  # the file name follows from the reference
    #: the import books each line's excl. amount and VAT as the file states them [I; simulator does]
    totals_method: ClassVar[TotalsMethod] = TotalsMethod.AS_SENT
    #: seed 002: "data in flight only" — after the day's file only number, date and batch stay
    default_privacy: ClassVar[str] = "minimal"
    settings_model: ClassVar[type[BaseModel]] = AsperionSettings
    max_in_flight: ClassVar[int] = 1  # one file a day; no rate limit is published [I]

    def __init__(self, config: ConnectionConfig, http: httpx.Client | None = None, **kwargs: Any) -> None:
        super().__init__(config, http, **kwargs)
        self.base_url = (config.base_url or self.default_base_url).rstrip("/")

    # ------------------------------------------------------------ the drop

    def _licence(self) -> str:
        code = str(self.config.credentials.get("licence_code") or "").strip()
        if not code:
            raise AuthError(ConnectorCode.CREDENTIALS_MISSING, _params(fields="licence_code"))
        if not _LICENCE.fullmatch(code):
            detail = "4 to 64 letters, digits, '.', '_' or '-'"
            raise AuthError(AsperionCode.LICENCE_MALFORMED, _params(detail=detail))
        if not self.base_url:
            raise AuthError(AsperionCode.NO_DROP_ADDRESS, _params())
        return code

    def _call(
        self, method: str, name: str | None, content: bytes | None = None
    ) -> tuple[httpx.Response, str]:
        """One request to the drop; transport failures become the taxonomy (a PUT may have arrived)."""
        licence = self._licence()
        path = f"import/orders/{quote(licence, safe='')}" + (f"/{name}" if name else "")
        operation = f"{method} import/orders/***" + (f"/{name}" if name else "")
        writes = method == "PUT"
        headers = {"Content-Type": "application/xml"} if writes else {}
        try:
            response = self.http.request(method, f"{self.base_url}/{path}", content=content, headers=headers)
        except httpx.TimeoutException as exc:
            raise TransientError(
                ConnectorCode.TIMEOUT,
                _params(operation=operation, detail=type(exc).__name__),
                maybe_processed=writes,
            ) from None
        except ResponseTooLarge as exc:
            raise ResponseError(ConnectorCode.RESPONSE_TOO_LARGE, _params(limit=exc.cap)) from None
        except httpx.TransportError as exc:
            arrived = writes and not isinstance(exc, httpx.ConnectError)
            raise TransientError(
                ConnectorCode.UNREACHABLE,
                _params(operation=operation, detail=type(exc).__name__),
                maybe_processed=arrived,
            ) from None
        return response, operation

    def _refused(self, response: httpx.Response, operation: str) -> None:
        """Raise for an answer that is not 2xx (the statuses every drop call shares)."""
        raise_refused(response, operation, _remote(response)[0])

    @staticmethod
    def _stored(response: httpx.Response, operation: str) -> dict[str, Any]:
        try:
            body = json.loads(response.content)
        except ValueError:
            raise ResponseError(params=_params(detail=f"{operation}: not JSON")) from None
        if not isinstance(body, dict) or not isinstance(body.get("file"), str):
            raise ResponseError(params=_params(detail=f"{operation}: no file status"))
        return body

    @staticmethod
    def _result(body: dict[str, Any], warnings: tuple[Outcome, ...] = ()) -> PushResult:
        name = str(body["file"])
        return PushResult(
            name, number=name, token=str(body.get("sha256") or ""), concept=True, warnings=warnings
        )

    def _lookup(self, name: str) -> PushResult | None:
        """The delivered file ``name``, or None when the drop has none by that name."""
        response, operation = self._call("GET", name)
        if response.status_code == 404:
            return None
        if not response.is_success:
            self._refused(response, operation)
        return self._result(self._stored(response, operation))

    # ------------------------------------------------------------ the connector

    def check(self) -> None:
        """The licence code's form and the drop's listing for it (any well-formed code is accepted:
        Asperion's knowing it cannot be checked [V seed])."""
        response, operation = self._call("GET", None)
        if response.status_code == 404:
            text, _ = _remote(response)
            raise AuthError(AsperionCode.DROP_NOT_FOUND, _params(operation=operation), remote=text)
        if not response.is_success:
            self._refused(response, operation)

    def check_invoice(self, invoice: Any, settings: AsperionSettings | None = None) -> None:
        """Whether one invoice can go into the file; a ``DataError`` naming it when not (for a
        runtime that checks batch members one by one before it forms the batch)."""
        if not isinstance(settings, AsperionSettings):
            settings = AsperionSettings.model_validate(settings or {})
        to_axml_order(invoice, settings)

    check_batch_member = check_invoice

    def build_file(self, batch: BatchDocument, settings: Any = None) -> bytes:
        """The batch's file, deterministic for the same batch (also for a manual "Inlezen")."""
        created = dt.datetime.combine(batch.period_end, dt.time(23, 59, 59), tzinfo=dt.UTC)
        if not isinstance(settings, AsperionSettings):
            settings = AsperionSettings.model_validate(settings or {})
        return batch_file(
            tuple(batch.invoices),
            settings,
            licence_code=self._licence(),
            created_at=created,
        )

    def push_batch(self, batch: BatchDocument, settings: Any = None) -> PushResult:
        """Deliver the day's file once: looked up first, uploaded only when the drop has none."""
        data = self.build_file(batch, settings)
        digest = hashlib.sha256(data).hexdigest()
        name = file_name(batch.reference)
        existing = self._lookup(name)
        if existing is not None:
            warnings = (
                () if existing.token in ("", digest) else (Outcome(AsperionCode.FILE_KEPT, {"file": name}),)
            )
            return PushResult(existing.target_id, existing.number, existing.token, True, warnings)
        response, operation = self._call("PUT", name, data)
        status = response.status_code
        if status == 409:  # imported under that name meanwhile: it is there, never a second file
            found = self._lookup(name)
            if found is not None:
                return PushResult(
                    found.target_id,
                    found.number,
                    found.token,
                    True,
                    (Outcome(AsperionCode.FILE_KEPT, {"file": name}),),
                )
        if status == 422:
            text, body = _remote(response)
            location = next(iter(body.get("errors") or {"file": ""}))
            raise DataError(
                AsperionCode.FILE_REJECTED,
                _params(file=name, location=location, line=body.get("line") or "?"),
                status_code=status,
                remote=text,
            )
        if status == 413:
            raise DataError(
                AsperionCode.FILE_TOO_LARGE, _params(file=name, size=len(data)), status_code=status
            )
        if status == 404:
            text, _ = _remote(response)
            raise AuthError(
                AsperionCode.DROP_NOT_FOUND, _params(operation=operation), status_code=status, remote=text
            )
        if not response.is_success:
            self._refused(response, operation)
        return self._confirmed(response, operation, name, digest)

    def _confirmed(self, response: httpx.Response, operation: str, name: str, digest: str) -> PushResult:
        """The upload's answer, checked: an unreadable one is resolved by looking the file up."""
        try:
            body = self._stored(response, operation)
        except ResponseError:
            found = self._lookup(name)
            if found is None:
                raise TransientError(
                    ConnectorCode.BAD_RESPONSE,
                    _params(detail=f"{operation}: unreadable answer"),
                    maybe_processed=True,
                ) from None
            body = {"file": found.target_id, "sha256": found.token}
        if body.get("sha256") not in (None, "", digest):
            raise DataError(AsperionCode.FILE_DIFFERS, _params(file=name))
        return self._result({**body, "file": name, "sha256": digest})

    def batch_import(self, reference: str, known: PushResult | None = None) -> BatchImport | None:
        """The drop's status of the file and its import report (``GET …/{file}.xml``): received
        (not imported yet), imported (with the orders it skipped or refused), or failed."""
        name = known.target_id if known is not None and known.target_id.endswith(".xml") else None
        response, operation = self._call("GET", name or file_name(reference))
        if response.status_code == 404:
            return None
        if not response.is_success:
            self._refused(response, operation)
        body = self._stored(response, operation)
        report = body.get("report") or {}
        problems = [(str(s.get("order", "")), str(s.get("reason", ""))) for s in report.get("skipped", [])]
        problems += [(str(e.get("order", "")), str(e.get("message", ""))) for e in report.get("errors", [])]
        status = str(body.get("status") or "received")
        return BatchImport(status, tuple(problems), len(report.get("imported", [])))

    def find_batch(self, reference: str, known: PushResult | None = None) -> PushResult | None:
        """The file delivered for ``reference`` (by its name; a stored file name is tried first)."""
        names = [file_name(reference)]
        if known is not None and known.target_id.endswith(".xml") and known.target_id not in names:
            names.insert(0, known.target_id)
        for name in names:
            found = self._lookup(name)
            if found is not None:
                return found
        return None
