"""Where a flow's incremental fetch stands: a typed, versioned cursor (dlt's ``Incremental``).

A fetch reads the window ``[last_value − overlap, until)`` with ``until`` = the fetch's start (our
clock). How the cursor may move depends on the source:

- it returns records **in cursor order** (by change time): after each batch the cursor may move
  to the batch's latest change — everything before it was seen;
- it does **not** (e.g. Mijnwebwinkel pages by order number): a record changed early may sit on a
  page not read yet, so the cursor moves only when the whole fetch completed — to ``until`` —
  in the same transaction as the last page's ledger rows. A fetch cut off halfway leaves the
  cursor where it was; the next run reads the window again, and the ledger ignores what it saw.

The closed start and the overlap re-read the boundary, so a record written at the same second as
the cursor (or by a source whose clock lags ours) is never skipped; reading it twice is harmless.

A fetch of an ordered source cut off halfway (a rate limit, an error) keeps the id of the last
record it wrote beside its change time (``last_id``): the next fetch resumes exactly after
``(last_value, last_id)``, without the overlap. Otherwise a bulk change of more records than one
run may read (600 orders marked paid in the same second) would be re-read from that second every
run and never passed. A completed fetch clears it.
State is JSON with a ``version``; :func:`migrate_state` upgrades one step at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypedDict

from .models import Cursor, Flow

__all__ = ["STATE_VERSION", "CursorState", "FlowCursor", "migrate_state"]

STATE_VERSION = 3
STREAM = "changed"


class CursorState(TypedDict, total=False):
    version: int
    #: the closed start of the next fetch (before the overlap), ISO 8601 with time zone
    last_value: str | None
    #: when the last complete fetch ended (our clock), for the dashboard
    completed_at: str | None
    #: an ordered fetch was cut off after this record (at ``last_value``): resume after it
    last_id: str | None


class UnknownCursorVersion(ValueError):
    pass


def migrate_state(state: Mapping[str, Any] | None) -> CursorState:
    """Upgrade a stored state to ``STATE_VERSION``; raise for one newer than we know.

    Version 1 (the first landing) held ``last_value`` only, per link: it keeps its meaning.
    """
    current: dict[str, Any] = dict(state or {})
    version = int(current.get("version", 1) or 1) if current else STATE_VERSION
    if version > STATE_VERSION:
        raise UnknownCursorVersion(f"cursor state version {version} is newer than this koppeling knows")
    if version == 1:
        current = {"last_value": current.get("last_value"), "completed_at": None}
        version = 2
    if version == 2:
        current["last_id"] = None
        version = 3
    current["version"] = version
    current.setdefault("last_value", None)
    current.setdefault("completed_at", None)
    current.setdefault("last_id", None)
    return CursorState(**current)  # type: ignore[typeddict-item]


class FlowCursor:
    """The cursor of one flow's stream, read once per run and saved inside ledger transactions."""

    def __init__(self, flow: Flow, *, ordered: bool, overlap: dt.timedelta, stream: str = STREAM) -> None:
        self.row, _ = Cursor.objects.get_or_create(flow=flow, stream=stream)
        self.state = migrate_state(self.row.state)
        self.ordered = ordered
        self.overlap = overlap

    @property
    def last_value(self) -> dt.datetime | None:
        raw = self.state.get("last_value")
        return dt.datetime.fromisoformat(raw) if raw else None

    def start(self, default: dt.datetime | None) -> dt.datetime | None:
        """The closed start of the next window: the cursor minus the overlap, else ``default``."""
        last = self.last_value
        if last is None:
            return default
        return last - self.overlap

    @property
    def resume_after(self) -> tuple[dt.datetime, str] | None:
        """``(last_value, last_id)`` when the last fetch of an ordered source was cut off."""
        last, last_id = self.last_value, self.state.get("last_id")
        return (last, str(last_id)) if self.ordered and last is not None and last_id else None

    def _save(
        self, value: dt.datetime, *, completed_at: dt.datetime | None = None, last_id: str | None = None
    ) -> None:
        last = self.last_value
        if last is not None and value < last and completed_at is None:
            return  # never backwards
        if last is not None and value == last and completed_at is None and last_id is None:
            return
        if last is None or value >= last:
            self.state["last_value"] = value.isoformat()
            self.state["last_id"] = last_id
        if completed_at is not None:
            self.state["completed_at"] = completed_at.isoformat()
            self.state["last_id"] = None
        self.state["version"] = STATE_VERSION
        self.row.state = dict(self.state)
        self.row.save(update_fields=["state", "updated_at"])

    def after_batch(
        self, latest_change: dt.datetime | None, until: dt.datetime, latest_id: str | None = None
    ) -> None:
        """Called inside the transaction that wrote a batch: ordered sources move on now, to the
        last record written (its change time and id)."""
        if self.ordered and latest_change is not None:
            moment = min(latest_change, until)
            self._save(moment, last_id=latest_id if moment == latest_change else None)

    def after_complete(self, until: dt.datetime) -> None:
        """Called inside the transaction of the last batch of a completed fetch: the whole window
        ``[start, until)`` was read."""
        self._save(until, completed_at=until)
