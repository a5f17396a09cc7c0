"""Webhooks' state: one subscription per flow, and every delivery received (for duplicates).

``WebhookSubscription.token`` is the unguessable part of the flow's endpoint ``/hooks/<token>/``;
the vendor's signature is checked on top of it. ``WebhookEvent`` is unique per (flow, event id):
a second delivery of the same change is answered 200 and does nothing.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["SubscriptionStatus", "WebhookEvent", "WebhookSubscription", "new_token"]


def new_token() -> str:
    """43 URL-safe characters (256 bits): the flow's endpoint cannot be guessed."""
    return secrets.token_urlsafe(32)


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    #: the shop turned it off, or forgot it, and it could not be registered again
    LOST = "lost", _("Lost")
    #: a person turned webhooks off for this flow (the endpoint then refuses deliveries)
    OFF = "off", _("Off")


class WebhookSubscription(models.Model):
    """A flow's webhook at its source: where the shop sends, and what the watchdog last saw."""

    flow = models.OneToOneField("sync.Flow", on_delete=models.CASCADE, related_name="webhook")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    status = models.CharField(
        max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    #: the subscription's id at the vendor ("" until registered)
    remote_id = models.CharField(max_length=100, blank=True)
    #: the full URL registered at the vendor (koppeling's public address + /hooks/<token>/)
    address = models.URLField(max_length=500, blank=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    #: when the reconciliation scan last queued an incremental run of the flow
    scanned_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    #: times the watchdog found it dropped or disabled and registered it again
    reregistered = models.PositiveIntegerField(default=0)
    problem_code = models.CharField(max_length=80, blank=True)
    problem_params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "sync"

    def __str__(self) -> str:
        return f"webhook of flow {self.flow_id} [{self.status}]"


class WebhookEvent(models.Model):
    """One delivery accepted for a flow. ``(flow, event_id)`` is unique: duplicates stop here."""

    flow = models.ForeignKey("sync.Flow", on_delete=models.CASCADE, related_name="webhook_events")
    event_id = models.CharField(max_length=200)
    topic = models.CharField(max_length=50, blank=True)
    #: the source ids of the orders it named (each was queued for the priority path)
    order_ids = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    #: how many further deliveries of the same event were dropped
    duplicates = models.PositiveIntegerField(default=0)
    queued = models.BooleanField(default=False)

    class Meta:
        app_label = "sync"
        constraints = [models.UniqueConstraint(fields=["flow", "event_id"], name="uniq_webhook_event")]
        indexes = [models.Index(fields=["received_at"], name="webhook_event_age")]

    def __str__(self) -> str:
        return f"{self.flow_id}:{self.event_id}"
