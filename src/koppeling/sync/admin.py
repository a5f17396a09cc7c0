"""Admin: for operators (superusers) only. The ledger and its history are read-only here.

Shop owners and bookkeepers work in the web app, which is scoped to their organisation; the admin
sees every tenant, so it is closed to anyone but superusers, and it can never edit or delete a
ledger row (deleting one would let an order be booked twice).
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from koppeling.connectors.registry import systems

from .crypto import mask
from .models import (
    ActivityEvent,
    Alert,
    Connection,
    Flow,
    Link,
    Membership,
    Organisation,
    Run,
    SyncRecord,
    WebhookEvent,
    WebhookSubscription,
)


def _operators_only(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


admin.site.has_permission = _operators_only  # type: ignore[method-assign]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ("user",)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "notify_email")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline,)


class ConnectionForm(forms.ModelForm):
    system = forms.ChoiceField(choices=[])
    credentials_json = forms.CharField(
        label=gettext_lazy("Credentials"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            'JSON, e.g. {"token": "..."}. Only the fields you enter are replaced; the others are '
            "kept — unless the address or the system changes: then enter them all again. They are "
            "stored encrypted and never shown again."
        ),
    )

    class Meta:
        model = Connection
        fields = ("organisation", "name", "system", "base_url", "options")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["system"].choices = [(s, s) for s in systems()]

    def clean_credentials_json(self) -> dict | None:
        raw = self.cleaned_data.get("credentials_json", "").strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(error)s") % {"error": exc}) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Expected an object of name: value"))
        if any(str(k).startswith("__") for k in value):
            raise forms.ValidationError(_("Names starting with __ are reserved"))
        return {str(k): str(v) for k, v in value.items() if str(v)}

    def clean(self) -> dict:
        """Credentials go only where they were entered for: a new address (or system) takes them
        all again, never the old ones merged in (they would be sent to the new host)."""
        data = super().clean()
        entered = data.get("credentials_json")
        moved = self.instance.pk is not None and ({"base_url", "system"} & set(self.changed_data))
        if moved and self.instance.credentials_encrypted:
            needed = self._credential_fields(data.get("system") or self.instance.system)
            missing = [f for f in needed if f not in (entered or {})]
            if not entered or missing:
                self.add_error(
                    "credentials_json",
                    _("The address or system changed: enter the credentials again (all of: %(fields)s)")
                    % {"fields": ", ".join(needed) or "—"},
                )
                return data
        if entered:
            current = {} if moved or not self.instance.credentials_encrypted else self.instance.credentials
            self.instance.credentials = {**current, **entered}  # sealed with the address on save
        return data

    @staticmethod
    def _credential_fields(system: str) -> list[str]:
        from koppeling.connectors.registry import connector_class

        try:
            return list(connector_class(system).credential_fields)
        except KeyError:
            return []


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    list_display = ("name", "system", "organisation", "base_url")
    readonly_fields = ("masked",)

    @admin.display(description=gettext_lazy("Stored credentials (masked)"))
    def masked(self, obj: Connection) -> str:
        return ", ".join(f"{k}={v}" for k, v in obj.masked_credentials().items()) or "—"


class FlowInline(admin.TabularInline):
    model = Flow
    extra = 0
    fields = ("kind", "source", "target", "status", "schedule_minutes", "daily_at", "next_run_at")


@admin.register(Link)
class LinkAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "source", "target", "status", "last_run_at")
    list_filter = ("status",)
    inlines = [FlowInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is looked at, never edited: no add, change or delete."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SyncRecord)
class SyncRecordAdmin(ReadOnlyAdmin):
    list_display = ("source_number", "link", "flow", "state", "reason_code", "target_number", "updated_at")
    list_filter = ("state", "reason_code")
    search_fields = ("source_number", "source_id", "target_number")


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = (
        "link",
        "flow",
        "kind",
        "status",
        "started_at",
        "fetched",
        "pushed",
        "failed",
        "api_calls",
    )


@admin.register(ActivityEvent)
class ActivityEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "link", "level", "code")
    list_filter = ("level", "code")


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("link", "kind", "code", "opened_at", "closed_at", "notified_at", "webhook_notified_at")
    list_filter = ("kind", "paused")


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyAdmin):
    """A flow's webhook at its source, as the watchdog last saw it. The endpoint token is the
    unguessable part of its address: shown masked, like a credential. Turning webhooks on or off
    is the flow's own switch (Configuratie or ``koppeling webhooks``), which also tells the shop."""

    list_display = (
        "flow",
        "status",
        "remote_id",
        "endpoint",
        "registered_at",
        "last_event_at",
        "reregistered",
        "problem_code",
    )
    list_filter = ("status",)
    search_fields = ("remote_id", "flow__link__name")
    exclude = ("token", "address")
    readonly_fields = ("endpoint",)

    @admin.display(description=gettext_lazy("Endpoint"))
    def endpoint(self, obj: WebhookSubscription) -> str:
        return f"/hooks/{mask(obj.token)}/"


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    """Deliveries received (kept for the duplicate window and the activity retention)."""

    list_display = ("received_at", "flow", "topic", "event_id", "duplicates", "queued")
    list_filter = ("topic", "queued")
    search_fields = ("event_id",)
    date_hierarchy = "received_at"
