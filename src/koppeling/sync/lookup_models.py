"""What the runtime looks up and keeps for every link: VIES's answers and the ECB's daily rates.

Facts about a VAT number or a currency's day, not about a shop: one table each, shared.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

__all__ = ["ExchangeRateDay", "VatCheck"]


class VatCheck(models.Model):
    """VIES's last answer about one VAT number: the proof an intra-community supply at 0 % needs,
    reused until ``valid_until`` (one table for every link: a number's validity is a fact about
    the number, not about a shop)."""

    vat_number = models.CharField(max_length=20, unique=True)
    status = models.CharField(max_length=20)  # core.facts.VatCheckStatus
    checked_at = models.DateTimeField()
    consultation_number = models.CharField(max_length=40, blank=True)
    source = models.CharField(max_length=40, default="VIES")
    name = models.CharField(max_length=200, blank=True)
    address = models.CharField(max_length=500, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    detail = models.CharField(max_length=80, blank=True)

    class Meta:
        app_label = "sync"

    def __str__(self) -> str:
        return f"{self.vat_number}: {self.status} ({self.checked_at:%Y-%m-%d})"


class ExchangeRateDay(models.Model):
    """One ECB reference rate: ``rate`` units of ``currency`` per euro on ``date`` (a daily task
    fetches them; an order in another currency is booked or converted at the rate of its date)."""

    currency = models.CharField(max_length=3)
    date = models.DateField()
    rate = models.DecimalField(max_digits=18, decimal_places=6)
    source = models.CharField(max_length=100, default="ECB euro foreign exchange reference rates")
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "sync"
        constraints = [models.UniqueConstraint(fields=["currency", "date"], name="uniq_rate_day")]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate} ({self.date})"
