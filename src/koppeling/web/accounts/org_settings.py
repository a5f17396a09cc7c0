"""An organisation's own settings: how long its activity log is kept, and an alert webhook.

Everyone in the organisation sees them (the webhook by its host only); owners change them. The
activity log keeps the installation's period unless the organisation chose its own (1 to 3650
days; ``sync.retention``). The alert webhook receives each alert once, when it opens, signed
with the organisation's secret (``sync.alert_webhook``); owners see the secret to check the
signature, can make a new one, and can send a test. Every change is in the activity log.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from koppeling.sync.alert_webhook import new_secret, send_test
from koppeling.sync.connections import base_url_problem
from koppeling.sync.models import ActivityEvent, Organisation, Role
from koppeling.sync.retention import MAX_DAYS, MIN_DAYS

from ..access import can, require
from .codes import AccountCode
from .members import _organisation

__all__ = ["SettingsForm", "organisation_settings"]


class SettingsForm(forms.Form):
    retention_days = forms.IntegerField(
        label=gettext_lazy("Keep the activity log for (days)"),
        required=False,
        min_value=MIN_DAYS,
        max_value=MAX_DAYS,
    )
    webhook_url = forms.CharField(
        label=gettext_lazy("Alert webhook address"),
        required=False,
        max_length=500,
        help_text=gettext_lazy(
            "An https address (e.g. a Slack, Teams or Mattermost incoming webhook, or your monitoring). "
            "Each alert is posted once, when it opens. Empty: no webhook."
        ),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data["webhook_url"].strip()
        problem = base_url_problem(url) if url else None
        if problem:
            raise forms.ValidationError(problem)
        return url


def _changed(org: Organisation, form: SettingsForm, user: str) -> list[str]:
    """Store what the form changed (the secret kept unless the address is new); what changed."""
    changes = []
    days = form.cleaned_data["retention_days"]
    if days != org.activity_retention_days:
        org.activity_retention_days = days
        changes.append("retention_days")
    hook = org.alert_webhook
    url = form.cleaned_data["webhook_url"]
    if url != hook.get("url", ""):
        org.alert_webhook = {"url": url, "secret": hook.get("secret") or new_secret()} if url else {}
        changes.append("webhook_url")
    return changes


@login_required
def organisation_settings(request: HttpRequest, org: int | None = None) -> HttpResponse:
    """GET: the settings. POST ``save`` / ``new_secret`` / ``test`` (owners)."""
    organisation = _organisation(request, org)
    is_owner = can(request.user, organisation, Role.OWNER)
    hook = organisation.alert_webhook
    initial = {"retention_days": organisation.activity_retention_days, "webhook_url": hook.get("url", "")}
    form = SettingsForm(initial=initial)
    user = request.user.get_username()
    if request.method == "POST":
        require(request, organisation.pk, Role.OWNER)
        action = request.POST.get("action", "save")
        if action == "test":
            detail = send_test(organisation, user)
            if detail:
                text = _("The webhook did not take the test: %(detail)s") % {"detail": detail}
                messages.error(request, text)
            else:
                messages.success(request, _("The webhook took the test."))
            return redirect("accounts:org_settings", org=organisation.pk)
        if action == "new_secret" and hook.get("url"):
            with transaction.atomic():
                organisation.alert_webhook = {**hook, "secret": new_secret()}
                organisation.save(update_fields=["alert_webhook_encrypted"])
                _log(organisation, user, ["webhook_secret"])
            messages.success(request, _("A new signing secret was made; the old one no longer signs."))
            return redirect("accounts:org_settings", org=organisation.pk)
        form = SettingsForm(request.POST, initial=initial)
        if form.is_valid():
            with transaction.atomic():
                changes = _changed(organisation, form, user)
                if changes:
                    organisation.save(update_fields=["activity_retention_days", "alert_webhook_encrypted"])
                    _log(organisation, user, changes)
            messages.success(request, _("Settings saved."))
            return redirect("accounts:org_settings", org=organisation.pk)
    context = {
        "organisation": organisation,
        "form": form,
        "is_owner": is_owner,
        "installation_days": settings.KOPPELING["ACTIVITY_RETENTION_DAYS"],
        "retention_days": organisation.retention_days,
        "webhook_host": urlsplit(hook["url"]).hostname if hook.get("url") else "",
        "webhook_secret": hook.get("secret", "") if is_owner else "",
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "web/accounts/org_settings.html", context, status=status)


def _log(org: Organisation, user: str, changes: list[str]) -> None:
    ActivityEvent.objects.create(
        organisation=org,
        code=AccountCode.SETTINGS_CHANGED,
        params={"user": user, "fields": ", ".join(changes)},
    )
