"""The interfaces between the engine and a connector.

A source yields orders (``FetchedOrder``, possibly carrying a located error instead of an order,
so one bad record never hides the good ones beside it). A target books invoices and can, where
its API allows, find a booking again by reference — the engine's crash recovery depends on it.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from koppeling.core.models import Invoice, Order

from .errors import DataError


@dataclass(frozen=True, slots=True)
class ConnectionConfig:
    """Everything a connector needs to reach one account: configuration only, no code paths.

    ``base_url`` may point at the real API, a simulator or any stand-in.
    """

    system: str
    base_url: str
    credentials: Mapping[str, str]
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Status:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class FetchedOrder:
    """One record from a source page: an order, or the error that kept it from being one."""

    source_id: str
    order: Order | None
    fingerprint: str  # stable hash of the booking-relevant content
    changed_at: dt.datetime | None = None
    error: DataError | None = None
    number: str = ""


@dataclass(frozen=True, slots=True)
class PushResult:
    """What a target says it booked; ``target_id`` is what ``lookup`` and ``read_back`` accept."""

    target_id: str
    number: str = ""
    token: str = ""
    concept: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BookedDocument:
    """A booking read back from the target, for reconciliation."""

    target_id: str
    total_ex: Any  # Decimal
    total_inc: Any  # Decimal
    customer_email: str = ""
    customer_name: str = ""
    reference_text: str = ""


class Connector(abc.ABC):
    system: ClassVar[str]
    label: ClassVar[str]
    #: credential keys the connection must hold; shown (masked) in the admin and in apply files
    credential_fields: ClassVar[tuple[str, ...]] = ()
    default_base_url: ClassVar[str] = ""

    def __init__(self, config: ConnectionConfig, http: httpx.Client | None = None) -> None:
        self.config = config
        self.http = http or httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))

    @abc.abstractmethod
    def check(self) -> None:
        """Prove the credentials work with one cheap call; raise ``AuthError`` if not."""

    def close(self) -> None:
        self.http.close()


class SourceConnector(Connector):
    @abc.abstractmethod
    def statuses(self) -> list[Status]:
        """The shop's own order statuses (ids are per shop; the owner maps them)."""

    @abc.abstractmethod
    def fetch_changed(
        self, since: dt.datetime | None, *, until: dt.datetime | None = None
    ) -> Iterator[FetchedOrder]:
        """Orders whose status changed at or after ``since`` (closed start), oldest first."""

    @abc.abstractmethod
    def fetch_created(self, start: dt.date, end: dt.date | None = None) -> Iterator[FetchedOrder]:
        """Orders placed in a date range: for sweeps and backfills."""

    @abc.abstractmethod
    def fetch_one(self, source_id: str) -> FetchedOrder:
        """One order by id; raises ``NotFound`` if the shop does not know it."""


class TargetConnector(Connector):
    #: requests the engine may keep in flight against one account
    max_in_flight: ClassVar[int] = 4
    #: whether ``lookup`` can find a booking by our reference alone (crash recovery without review)
    searchable_by_reference: ClassVar[bool] = False

    @abc.abstractmethod
    def push_invoice(self, invoice: Invoice) -> PushResult:
        """Book one invoice. Raises the taxonomy in ``errors``; never returns half a result."""

    @abc.abstractmethod
    def lookup(self, reference: str, known: PushResult | None = None) -> PushResult | None:
        """Find an earlier booking, by ``reference`` where searchable, else by ``known`` ids."""

    @abc.abstractmethod
    def read_back(self, target_id: str) -> BookedDocument:
        """Read a booking back for reconciliation."""
