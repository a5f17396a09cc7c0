"""Admin: connections and links can be created here (credentials entered, stored encrypted)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin

from koppeling.connectors.registry import systems

from .models import ActivityEvent, Alert, Connection, Link, Organisation, Run, SyncRecord


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "notify_email")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("members",)


class ConnectionForm(forms.ModelForm):
    system = forms.ChoiceField(choices=[])
    credentials_json = forms.CharField(
        label="Credentials",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='JSON, e.g. {"token": "...", "partner_token": "..."}. Leave empty to keep the stored ones; '
        "they are stored encrypted and never shown again.",
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
            raise forms.ValidationError(f"Not valid JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("Expected an object of name: value")
        return {str(k): str(v) for k, v in value.items()}

    def save(self, commit: bool = True) -> Connection:
        instance = super().save(commit=False)
        if self.cleaned_data.get("credentials_json") is not None:
            instance.credentials = self.cleaned_data["credentials_json"]
        if commit:
            instance.save()
        return instance


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    list_display = ("name", "system", "organisation", "base_url")
    readonly_fields = ("masked",)

    @admin.display(description="Stored credentials (masked)")
    def masked(self, obj: Connection) -> str:
        return ", ".join(f"{k}={v}" for k, v in obj.masked_credentials().items()) or "—"


@admin.register(Link)
class LinkAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "source", "target", "status", "last_run_at")
    list_filter = ("status",)


@admin.register(SyncRecord)
class SyncRecordAdmin(admin.ModelAdmin):
    list_display = ("source_number", "link", "state", "reason_code", "target_number", "updated_at")
    list_filter = ("state", "reason_code", "link")
    search_fields = ("source_number", "source_id", "target_number")


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("link", "kind", "status", "started_at", "fetched", "pushed", "failed", "api_calls")


@admin.register(ActivityEvent)
class ActivityEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "link", "level", "code", "message")
    list_filter = ("level", "code")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("link", "kind", "opened_at", "closed_at", "notified_at")
