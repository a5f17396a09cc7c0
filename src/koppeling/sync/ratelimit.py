"""Rate limits shared by every worker: one bucket per (system, account, limit).

Connectors declare their limits as data (``RateLimit``: e.g. Factuursturen's 60 invoice creations
per hour). Before each write the runtime takes a slot from every limit that applies; an empty
bucket answers *when* the next slot frees up, so the batch stops and the rest waits until then —
no call is made, no attempt counted. A remote that still answers "too many" (429) puts a
**hold** on the whole account (``RateLimitHold``, in the shared database) until its
``Retry-After``, so no other worker provokes a second 429.

Buckets are pyrate-limiter's: a SQLite file in the data folder on the embedded default (a file
lock makes it safe across processes), Redis in scale-out (``KOPPELING_QUEUE_URL=redis://…``, a
Lua script makes it atomic). Timestamps come from the runtime's clock, so a simulated clock
drives them in tests and benchmarks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from pyrate_limiter import Rate, RateItem
from pyrate_limiter.abstracts.bucket import AbstractBucket

from koppeling.connectors.base import Capability, Connector, RateLimit

from .models import RateLimitHold

__all__ = ["DEFAULT_HOLD_SECONDS", "Limiter", "Slot", "limiter"]

log = logging.getLogger(__name__)

#: how long an account is held after a 429 that gave no Retry-After
DEFAULT_HOLD_SECONDS = 60.0
#: every this many takes a bucket drops entries older than its window
LEAK_EVERY = 50


@dataclass(frozen=True, slots=True)
class Slot:
    """The answer of :meth:`Limiter.take`: granted, or the moment the next slot frees up."""

    granted: bool
    retry_at: dt.datetime | None = None
    limit: str = ""


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def bucket_key(connector: Connector, name: str) -> str:
    return f"{connector.system}:{connector.account_key()}:{name}"


def hold_key(connector: Connector) -> str:
    return f"{connector.system}:{connector.account_key()}:*"


def applicable(
    connector: Connector, capability: Capability | str | None, *, every_request: bool = True
) -> list[RateLimit]:
    """The connector's limits that a write of ``capability`` consumes (``*`` limits too, unless
    ``every_request`` is False: their slots are taken by each request itself)."""
    wanted = {"*", str(capability)} if capability else {"*"}
    found = [limit for limit in connector.limits() if limit.applies_to & wanted]
    return found if every_request else [limit for limit in found if "*" not in limit.applies_to]


class Limiter:
    """Process-wide access to the shared buckets and holds."""

    def __init__(self, url: str | None = None) -> None:
        self._url = url
        self._buckets: dict[tuple[str, str], AbstractBucket] = {}
        self._lock = threading.Lock()
        self._takes = 0

    # -- buckets ---------------------------------------------------------------------------

    def _backend_url(self) -> str:
        if self._url is not None:
            return self._url
        return str(django_settings.KOPPELING.get("RATE_LIMIT_URL") or "")

    def _bucket(self, key: str, limit: RateLimit) -> AbstractBucket:
        url = self._backend_url()
        bucket = self._buckets.get((url, key))
        if bucket is None:
            rates = [Rate(limit.limit, limit.period_seconds * 1000)]
            if url.startswith(("redis://", "rediss://", "unix://")):
                bucket = _redis_bucket(url, key, rates)
            else:
                bucket = _sqlite_bucket(url, key, rates)
            self._buckets[(url, key)] = bucket
        return bucket

    def take(
        self,
        connector: Connector,
        capability: Capability | str | None,
        now: dt.datetime,
        *,
        check_hold: bool = True,
        every_request: bool = True,
    ) -> Slot:
        """One slot of every applicable limit, now; or when to come back.

        With several limits, one that is full stops the take; slots already taken from the others
        stay taken (they free up with their window) — erring on the side of fewer calls.
        ``check_hold=False`` skips the database look-up of a 429 hold (the caller checked it);
        ``every_request=False`` leaves out limits on every request (each request takes those).
        """
        if check_hold:
            held = self.held_until(connector, now)
            if held is not None:
                return Slot(False, held, "hold")
        limits = applicable(connector, capability, every_request=every_request)
        if not limits:
            return Slot(True)
        with self._lock:
            self._takes += 1
            for limit in limits:
                key = bucket_key(connector, limit.name)
                bucket = self._bucket(key, limit)
                if self._takes % LEAK_EVERY == 0:
                    bucket.leak(_ms(now))
                item = RateItem(key, _ms(now))
                if not bucket.put(item):
                    wait_ms = bucket.waiting(item)
                    wait = dt.timedelta(milliseconds=max(int(wait_ms), 1))
                    return Slot(False, now + wait, limit.name)
        return Slot(True)

    def next_free(
        self, connector: Connector, capability: Capability | str | None, now: dt.datetime
    ) -> dt.datetime:
        """When a take would succeed (now, if it would): for ETAs, without taking anything."""
        held = self.held_until(connector, now)
        latest = held or now
        with self._lock:
            for limit in applicable(connector, capability):
                bucket = self._bucket(bucket_key(connector, limit.name), limit)
                bucket.leak(_ms(now))
                if bucket.count() < limit.limit:
                    continue
                oldest = bucket.peek(limit.limit - 1)  # peek counts from the newest
                if oldest is not None:
                    free = dt.datetime.fromtimestamp(
                        (oldest.timestamp + limit.period_seconds * 1000) / 1000, tz=dt.UTC
                    )
                    latest = max(latest, free)
        return latest

    def eta(
        self,
        connector: Connector,
        capability: Capability | str | None,
        waiting: int,
        now: dt.datetime,
        *,
        slots_each: float = 1.0,
    ) -> dt.datetime | None:
        """When ``waiting`` more writes will have gone, pacing by the strictest limit.

        The first goes at the next free slot; after that each window of the limit takes
        ``limit`` more slots: ``first + period × ⌊(slots − 1) / limit⌋`` with ``slots = ⌈waiting ×
        slots_each⌉``. ``slots_each`` > 1 where a write also costs the slots of other calls under
        an every-request limit (``*``); writes-only limits take one a write. None without limits.
        """
        limits = applicable(connector, capability)
        if not limits or waiting <= 0:
            return None
        first = self.next_free(connector, capability, now)

        def needed(limit: RateLimit) -> int:
            return math.ceil(waiting * slots_each) if "*" in limit.applies_to else waiting

        windows = max((needed(limit) - 1) // limit.limit * limit.period_seconds for limit in limits)
        return first + dt.timedelta(seconds=windows)

    # -- holds (after a 429) -----------------------------------------------------------------

    def hold(self, connector: Connector, until: dt.datetime) -> None:
        """No worker writes to this account before ``until`` (a remote 429's Retry-After)."""
        key = hold_key(connector)
        if RateLimitHold.objects.filter(key=key, until__lt=until).update(until=until):
            return
        if RateLimitHold.objects.filter(key=key).exists():
            return  # already held at least that long
        try:
            with transaction.atomic():
                RateLimitHold.objects.create(key=key, until=until)
        except IntegrityError:  # another worker created it a moment ago
            RateLimitHold.objects.filter(key=key, until__lt=until).update(until=until)

    def recently_held(
        self, connector: Connector, now: dt.datetime, within: dt.timedelta = dt.timedelta(days=1)
    ) -> bool:
        """Did this account answer 429 lately? Then its limit is tighter than it says: the runtime
        sends one call at a time, so each window provokes at most one more 429."""
        return RateLimitHold.objects.filter(key=hold_key(connector), until__gt=now - within).exists()

    def held_until(self, connector: Connector, now: dt.datetime) -> dt.datetime | None:
        until = RateLimitHold.objects.filter(key=hold_key(connector), until__gt=now).values_list(
            "until", flat=True
        )
        return next(iter(until), None)

    def reset(self) -> None:
        """Forget every bucket of the current backend (tests): flush them, drop the cached objects."""
        url = self._backend_url()
        with self._lock:
            for (bucket_url, key), bucket in list(self._buckets.items()):
                if bucket_url == url:
                    bucket.flush()
                    self._buckets.pop((bucket_url, key), None)


def _table(key: str) -> str:
    return "rl_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def _sqlite_bucket(url: str, key: str, rates: list[Rate]) -> AbstractBucket:
    from pyrate_limiter import SQLiteBucket

    path = (
        url.removeprefix("sqlite://") if url else str(Path(django_settings.DATA_DIR) / "ratelimits.sqlite3")
    )
    return SQLiteBucket.init_from_file(rates, table=_table(key), db_path=path, use_file_lock=True)


def _redis_bucket(url: str, key: str, rates: list[Rate]) -> AbstractBucket:
    import redis
    from pyrate_limiter import RedisBucket

    client: Any = redis.Redis.from_url(url)
    return RedisBucket.init(rates, client, f"koppeling:ratelimit:{_table(key)}")


_LIMITER: Limiter | None = None
_LIMITER_LOCK = threading.Lock()


def limiter() -> Limiter:
    """The process's limiter (buckets are cached per process; their state is shared)."""
    global _LIMITER
    with _LIMITER_LOCK:
        if _LIMITER is None:
            _LIMITER = Limiter()
        return _LIMITER
