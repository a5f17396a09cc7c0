"""Alerts' state: one open problem per (link, kind), and how far telling people about it got.

The e-mail goes out when the alert opens (``notified_at``); the organisation's optional outbound
webhook likewise (``webhook_notified_at``), retried with a growing pause while the receiver does
not take it (``webhook_attempts``, ``webhook_tried_at``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["Alert", "AlertKind"]


class AlertKind(models.TextChoices):
    AUTH = "auth", _("Credentials refused")
    QUOTA = "quota", _("Account limit reached")
    UNREACHABLE = "unreachable", _("Unreachable for several runs")
    RECONCILIATION = "reconciliation", _("Booked documents differ from the source")


class Alert(models.Model):
    """One open problem per (link, kind): the e-mail goes out when it opens, not per order."""

    link = models.ForeignKey("sync.Link", on_delete=models.CASCADE, related_name="alerts")
    flow = models.ForeignKey(
        "sync.Flow", on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    code = models.CharField(max_length=80, blank=True)
    params = models.JSONField(default=dict, blank=True)
    paused = models.BooleanField(default=False)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    webhook_notified_at = models.DateTimeField(null=True, blank=True)
    webhook_tried_at = models.DateTimeField(null=True, blank=True)
    webhook_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        app_label = "sync"
        constraints = [
            models.UniqueConstraint(
                fields=["link", "kind"], condition=models.Q(closed_at__isnull=True), name="one_open_alert"
            )
        ]
