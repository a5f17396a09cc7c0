"""The ledger's totals kept by the database: triggers write deltas, a compactor folds them.

Why: the dashboard's totals (Rapportage's count and sums per currency, the pager's count,
Overview's open counts and chart, Fouten's reasons) over a million ledger rows took a scan of up to
266,000 rows (≈ 560 ms). Now every writer — the ORM, the pusher's ``executemany`` batches, raw SQL —
adds insert-only delta rows through **triggers** in its own transaction (``LedgerTotalDelta``: −1
for a row's old facts, +1 for its new ones); ``compact`` folds them into ``LedgerTotal`` in four
grains (all time, order month, order day, booked day). ``totals_query`` reads totals plus the
deltas not folded yet in one statement (one snapshot): exact at any moment.

The triggers are the database backend's, not a migration's (as ``web.ops.dbguards``): a trigger
naming the ledger breaks Django's SQLite table rebuild, so the SQLite schema editor lifts them
for a schema change and ``install`` puts them back; ``post_migrate`` installs them too (both
databases). A trigger's name carries a hash of its definition (``trigger_name``): ``install``
replaces those of another version and leaves current ones alone. Migration ``0013`` installs
them and fills the totals from the ledger (``rebuild``) in one transaction. The booked day is
the local day of ``pushed_at`` in ``settings.TIME_ZONE`` (SQLite: the process's zone, which
Django sets from it): after changing the zone, ``migrate`` (the triggers take the new zone) and
``rebuild()`` (e.g. from ``django shell``). A data migration that writes the ledger on SQLite
runs without the triggers (the schema editor lifts them): it ends with ``rebuild()``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, Max, Min, Q, QuerySet, Sum, Value

from .totals_models import KEY_FIELDS, NO_DATE, Grain, LedgerTotal, LedgerTotalDelta

__all__ = [
    "COMPACT_ON_READ",
    "EVENTS",
    "Part",
    "compact",
    "drop",
    "grains_for",
    "install",
    "installed",
    "rebuild",
    "totals_query",
    "trigger_name",
]

LEDGER = "sync_syncrecord"
TOTALS = LedgerTotal._meta.db_table
DELTAS = LedgerTotalDelta._meta.db_table
#: a reader compacts first when more deltas than this wait (reading them is a scan)
COMPACT_ON_READ = 5000
#: the ledger columns the totals depend on (an update of any other column adds no delta)
WATCHED = ("link_id", "flow_id", "object_type", "state", "reconcile_status", "error_code")
WATCHED_VALUES = ("order_date", "pushed_at", "amount_inc", "sent")
#: the ledger's events with a totals trigger; the triggers' names: ``trigger_name``
EVENTS = ("insert", "update", "delete")
PREFIX = "koppeling_ledger_totals_"
_KEY = ("object_type", "state", "reconcile_status", "error_code", "country", "regime", "currency")
_DELTA_COLUMNS = (
    "organisation_id, object_type, state, reconcile_status, error_code, order_day, booked_day, "
    "country, regime, currency, n, amount"
)
CENT = Decimal("0.01")
_LOCK = 7_041_213  # pg advisory lock: one compactor at a time


def _connection(using: Any) -> Any:
    return connections[using] if isinstance(using, str) else using


# -- the triggers ----------------------------------------------------------------------------------


def _facts(row: str, vendor: str) -> dict[str, str]:
    """SQL for the delta columns of ``row`` (NEW or OLD) on ``vendor``. A row whose link and flow
    are gone already (a flush, a raw delete out of order) counts for organisation 0, which is no
    one's: a write never fails for the totals' sake."""
    if vendor == "postgresql":
        zone = str(settings.TIME_ZONE).replace("'", "")
        json = {k: f"COALESCE({row}.sent->>'{k}', '')" for k in ("country", "regime", "currency")}
        booked = f"({row}.pushed_at AT TIME ZONE '{zone}')::date"
        no_date = f"DATE '{NO_DATE.isoformat()}'"
    else:
        json = {
            k: f"COALESCE(CASE WHEN json_valid({row}.sent) THEN json_extract({row}.sent, '$.{k}') END, '')"
            for k in ("country", "regime", "currency")
        }
        booked = f"date({row}.pushed_at, 'localtime')"
        no_date = f"'{NO_DATE.isoformat()}'"
    return {
        "organisation_id": (
            f"COALESCE((SELECT organisation_id FROM sync_link WHERE id = {row}.link_id), "  # noqa: S608
            f"(SELECT organisation_id FROM sync_flow WHERE id = {row}.flow_id), 0)"
        ),
        "object_type": f"{row}.object_type",
        "state": f"{row}.state",
        "reconcile_status": f"COALESCE({row}.reconcile_status, '')",
        "error_code": f"COALESCE({row}.error_code, '')",
        "order_day": f"COALESCE({row}.order_date, {no_date})",
        "booked_day": booked,
        **json,
    }


def _delta_insert(row: str, sign: str, vendor: str) -> str:
    facts = _facts(row, vendor)
    values = ", ".join(facts.values())
    return (
        f"INSERT INTO {DELTAS} ({_DELTA_COLUMNS}) "  # noqa: S608  (constants)
        f"VALUES ({values}, {sign}1, {sign}COALESCE({row}.amount_inc, 0));"
    )


def _changed(vendor: str) -> str:
    """The update trigger's condition: a column the totals depend on has another value."""
    differs = "IS DISTINCT FROM" if vendor == "postgresql" else "IS NOT"
    parts = [f"OLD.{c} {differs} NEW.{c}" for c in (*WATCHED, "order_date", "pushed_at", "amount_inc")]
    old, new = _facts("OLD", vendor), _facts("NEW", vendor)
    parts += [f"{old[k]} {differs} {new[k]}" for k in ("country", "regime", "currency")]
    return " OR ".join(parts)


def _definitions(vendor: str) -> dict[str, list[str]]:
    """Per event, the statements that create its trigger (``{name}``: the trigger's name, and on
    PostgreSQL its function's)."""
    columns = ", ".join((*WATCHED, *WATCHED_VALUES))
    old, new = _delta_insert("OLD", "-", vendor), _delta_insert("NEW", "", vendor)
    bodies = {"insert": new, "update": f"{old} {new}", "delete": old}
    events = {"insert": "AFTER INSERT", "update": f"AFTER UPDATE OF {columns}", "delete": "AFTER DELETE"}
    found = {}
    for event, body in bodies.items():
        condition = f" WHEN ({_changed(vendor)})" if event == "update" else ""
        if vendor == "postgresql":
            found[event] = [
                "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$",
                f"CREATE TRIGGER {{name}} {events[event]} ON {LEDGER} FOR EACH ROW{condition} "
                "EXECUTE FUNCTION {name}()",
            ]
        else:
            found[event] = [
                f"CREATE TRIGGER IF NOT EXISTS {{name}} {events[event]} ON {LEDGER} FOR EACH ROW"
                f"{condition} BEGIN {body} END"
            ]
    return found


def trigger_name(event: str, vendor: str) -> str:
    """The trigger's name carries a hash of its definition: a changed definition (new code, another
    ``TIME_ZONE``) is a new name, so ``install`` knows what to replace without comparing SQL, and
    leaves current triggers alone (no lock on the ledger at every ``migrate``)."""
    version = hashlib.sha256(repr(_definitions(vendor)).encode()).hexdigest()[:10]
    return f"{PREFIX}{event}_{version}"


def _present(connection: Any, cursor: Any) -> set[str]:
    """The totals triggers on the ledger, of any version."""
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal", [LEDGER]
        )
    else:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [LEDGER])
    return {name for (name,) in cursor.fetchall() if name.startswith(PREFIX)}


def _drop(connection: Any, cursor: Any, name: str) -> None:
    if connection.vendor == "postgresql":
        cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {LEDGER}")
        cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def _has_tables(connection: Any, cursor: Any) -> bool:
    return {LEDGER, DELTAS, "sync_link", "sync_flow"} <= set(connection.introspection.table_names(cursor))


def install(using: Any = "default", **_kwargs: Any) -> None:
    """Create the triggers where the ledger and the delta table exist; replace those of another
    version; leave current ones alone.

    ``using``: a database alias (as ``post_migrate`` sends it) or a connection."""
    connection = _connection(using)
    if connection.vendor not in ("postgresql", "sqlite"):
        return
    with connection.cursor() as cursor:
        if not _has_tables(connection, cursor):
            return
        present = _present(connection, cursor)
        wanted = {event: trigger_name(event, connection.vendor) for event in EVENTS}
        for stale in present - set(wanted.values()):
            _drop(connection, cursor, stale)
        definitions = _definitions(connection.vendor)
        for event, name in wanted.items():
            if name not in present:
                for statement in definitions[event]:
                    cursor.execute(statement.replace("{name}", name))


def drop(using: Any = "default", **_kwargs: Any) -> None:
    """Remove the triggers (the SQLite schema editor, before a table rebuild)."""
    connection = _connection(using)
    with connection.cursor() as cursor:
        for name in _present(connection, cursor):
            _drop(connection, cursor, name)


def installed(using: Any = "default") -> set[str]:
    """The events whose current trigger the database has (a health check, and the tests)."""
    connection = _connection(using)
    with connection.cursor() as cursor:
        present = _present(connection, cursor)
    return {event for event in EVENTS if trigger_name(event, connection.vendor) in present}


# -- folding the deltas ----------------------------------------------------------------------------


def _fold_selects(source: str, vendor: str, where: str = "") -> list[str]:
    """One SELECT per grain over the delta rows in ``source``, grouped to the totals' key."""
    month = (
        "date_trunc('month', order_day::timestamp)::date"
        if vendor == "postgresql"
        else "date(order_day, 'start of month')"
    )
    no_date = f"DATE '{NO_DATE.isoformat()}'" if vendor == "postgresql" else f"'{NO_DATE.isoformat()}'"
    key = "organisation_id, " + ", ".join(_KEY)
    sums = "SUM(n), SUM(amount)"
    selects = []
    for grain, period in ((Grain.ALL, no_date), (Grain.MONTH, month), (Grain.DAY, "order_day")):
        selects.append(
            f"SELECT '{grain.value}', {period}, {key}, {sums} FROM {source} WHERE true{where} "  # noqa: S608
            f"GROUP BY {period}, {key}"
        )
    booked_key = "organisation_id, object_type, state"
    selects.append(
        f"SELECT '{Grain.BOOKED_DAY.value}', booked_day, {booked_key}, '', '', '', '', '', {sums} "  # noqa: S608
        f"FROM {source} WHERE booked_day IS NOT NULL{where} GROUP BY booked_day, {booked_key}"
    )
    return selects


_TOTAL_COLUMNS = "grain, period, organisation_id, " + ", ".join(_KEY) + ", n, amount"
_CONFLICT = (
    f"ON CONFLICT ({', '.join(KEY_FIELDS)}) DO UPDATE SET n = {TOTALS}.n + excluded.n, "
    f"amount = {TOTALS}.amount + excluded.amount RETURNING id, n, amount"
)


def compact(using: str = "default") -> int:
    """Fold the waiting deltas into the totals; how many totals rows changed (0 if another
    compactor runs).

    PostgreSQL: the deltas are deleted and folded by one statement (``DELETE … RETURNING``), so a
    delta committed meanwhile is neither lost nor counted twice. SQLite has one writer at a time."""
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK])
            if not cursor.fetchone()[0]:
                return 0
            rows = _fold_postgres(cursor, f"DELETE FROM {DELTAS} RETURNING *")  # noqa: S608
        else:
            cursor.execute(f"SELECT MAX(id) FROM {DELTAS}")  # noqa: S608
            last = cursor.fetchone()[0]
            if last is None:
                return 0
            rows = []
            for select in _fold_selects(DELTAS, "sqlite", where=f" AND id <= {int(last)}"):
                cursor.execute(f"INSERT INTO {TOTALS} ({_TOTAL_COLUMNS}) {select} {_CONFLICT}")
                rows += cursor.fetchall()
            cursor.execute(f"DELETE FROM {DELTAS} WHERE id <= %s", [last])  # noqa: S608
        _drop_empty(cursor, [pk for pk, n, amount in rows if n == 0 and not amount])
        return len(rows)


def _fold_postgres(cursor: Any, moved: str) -> list[tuple]:
    """Fold the delta rows that the statement ``moved`` yields, in the same statement."""
    folds = " UNION ALL ".join(_fold_selects("moved", "postgresql"))
    cursor.execute(
        f"WITH moved AS MATERIALIZED ({moved}) INSERT INTO {TOTALS} ({_TOTAL_COLUMNS}) {folds} {_CONFLICT}"
    )
    return cursor.fetchall()


def _drop_empty(cursor: Any, ids: list[int]) -> None:
    """Totals rows that came to nothing (a state left behind) go: the table stays the size of
    what exists."""
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        cursor.execute(
            f"DELETE FROM {TOTALS} WHERE n = 0 AND amount = 0 AND id IN ({', '.join(['%s'] * len(chunk))})",  # noqa: S608
            chunk,
        )


def rebuild(using: str = "default") -> None:
    """The totals made again from the ledger itself (migration 0013; after a time zone change),
    folded by the compactor's own statements from the ledger's rows instead of deltas."""
    connection = connections[using]
    vendor = connection.vendor
    facts = ", ".join(f"{sql} AS {name}" for name, sql in _facts("r", vendor).items())
    ledger_rows = f"SELECT {facts}, 1 AS n, COALESCE(r.amount_inc, 0) AS amount FROM {LEDGER} r"  # noqa: S608
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TOTALS}")  # noqa: S608
        if vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {LEDGER} IN SHARE MODE")  # writers wait: nothing missed
            cursor.execute(f"TRUNCATE {DELTAS}")
            _fold_postgres(cursor, ledger_rows)
            cursor.execute(f"ANALYZE {TOTALS}")
        else:
            cursor.execute(f"DELETE FROM {DELTAS}")  # noqa: S608
            cursor.execute(f"INSERT INTO {DELTAS} ({_DELTA_COLUMNS}) {ledger_rows}")
            compact(using)


def _waiting(using: str) -> int:
    """About how many deltas wait: the highest id less the lowest (both ends of the primary key's
    index, one query; no count of the table)."""
    ends = LedgerTotalDelta.objects.using(using).aggregate(first=Min("id"), last=Max("id"))
    return 0 if ends["first"] is None else ends["last"] - ends["first"] + 1


@dataclass(frozen=True)
class Part:
    """Totals rows of one grain from ``first`` to ``last`` period (either open), added or (``sign``
    −1) taken away: a partial month can be its days, or the whole month less the other days."""

    grain: str
    first: dt.date | None = None
    last: dt.date | None = None
    sign: int = 1


def grains_for(start: dt.date | None, end: dt.date | None) -> list[Part]:
    """The totals that make up the order days ``start``..``end`` (either open): whole months from
    the month grain; a partial month at either end from the day grain, as its days or as the month
    less its other days, whichever is fewer. No dates at all: the all-time grain (the only one that
    counts the rows without an order date)."""
    if start is None and end is None:
        return [Part(Grain.ALL)]
    if start is not None and end is not None and end < start:
        return [Part(Grain.DAY, start, end)]  # nothing
    first = start if start is not None and start > NO_DATE else NO_DATE + dt.timedelta(days=1)
    last = end if end is not None and end < dt.date(dt.MAXYEAR, 12, 1) else None
    one = dt.timedelta(days=1)
    head, tail = [], []
    months_from = first.replace(day=1)
    if first.day > 1:
        month_end = _next_month(first) - one
        if first.day - 1 <= (month_end - first).days + 1:
            head = [Part(Grain.DAY, months_from, first - one, -1)]
        else:
            months_from, head = month_end + one, [Part(Grain.DAY, first, month_end)]
    months_to = None  # exclusive; None: open
    if last is not None:
        months_to = _next_month(last)
        if months_to - one != last:
            if (months_to - one - last).days < last.day:
                tail = [Part(Grain.DAY, last + one, months_to - one, -1)]
            else:
                months_to, tail = last.replace(day=1), [Part(Grain.DAY, last.replace(day=1), last)]
        if months_from >= months_to:
            return [Part(Grain.DAY, first, last)]
    return [Part(Grain.MONTH, months_from, None if months_to is None else months_to - one), *head, *tail]


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def totals_query(
    organisations: QuerySet | Iterable[int],
    *,
    where: Q,
    parts: list[Part],
    days: tuple[dt.date | None, dt.date | None] | None,
    booked: bool = False,
    group: tuple[str, ...] = (),
    by_day: bool = False,
    using: str = "default",
) -> list[dict[str, Any]]:
    """``n`` and ``amount`` per ``group`` (and ``day``) over the totals and the deltas not folded
    yet, in one statement (one snapshot: exact while workers write and a compactor folds).

    ``where`` filters the key columns both tables share; ``parts`` are the totals to add up and
    ``days`` the deltas' days (order days, or with ``booked`` the booked days; ``None``: every
    delta, as the all-time grain)."""
    if _waiting(using) > COMPACT_ON_READ:
        compact(using)
    scope = Q(organisation_id__in=organisations) & where
    day_field = "booked_day" if booked else "order_day"
    deltas = LedgerTotalDelta.objects.using(using).filter(scope)
    if days is not None:
        first, last = days
        deltas = deltas.filter(**{f"{day_field}__gt": NO_DATE})
        if first is not None:
            deltas = deltas.filter(**{f"{day_field}__gte": first})
        if last is not None:
            deltas = deltas.filter(**{f"{day_field}__lte": last})
    sources = [(deltas, 1, day_field)]
    for sign in (1, -1):
        chosen = Q(pk__in=[])
        for part in (p for p in parts if p.sign == sign):
            chosen |= Q(grain=part.grain, **_period(part))
        if any(p.sign == sign for p in parts):
            sources.append((LedgerTotal.objects.using(using).filter(scope & chosen), sign, "period"))
    keys = ("day", *group) if by_day else group
    summed = []
    for rows, sign, day in sources:
        rows = rows.annotate(day=F(day)) if by_day else rows
        summed.append(
            rows.order_by()
            .values(*(keys or ("state",)))  # no group: by state, added up below (values() is all)
            .annotate(sum_n=Sum("n") * Value(sign), sum_amount=Sum("amount") * Value(Decimal(sign)))
        )
    out: dict[tuple, dict[str, Any]] = {}
    for row in summed[0].union(*summed[1:], all=True):
        found = out.setdefault(
            tuple(row[k] for k in keys), {**{k: row[k] for k in keys}, "n": 0, "amount": Decimal(0)}
        )
        found["n"] += row["sum_n"] or 0
        found["amount"] += Decimal(str(row["sum_amount"] or 0)).quantize(CENT)
    return [row for row in out.values() if row["n"]]


def _period(part: Part) -> dict[str, dt.date]:
    found = {}
    if part.first is not None:
        found["period__gte"] = part.first
    if part.last is not None:
        found["period__lte"] = part.last
    return found
