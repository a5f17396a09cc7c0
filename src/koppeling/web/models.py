"""What the web app keeps beside the runtime's state: invitations to an organisation.

An invitation is a one-time link sent by e-mail; only the hash of its token is stored, so a copy
of the database does not let anyone join. It names the role the invitee gets, expires after
``INVITATION_DAYS`` and is spent once (or revoked by an owner).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from koppeling.sync.models import Organisation, Role

INVITATION_DAYS = 7


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def open(self) -> InvitationQuerySet:
        """Not accepted, not revoked, not expired."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An e-mail address asked to join an organisation with a role."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["organisation", "email"], name="invitation_org_email")]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation} ({self.role})"

    @classmethod
    def issue(cls, organisation: Organisation, email: str, role: str, invited_by) -> tuple[Invitation, str]:
        """A new invitation and its token (shown once, in the e-mail; only its hash is kept)."""
        token = secrets.token_urlsafe(32)
        invitation = cls.objects.create(
            organisation=organisation,
            email=email.strip().lower(),
            role=role,
            token_hash=token_hash(token),
            invited_by=invited_by,
            expires_at=timezone.now() + dt.timedelta(days=INVITATION_DAYS),
        )
        return invitation, token

    @classmethod
    def by_token(cls, token: str) -> Invitation | None:
        return cls.objects.select_related("organisation").filter(token_hash=token_hash(token)).first()

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class StartKind(models.TextChoices):
    """Where a new link starts booking (the wizard's start point)."""

    NOW = "now", _("From now on")
    DATE = "date", _("From a date")
    NUMBER = "number", _("From an order number")


class LinkSetup(models.Model):
    """How far the set-up of one link got: a link is activated only after every step.

    The steps' moments are kept so a later change (new settings, another start point) asks for a
    fresh preview before the link may be activated: the preview shown is the one that will run.
    """

    link = models.OneToOneField("sync.Link", on_delete=models.CASCADE, related_name="setup")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    #: both connections answered the live check with the credentials as stored now
    checked_at = models.DateTimeField(null=True, blank=True)
    flows_at = models.DateTimeField(null=True, blank=True)
    settings_at = models.DateTimeField(null=True, blank=True)
    start_kind = models.CharField(max_length=10, choices=StartKind.choices, default=StartKind.NOW)
    start_at = models.DateTimeField(null=True, blank=True)
    previewed_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"set-up of {self.link_id}"

    def preview_current(self) -> bool:
        """The preview was made after the last change of credentials, flows, settings and start."""
        if self.previewed_at is None:
            return False
        moments = [self.checked_at, self.flows_at, self.settings_at, self.start_at]
        return all(m is not None and m <= self.previewed_at for m in moments)
