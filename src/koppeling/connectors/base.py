"""The contract between the flow runtime and a connector: capabilities, not roles.

A connector is one external system, reached through one account (``ConnectionConfig``). It
declares what it can do by inheriting small capability interfaces — ``ReadsOrders``,
``WritesInvoices``, ``WritesCreditNotes``, ``ReadsProducts``/``WritesProducts``,
``ReadsStock``/``WritesStock``, ``ReadsCustomers``/``WritesCustomers``, ``WritesBatches`` — so one
system may be a source in one flow and a target in another. Beside its capabilities it states, as
data, the facts the runtime needs:

- ``findable``: how a pushed document is found again after a crash (``Findability``): by our
  reference alone (safe automatic recovery), only by the ids stored from the push answer, or not
  at all (a person reviews);
- ``rate_limits``: the account's limits (``RateLimit``), shared by every worker;
- ``totals_method``: how the system computes totals from lines, so core can make every document
  exact for it;
- ``settings_model``: the target-side settings it needs per flow (ledger accounts, cost centers,
  debtors …), a pydantic model validated with located errors.

Readers yield ``Fetched`` records: the domain object, or the located error that kept it from being
one, so one bad record never hides the good ones beside it.
"""

from __future__ import annotations

import abc
import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

import httpx

from koppeling.core.messages import Outcome
from koppeling.core.models import Invoice, Order, Party
from koppeling.core.products import Product, StockLevel
from koppeling.core.totals import TotalsMethod

from .errors import DataError

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = [
    "CAPABILITY_INTERFACES",
    "BatchDocument",
    "BookedDocument",
    "Capability",
    "ConnectionConfig",
    "Connector",
    "CredentialStore",
    "Fetched",
    "FetchedOrder",
    "Findability",
    "PushResult",
    "RateLimit",
    "ReadsCustomers",
    "ReadsOrders",
    "ReadsProducts",
    "ReadsStock",
    "Status",
    "WritesBatches",
    "WritesCreditNotes",
    "WritesCustomers",
    "WritesInvoices",
    "WritesProducts",
    "WritesStock",
]

T = TypeVar("T")


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
    """An order status of one shop (ids are per shop; the owner picks which to import)."""

    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Fetched(Generic[T]):
    """One record read from a source: the domain ``item``, or the error that kept it from being one.

    ``fingerprint`` is a stable hash of the content that matters to the target (a change of it
    after a push is an edit); ``changed_at`` is the source's change time the cursor follows.
    """

    source_id: str
    item: T | None
    fingerprint: str
    changed_at: dt.datetime | None = None
    error: DataError | None = None
    number: str = ""

    @property
    def order(self) -> T | None:
        """The item of an order reader (kept for readability at call sites)."""
        return self.item


#: an order reader's records
FetchedOrder = Fetched


@dataclass(frozen=True, slots=True)
class PushResult:
    """What a target says it stored; ``target_id`` is what ``find_*`` and ``read_back_*`` accept."""

    target_id: str
    number: str = ""
    token: str = ""
    concept: bool = False
    warnings: tuple[Outcome, ...] = ()
    url: str = ""
    #: booked on a customer the order shares with others (a debtor per payment method, the
    #: default debtor): the read-back's customer is not the order's, and that is no mismatch
    shared_customer: bool = False


@dataclass(frozen=True, slots=True)
class BatchImport:
    """What became of a delivered batch in the target: a file a person still has to import is
    "received"; "imported" with ``problems`` when the import left orders out; "failed" refused."""

    status: str  # "received" | "imported" | "failed"
    #: (order number or "", the target's message) per order the import skipped or refused
    problems: tuple[tuple[str, str], ...] = ()
    imported: int = 0


@dataclass(frozen=True, slots=True)
class BookedDocument:
    """A document read back from the target, for reconciliation."""

    target_id: str
    total_ex: Decimal
    total_inc: Decimal
    customer_email: str = ""
    customer_name: str = ""
    reference_text: str = ""
    currency: str = "EUR"


@dataclass(frozen=True, slots=True)
class BatchDocument:
    """One document holding many invoices (e.g. the daily import file of a period)."""

    reference: str
    period_start: dt.date
    period_end: dt.date
    invoices: tuple[Invoice, ...]

    @property
    def total_inc(self) -> Decimal:
        return sum((invoice.total_inc for invoice in self.invoices), Decimal(0))


class Capability(StrEnum):
    READS_ORDERS = "reads_orders"
    WRITES_INVOICES = "writes_invoices"
    WRITES_CREDIT_NOTES = "writes_credit_notes"
    READS_PRODUCTS = "reads_products"
    WRITES_PRODUCTS = "writes_products"
    READS_STOCK = "reads_stock"
    WRITES_STOCK = "writes_stock"
    READS_CUSTOMERS = "reads_customers"
    WRITES_CUSTOMERS = "writes_customers"
    WRITES_BATCHES = "writes_batches"


class Findability(StrEnum):
    """How a document pushed before a crash is found again (exactly-once recovery)."""

    BY_REFERENCE = "by_reference"  # searchable by our reference alone: recovery is automatic
    BY_STORED_IDS = "by_stored_ids"  # only with the ids the push answer gave: unknown answers need review
    NONE = "none"  # cannot be found again: every uncertain push needs review


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A limit of the account, shared by every worker and link using it.

    ``applies_to`` names the capabilities whose writes consume it (e.g. ``writes_invoices``), or
    ``"*"`` for every request the connector makes.
    """

    name: str
    limit: int
    period_seconds: int
    applies_to: frozenset[str] = frozenset({"*"})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RateLimit:
        """From a connection's ``options["rate_limits"]`` entry (an account's own, stricter limit)."""
        applies = data.get("applies_to") or ["*"]
        return cls(
            name=str(data["name"]),
            limit=int(data["limit"]),
            period_seconds=int(data["period_seconds"]),
            applies_to=frozenset(str(a) for a in applies),
        )


class CredentialStore(Protocol):
    """Where a connection's credentials live (the runtime's: encrypted, one row per connection)."""

    def update(self, change: Callable[[Mapping[str, str]], Mapping[str, str] | None]) -> Mapping[str, str]:
        """Run ``change`` on the stored credentials under a lock; store and return the result."""
        ...


class Connector(abc.ABC):
    """One account at one external system."""

    system: ClassVar[str]
    label: ClassVar[str]
    #: credential keys the connection must hold; shown (masked) in the admin and in apply files
    credential_fields: ClassVar[tuple[str, ...]] = ()
    default_base_url: ClassVar[str] = ""
    findable: ClassVar[Findability] = Findability.NONE
    rate_limits: ClassVar[tuple[RateLimit, ...]] = ()
    #: requests the runtime may keep in flight against one account
    max_in_flight: ClassVar[int] = 4
    totals_method: ClassVar[TotalsMethod] = TotalsMethod.PER_INVOICE
    #: currencies it books invoices in (``"*"``: any, in the order's own); an order in another
    #: currency is converted to euros by core at the ECB rate of its date
    booking_currencies: ClassVar[tuple[str, ...]] = ("EUR",)
    #: what the ledger keeps after delivery unless the flow says otherwise: "standard" (the
    #: contents sent, for read-back and the dashboard) or "minimal" (number, date, batch only)
    default_privacy: ClassVar[str] = "standard"
    #: pydantic model of this system's per-flow target settings (None: it needs none)
    settings_model: ClassVar[type[BaseModel] | None] = None
    #: total deadline of one call (connect, send, whole answer) and the largest answer accepted
    call_deadline_seconds: ClassVar[float] = 60.0
    max_response_bytes: ClassVar[int] = 32 * 1024 * 1024

    def __init__(
        self,
        config: ConnectionConfig,
        http: httpx.Client | None = None,
        *,
        credential_store: CredentialStore | None = None,
    ) -> None:
        self.config = config
        self.http = http or httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))
        self.credential_store = credential_store
        #: seconds since the epoch; the runtime sets its own clock (simulated in tests), which a
        #: connector uses for waits it computes itself (e.g. "until the next clock hour")
        self.clock: Callable[[], float] = time.time

    def update_credentials(
        self, change: Callable[[Mapping[str, str]], Mapping[str, str] | None]
    ) -> Mapping[str, str]:
        """Change the stored credentials atomically (an OAuth token refresh); returns the new ones.

        ``change`` gets the credentials as they are stored *now* (another worker may have refreshed
        them a moment ago) and returns the new ones, or None to keep them. With a store it runs
        under the connection's lock, so two workers never spend the same single-use refresh token;
        without one (tests, the CLI without a database) only this connector's copy changes.
        """
        if self.credential_store is not None:
            current = self.credential_store.update(change)
        else:
            current = change(self.config.credentials) or self.config.credentials
        self.config = ConnectionConfig(
            self.config.system, self.config.base_url, dict(current), self.config.options
        )
        return current

    @abc.abstractmethod
    def check(self) -> None:
        """Prove the credentials work with one cheap call; raise ``AuthError`` if not."""

    def check_rights(self, capabilities: frozenset[Capability]) -> None:
        """Prove the account may do what the flows over it need; raise ``AuthError`` naming the
        first right that is missing. Default: what ``check`` proves is enough."""
        self.check()

    def close(self) -> None:
        self.http.close()

    @classmethod
    def capabilities(cls) -> frozenset[Capability]:
        return frozenset(
            cap for cap, interface in CAPABILITY_INTERFACES.items() if issubclass(cls, interface)
        )

    def account_key(self) -> str:
        """Who the account is, for limits shared across connections to the same account.

        Default: the base URL and the first credential field (a login name, contract code or key),
        hashed so no credential ends up in a bucket name.
        """
        first = self.credential_fields[0] if self.credential_fields else ""
        raw = f"{self.system}|{self.config.base_url.rstrip('/')}|{self.config.credentials.get(first, '')}"
        return hashlib.sha256(raw.encode()).hexdigest()[:20]

    def limits(self) -> tuple[RateLimit, ...]:
        """The declared limits plus any the connection's options add (an account's own limit)."""
        extra = tuple(RateLimit.from_dict(d) for d in (self.config.options or {}).get("rate_limits", ()))
        return self.rate_limits + extra

    def secrets(self) -> list[str]:
        """Values that must never be stored or shown (redacted from every remote text)."""
        return [str(v) for v in self.config.credentials.values() if v]


# -- capabilities -----------------------------------------------------------------------------------


class ReadsOrders(abc.ABC):
    #: whether ``fetch_changed`` yields records in ``changed_at`` order; when False the runtime moves
    #: the cursor only once a whole fetch completed (paging by number would otherwise skip orders)
    cursor_ordered: ClassVar[bool] = False
    #: whether ``fetch_changed`` also takes ``after_id``: only records after ``(since, after_id)``
    #: in its order (a fetch cut off by a limit resumes exactly there, reading nothing twice)
    resumes_after_id: ClassVar[bool] = False

    @abc.abstractmethod
    def statuses(self) -> list[Status]:
        """The shop's own order statuses (ids are per shop; the owner maps them)."""

    @abc.abstractmethod
    def fetch_changed(
        self, since: dt.datetime | None, *, until: dt.datetime | None = None
    ) -> Iterator[Fetched[Order]]:
        """Orders changed at or after ``since`` (closed start) and before ``until`` (open end)."""

    @abc.abstractmethod
    def fetch_created(self, start: dt.date, end: dt.date | None = None) -> Iterator[Fetched[Order]]:
        """Orders placed in a date range (both inclusive): backfills and migrations."""

    @abc.abstractmethod
    def fetch_one(self, source_id: str) -> Fetched[Order]:
        """One order by id; raises ``NotFound`` if the shop does not know it."""


class WritesInvoices(abc.ABC):
    @abc.abstractmethod
    def push_invoice(self, invoice: Invoice, settings: Any = None) -> PushResult:
        """Book one invoice. Raises the taxonomy in ``errors``; never returns half a result."""

    @abc.abstractmethod
    def find_invoice(self, reference: str, known: PushResult | None = None) -> PushResult | None:
        """An earlier booking: by ``reference`` where ``findable`` allows, else by ``known`` ids."""

    @abc.abstractmethod
    def read_back_invoice(self, target_id: str) -> BookedDocument:
        """A booking as the target holds it, for reconciliation."""


class WritesCreditNotes(abc.ABC):
    @abc.abstractmethod
    def push_credit_note(self, note: Invoice, settings: Any = None) -> PushResult:
        """Book a credit note (negative amounts, ``note.credits`` names the invoice it credits)."""

    def find_credit_note(self, reference: str, known: PushResult | None = None) -> PushResult | None:
        return self.find_invoice(reference, known)  # type: ignore[attr-defined]

    def read_back_credit_note(self, target_id: str) -> BookedDocument:
        return self.read_back_invoice(target_id)  # type: ignore[attr-defined]


class ReadsProducts(abc.ABC):
    product_cursor_ordered: ClassVar[bool] = False

    @abc.abstractmethod
    def fetch_products_changed(
        self, since: dt.datetime | None, *, until: dt.datetime | None = None
    ) -> Iterator[Fetched[Product]]:
        """Articles changed in ``[since, until)``."""

    @abc.abstractmethod
    def fetch_product(self, source_id: str) -> Fetched[Product]:
        """One article by id; ``NotFound`` if it does not exist."""


class WritesProducts(abc.ABC):
    @abc.abstractmethod
    def find_product(self, product: Product) -> PushResult | None:
        """The target's article with this SKU (or EAN), if it exists."""

    @abc.abstractmethod
    def create_product(self, product: Product, settings: Any = None) -> PushResult:
        """Create the article with every field."""

    @abc.abstractmethod
    def update_product(
        self, target_id: str, product: Product, fields: frozenset[str], settings: Any = None
    ) -> PushResult:
        """Update only ``fields`` of an existing article (protected fields are left out)."""


class ReadsStock(abc.ABC):
    @abc.abstractmethod
    def fetch_stock(
        self, since: dt.datetime | None = None, *, until: dt.datetime | None = None
    ) -> Iterator[Fetched[StockLevel]]:
        """Stock levels (changed in ``[since, until)`` where the source can tell, else all)."""

    @abc.abstractmethod
    def fetch_stock_level(self, sku: str) -> Fetched[StockLevel]:
        """The stock of one article."""


class WritesStock(abc.ABC):
    @abc.abstractmethod
    def set_stock(self, level: StockLevel, quantity: Decimal, settings: Any = None) -> PushResult:
        """Set the article's stock to ``quantity`` (absolute, so a repeat is harmless); ``level``
        says whether it is managed at all."""


class ReadsCustomers(abc.ABC):
    @abc.abstractmethod
    def fetch_customers_changed(
        self, since: dt.datetime | None, *, until: dt.datetime | None = None
    ) -> Iterator[Fetched[Party]]:
        """Customers created or changed in ``[since, until)``."""

    @abc.abstractmethod
    def fetch_customer(self, source_id: str) -> Fetched[Party]:
        """One customer by id; ``NotFound`` if it does not exist."""


class WritesCustomers(abc.ABC):
    @abc.abstractmethod
    def find_customer(self, customer: Party) -> PushResult | None:
        """The target's customer with this e-mail address, if any."""

    @abc.abstractmethod
    def create_customer(self, customer: Party, settings: Any = None) -> PushResult:
        """Create the customer (a company debtor with a contact when ``company`` is set)."""

    @abc.abstractmethod
    def update_customer(self, target_id: str, customer: Party, settings: Any = None) -> PushResult:
        """Update the customer's data."""


class WritesBatches(abc.ABC):
    """A target that takes one document per period (e.g. a daily import file)."""

    @abc.abstractmethod
    def push_batch(self, batch: BatchDocument, settings: Any = None) -> PushResult:
        """Deliver the batch. Delivering the same ``batch.reference`` again must not duplicate it."""

    @abc.abstractmethod
    def find_batch(self, reference: str, known: PushResult | None = None) -> PushResult | None:
        """A batch delivered before, by its reference."""

    def batch_import(self, reference: str, known: PushResult | None = None) -> BatchImport | None:
        """What became of a delivered batch (imported? orders refused?); None when the target
        cannot tell — the runtime then only knows it was delivered."""
        return None

    def check_batch_member(self, invoice: Invoice, settings: Any = None) -> None:
        """Raise a ``DataError`` naming it when one invoice cannot go into a batch (the runtime
        then leaves that one out, with the reason, instead of failing the whole batch)."""
        return None  # every invoice fits, unless the target says otherwise


CAPABILITY_INTERFACES: dict[Capability, type] = {
    Capability.READS_ORDERS: ReadsOrders,
    Capability.WRITES_INVOICES: WritesInvoices,
    Capability.WRITES_CREDIT_NOTES: WritesCreditNotes,
    Capability.READS_PRODUCTS: ReadsProducts,
    Capability.WRITES_PRODUCTS: WritesProducts,
    Capability.READS_STOCK: ReadsStock,
    Capability.WRITES_STOCK: WritesStock,
    Capability.READS_CUSTOMERS: ReadsCustomers,
    Capability.WRITES_CUSTOMERS: WritesCustomers,
    Capability.WRITES_BATCHES: WritesBatches,
}
