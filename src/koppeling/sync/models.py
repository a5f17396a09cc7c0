"""The runtime's state. The ledger (``SyncRecord``) is the product's memory of what was pushed.

A **link** joins two connections of one organisation; its **flows** say what moves between them
(orders → invoices, credit orders → credit notes, products, stock, customers, orders → a daily
batch), each with its own kind, settings, schedule, status and cursor. ``(flow, object_type,
source_id)`` is unique: that constraint, plus a claim taken in its own transaction before the
target is called, is what makes a sale become exactly one invoice. Only ``sync.ledger`` writes a
ledger row's ``state``.

Nothing here stores prose for people: outcomes are codes with parameters (``params``), rendered in
the reader's language when shown (``sync.outcomes``).
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
    #: an outbound webhook for alerts (Slack, Teams, a monitoring system): its address and signing
    #: secret sealed together, since such an address often carries a token of its own
    alert_webhook_encrypted = models.TextField(blank=True, editable=False)
    #: how long the activity log keeps this organisation's events; None: the installation's period
    activity_retention_days = models.PositiveIntegerField(null=True, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="organisations", blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name

    def alert_recipients(self) -> list[str]:
        if self.notify_email:
            return [self.notify_email]
        return [u.email for u in self.members.all() if u.email]

    @property
    def alert_webhook(self) -> dict[str, str]:
        """``{"url": …, "secret": …}``, or {} when no alert webhook is set."""
        return crypto.decrypt_json(self.alert_webhook_encrypted) if self.alert_webhook_encrypted else {}

    @alert_webhook.setter
    def alert_webhook(self, value: dict[str, str]) -> None:
        self.alert_webhook_encrypted = crypto.encrypt_json(dict(value)) if value else ""

    @property
    def retention_days(self) -> int:
        """The activity log's period for this organisation (its own, else the installation's)."""
        return self.activity_retention_days or int(settings.KOPPELING["ACTIVITY_RETENTION_DAYS"])


class Role(models.TextChoices):
    """What a member may do in an organisation (checked by every page and action)."""

    OWNER = "owner", _("Owner")  # everything, including members, credentials and deleting links
    MEMBER = "member", _("Member")  # runs and fixes links: Verwerk, settings, backfills
    READ_ONLY = "read_only", _("Read-only")  # looks: the bookkeeper


class Membership(models.Model):
    """A user in an organisation, with a role. ``Organisation.members`` goes through it."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="uniq_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organisation} ({self.role})"


class Connection(models.Model):
    """One account at one external system. Credentials are encrypted at rest, **bound to the
    address they were entered for**: the encrypted value carries the origin of the base URL it was
    saved with, and a connection whose base URL changed since cannot be saved (nor used by the
    runtime, ``sync.connections``) until its credentials are entered again."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="connections")
    name = models.CharField(max_length=200)
    system = models.CharField(max_length=50)
    base_url = models.URLField(max_length=500, blank=True, help_text=_("Empty: the system's real API"))
    credentials_encrypted = models.TextField(blank=True, editable=False)
    options = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="uniq_connection_name"),
            # the target of the composite foreign keys that keep links and flows in one organisation
            models.UniqueConstraint(fields=["organisation", "id"], name="uniq_connection_org_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.system})"

    @property
    def credentials(self) -> dict[str, str]:
        pending = getattr(self, "_new_credentials", None)
        if pending is not None:
            return dict(pending)
        return crypto.decrypt_json(self.credentials_encrypted)

    @credentials.setter
    def credentials(self, value: dict[str, str]) -> None:
        """Entered credentials: bound to the base URL the connection has when it is saved."""
        if any(str(k) == crypto.BOUND_TO for k in value):
            raise ValueError(f"{crypto.BOUND_TO!r} is not a credential field")
        self._new_credentials = dict(value)
        self.credentials_encrypted = self._sealed(self._new_credentials)

    def _sealed(self, fields: dict[str, str]) -> str:
        from .connections import origin

        return crypto.encrypt_json(fields, bound_to=origin(self.base_url))

    def bound_origin(self) -> str | None:
        """The origin the stored credentials were entered for; None when unbound (none stored)."""
        if not self.credentials_encrypted:
            return None
        return crypto.open_sealed(self.credentials_encrypted)[1]

    def credentials_bound_here(self) -> bool:
        """May the stored credentials go to the current base URL?"""
        from .connections import origin

        if getattr(self, "_new_credentials", None) is not None or not self.credentials_encrypted:
            return True
        bound = self.bound_origin()
        return bound is None or bound == origin(self.base_url)  # None: sealed before binding existed

    def masked_credentials(self) -> dict[str, str]:
        return {k: crypto.mask(v) for k, v in self.credentials.items()}

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .connections import base_url_problem, options_problems

        problems: dict[str, str] = {}
        url_problem = base_url_problem(self.base_url)
        if url_problem:
            problems["base_url"] = url_problem
        elif not self.credentials_bound_here():
            problems["base_url"] = str(_CHANGED_ADDRESS)
        for key, problem in options_problems(self.options).items():
            problems.setdefault("options", f"{key}: {problem}")
        if problems:
            raise ValidationError(problems)

    def save(self, *args, **kwargs) -> None:
        from django.core.exceptions import ValidationError

        if not self.credentials_bound_here():
            raise ValidationError({"base_url": _CHANGED_ADDRESS})
        if self.pk is not None:
            from .connections import organisation_kept

            organisation_kept(self)
        pending = getattr(self, "_new_credentials", None)
        if pending is not None:  # seal with the address being saved (set before or after the secrets)
            self.credentials_encrypted = self._sealed(pending)
        super().save(*args, **kwargs)
        self._new_credentials = None


_CHANGED_ADDRESS = _(
    "The address changed: enter the credentials again, so they are never sent to another host."
)


def _same_organisation(owner_id: int | None, *connections: Connection | None) -> bool:
    return all(c is None or c.organisation_id == owner_id for c in connections)


class LinkStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    DISABLED = "disabled", _("Disabled")


class Link(models.Model):
    """Two connections of one organisation; ``source``/``target`` name its main direction.

    A link is paused as a whole when one of its connections' credentials are refused (every
    flow over it would fail the same way); its flows are paused or disabled one by one.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="links")
    name = models.CharField(max_length=200)
    source = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="links_out")
    target = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="links_in")
    status = models.CharField(max_length=20, choices=LinkStatus.choices, default=LinkStatus.ACTIVE)
    paused_code = models.CharField(max_length=80, blank=True)
    paused_params = models.JSONField(default=dict, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="uniq_link_name"),
            models.UniqueConstraint(fields=["organisation", "id"], name="uniq_link_org_id"),
        ]

    def __str__(self) -> str:
        return self.name

    def _ends(self) -> tuple[Connection | None, Connection | None]:
        return (
            self.source if self.source_id else None,
            self.target if self.target_id else None,
        )

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if not _same_organisation(self.organisation_id, *self._ends()):
            raise ValidationError(_("A link and both its connections belong to one organisation."))
        if self.source_id and self.source_id == self.target_id:
            raise ValidationError(_("A link joins two different connections."))

    def save(self, *args, **kwargs) -> None:
        """Refuses (``ValidationError``) a link whose connections belong to another organisation:
        B's link on A's connections would read A's orders and book them again."""
        from django.core.exceptions import ValidationError

        if not _same_organisation(self.organisation_id, *self._ends()):
            raise ValidationError(_("A link and both its connections belong to one organisation."))
        super().save(*args, **kwargs)


class FlowStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    DISABLED = "disabled", _("Disabled")


class Flow(models.Model):
    """What moves over a link: one kind (``sync.flowkinds``), one direction, its own settings.

    ``settings`` are the kind's generic settings, ``target_settings`` the target system's own
    (ledger accounts, cost centers …); both JSON with a ``version``. The schedule is every
    ``schedule_minutes`` or, with ``daily_at``, once a day at that local time.
    """

    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="flows")
    #: the link's organisation, kept here (set on save) so the database can check that the flow's
    #: link and connections are all of it (composite foreign keys on PostgreSQL, migration 0008)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="flows", editable=False
    )
    kind = models.CharField(max_length=50)
    source = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="flows_out")
    target = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="flows_in")
    settings = models.JSONField(default=dict, blank=True)
    target_settings = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=FlowStatus.choices, default=FlowStatus.ACTIVE)
    schedule_minutes = models.PositiveIntegerField(default=60)
    daily_at = models.TimeField(null=True, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    #: rate limits: when the next push may go, how many wait, when all of them should be done
    waiting_until = models.DateTimeField(null=True, blank=True)
    backlog = models.PositiveIntegerField(default=0)
    backlog_eta = models.DateTimeField(null=True, blank=True)
    #: rate-limit slots one record cost the target in the last run that pushed (its write and the
    #: calls beside it, e.g. a look-up before a create): every ETA of this flow counts with it
    slots_per_record = models.FloatField(default=1.0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["link", "kind", "source"], name="uniq_flow_kind")]

    def __str__(self) -> str:
        return f"{self.link.name}: {self.kind}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        ends = {self.link.source_id, self.link.target_id}
        if self.source_id not in ends or self.target_id not in ends or self.source_id == self.target_id:
            raise ValidationError(_("A flow runs between the two connections of its link."))
        self._check_organisation()
        twin = self.twin()
        if twin is not None:
            raise ValidationError(twin)

    def _check_organisation(self) -> None:
        from django.core.exceptions import ValidationError

        owner = self.link.organisation_id
        ends = (self.source if self.source_id else None, self.target if self.target_id else None)
        if not _same_organisation(owner, *ends):
            raise ValidationError(_("A flow and both its connections belong to its link's organisation."))

    def twin(self) -> str | None:
        """Why this flow is refused when another moves the same shop into the same books."""
        from .connections import flow_twin

        return flow_twin(self)

    def save(self, *args, **kwargs) -> None:
        """Takes the link's organisation and refuses connections of another one (``ValidationError``)."""
        self.organisation_id = self.link.organisation_id
        self._check_organisation()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "organisation" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "organisation"]
        super().save(*args, **kwargs)


class RecordState(models.TextChoices):
    PENDING = "pending", _("Waiting to be pushed")
    PUSHING = "pushing", _("Being pushed")
    PUSHED = "pushed", _("Pushed")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped by the import conditions")
    NEEDS_REVIEW = "needs_review", _("Needs review")
    IGNORED = "ignored", _("Ignored")


class ReasonCode(models.TextChoices):
    """Why a record is not (yet) pushed: the dashboard filters on it (libAcumulus's codes)."""

    STATUS_NOT_SELECTED = "status_not_selected", _("Order status not selected for import")
    PAYMENT_METHOD_NOT_SELECTED = "payment_method_not_selected", _("Payment method not selected")
    COUNTRY_NOT_SELECTED = "country_not_selected", _("Country not selected")
    BEFORE_START_DATE = "before_start_date", _("Order is older than the import start date")
    BEFORE_START_NUMBER = "before_start_number", _("Order number is below the import start number")
    CURRENCY_NOT_SUPPORTED = "currency_not_supported", _("Currency not supported")
    CREDIT_ORDER = "credit_order", _("Credit order: handled by the credit-note flow")
    NOT_A_CREDIT = "not_a_credit", _("Not a credit order")
    SOURCE_DATA = "source_data", _("The source's data could not be read")
    RULE = "rule", _("The record cannot become a correct document")
    TARGET_REJECTED = "target_rejected", _("The target system refused it")
    TRANSIENT = "transient", _("Temporary problem, will retry")
    RATE_LIMITED = "rate_limited", _("Waiting for the target's rate limit")
    GAVE_UP = "gave_up", _("Temporary problem persisted; retries exhausted")
    INTERRUPTED = "interrupted", _("Push interrupted; outcome unknown")
    CHANGED_AFTER_BOOKING = "changed_after_booking", _("Changed in the source after it was booked")
    IGNORED_BY_PERSON = "ignored_by_person", _("Ignored by a person")
    HELD = "held", _("Held for a person: a warning the configuration asks to check")


class ReconcileStatus(models.TextChoices):
    NONE = "", _("Not checked yet")
    OK = "ok", _("Matches")
    MISMATCH = "mismatch", _("Differs")
    UNAVAILABLE = "unavailable", _("Could not be read back")


class BackfillStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Backfill(models.Model):
    """Past orders brought in on request (a migration): a date or number range of one flow.

    Its rows wait in the ledger at a lower priority than the daily orders (which are never starved)
    and are paced by the same rate limits; pausing it holds them back, resuming lets them go.
    """

    flow = models.ForeignKey("Flow", on_delete=models.CASCADE, related_name="backfills")
    start_date = models.DateField()
    end_date = models.DateField()
    from_number = models.PositiveBigIntegerField(null=True, blank=True)
    to_number = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=BackfillStatus.choices, default=BackfillStatus.RUNNING)
    requested_by = models.CharField(max_length=150, blank=True)
    #: what the preview counted when it was started: orders to book, and their totals per currency
    expected = models.PositiveIntegerField(default=0)
    expected_totals = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    #: the range was read completely (a run that failed while reading reads it again)
    fetched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.flow}: {self.start_date}..{self.end_date}"


#: rows a paused backfill holds back (excluded wherever due rows are chosen)
IN_PAUSED_BACKFILL = models.Q(backfill__status=BackfillStatus.PAUSED)


class SyncRecord(models.Model):
    """The ledger: one row per (flow, object type, source id). State changes: ``sync.ledger``."""

    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="records")
    flow = models.ForeignKey(Flow, on_delete=models.PROTECT, related_name="records")
    object_type = models.CharField(max_length=30, default="order")
    source_id = models.CharField(max_length=100)
    source_number = models.CharField(max_length=100, blank=True)
    reference = models.CharField(max_length=120, blank=True, help_text=_("What the target knows it by"))
    state = models.CharField(max_length=20, choices=RecordState.choices, default=RecordState.PENDING)
    #: why it is not pushed (ReasonCode), the specific outcome code, and its parameters
    reason_code = models.CharField(max_length=40, blank=True)
    error_code = models.CharField(max_length=80, blank=True)
    params = models.JSONField(default=dict, blank=True)
    #: warnings computed on the way (codes with parameters), shown with the record
    warnings = models.JSONField(default=list, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    booked_fingerprint = models.CharField(max_length=64, blank=True)
    changed_after_booking = models.BooleanField(default=False)
    source_status = models.CharField(max_length=50, blank=True)
    order_date = models.DateField(null=True, blank=True)
    amount_inc = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    #: what was sent (totals, customer) — compared with what the target read back
    sent = models.JSONField(default=dict, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    target_number = models.CharField(max_length=100, blank=True)
    target_token = models.CharField(max_length=100, blank=True)
    #: a record delivered inside a batch document points at the batch's own ledger row
    batch = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    #: brought in by a backfill (past orders), which it waits for when paused
    backfill = models.ForeignKey(
        Backfill, on_delete=models.SET_NULL, null=True, blank=True, related_name="records"
    )
    attempts = models.PositiveIntegerField(default=0)
    priority = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=120, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    reconcile_status = models.CharField(
        max_length=20, choices=ReconcileStatus.choices, default=ReconcileStatus.NONE, blank=True
    )
    reconciled_at = models.DateTimeField(null=True, blank=True)
    reconcile = models.JSONField(default=dict, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["flow", "object_type", "source_id"], name="uniq_ledger_entry")
        ]
        indexes = [
            models.Index(fields=["flow", "state", "next_attempt_at"], name="ledger_due"),
            models.Index(fields=["link", "updated_at"], name="ledger_recent"),
            models.Index(fields=["state", "claimed_at"], name="ledger_in_flight"),
            # Rapportage's and Fouten's pages: newest first within a state, whatever the scope
            # (on PostgreSQL with the link: Overview's chart counts from the index alone)
            models.Index(fields=["state", "-pushed_at", "-id"], name="ledger_booked", include=["link"]),
            models.Index(fields=["state", "-updated_at", "-id"], name="ledger_changed"),
        ]

    def __str__(self) -> str:
        return f"{self.flow_id}:{self.object_type}:{self.source_id} [{self.state}]"


class AttemptOutcome(models.TextChoices):
    SENDING = "sending", _("Sending")
    SUCCESS = "success", _("Success")
    TRANSIENT = "transient", _("Temporary failure")
    RATE_LIMITED = "rate_limited", _("Rate limited")
    REJECTED = "rejected", _("Rejected")
    UNCERTAIN = "uncertain", _("Outcome unknown")
    AUTH = "auth", _("Authentication failed")
    QUOTA = "quota", _("Quota reached")


class SyncAttempt(models.Model):
    """One try at pushing one record, written *before* the call (Saleor's delivery attempt).

    An attempt left in ``sending`` tells recovery that the target may have booked it.
    """

    #: chosen by the runtime, so attempts can be written in one statement before the calls
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    record = models.ForeignKey(SyncRecord, on_delete=models.CASCADE, related_name="attempts_log")
    claim_token = models.UUIDField()
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=AttemptOutcome.choices, default=AttemptOutcome.SENDING)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    code = models.CharField(max_length=80, blank=True)
    params = models.JSONField(default=dict, blank=True)


class Cursor(models.Model):
    """Where incremental fetching stands, per flow and stream; versioned JSON (``sync.cursors``)."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="cursors")
    stream = models.CharField(max_length=50, default="changed")
    state = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["flow", "stream"], name="uniq_cursor")]


class RunKind(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    MANUAL = "manual", _("Manual")
    SWEEP = "sweep", _("Reconciliation sweep")
    ORDER = "order", _("Single order")
    BACKFILL = "backfill", _("Backfill")
    MIGRATION = "migration", _("Migration")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    OK = "ok", _("Completed")
    PARTIAL = "partial", _("Completed with failures")
    FAILED = "failed", _("Failed")


class Run(models.Model):
    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="runs")
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=20, choices=RunKind.choices, default=RunKind.SCHEDULED)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=120, blank=True)
    fetched = models.PositiveIntegerField(default=0)
    pushed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    deferred = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=80, blank=True)
    error_params = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["link", "-started_at"], name="run_recent"),
            models.Index(fields=["flow", "-started_at"], name="run_flow_recent"),
        ]


class ActivityLevel(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")
    ERROR = "error", _("Error")


class ActivityEvent(models.Model):
    """What happened, for people: shown in the activity log, purged after the retention period."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="activity")
    link = models.ForeignKey(Link, on_delete=models.CASCADE, null=True, blank=True, related_name="activity")
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, null=True, blank=True, related_name="activity")
    run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True)
    record = models.ForeignKey(SyncRecord, on_delete=models.SET_NULL, null=True, blank=True)
    level = models.CharField(max_length=10, choices=ActivityLevel.choices, default=ActivityLevel.INFO)
    code = models.CharField(max_length=80)
    params = models.JSONField(default=dict, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)


class RateLimitHold(models.Model):
    """A remote said "too many" (429): no worker calls that account's limit before ``until``."""

    key = models.CharField(max_length=200, unique=True)
    until = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)


# the alert, look-up and webhook tables live in modules of their own; Django finds models through this one
from .alert_models import Alert, AlertKind  # noqa: E402, F401
from .lookup_models import ExchangeRateDay, VatCheck  # noqa: E402, F401
from .totals_models import LedgerTotal, LedgerTotalDelta  # noqa: E402, F401
from .webhook_models import SubscriptionStatus, WebhookEvent, WebhookSubscription  # noqa: E402, F401
