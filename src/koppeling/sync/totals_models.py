"""The ledger's totals, kept by the database: counts and sums of ``amount_inc`` per organisation.

Triggers on the ledger (``sync.ledger_totals``) write one **delta** row per change (+1 for the
row's new facts, −1 for its old ones) in the writer's own transaction; a compactor folds the
deltas into ``LedgerTotal``. A reader sums the totals *and* the deltas not folded yet, in one
statement, so what it gets is exact. The deltas are insert-only: two workers of one organisation
never wait for each other on a shared totals row.

Organisation-level, not link-level: a link's few records a day would make as many totals rows as
ledger rows. No foreign keys: the rows of a deleted organisation are the deltas of its deleted
ledger rows, and a total is only read through the reader's memberships.
"""

from __future__ import annotations

import datetime as dt

from django.db import models

__all__ = ["NO_DATE", "Grain", "LedgerTotal", "LedgerTotalDelta"]

#: the period of a row without an order date (a unique key cannot hold NULL on every database)
NO_DATE = dt.date(1, 1, 1)


class Grain(models.TextChoices):
    ALL = "a", "all time"
    MONTH = "m", "order month"
    DAY = "d", "order day"
    #: the local day of ``pushed_at`` (Overview's chart), without the country/regime/currency facts
    BOOKED_DAY = "b", "booked day"


#: what a total is kept per, beside its grain, state, period and organisation
FACTS = ("object_type", "reconcile_status", "error_code", "country", "regime", "currency")
#: a total's whole key (its unique constraint; the compactor's ``ON CONFLICT`` names the same)
KEY_FIELDS = ("grain", "state", "period", "organisation_id", *FACTS)


class LedgerTotal(models.Model):
    """How many ledger rows, and their ``amount_inc``, share one key in one period of a grain."""

    grain = models.CharField(max_length=1, choices=Grain.choices)
    period = models.DateField()
    organisation_id = models.BigIntegerField()
    object_type = models.CharField(max_length=30)
    state = models.CharField(max_length=20)
    reconcile_status = models.CharField(max_length=20, blank=True)
    error_code = models.TextField(blank=True)
    country = models.TextField(blank=True)
    regime = models.TextField(blank=True)
    currency = models.TextField(blank=True)
    n = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=list(KEY_FIELDS),
                name="ledger_total_key",
            )
        ]
        indexes = [
            # PostgreSQL: the dashboard's sums from the index alone (Overview's chart, 30 days of
            # 1,000 organisations: 10.5 -> 6 ms); SQLite has no INCLUDE and gets the plain index
            models.Index(
                fields=["grain", "state", "period", "organisation_id"],
                include=["n", "amount", *FACTS],
                name="ledger_total_read",
            )
        ]


class LedgerTotalDelta(models.Model):
    """One change of the ledger as the triggers saw it: ±1 row and ±its amount, not folded yet."""

    id = models.BigAutoField(primary_key=True)
    organisation_id = models.BigIntegerField()
    object_type = models.CharField(max_length=30)
    state = models.CharField(max_length=20)
    reconcile_status = models.CharField(max_length=20, blank=True)
    error_code = models.TextField(blank=True)
    order_day = models.DateField()
    booked_day = models.DateField(null=True)
    country = models.TextField(blank=True)
    regime = models.TextField(blank=True)
    currency = models.TextField(blank=True)
    n = models.IntegerField()
    amount = models.DecimalField(max_digits=20, decimal_places=2)
