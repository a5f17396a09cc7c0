"""The ledger's totals kept by the database (``sync.ledger_totals``) are exact.

Random inserts, state and read-back changes, edits of what was sent (country, regime, currency),
amounts, dates and deletes — through the ORM, bulk statements and raw SQL — and at every check the
totals (kept + deltas not folded yet, with compactions in between) equal a direct ``Count``/``Sum``
over the ledger, for the filters the dashboard asks. A missing trigger is noticed (the check is
run with one trigger dropped and must find the difference).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, F, Q, Sum, TextField, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from koppeling.sync import ledger_totals
from koppeling.sync.ledger_totals import Part, grains_for, totals_query
from koppeling.sync.models import Connection, Flow, Link, Organisation, SyncRecord
from koppeling.sync.totals_models import Grain, LedgerTotalDelta

STATES = ("pending", "pushing", "pushed", "failed", "skipped", "needs_review", "ignored")
SENT = (
    {"country": "NL", "regime": "domestic", "currency": "EUR"},
    {"country": "BE", "regime": "eu_b2b", "currency": "EUR"},
    {"country": "DE", "regime": "eu_b2c_oss", "currency": "EUR"},
    {"country": "US", "regime": "export", "currency": "USD"},
    {},
)
TODAY = dt.date(2026, 3, 15)


def _flows(n_orgs: int = 2, links_each: int = 2) -> list[Flow]:
    flows = []
    for o in range(n_orgs):
        org = Organisation.objects.create(name=f"Org {o}", slug=f"totals-{o}")
        for n in range(links_each):
            shop = Connection.objects.create(organisation=org, name=f"s{o}{n}", system="mijnwebwinkel")
            books = Connection.objects.create(organisation=org, name=f"b{o}{n}", system="acumulus")
            link = Link.objects.create(organisation=org, name=f"L{o}{n}", source=shop, target=books)
            flows.append(Flow.objects.create(link=link, kind="orders_to_invoices", source=shop, target=books))
    return flows


def _facts(rng: random.Random) -> dict:
    state = rng.choice(STATES)
    day = TODAY - dt.timedelta(days=rng.randrange(-5, 120)) if rng.random() > 0.05 else None
    pushed = (
        timezone.make_aware(dt.datetime.combine(day or TODAY, dt.time(rng.randrange(24), rng.randrange(60))))
        if state == "pushed" or rng.random() < 0.1
        else None
    )
    return {
        "state": state,
        "object_type": rng.choice(("order", "order", "credit_order", "batch")),
        "reconcile_status": rng.choice(("", "ok", "mismatch", "unavailable")),
        "error_code": rng.choice(("", "", "rule", "target_rejected")),
        "order_date": day,
        "pushed_at": pushed,
        "amount_inc": Decimal(rng.randrange(-500, 100000)) / 100 if rng.random() > 0.05 else None,
        "sent": dict(rng.choice(SENT)),
    }


def _change(rng: random.Random, flows: list[Flow], serial: list[int]) -> None:
    """One random write, by one of the ways the runtime writes the ledger."""
    rows = list(SyncRecord.objects.values_list("pk", flat=True))
    kind = rng.random()
    if kind < 0.3 or not rows:
        batch = []
        for _ in range(rng.randrange(1, 6)):
            serial[0] += 1
            flow = rng.choice(flows)
            batch.append(SyncRecord(link_id=flow.link_id, flow=flow, source_id=str(serial[0]), **_facts(rng)))
        SyncRecord.objects.bulk_create(batch)
    elif kind < 0.45:
        record = SyncRecord.objects.get(pk=rng.choice(rows))
        for name, value in _facts(rng).items():
            if rng.random() < 0.5:
                setattr(record, name, value)
        record.save()
    elif kind < 0.6:
        chosen = rng.sample(rows, min(len(rows), rng.randrange(1, 5)))
        SyncRecord.objects.filter(pk__in=chosen).update(state=rng.choice(STATES))
    elif kind < 0.7:
        chosen = rng.sample(rows, min(len(rows), 3))
        SyncRecord.objects.filter(pk__in=chosen).update(reconcile_status=rng.choice(("ok", "mismatch", "")))
    elif kind < 0.8:
        record = SyncRecord.objects.get(pk=rng.choice(rows))
        with connection.cursor() as cursor:  # a raw writer, as the pusher's executemany batches
            cursor.execute(
                "UPDATE sync_syncrecord SET amount_inc = %s, order_date = %s WHERE id = %s",
                [
                    Decimal(rng.randrange(100000)) / 100,
                    TODAY - dt.timedelta(days=rng.randrange(90)),
                    record.pk,
                ],
            )
    elif kind < 0.85:
        SyncRecord.objects.filter(pk=rng.choice(rows)).update(source_number="untracked")  # no delta
    else:
        SyncRecord.objects.filter(pk__in=rng.sample(rows, min(len(rows), 2))).delete()
    if rng.random() < 0.15:
        ledger_totals.compact()


def _direct(orgs: list[int], where: Q, start=None, end=None, group: str = "currency") -> Counter:
    rows = SyncRecord.objects.filter(link__organisation_id__in=orgs).filter(where)
    if start:
        rows = rows.filter(order_date__gte=start)
    if end:
        rows = rows.filter(order_date__lte=end)
    key = {
        "currency": Coalesce(KT("sent__currency"), Value(""), output_field=TextField()),
        "state": F("state"),
        "error_code": F("error_code"),
    }
    found = Counter()
    for row in rows.values(g=key[group]).annotate(n=Count("id"), s=Sum("amount_inc")).order_by():
        found[(row["g"] or "", "n")] += row["n"]
        found[(row["g"] or "", "s")] += Decimal(str(row["s"] or 0)).quantize(Decimal("0.01"))
    return +found


def _kept(orgs: list[int], where: Q, start=None, end=None, group: str = "currency") -> Counter:
    days = None if start is None and end is None else (start, end)
    found = Counter()
    for row in totals_query(orgs, where=where, parts=grains_for(start, end), days=days, group=(group,)):
        found[(row[group], "n")] += row["n"]
        found[(row[group], "s")] += row["amount"]
    return +found


def _chart(orgs: list[int], first: dt.date) -> tuple[dict, dict]:
    direct = (
        SyncRecord.objects.filter(
            link__organisation_id__in=orgs,
            state="pushed",
            pushed_at__gte=timezone.make_aware(dt.datetime.combine(first, dt.time.min)),
        )
        .annotate(day=TruncDate("pushed_at"))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    kept = totals_query(
        orgs,
        where=Q(state="pushed"),
        parts=[Part(Grain.BOOKED_DAY, first)],
        days=(first, None),
        booked=True,
        by_day=True,
    )
    return {r["day"]: r["n"] for r in direct}, {r["day"]: r["n"] for r in kept}


def _filters(rng: random.Random):
    """(where on both tables, start, end): what Rapportage, Overview and Fouten ask."""
    for _ in range(6):
        where = Q(object_type__in=("order", "credit_order"))
        if rng.random() < 0.8:
            where &= Q(state=rng.choice(STATES))
        if rng.random() < 0.3:
            where &= Q(reconcile_status=rng.choice(("", "ok", "mismatch")))
        sent = rng.choice(SENT[:4])
        direct, kept = where, where
        if rng.random() < 0.4:
            direct, kept = direct & Q(sent__country=sent["country"]), kept & Q(country=sent["country"])
        if rng.random() < 0.4:
            direct, kept = direct & Q(sent__regime=sent["regime"]), kept & Q(regime=sent["regime"])
        start = TODAY - dt.timedelta(days=rng.randrange(130)) if rng.random() < 0.6 else None
        end = TODAY - dt.timedelta(days=rng.randrange(-3, 60)) if rng.random() < 0.4 else None
        yield direct, kept, start, end


def check(orgs: list[int], rng: random.Random) -> list[str]:
    """Every difference between the kept totals and the ledger (empty: exact)."""
    problems = []
    for direct, kept, start, end in _filters(rng):
        want, got = _direct(orgs, direct, start, end), _kept(orgs, kept, start, end)
        if want != got:
            problems.append(f"{kept} {start}..{end}: ledger {dict(want)} totals {dict(got)}")
    failed = Q(state__in=("failed", "needs_review"))
    for group in ("state", "error_code"):
        if _direct(orgs, failed, group=group) != _kept(orgs, failed, group=group):
            problems.append(f"per {group}")
    direct, kept = _chart(orgs, TODAY - dt.timedelta(days=29))
    if direct != kept:
        problems.append(f"chart: ledger {direct} totals {kept}")
    return problems


def run_and_check(seed: int, steps: int = 120) -> None:
    rng = random.Random(seed)
    flows = _flows()
    orgs = sorted({f.organisation_id for f in flows})
    serial = [0]
    for step in range(steps):
        _change(rng, flows, serial)
        if step % 10 == 9:
            assert check(orgs, rng) == [], f"step {step}"
            assert check(orgs[:1], rng) == [], f"step {step}, one organisation"
    ledger_totals.compact()
    assert not LedgerTotalDelta.objects.exists()
    assert check(orgs, rng) == []
    ledger_totals.rebuild()
    assert check(orgs, rng) == []


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_changes_keep_the_totals_exact(seed):
    assert ledger_totals.installed() == set(ledger_totals.EVENTS)
    run_and_check(seed)


@pytest.mark.django_db
@pytest.mark.parametrize("event", ledger_totals.EVENTS)
def test_a_missing_trigger_is_noticed(event):
    """The check above fails when a trigger is missing: drop one, write, and it finds the difference."""
    missing_trigger_is_noticed(event)


def missing_trigger_is_noticed(event: str) -> None:
    """Drop the trigger of ``event``, write, and the check must find a difference (any database)."""
    on = " ON sync_syncrecord" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {ledger_totals.trigger_name(event, connection.vendor)}{on}")
    assert event not in ledger_totals.installed()
    rng = random.Random(7)
    flows = _flows()
    orgs = sorted({f.organisation_id for f in flows})
    serial = [0]
    problems = []
    for _ in range(60):
        _change(rng, flows, serial)
        problems += check(orgs, rng)
    assert problems, "totals stayed exact without a trigger: the check would not see a missing one"
    ledger_totals.install()
    assert ledger_totals.installed() == set(ledger_totals.EVENTS)


@pytest.mark.django_db
def test_the_totals_are_kept_in_the_writers_transaction():
    flows = _flows(1, 1)
    org = flows[0].organisation_id
    where = Q(state="failed")
    SyncRecord.objects.create(link_id=flows[0].link_id, flow=flows[0], source_id="1", state="failed")
    assert _kept([org], where, group="state") == Counter({("failed", "n"): 1})
    ledger_totals.compact()
    assert not LedgerTotalDelta.objects.exists()
    SyncRecord.objects.filter(source_id="1").update(state="pushed", pushed_at=timezone.now())
    assert _kept([org], where, group="state") == Counter()
    ledger_totals.compact()
    assert _kept([org], Q(state="pushed"), group="state") == Counter({("pushed", "n"): 1})
    from koppeling.sync.totals_models import LedgerTotal

    assert not LedgerTotal.objects.filter(state="failed").exists()  # what came to nothing goes


def test_the_parts_of_a_range_count_each_day_once():
    base = dt.date(2025, 1, 1)
    days = [base + dt.timedelta(d) for d in range(800)]

    def covered(parts: list[Part]) -> Counter:
        seen = Counter()
        for part in parts:
            for day in days:
                at = day if part.grain == Grain.DAY else day.replace(day=1)
                if part.grain == Grain.ALL or (
                    (part.first is None or at >= part.first) and (part.last is None or at <= part.last)
                ):
                    seen[day] += part.sign
        return +seen

    rng = random.Random(5)
    for _ in range(400):
        start, end = rng.choice([None, *days[40:700]]), rng.choice([None, *days[40:700]])
        want = Counter({d: 1 for d in days if (start is None or d >= start) and (end is None or d <= end)})
        assert covered(grains_for(start, end)) == want, (start, end)
    # a partial month is read as the fewer days: June 7 onwards is June less its first six days
    assert grains_for(dt.date(2026, 6, 7), None) == [
        Part(Grain.MONTH, dt.date(2026, 6, 1)),
        Part(Grain.DAY, dt.date(2026, 6, 1), dt.date(2026, 6, 6), -1),
    ]


@pytest.mark.django_db
def test_install_replaces_an_old_version_and_leaves_a_current_one():
    """A trigger of another definition (older code, another time zone) is replaced; the current
    ones are not touched (on PostgreSQL a new trigger locks the ledger: not at every migrate)."""
    vendor = connection.vendor
    on = " ON sync_syncrecord" if vendor == "postgresql" else ""
    current = ledger_totals.trigger_name("delete", vendor)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {current}{on}")
        statement = ledger_totals._definitions(vendor)["delete"][-1]
        if vendor == "postgresql":
            cursor.execute(
                ledger_totals._definitions(vendor)["delete"][0].replace(
                    "{name}", "koppeling_ledger_totals_delete_old"
                )
            )
        cursor.execute(statement.replace("{name}", "koppeling_ledger_totals_delete_old"))
    ledger_totals.install()
    with connection.cursor() as cursor:
        names = ledger_totals._present(connection, cursor)
    assert names == {ledger_totals.trigger_name(e, vendor) for e in ledger_totals.EVENTS}


@pytest.mark.django_db
def test_rebuild_totals_on_the_command_line_counts_what_the_triggers_missed(capsys):
    """A write the triggers did not see (here: with them dropped) is counted by `koppeling
    rebuild-totals`, which also puts the triggers back."""
    from koppeling import cli

    rng = random.Random(11)
    flows = _flows()
    orgs = sorted({f.organisation_id for f in flows})
    ledger_totals.drop()
    serial = [0]
    for _ in range(40):
        _change(rng, flows, serial)
    assert check(orgs, rng) != []
    assert cli.main(["rebuild-totals"]) == 0
    assert "counted again from" in capsys.readouterr().out
    assert ledger_totals.installed() == set(ledger_totals.EVENTS)
    assert check(orgs, rng) == []
