"""The engine's state. The ledger (``SyncRecord``) is the product's memory of what was pushed.

``(link, object_type, source_id)`` is unique: that constraint, plus a claim taken in its own
transaction before the target is called, is what makes a sale become exactly one invoice.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import crypto


class Organisation(models.Model):
    """A tenant: a shop owner or a bookkeeper's client. Every query is scoped to one."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    notify_email = models.EmailField(blank=True, help_text=_("Where alerts go; empty: the members"))
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="organisations", blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name

    def alert_recipients(self) -> list[str]:
        if self.notify_email:
            return [self.notify_email]
        return [u.email for u in self.members.all() if u.email]


class Connection(models.Model):
    """One account at one external system. Credentials are encrypted at rest."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="connections")
    name = models.CharField(max_length=200)
    system = models.CharField(max_length=50)
    base_url = models.URLField(max_length=500, blank=True, help_text=_("Empty: the system's real API"))
    credentials_encrypted = models.TextField(blank=True, editable=False)
    options = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="uniq_connection_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.system})"

    @property
    def credentials(self) -> dict[str, str]:
        return crypto.decrypt_json(self.credentials_encrypted)

    @credentials.setter
    def credentials(self, value: dict[str, str]) -> None:
        self.credentials_encrypted = crypto.encrypt_json(value)

    def masked_credentials(self) -> dict[str, str]:
        return {k: crypto.mask(v) for k, v in self.credentials.items()}


class LinkStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    DISABLED = "disabled", _("Disabled")


class Link(models.Model):
    """A source connection feeding a target connection, with its import conditions and mapping."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="links")
    name = models.CharField(max_length=200)
    source = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="links_out")
    target = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="links_in")
    settings = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=LinkStatus.choices, default=LinkStatus.ACTIVE)
    paused_reason = models.TextField(blank=True)
    schedule_minutes = models.PositiveIntegerField(default=60)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="uniq_link_name")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .link_settings import LinkSettings, SettingsError

        if self.source_id and self.target_id and self.source.organisation_id != self.target.organisation_id:
            raise ValidationError(_("Source and target must belong to the same organisation."))
        try:
            LinkSettings.from_dict(self.settings or {})
        except SettingsError as exc:
            raise ValidationError({"settings": exc.problems}) from exc


class RecordState(models.TextChoices):
    PENDING = "pending", _("Waiting to be pushed")
    PUSHING = "pushing", _("Being pushed")
    PUSHED = "pushed", _("Pushed")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped by the import conditions")
    NEEDS_REVIEW = "needs_review", _("Needs review")


class ReasonCode(models.TextChoices):
    """Every outcome other than "pushed" has a code the dashboard can filter on (libAcumulus)."""

    STATUS_NOT_SELECTED = "status_not_selected", _("Order status not selected for import")
    PAYMENT_METHOD_NOT_SELECTED = "payment_method_not_selected", _("Payment method not selected")
    COUNTRY_NOT_SELECTED = "country_not_selected", _("Country not selected")
    BEFORE_START_DATE = "before_start_date", _("Order is older than the import start date")
    CURRENCY_NOT_SUPPORTED = "currency_not_supported", _("Currency not supported")
    SOURCE_DATA = "source_data", _("The shop's order data could not be read")
    RULE = "rule", _("The order cannot become a correct invoice")
    TARGET_REJECTED = "target_rejected", _("The accounting package refused the invoice")
    TRANSIENT = "transient", _("Temporary problem, will retry")
    GAVE_UP = "gave_up", _("Temporary problem persisted; retries exhausted")
    INTERRUPTED = "interrupted", _("Push interrupted; outcome unknown")
    CHANGED_AFTER_BOOKING = "changed_after_booking", _("Order changed in the shop after it was booked")


class SyncRecord(models.Model):
    """The ledger: one row per (link, object type, source id)."""

    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="records")
    object_type = models.CharField(max_length=30, default="order")
    source_id = models.CharField(max_length=100)
    source_number = models.CharField(max_length=100, blank=True)
    reference = models.CharField(max_length=120, blank=True, help_text=_("What the target knows it by"))
    state = models.CharField(max_length=20, choices=RecordState.choices, default=RecordState.PENDING)
    reason_code = models.CharField(max_length=40, blank=True)
    error_code = models.CharField(max_length=80, blank=True, help_text=_("The system's own error code"))
    message = models.TextField(blank=True)
    suggestion = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    booked_fingerprint = models.CharField(max_length=64, blank=True)
    changed_after_booking = models.BooleanField(default=False)
    source_status = models.CharField(max_length=50, blank=True)
    order_date = models.DateField(null=True, blank=True)
    amount_inc = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    target_number = models.CharField(max_length=100, blank=True)
    target_token = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    priority = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["link", "object_type", "source_id"], name="uniq_ledger_entry")
        ]
        indexes = [
            models.Index(fields=["link", "state", "next_attempt_at"], name="ledger_due"),
            models.Index(fields=["link", "updated_at"], name="ledger_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.link_id}:{self.object_type}:{self.source_id} [{self.state}]"


class AttemptOutcome(models.TextChoices):
    SENDING = "sending", _("Sending")
    SUCCESS = "success", _("Success")
    TRANSIENT = "transient", _("Temporary failure")
    REJECTED = "rejected", _("Rejected")
    AUTH = "auth", _("Authentication failed")
    QUOTA = "quota", _("Quota reached")


class SyncAttempt(models.Model):
    """One try at pushing one record, written *before* the call (Saleor's delivery attempt).

    An attempt left in ``sending`` tells recovery that the target may have booked it.
    """

    #: chosen by the engine, so attempts can be written in one executemany before the calls
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    record = models.ForeignKey(SyncRecord, on_delete=models.CASCADE, related_name="attempts_log")
    claim_token = models.UUIDField()
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=AttemptOutcome.choices, default=AttemptOutcome.SENDING)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    detail = models.TextField(blank=True)


class Cursor(models.Model):
    """Where incremental fetching stands, per link and stream; versioned JSON (dlt style)."""

    STATE_VERSION = 1
    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="cursors")
    stream = models.CharField(max_length=50, default="orders")
    state = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["link", "stream"], name="uniq_cursor")]


class RunKind(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    MANUAL = "manual", _("Manual")
    SWEEP = "sweep", _("Reconciliation sweep")
    ORDER = "order", _("Single order")
    BACKFILL = "backfill", _("Backfill")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    OK = "ok", _("Completed")
    PARTIAL = "partial", _("Completed with failures")
    FAILED = "failed", _("Failed")


class Run(models.Model):
    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=20, choices=RunKind.choices, default=RunKind.SCHEDULED)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    fetched = models.PositiveIntegerField(default=0)
    pushed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["link", "-started_at"], name="run_recent")]


class ActivityLevel(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")
    ERROR = "error", _("Error")


class ActivityEvent(models.Model):
    """What happened, for people: shown in the activity log, purged after the retention period."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="activity")
    link = models.ForeignKey(Link, on_delete=models.CASCADE, null=True, blank=True, related_name="activity")
    run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True)
    record = models.ForeignKey(SyncRecord, on_delete=models.SET_NULL, null=True, blank=True)
    level = models.CharField(max_length=10, choices=ActivityLevel.choices, default=ActivityLevel.INFO)
    code = models.CharField(max_length=60)
    message = models.TextField()
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)


class AlertKind(models.TextChoices):
    AUTH = "auth", _("Credentials refused")
    QUOTA = "quota", _("Account limit reached")
    UNREACHABLE = "unreachable", _("Unreachable for several runs")


class Alert(models.Model):
    """One open problem per (link, kind): the e-mail goes out when it opens, not per order."""

    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    message = models.TextField()
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["link", "kind"], condition=models.Q(closed_at__isnull=True), name="one_open_alert"
            )
        ]
