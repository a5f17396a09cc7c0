"""Dashboard pages against a big ledger: Overview, Rapportage (first and a deep page, with a
filter) and Fouten, each served whole (middleware, scoping, counts, totals, template) vs a bare SQL
``SELECT`` of the same rows the page shows — the floor no page can beat.

The ledger: ``--records`` rows (default 1,000,000) over ``--records / 100`` links in organisations
of ten links each, all of them clients of one bookkeeper — the user whose pages are measured (the
widest scope a person has). Booked over the past year, a few percent failed, in review, skipped or
waiting; countries and VAT regimes mixed as a Dutch shop's are.

Needs PostgreSQL (``DATABASE_URL``; e.g. ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench
KOPPELING_ALLOW_LOCAL_KEYS=1 python -m benchmarks.dashboard --records 20000``). The data set is
made once per size and kept (organisation ``bench-dashboard-<records>``); ``--fresh`` makes it
again. Each page is asked ``--repeat`` times after one warm-up; the goal is p95 < 100 ms per page.
The last line is one JSON object (see the design's benchmark convention).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

GOAL_MS = 100.0
LINKS_PER_ORGANISATION = 10
BATCH = 5000
USERNAME = "bench-bookkeeper"
#: (state, share of the ledger); the rest is booked
STATES = (("failed", 0.03), ("needs_review", 0.005), ("skipped", 0.05), ("pending", 0.005))
COUNTRIES = (
    ("NL", "domestic"),
    ("NL", "domestic"),
    ("NL", "domestic"),
    ("BE", "eu_b2b"),
    ("DE", "eu_b2c_oss"),
)
FAILURES = (
    ("icp_vat_number_missing", {"country": "BE"}),
    ("acumulus_rejected", {"system": "Acumulus", "remote": "Unknown accountnumber 99"}),
)


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koppeling.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _state(i: int) -> str:
    """A deterministic mix: every 200 rows hold the same share of each state."""
    slot = i % 200
    edge = 0
    for state, share in STATES:
        edge += round(share * 200)
        if slot < edge:
            return state
    return "pushed"


def _record(flow, i: int, now: dt.datetime):
    from koppeling.sync.models import SyncRecord

    state = _state(i)
    country, regime = COUNTRIES[i % len(COUNTRIES)]
    placed = now - dt.timedelta(minutes=(i * 7919) % (365 * 24 * 60))
    total_inc = Decimal(1000 + (i * 37) % 90000) / 100
    total_ex = (total_inc / Decimal("1.21")).quantize(Decimal("0.01"))
    number = str(100000 + i)
    code, params = FAILURES[i % len(FAILURES)] if state == "failed" else ("", {})
    return SyncRecord(
        link_id=flow.link_id,
        flow_id=flow.pk,
        object_type="order",
        source_id=number,
        source_number=number,
        reference=f"WA{number}",
        state=state,
        reason_code="status_not_selected" if state == "skipped" else ("rule" if state == "failed" else ""),
        error_code=code,
        params=params,
        source_status="3",
        order_date=placed.date(),
        amount_inc=total_inc,
        sent={
            "reference": f"WA{number}",
            "total_ex": str(total_ex),
            "total_inc": str(total_inc),
            "currency": "EUR",
            "customer_name": f"Klant {i % 5000}",
            "customer_email": f"klant{i % 5000}@example.test",
            "regime": regime,
            "country": country,
        }
        if state == "pushed"
        else {},
        target_number=f"2026{i:07d}" if state == "pushed" else "",
        target_id=str(500000 + i) if state == "pushed" else "",
        pushed_at=placed + dt.timedelta(minutes=30) if state == "pushed" else None,
        reconcile_status="ok" if state == "pushed" else "",
        first_seen_at=placed,
        updated_at=placed + dt.timedelta(minutes=31),
    )


def populate(records: int, links: int, *, slug: str) -> Any:
    """The bookkeeper with ``links`` links over organisations of ten, and ``records`` ledger rows."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from koppeling.sync.models import Connection, Flow, Link, Membership, Organisation, SyncRecord

    user, _ = get_user_model().objects.get_or_create(username=f"{USERNAME}-{slug}")
    if Organisation.objects.filter(slug__startswith=slug).exists():
        return user
    now = timezone.now()
    with transaction.atomic():
        orgs = Organisation.objects.bulk_create(
            Organisation(name=f"Klant {n:05d}", slug=f"{slug}-{n}")
            for n in range(max(1, -(-links // LINKS_PER_ORGANISATION)))
        )
        Membership.objects.bulk_create(Membership(organisation=o, user=user, role="member") for o in orgs)
        owners = [orgs[n // LINKS_PER_ORGANISATION] for n in range(links)]
        shops = Connection.objects.bulk_create(
            Connection(
                organisation=o, name=f"shop {n}", system="mijnwebwinkel", base_url=f"https://shop{n}.test"
            )
            for n, o in enumerate(owners)
        )
        books = Connection.objects.bulk_create(
            Connection(
                organisation=o, name=f"books {n}", system="acumulus", base_url=f"https://books{n}.test"
            )
            for n, o in enumerate(owners)
        )
        made = Link.objects.bulk_create(
            Link(organisation=o, name=f"Webwinkel {n:05d} → Acumulus", source=s, target=b)
            for n, (o, s, b) in enumerate(zip(owners, shops, books, strict=True))
        )
        flows = Flow.objects.bulk_create(
            Flow(
                link=link,
                organisation_id=link.organisation_id,
                kind="orders_to_invoices",
                source=link.source,
                target=link.target,
                settings={"version": 2, "statuses": ["3"]},
                target_settings={"version": 1, "accounts": {"*": "1"}},
                last_run_at=now,
                next_run_at=now + dt.timedelta(minutes=60),
            )
            for link in made
        )
    batch = []
    for i in range(records):
        batch.append(_record(flows[i % len(flows)], i, now))
        if len(batch) >= BATCH:
            SyncRecord.objects.bulk_create(batch)
            batch = []
    if batch:
        SyncRecord.objects.bulk_create(batch)
    from django.db import connection

    from koppeling.sync import ledger_totals

    ledger_totals.compact()  # the triggers' deltas of the load, folded as the worker would
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # every table (the planner needs the memberships and links too), and the visibility map
            # an index-only scan needs: what autovacuum does in production after a bulk load
            cursor.execute("VACUUM ANALYZE")
    return user


def drop(slug: str) -> None:
    """Remove a data set made before (raw deletes: a million rows through the ORM take minutes)."""
    from koppeling.sync.models import (
        ActivityEvent,
        Connection,
        Flow,
        Link,
        Membership,
        Organisation,
        SyncRecord,
    )

    orgs = Organisation.objects.filter(slug__startswith=slug)
    for model, key in (
        (SyncRecord, "link__organisation__in"),
        (ActivityEvent, "organisation__in"),
        (Flow, "organisation__in"),
        (Link, "organisation__in"),
        (Connection, "organisation__in"),
        (Membership, "organisation__in"),
    ):
        rows = model.objects.filter(**{key: orgs})
        rows._raw_delete(rows.db)
    orgs.delete()


# -- the pages and the bare SELECTs of their rows ------------------------------------------------------


def pages(user, today: dt.date) -> dict[str, tuple[str, dict[str, str], Any]]:
    """name -> (URL, query, the queryset of the rows the page shows).

    The deep page is reached as a person paging on arrives: by the link of the page before it,
    which carries the sort key of that page's last row (keyset paging); the bare SELECT reads the
    same rows by the same key. Its page is ≈ 4/5 of the pages (capped at ``MAX_PAGE``, as before)."""
    from koppeling.web.access import links_for, records_for
    from koppeling.web.pages.common import MAX_PAGE, PAGE_SIZE, beyond, cursor_of, parse_cursor
    from koppeling.web.pages.ledger import ReportFilter
    from koppeling.web.pages.overview import LINKS_PER_PAGE

    start = (today - dt.timedelta(days=180)).isoformat()
    flt = {"state": "pushed", "start": start, "regime": "domestic"}
    filtered = ReportFilter(state="pushed", start=dt.date.fromisoformat(start), regime="domestic")
    rows = filtered.ordered(filtered.apply(records_for(user)))
    deep = min(MAX_PAGE, max(2, rows.count() // PAGE_SIZE * 4 // 5))
    before = rows[(deep - 1) * PAGE_SIZE - 1]  # the last row of the page before (once, not measured)
    cursor = cursor_of(before, "pushed_at")
    after = rows.filter(beyond("pushed_at", parse_cursor(unquote(cursor)), "lt"))  # as the page reads it
    failed = records_for(user).filter(state="failed").exclude(object_type="batch")
    links = links_for(user).order_by("organisation__name", "name", "pk")
    return {
        "overview": ("/", {}, links[:LINKS_PER_PAGE]),
        "report_first": ("/rapportage/", flt, rows[:PAGE_SIZE]),
        "report_deep": (
            "/rapportage/",
            {**flt, "after": unquote(cursor), "page": str(deep)},
            after[:PAGE_SIZE],
        ),
        "failures": ("/fouten/", {}, failed.order_by("-updated_at", "-id")[:PAGE_SIZE]),
    }


def _bare(queryset) -> tuple[float, int]:
    """The rows by a bare SELECT (the ORM's own SQL, run on the cursor): seconds, rows."""
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        n = len(cursor.fetchall())
    return time.perf_counter() - started, n


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def measure(user, repeat: int = 30) -> dict[str, dict[str, Any]]:
    """Per page: p50/p95 of the whole page and of the bare SELECT of its rows (milliseconds)."""
    from django.test import Client
    from django.utils import timezone

    client = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="nl")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    out: dict[str, dict[str, Any]] = {}
    for name, (url, query, rows) in pages(user, timezone.localdate()).items():
        page_times, bare_times, shown = [], [], 0
        for n in range(repeat + 1):
            started = time.perf_counter()
            response = client.get(url, query)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"{name}: {url} answered {response.status_code}")
            bare, shown = _bare(rows)
            if n:  # the first of each is the warm-up
                page_times.append(elapsed * 1000)
                bare_times.append(bare * 1000)
        out[name] = {
            "url": url,
            "query": query,
            "rows": shown,
            "page_p50_ms": round(statistics.median(page_times), 2),
            "page_p95_ms": round(p95(page_times), 2),
            "bare_p95_ms": round(p95(bare_times), 3),
            "bytes": len(response.content),
        }
        out[name]["ratio"] = round(out[name]["page_p95_ms"] / max(out[name]["bare_p95_ms"], 1e-6), 1)
    return out


def summary(results: dict[str, dict[str, Any]], records: int, links: int, vendor: str) -> dict[str, Any]:
    worst = max(results, key=lambda name: results[name]["page_p95_ms"])
    return {
        "name": "dashboard",
        "metric": "worst_page_p95_ms",
        "value": results[worst]["page_p95_ms"],
        "baseline": results[worst]["bare_p95_ms"],
        "ratio": results[worst]["ratio"],
        "goal": GOAL_MS,
        "worst_page": worst,
        "pages": {k: {x: v[x] for x in ("page_p95_ms", "bare_p95_ms", "rows")} for k, v in results.items()},
        "records": records,
        "links": links,
        "database": vendor,
        "ok": all(r["page_p95_ms"] < GOAL_MS for r in results.values()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--links", type=int, default=None, help="default: records / 100")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--fresh", action="store_true", help="make the data set again")
    args = parser.parse_args(argv)
    links = args.links or max(1, args.records // 100)
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql", "pgsql")):
        print("set DATABASE_URL to a PostgreSQL database (and KOPPELING_ALLOW_LOCAL_KEYS=1)", file=sys.stderr)
        return 2
    _setup_django()
    from django.db import connection

    slug = f"bench-dashboard-{args.records}-{links}"
    if args.fresh:
        drop(slug)
    started = time.perf_counter()
    user = populate(args.records, links, slug=slug)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # the totals tables as autovacuum keeps them (migration 0013 fills them in one
            # transaction; the compactor empties the deltas every minute)
            cursor.execute("VACUUM ANALYZE sync_ledgertotal, sync_ledgertotaldelta")
    print(
        f"data set: {args.records} ledger records over {links} links, "
        f"ready in {time.perf_counter() - started:.1f} s"
    )
    results = measure(user, args.repeat)
    for name, r in results.items():
        print(
            f"{name:13} {r['rows']:3} rows  page p50 {r['page_p50_ms']:8.2f} ms  "
            f"p95 {r['page_p95_ms']:8.2f} ms  bare SELECT p95 {r['bare_p95_ms']:7.3f} ms  "
            f"ratio {r['ratio']:7.1f}  (goal p95 < {GOAL_MS:.0f} ms)"
        )
    print(json.dumps(summary(results, args.records, links, connection.vendor)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
