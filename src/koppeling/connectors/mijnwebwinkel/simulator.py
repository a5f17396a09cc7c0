"""A faithful local imitation of the Mijnwebwinkel (MyOnlineStore Connect) API, as a WSGI app.

Implements, per the official OpenAPI description (``openapi.yaml`` beside this file, commit
f5fb115e): ``GET /v{version}/orders`` (all documented filters), ``GET /v{version}/orders/count``,
``GET|PATCH /v{version}/orders/{order_number}``, ``GET /v{version}/orderstatuses`` (partner token
only) and ``GET /v{version}/store``. Auth by the ``partner_token`` and ``token`` query parameters.
What the spec does not say (error statuses for bad tokens, the shipping-cost orderline, the
status list, test-order numbering) is inferred; ``docs/connectors/mijnwebwinkel.md`` lists each.

Usage::

    sim = MijnwebwinkelSimulator()
    sim.seed(250)
    http = httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi), base_url="http://sim")

Knobs: ``latency`` (seconds slept per request), ``fail_next(status, times, retry_after, body)``,
``malform_next(kind)`` (``not_json``, ``truncated``, ``wrong_shape``, ``empty_body``,
``bad_record``), ``random_faults(rate)`` (a share of all requests fail at random: 5xx, 429,
timeouts, drips, dropped connections), ``revoke_token()`` / ``rotate_token()``,
``rate_limit=(requests, seconds)``, ``request_count`` and ``requests_by_path``.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import random
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from ..simfaults import RandomFaults

__all__ = ["DEFAULT_STATUSES", "MALFORM_KINDS", "MijnwebwinkelSimulator"]

_AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_CENT = Decimal("0.01")
_MICRO = Decimal("0.000001")
_HUNDRED = Decimal(100)

#: (id, nl_NL description, English description, credit_order). Ids 1/2/3/6 are seen in public
#: client code, 1 = "Order Pending" and 10 (a credit status) in the spec's examples; the rest and
#: all Dutch labels are inferred. Real shops have their own list (GET /v1/orderstatuses).
DEFAULT_STATUSES: tuple[tuple[int, str, str, bool], ...] = (
    (1, "In behandeling", "Order Pending", False),
    (2, "Verzonden", "Shipped", False),
    (3, "Betaald", "Paid", False),
    (4, "Geannuleerd", "Cancelled", False),
    (6, "Betaald en afgehaald", "Paid and collected", False),
    (7, "Betaald en verzonden", "Paid and shipped", False),
    (10, "Gecrediteerd", "Credited", True),
)

MALFORM_KINDS = frozenset({"not_json", "truncated", "wrong_shape", "empty_body", "bad_record"})

_LANGUAGES = frozenset(
    "nl_NL en_GB de_DE fr_FR es_ES en_US pt_PT it_IT da_DK sv_SE no_NO tr_TR pl_PL".split()
)
_VERSIONS = frozenset({"1", "2-beta"})
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})

# payment method -> (gateway, fee incl. VAT charged by the demo shop or None)
_METHODS: dict[str, tuple[str, Decimal | None]] = {
    "ideal": ("mollie", None),
    "bank_transfer": ("basic", None),
    "paypal": ("paypal", Decimal("0.45")),
    "creditcard": ("mollie", Decimal("0.95")),
    "bancontact": ("mollie", Decimal("0.29")),
}
_METHOD_WEIGHTS = {
    "NL": (("ideal", 55), ("bank_transfer", 15), ("paypal", 18), ("creditcard", 12)),
    "BE": (("bancontact", 50), ("ideal", 10), ("paypal", 20), ("creditcard", 10), ("bank_transfer", 10)),
    "DE": (("paypal", 45), ("creditcard", 25), ("bank_transfer", 30)),
}
_PAYMENT_STATUS_IDS = {
    "captured": (1, "Successful"),
    "authorized": (1, "Successful"),
    "pending": (5, "Pending"),
    "new": (0, "Unknown"),
    "voided": (2, "Cancelled"),
    "failed": (3, "Failed"),
    "refunded": (7, "Refunded"),
}
_COUNTRIES = {"NL": ("nl_NL", "Nederland"), "BE": ("fr_BE", "België"), "DE": ("de_DE", "Duitsland")}
_PRODUCTS: tuple[tuple[str, str, int], ...] = (
    # description, price incl. VAT (NL), VAT rate
    ("Katoenen T-shirt", "19.95", 21),
    ("Wollen sjaal", "34.50", 21),
    ("Keramieken mok", "12.95", 21),
    ("Notitieboek A5", "8.49", 21),
    ("Vulpen staal", "27.00", 21),
    ("Canvas tas", "14.99", 21),
    ("Geurkaars vijg", "22.50", 21),
    ("Theedoek linnen", "9.95", 21),
    ("Houten snijplank", "39.00", 21),
    ("Fietsbel retro", "11.25", 21),
    ("Koptelefoon", "79.95", 21),
    ("USB-C kabel 2m", "9.99", 21),
    ("Biologische koffie 500g", "8.95", 9),
    ("Losse thee rooibos", "6.50", 9),
    ("Chocoladereep puur", "3.49", 9),
    ("Honing 450g", "7.95", 9),
    ("Kookboek Nederlands", "29.99", 9),
    ("Roman paperback", "22.99", 9),
    ("Olijfolie extra vierge", "13.75", 9),
    ("Stroopwafels 8st", "4.25", 9),
)
_STATUS_WEIGHTS = ((1, 15), (3, 33), (2, 10), (7, 27), (6, 5), (4, 5))


def _cumulative(pairs: tuple[tuple[Any, int], ...]) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    """(population, cum_weights) for ``random.choices``."""
    values = tuple(value for value, _ in pairs)
    running, cum = 0, []
    for _, weight in pairs:
        running += weight
        cum.append(running)
    return values, tuple(cum)


_STATUS_CUM = _cumulative(_STATUS_WEIGHTS)
_METHOD_CUM = {country: _cumulative(pairs) for country, pairs in _METHOD_WEIGHTS.items()}


def _now_local() -> dt.datetime:
    return dt.datetime.now(_AMSTERDAM).replace(tzinfo=None, microsecond=0)


def _m6(value: Decimal) -> str:
    return f"{value:.6f}"


def _m2(value: Decimal) -> str:
    return f"{value.quantize(_CENT, rounding=ROUND_HALF_UP):.2f}"


def _rate(value: Decimal) -> str:
    return f"{value:.2f}"


def _ex(inc: Decimal, rate: Decimal) -> Decimal:
    return (inc * _HUNDRED / (_HUNDRED + rate)).quantize(_MICRO, rounding=ROUND_HALF_UP)


def _error(code: int, description: str, message: str | None = None) -> dict[str, Any]:
    """The spec's ``Error`` schema: ``{code, message, description}``."""
    return {"code": code, "message": message or _REASONS.get(code, "Error"), "description": description}


class _HttpError(Exception):
    def __init__(self, status: int, description: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(description)
        self.status = status
        self.body = _error(status, description)
        self.headers = list(headers)


@dataclass(slots=True)
class _Entry:
    number: int  # sort key; test orders share the sequence
    record: dict[str, Any]
    test: bool = False
    json: bytes | None = None

    def encoded(self) -> bytes:
        if self.json is None:
            self.json = json.dumps(self.record, ensure_ascii=False, separators=(",", ":")).encode()
        return self.json


@dataclass(frozen=True, slots=True)
class _Customer:
    name: str
    company: str
    street: str
    number: str
    zipcode: str
    city: str
    phone: str
    email: str
    vat: str
    gender: str


# ---------------------------------------------------------------- seeded data helpers


def _nl_vat(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(0, 9) for _ in range(8)]
        digits[0] = rng.randint(1, 9)
        check = sum(d * (9 - i) for i, d in enumerate(digits)) % 11
        if check < 10:
            return "NL" + "".join(map(str, digits)) + str(check) + "B01"


def _be_vat(rng: random.Random) -> str:
    base = rng.randint(2_000_000, 19_999_999)  # 8 digits with a leading 0 or 1
    return f"BE{base:08d}{97 - base % 97:02d}"


def _de_vat(rng: random.Random) -> str:
    from stdnum.iso7064 import mod_11_10

    body = str(rng.randint(10_000_000, 99_999_999))
    return "DE" + body + mod_11_10.calc_check_digit(body)


_VAT_MAKERS = {"NL": _nl_vat, "BE": _be_vat, "DE": _de_vat}


@functools.lru_cache(maxsize=16)
def _customer_pool(country: str, seed: int, size: int) -> tuple[_Customer, ...]:
    from faker import Faker

    locale = _COUNTRIES[country][0]
    fake = Faker(locale)
    fake.seed_instance(seed)
    rng = random.Random(f"{seed}-{country}")
    pool = []
    for _ in range(size):
        female = rng.random() < 0.5
        first = fake.first_name_female() if female else fake.first_name_male()
        last = fake.last_name()
        company = fake.company() if rng.random() < 0.25 else ""
        local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        local = local.encode("ascii", "ignore").decode() or "klant"
        domain = fake.free_email_domain() if not company else fake.domain_name()
        pool.append(
            _Customer(
                name=f"{first} {last}",
                company=company,
                street=fake.street_name(),
                number=str(fake.building_number()),
                zipcode=fake.postcode(),
                city=fake.city(),
                phone=fake.phone_number(),
                email=f"{local}{rng.randint(1, 999)}@{domain}",
                vat=_VAT_MAKERS[country](rng) if company else "",
                gender="V" if female else "M",
            )
        )
    return tuple(pool)


def _price_part(inc: Decimal, rate: Decimal, quantity: int = 1) -> tuple[dict[str, str], Decimal, Decimal]:
    """A line's TaxPrice for ``quantity`` units of ``inc`` (unit price incl. VAT)."""
    unit_ex = _ex(inc, rate)
    line_ex = unit_ex * quantity
    line_inc = inc * quantity
    return (
        {"amount": _m6(line_ex), "amount_including_tax": _m2(line_inc), "rate": _rate(rate)},
        line_ex,
        line_inc,
    )


def _split_costs(amount_inc: Decimal, weights: Mapping[Decimal, Decimal]) -> list[tuple[Decimal, Decimal]]:
    """Spread a cost (incl. VAT) over the VAT rates of the goods, in proportion to their value."""
    total = sum(weights.values())
    rates = sorted(weights)
    if len(rates) == 1 or total == 0:
        return [(rates[0] if rates else Decimal(21), amount_inc)]
    parts = []
    left = amount_inc
    for rate in rates[:-1]:
        share = (amount_inc * weights[rate] / total).quantize(_CENT, rounding=ROUND_HALF_UP)
        parts.append((rate, share))
        left -= share
    parts.append((rates[-1], left))
    return parts


def recompute_price(record: dict[str, Any]) -> None:
    """Set ``price.tax`` (per rate) and ``price.total`` from the orderlines' TaxPrices."""
    by_rate_inc: dict[Decimal, Decimal] = {}
    by_rate_ex: dict[Decimal, Decimal] = {}
    for line in record.get("orderlines") or ():
        price = line.get("price")
        parts = price if isinstance(price, list) else [price]
        for part in parts:
            rate = Decimal(str(part["rate"]))
            inc = Decimal(str(part.get("amount_including_tax") or 0))
            ex = Decimal(str(part.get("amount") or 0))
            by_rate_inc[rate] = by_rate_inc.get(rate, Decimal(0)) + inc
            by_rate_ex[rate] = by_rate_ex.get(rate, Decimal(0)) + ex
    tax = [
        {
            "amount": _m6((by_rate_inc[r] - by_rate_ex[r]).quantize(_CENT, rounding=ROUND_HALF_UP)),
            "rate": _rate(r),
        }
        for r in sorted(by_rate_inc)
    ]
    record["price"] = {"tax": tax, "total": _m6(sum(by_rate_inc.values(), Decimal(0)))}


# ---------------------------------------------------------------- the simulator


class MijnwebwinkelSimulator:
    """In-memory Mijnwebwinkel shop behind a WSGI callable (``sim.wsgi``, or ``sim`` itself)."""

    def __init__(
        self,
        *,
        partner_token: str = "sim-partner-0001",  # noqa: S107 - a simulator, not a secret
        token: str = "sim-store-0001",  # noqa: S107
        latency: float = 0.0,
        rate_limit: tuple[int, float] | None = None,
        statuses: Iterable[tuple[int, str, str, bool]] = DEFAULT_STATUSES,
        clock: Callable[[], dt.datetime] = _now_local,
        store_name: str = "Koppeling Demowinkel",
    ) -> None:
        self._lock = threading.RLock()
        self.partner_token = partner_token
        self.token = token
        self.latency = latency
        self.rate_limit = rate_limit
        self.statuses = tuple(statuses)
        self.clock = clock
        self.store_name = store_name
        self._revoked: set[str] = set()
        self._entries: dict[int, _Entry] = {}
        self._sorted: list[_Entry] = []
        self._dirty_sort = False
        self._query_cache: dict[tuple, list[_Entry]] = {}
        self._faults: deque[tuple[int, Any, Any]] = deque()
        self._malform: deque[str] = deque()
        self._random: RandomFaults | None = None
        self._window: deque[float] = deque()
        self._next_number = 1001
        self.request_count = 0
        self.requests_by_path: Counter[str] = Counter()
        #: error bodies repeat the tokens they received (for the redaction test)
        self.echo_secret_in_errors = False
        self.store_id = str(uuid.UUID(int=random.Random(store_name).getrandbits(128), version=4))

    # ------------------------------------------------------------ knobs and state

    def valid_credentials(self) -> dict[str, str]:
        """What a connection needs: ``{"partner_token": ..., "token": ...}``."""
        return {"partner_token": self.partner_token, "token": self.token}

    def fail_next(
        self, status: int = 503, times: int = 1, retry_after: float | str | None = None, body: Any = None
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (and ``Retry-After`` if given)."""
        with self._lock:
            for _ in range(times):
                self._faults.append((status, retry_after, body))

    def malform_next(self, kind: str = "not_json") -> None:
        """Spoil the next successful (200) answer: see ``MALFORM_KINDS``."""
        if kind not in MALFORM_KINDS:
            raise ValueError(f"unknown malformation {kind!r}; known: {', '.join(sorted(MALFORM_KINDS))}")
        with self._lock:
            self._malform.append(kind)

    def random_faults(self, rate: float | None = 0.2, **options: Any) -> RandomFaults | None:
        """From now on fail ``rate`` of all requests in a random mode (5xx, 429, timeouts, drips,
        dropped connections; see ``connectors.simfaults``); ``None`` or 0 turns it off. Returns the
        injector (its ``injected`` counts what was done)."""
        with self._lock:
            self._random = RandomFaults(rate, **options) if rate else None
            return self._random

    def revoke_token(self) -> None:
        """The merchant deletes the store token: every store-scoped call now answers 401."""
        with self._lock:
            self._revoked.add(self.token)

    def rotate_token(self) -> str:
        """The merchant creates a new store token; returns it (the old one stays revoked)."""
        with self._lock:
            self._revoked.add(self.token)
            self.token = f"sim-store-{uuid.uuid4().hex[:12]}"
            return self.token

    def reset_counters(self) -> None:
        with self._lock:
            self.request_count = 0
            self.requests_by_path.clear()

    def _touch(self) -> None:
        self._query_cache.clear()

    def _store(self, entry: _Entry) -> None:
        self._dirty_sort = True  # new or replaced entry: rebuild the ordered view lazily
        self._entries[entry.number] = entry
        self._next_number = max(self._next_number, entry.number + 1)
        self._touch()

    def _ordered(self) -> list[_Entry]:
        if self._dirty_sort:
            self._sorted = sorted(self._entries.values(), key=lambda e: e.number)
            self._dirty_sort = False
        return self._sorted

    def order(self, number: int) -> dict[str, Any]:
        """A deep copy of a stored order, as the API would return it."""
        with self._lock:
            return copy.deepcopy(self._entries[int(number)].record)

    def order_numbers(self, *, include_test: bool = False) -> list[int]:
        with self._lock:
            return [e.number for e in self._ordered() if include_test or not e.test]

    def __len__(self) -> int:
        with self._lock:
            return sum(1 for e in self._entries.values() if not e.test)

    def add_order(self, record: Mapping[str, Any], *, test: bool = False) -> int:
        """Store an order record (e.g. the spec's example); fills number/uuid/dates if missing."""
        rec = copy.deepcopy(dict(record))
        with self._lock:
            raw_number = rec.get("number")
            number = int(raw_number) if raw_number not in (None, "") else self._next_number
            if number in self._entries:
                raise ValueError(f"order {number} exists")
            now = self.clock()
            rec["number"] = f"T-{number}" if test else number
            rec.setdefault("uuid", str(uuid.uuid4()))
            rec.setdefault("date", now.date().isoformat())
            rec.setdefault("time", now.strftime("%H:%M:%S"))
            rec.setdefault("status", self.statuses[0][0])
            rec.setdefault("status_changed_date", rec["date"])
            rec.setdefault("status_changed_time", rec["time"])
            rec.setdefault("archived", False)
            if "price" not in rec and rec.get("orderlines"):
                recompute_price(rec)
            self._store(_Entry(number, rec, test=test))
            return number

    def edit_order(self, number: int, *, recompute: bool = True, **changes: Any) -> dict[str, Any]:
        """Change an order after the fact (e.g. after it was booked) WITHOUT a status change.

        Keys are top-level fields, or dotted paths for nested ones
        (``edit_order(1001, **{"debtor.email": "new@example.nl"})``). If ``orderlines`` change
        and ``price`` is not given, the order's ``price`` is recomputed from the lines.
        """
        with self._lock:
            entry = self._entries[int(number)]
            rec = copy.deepcopy(entry.record)
            for key, value in changes.items():
                target = rec
                *parents, leaf = key.split(".")
                for part in parents:
                    target = target.setdefault(part, {})
                target[leaf] = copy.deepcopy(value)
            if recompute and "orderlines" in changes and "price" not in changes:
                recompute_price(rec)
            self._store(_Entry(entry.number, rec, test=entry.test))
            return copy.deepcopy(rec)

    def set_status(self, number: int, status_id: int, *, at: dt.datetime | None = None) -> None:
        """Change the status; ``status_changed_date``/``time`` become ``at`` (default: now)."""
        with self._lock:
            if status_id not in {s[0] for s in self.statuses}:
                raise ValueError(f"unknown status id {status_id}")
            entry = self._entries[int(number)]
            moment = at or self.clock()
            rec = dict(entry.record)
            rec["status"] = status_id
            rec["status_changed_date"] = moment.date().isoformat()
            rec["status_changed_time"] = moment.strftime("%H:%M:%S")
            self._store(_Entry(entry.number, rec, test=entry.test))

    # ------------------------------------------------------------ seeding

    def seed(
        self,
        count: int,
        *,
        seed: int = 42,
        start: dt.date | None = None,
        days: int | None = None,
        test_orders: int = 0,
    ) -> list[int]:
        """Generate ``count`` realistic orders (plus ``test_orders`` test orders) from ``start``.

        Deterministic for a given ``seed``. Orders are spread over ``days`` (default: one per
        ~10 minutes); status changes happen 0-72 hours after the order. Returns the numbers.
        """
        rng = random.Random(seed)
        start = start or dt.date(2025, 1, 1)
        span = dt.timedelta(days=days) if days else dt.timedelta(minutes=10 * max(count, 1))
        step = span / max(count + test_orders, 1)
        pools = {c: _customer_pool(c, seed, max(8, min(200, count // 3 + 8))) for c in _COUNTRIES}
        origin = dt.datetime.combine(start, dt.time(8, 0))
        numbers = []
        with self._lock:
            for i in range(count + test_orders):
                moment = origin + step * i + dt.timedelta(seconds=rng.randint(0, 59))
                number = self._next_number
                rec = self._generate(rng, pools, number, moment)
                if i >= count:
                    rec["number"] = f"T-{number}"
                entry = _Entry(number, rec, test=i >= count)
                entry.encoded()  # pay the JSON encoding now, not on the first listing
                self._store(entry)
                numbers.append(number)
        return numbers

    def _generate(
        self, rng: random.Random, pools: Mapping[str, tuple[_Customer, ...]], number: int, moment: dt.datetime
    ) -> dict[str, Any]:
        country = rng.choices(("NL", "BE", "DE"), cum_weights=(70, 88, 100))[0]
        customer = rng.choice(pools[country])
        b2b = bool(customer.company)
        reverse = b2b and country != "NL" and bool(customer.vat)
        values, cum = _METHOD_CUM[country]
        method = rng.choices(values, cum_weights=cum)[0]
        gateway, fee = _METHODS[method]
        pickup = country == "NL" and rng.random() < 0.06

        lines: list[dict[str, Any]] = []
        goods_inc: dict[Decimal, Decimal] = {}
        for product_index in rng.sample(
            range(len(_PRODUCTS)), k=rng.choices((1, 2, 3, 4), cum_weights=(40, 70, 90, 100))[0]
        ):
            description, price_text, rate_int = _PRODUCTS[product_index]
            quantity = rng.choices((1, 2, 3, 5), cum_weights=(70, 88, 96, 100))[0]
            rate = Decimal(rate_int)
            unit_inc = Decimal(price_text)
            if reverse:  # B2B within the EU: 0 %, the price excluding Dutch VAT
                unit_inc = _ex(unit_inc, rate).quantize(_CENT, rounding=ROUND_HALF_UP)
                rate = Decimal(0)
            part, line_ex, line_inc = _price_part(unit_inc, rate, quantity)
            goods_inc[rate] = goods_inc.get(rate, Decimal(0)) + line_inc
            article_id = 3_327_000 + product_index
            lines.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "type": "article",
                    "quantity": quantity,
                    "weight": f"{Decimal(quantity) * Decimal('0.350'):.3f}",
                    "description": description,
                    "price": part,
                    "articles": [
                        {
                            "id": article_id,
                            "description": description,
                            "sku": f"SKU-{article_id}",
                            "price": {
                                "amount": _m6(line_ex / quantity),
                                "rate": _rate(rate),
                                "purchase_price": "",
                            },
                        }
                    ],
                }
            )
        goods_total = sum(goods_inc.values(), Decimal(0))
        extra_costs = []
        if not pickup and goods_total < 100:
            shipping_inc = Decimal("4.95") if country == "NL" else Decimal("9.95")
            extra_costs.append(
                ("shipping", "Verzendkosten PostNL" if country == "NL" else "Verzendkosten DHL", shipping_inc)
            )
        if fee is not None:
            extra_costs.append(("payment", f"Transactiekosten {method}", fee))
        for line_type, description, amount in extra_costs:
            parts = _split_costs(amount, goods_inc)
            prices = []
            for rate, part_inc in parts:
                price_inc = (
                    _ex(part_inc, Decimal(21)).quantize(_CENT, rounding=ROUND_HALF_UP)
                    if reverse
                    else part_inc
                )
                prices.append(_price_part(price_inc, rate)[0])
            lines.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "type": line_type,
                    "quantity": 1,
                    "description": description,
                    "price": prices if len(prices) > 1 else prices[0],
                }
            )

        status = rng.choices(_STATUS_CUM[0], cum_weights=_STATUS_CUM[1])[0]
        if pickup and status in (2, 7):
            status = 6
        if status == 4:
            payment_status = rng.choice(("voided", "failed"))
        elif status == 1:
            payment_status = "pending" if method == "bank_transfer" else rng.choice(("new", "captured"))
        elif status == 2:
            payment_status = "pending" if method == "bank_transfer" and rng.random() < 0.5 else "captured"
        else:
            payment_status = "captured"
        changed = moment + dt.timedelta(minutes=rng.randint(0, 72 * 60))
        now = self.clock().replace(tzinfo=None)
        if changed > now:  # a real shop has no status changes in the future
            changed = moment + (now - moment) * rng.random() if now > moment else moment
        country_name = _COUNTRIES[country][1]
        invoice = {
            "gender": customer.gender,
            "name": customer.name,
            "company": customer.company,
            "street": customer.street,
            "number": customer.number,
            "zipcode": customer.zipcode,
            "city": customer.city,
            "country": country_name,
            "country_code": country,
            "phone": customer.phone,
        }
        if b2b and customer.vat:
            invoice["taxnumber"] = customer.vat
        address: dict[str, Any] = {"invoice": invoice}
        if rng.random() < 0.2:
            other = rng.choice(pools[country])
            address["delivery"] = {
                "name": other.name,
                "company": "",
                "street": other.street,
                "number": other.number,
                "zipcode": other.zipcode,
                "city": other.city,
                "country": country_name,
                "country_code": country,
            }
        debtor: dict[str, Any] = {"email": customer.email, "link_to_account": False, "address": address}
        if rng.random() < 0.5:
            debtor["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            debtor["link_to_account"] = True
        pay_id, pay_text = _PAYMENT_STATUS_IDS[payment_status]
        record: dict[str, Any] = {
            "number": number,
            "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "date": moment.date().isoformat(),
            "time": moment.strftime("%H:%M:%S"),
            "status": status,
            "status_changed_date": changed.date().isoformat(),
            "status_changed_time": changed.strftime("%H:%M:%S"),
            "weight": f"{sum(Decimal(line.get('weight', '0')) for line in lines):.3f}",
            "archived": False,
            "finished": True,
            "taxed": "include",
            "locale": "nl_NL" if country == "NL" else ("de_DE" if country == "DE" else "fr_FR"),
            "discountcode": "",
            "currency": "EUR",
            "currency_format_locale": "nl_NL",
            "credit_order_numbers": [],
            "comments": {"customer": "", "internal": ""},
            "business_model": "B2B" if b2b else "B2C",
            "tax_region": country if reverse else "NL",
            "tax_strategy": "reverse_charged_vat" if reverse else "",
            "payment_status": payment_status,
            "payment": {
                "gateway_name": gateway,
                "method_name": "pickup" if pickup and method == "bank_transfer" else method,
                "status": {"id": pay_id, "text": pay_text},
            },
            "debtor": debtor,
            "orderlines": lines,
            "shipping": [{"country": {"description": country_name, "isocode": country}}],
        }
        if b2b:
            record["reference"] = f"PO-{rng.randint(10000, 99999)}"
        recompute_price(record)
        return record

    # ------------------------------------------------------------ WSGI

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The WSGI entry point (``httpx.WSGITransport(app=sim.wsgi)``); answers ``latency`` seconds
        after the request arrived, its own work included."""
        arrived = time.monotonic()
        try:
            if self._random is not None:
                return self._random(environ, start_response, self._answer)
            return self._answer(environ, start_response)
        finally:
            if self.latency:
                time.sleep(max(0.0, self.latency - (time.monotonic() - arrived)))

    def _answer(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "") or "/"
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        with self._lock:
            self.request_count += 1
            self.requests_by_path[path] += 1
            try:
                status, payload, headers = self._dispatch(method, path, query, environ)
            except _HttpError as exc:
                status, payload, headers = exc.status, exc.body, exc.headers
            if status == 200 and self._malform:
                body = self._spoil(self._malform.popleft(), payload)
            else:
                body = self._encode(payload)
        out_headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ]
        out_headers.extend(headers)
        start_response(f"{status} {_REASONS.get(status, 'Error')}", out_headers)
        return [body]

    __call__ = wsgi

    @staticmethod
    def _encode(payload: Any) -> bytes:
        if isinstance(payload, bytes):
            return payload
        if isinstance(payload, list) and payload and isinstance(payload[0], _Entry):
            return b"[" + b",".join(entry.encoded() for entry in payload) + b"]"
        if isinstance(payload, _Entry):
            return payload.encoded()
        if isinstance(payload, list) and not payload:
            return b"[]"
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()

    def _spoil(self, kind: str, payload: Any) -> bytes:
        if kind == "not_json":
            return b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"
        if kind == "empty_body":
            return b""
        if kind == "truncated":
            return self._encode(payload)[:-7] or b"[{"
        if kind == "wrong_shape":
            return json.dumps({"orders": "unavailable", "data": None}).encode()
        # bad_record: one record in the page (the middle one) gets a garbage amount
        entries = payload if isinstance(payload, list) else [payload]
        if not entries or not isinstance(entries[0], _Entry):
            return self._encode(payload)
        victim = len(entries) // 2
        records = [json.loads(e.encoded()) for e in entries]
        broken = records[victim]
        lines = broken.get("orderlines") or [{}]
        price = lines[0].get("price")
        target = price[0] if isinstance(price, list) else price
        if isinstance(target, dict):
            target["amount"] = "12,50 EUR"
        else:
            broken["price"] = {"total": "n/a"}
        out: Any = records if isinstance(payload, list) else records[0]
        return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode()

    # ------------------------------------------------------------ routing

    def _dispatch(
        self, method: str, path: str, query: dict[str, str], environ: Mapping[str, Any]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        if self._faults:
            status, retry_after, body = self._faults.popleft()
            headers = [] if retry_after is None else [("Retry-After", str(retry_after))]
            return (
                status,
                body if body is not None else _error(status, "Injected failure (simulator)"),
                headers,
            )
        self._check_rate_limit()
        parts = path.strip("/").split("/")
        if len(parts) < 2 or not parts[0].startswith("v") or parts[0][1:] not in _VERSIONS:
            raise _HttpError(404, f"No route found for {method} {path}")
        resource = parts[1:]
        partner_only = resource == ["orderstatuses"]
        self._authenticate(query, partner_only=partner_only)
        self._check_common(query)
        if resource == ["orders"]:
            self._allow(method, path, "GET")
            return 200, self._list(query), []
        if resource == ["orders", "count"]:
            self._allow(method, path, "GET")
            return 200, {"count": len(self._filtered(query, count=True))}, []
        if len(resource) == 2 and resource[0] == "orders":
            number = self._order_number(resource[1])
            if method == "GET":
                return 200, self._entries[number], []
            if method == "PATCH":
                return 200, self._patch(number, environ), []
            raise _HttpError(405, f"Method {method} not allowed for {path}")
        if partner_only:
            self._allow(method, path, "GET")
            english = query.get("language", "nl_NL") != "nl_NL"
            return (
                200,
                [
                    {"status": sid, "description": en if english else nl, "credit_order": credit}
                    for sid, nl, en, credit in self.statuses
                ],
                [],
            )
        if resource == ["store"]:
            self._allow(method, path, "GET")
            return 200, self._store_info(), []
        raise _HttpError(404, f"No route found for {method} {path}")

    @staticmethod
    def _allow(method: str, path: str, allowed: str) -> None:
        if method != allowed:
            raise _HttpError(405, f"Method {method} not allowed for {path}", [("Allow", allowed)])

    def _check_rate_limit(self) -> None:
        if not self.rate_limit:
            return
        limit, per = self.rate_limit
        now = time.monotonic()
        while self._window and now - self._window[0] >= per:
            self._window.popleft()
        if len(self._window) >= limit:
            wait = max(1, int(per - (now - self._window[0]) + 0.999))
            raise _HttpError(429, "Rate limit exceeded for partner and store", [("Retry-After", str(wait))])
        self._window.append(now)

    def _authenticate(self, query: Mapping[str, str], *, partner_only: bool) -> None:
        partner = query.get("partner_token", "")
        if not partner:
            raise _HttpError(401, "Missing partner token (query parameter partner_token)")
        if partner != self.partner_token:
            raise _HttpError(401, "Invalid partner token")
        if partner_only:
            return
        token = query.get("token", "")
        if not token:
            raise _HttpError(401, "Missing store token (query parameter token)")
        if token in self._revoked:
            raise _HttpError(401, "Store token has been revoked" + self._echo(query))
        if token != self.token:
            raise _HttpError(401, "Invalid store token" + self._echo(query))

    def _echo(self, query: Mapping[str, str]) -> str:
        """With ``echo_secret_in_errors`` on, an error repeats the tokens it got (a careless API)."""
        if not self.echo_secret_in_errors:
            return ""
        return f" (partner_token={query.get('partner_token', '')}, token={query.get('token', '')})"

    @staticmethod
    def _check_common(query: Mapping[str, str]) -> None:
        language = query.get("language")
        if language is not None and language not in _LANGUAGES:
            raise _HttpError(400, f"language: unsupported value {language!r}")
        fmt = query.get("format", "json")
        if fmt == "xml":
            raise _HttpError(400, "format: xml is not available in this simulator, use json")
        if fmt != "json":
            raise _HttpError(400, f"format: must be json or xml, got {fmt!r}")

    def _order_number(self, text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise _HttpError(404, f"No route found for order number {text!r}") from None
        if number not in self._entries:
            raise _HttpError(404, f"Order {number} not found")
        return number

    # ------------------------------------------------------------ orders

    @staticmethod
    def _int(query: Mapping[str, str], name: str, default: int | None) -> int | None:
        raw = query.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise _HttpError(400, f"{name}: must be an integer, got {raw!r}") from None

    @staticmethod
    def _bool(query: Mapping[str, str], name: str) -> bool | None:
        raw = query.get(name)
        if raw is None or raw == "":
            return None
        low = raw.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise _HttpError(400, f"{name}: must be a boolean, got {raw!r}")

    @staticmethod
    def _date(query: Mapping[str, str], name: str) -> str | None:
        raw = query.get(name)
        if not raw:
            return None
        try:
            return dt.date.fromisoformat(raw).isoformat()
        except ValueError:
            raise _HttpError(400, f"{name}: expected a date yyyy-mm-dd, got {raw!r}") from None

    @staticmethod
    def _datetime(query: Mapping[str, str], name: str, *, end: bool) -> str | None:
        raw = query.get(name)
        if not raw:
            return None
        text = raw.strip().replace("T", " ")
        try:
            if len(text) == 10:
                day = dt.date.fromisoformat(text)
                return f"{day.isoformat()} {'23:59:59' if end else '00:00:00'}"
            return dt.datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise _HttpError(400, f"{name}: expected yyyy-mm-dd hh:mm:ss, got {raw!r}") from None

    def _filtered(self, query: Mapping[str, str], *, count: bool = False) -> list[_Entry]:
        start = self._date(query, "start_date")
        end = self._date(query, "end_date")
        changed_start = self._datetime(query, "status_changed_start_date", end=False)
        changed_end = self._datetime(query, "status_changed_end_date", end=True)
        archived = self._bool(query, "archived")
        status_id = self._int(query, "status_id", None)
        test = bool(self._bool(query, "test"))
        email = None if count else (query.get("debtor_email") or None)
        debtor_id = None if count else (query.get("debtor_id") or None)
        ordering = query.get("ordering", "asc")
        if ordering not in ("asc", "desc"):
            raise _HttpError(400, f"ordering: must be asc or desc, got {ordering!r}")
        key = (start, end, changed_start, changed_end, archived, status_id, test, email, debtor_id, ordering)
        cached = self._query_cache.get(key)
        if cached is not None:
            return cached
        out = []
        for entry in self._ordered():
            rec = entry.record
            if entry.test and not test:
                continue
            if start and rec["date"] < start:
                continue
            if end and rec["date"] > end:
                continue
            if changed_start or changed_end:
                changed = f"{rec.get('status_changed_date', '')} {rec.get('status_changed_time', '')}"
                if changed_start and changed < changed_start:
                    continue
                if changed_end and changed > changed_end:
                    continue
            if archived is not None and bool(rec.get("archived")) != archived:
                continue
            if status_id is not None and rec.get("status") != status_id:
                continue
            if email or debtor_id:
                debtor = rec.get("debtor") or {}
                if not (
                    (email and str(debtor.get("email", "")).lower() == email.lower())
                    or (debtor_id and debtor.get("id") == debtor_id)
                ):
                    continue
            out.append(entry)
        if ordering == "desc":
            out.reverse()
        if len(self._query_cache) > 64:
            self._query_cache.clear()
        self._query_cache[key] = out
        return out

    def _list(self, query: Mapping[str, str]) -> list[_Entry]:
        limit = self._int(query, "limit", 10)
        offset = self._int(query, "offset", 0)
        assert limit is not None and offset is not None
        if limit > 100:
            raise _HttpError(400, f"limit: must be at most 100, got {limit}")
        if limit < 1:
            raise _HttpError(400, f"limit: must be at least 1, got {limit}")
        if offset < 0:
            raise _HttpError(400, f"offset: must be 0 or more, got {offset}")
        return self._filtered(query)[offset : offset + limit]

    def _patch(self, number: int, environ: Mapping[str, Any]) -> _Entry:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            raise _HttpError(400, "Request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise _HttpError(400, "Request body must be an OrderPatchable object")
        allowed = {"archived", "status", "comments", "reference", "offline_location_id"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise _HttpError(400, f"Unknown field(s) for OrderPatchable: {', '.join(unknown)}")
        entry = self._entries[number]
        rec = copy.deepcopy(entry.record)
        if "status" in body:
            status = body["status"]
            if not isinstance(status, int) or status not in {s[0] for s in self.statuses}:
                raise _HttpError(400, f"status: unknown order status {status!r}")
            if status != rec.get("status"):
                moment = self.clock()
                rec["status"] = status
                rec["status_changed_date"] = moment.date().isoformat()
                rec["status_changed_time"] = moment.strftime("%H:%M:%S")
        if "archived" in body:
            if not isinstance(body["archived"], bool):
                raise _HttpError(400, "archived: must be a boolean")
            rec["archived"] = body["archived"]
        if "comments" in body:
            comments = body["comments"]
            if not isinstance(comments, dict) or set(comments) - {"internal"}:
                raise _HttpError(400, "comments: only comments.internal can be changed")
            rec.setdefault("comments", {})["internal"] = str(comments.get("internal", ""))
        if "reference" in body:
            if rec.get("business_model") != "B2B":
                raise _HttpError(400, "reference: only available for B2B orders")
            if not isinstance(body["reference"], str) or len(body["reference"]) > 255:
                raise _HttpError(400, "reference: a string of at most 255 characters")
            rec["reference"] = body["reference"]
        new = _Entry(entry.number, rec, test=entry.test)
        self._store(new)
        return new

    def _store_info(self) -> dict[str, Any]:
        return {
            "id": self.store_id,
            "name": self.store_name,
            "primary_domain": "https://demowinkel.mijnwebwinkel.nl",
            "description": "Simulated Mijnwebwinkel store (koppeling)",
            "open": True,
            "version": "Pro",
            "administration_language": "nl_NL",
            "currency": "EUR",
            "prices_include_tax": True,
            "default_language": "nl_NL",
            "active_languages": ["nl_NL", "en_GB"],
            "currency_format_locale": "nl_NL",
            "available_business_models": "ALL",
            "region_code": "NL",
        }
