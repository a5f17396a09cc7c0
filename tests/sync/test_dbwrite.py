"""The push loop's statements: values converted as Django converts them, remembered per exact value."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connections

from koppeling.sync import dbwrite
from koppeling.sync.dbwrite import Assign, Column
from koppeling.sync.models import ActivityEvent, RecordState, SyncRecord

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
#: the night the clocks went back: 02:30 happened twice (fold 0 in summer time, fold 1 in winter time)
TWICE = dt.datetime(2026, 10, 25, 2, 30, tzinfo=AMSTERDAM)

VALUES = [
    None,
    True,
    1,
    0,
    "",
    "1",
    "True",
    RecordState.PUSHED,
    "pushed",
    uuid.UUID(int=7),
    dt.date(2026, 12, 6),
    dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 6, 13, 0, tzinfo=AMSTERDAM),
    TWICE,
    TWICE.replace(fold=1),
    Decimal("0.00"),
    Decimal("-0.00"),
    Decimal("12.5"),
    {"a": 1},
    [],
]


def _fields():
    return [f for f in SyncRecord._meta.concrete_fields if not f.primary_key]


def _django(field, value, connection, *, lookup=False):
    try:
        if lookup:
            return ("ok", field.get_db_prep_value(value, connection))
        return ("ok", field.get_db_prep_save(value, connection))
    except Exception as exc:  # a value this field refuses: the column must refuse it too
        return ("error", type(exc))


def _ours(column, value, connection):
    try:
        return ("ok", column.value(value, connection))
    except Exception as exc:
        return ("error", type(exc))


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime:RuntimeWarning")
@pytest.mark.parametrize("lookup", [False, True], ids=["stored", "condition"])
def test_every_value_converts_as_django_converts_it_in_any_order(lookup):
    """Each field of the ledger, every value in turn and then in reverse, through one column: the
    answer is Django's own every time — values that compare equal but are written differently
    (``True`` and ``1`` in a text column, the two 02:30s of a night the clocks went back,
    ``0.00`` and ``-0.00``) never get each other's answer."""
    connection = connections["default"]
    for field in _fields():
        column = Column(field, lookup=lookup)
        for value in [*VALUES, *reversed(VALUES)]:
            expected = _django(field, value, connection, lookup=lookup)
            assert _ours(column, value, connection) == expected, (field.name, value)


@pytest.mark.django_db
def test_equal_values_of_another_type_or_fold_are_not_shared():
    connection = connections["default"]
    text = Column(SyncRecord._meta.get_field("source_status"))
    assert text.value(1, connection) == "1"
    assert text.value(True, connection) == "True"  # 1 == True and hash(1) == hash(True)
    moment = Column(SyncRecord._meta.get_field("pushed_at"))
    summer, winter = moment.value(TWICE, connection), moment.value(TWICE.replace(fold=1), connection)
    assert TWICE == TWICE.replace(fold=1) and summer != winter  # an hour apart in UTC


def test_the_memory_stays_bounded():
    column = Column(SyncRecord._meta.get_field("source_id"))

    class Connection:  # source_id is text: no backend call is needed to convert it
        pass

    for number in range(dbwrite.COLUMN_MEMORY * 2 + 3):
        assert column.value(str(number), Connection()) == str(number)
    assert len(column._known) <= dbwrite.COLUMN_MEMORY


def test_rows_written_by_the_statements_read_back_as_given(db, shop_sim, books_sim):
    from tests.conftest import flow_of, make_link

    flow = flow_of(make_link(shop_sim, books_sim))
    now = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
    rows = [
        SyncRecord(
            link_id=flow.link_id,
            flow=flow,
            object_type="order",
            source_id=str(number),
            source_number=str(number),
            state=RecordState.PENDING,
            amount_inc=Decimal("-0.00") if number == 1 else Decimal("12.50"),
            first_seen_at=now,
            updated_at=now,
        )
        for number in range(3)
    ]
    assert dbwrite.insert_rows(rows) == 3
    assert dbwrite.insert_rows(rows[:1], ignore_conflicts=True) == 0  # already there: skipped
    stored = {r.source_id: r for r in SyncRecord.objects.filter(flow=flow)}
    assert {k: (r.state, r.amount_inc, r.first_seen_at) for k, r in stored.items()} == {
        "0": (RecordState.PENDING, Decimal("12.50"), now),
        "1": (RecordState.PENDING, Decimal("0.00"), now),
        "2": (RecordState.PENDING, Decimal("12.50"), now),
    }
    later = now + dt.timedelta(minutes=5)
    changed = dbwrite.update_rows(
        SyncRecord,
        [Assign("state"), Assign("pushed_at"), Assign.increment("attempts")],
        [
            ({"state": RecordState.PUSHED, "pushed_at": later}, {"id": stored["0"].pk, "state": "pending"}),
            ({"state": RecordState.PUSHED, "pushed_at": later}, {"id": stored["2"].pk, "state": "failed"}),
        ],
    )
    assert changed == 1  # the second row's condition does not hold
    first, last = SyncRecord.objects.get(pk=stored["0"].pk), SyncRecord.objects.get(pk=stored["2"].pk)
    assert (first.state, first.pushed_at, first.attempts) == (RecordState.PUSHED, later, 1)
    assert (last.state, last.pushed_at, last.attempts) == (RecordState.PENDING, None, 0)
    event = ActivityEvent(
        organisation_id=flow.link.organisation_id, link_id=flow.link_id, flow=flow, code="x", created_at=now
    )
    assert dbwrite.insert_rows([event]) == 1
    assert ActivityEvent.objects.get(code="x").params == {}
