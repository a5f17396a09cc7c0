"""The Configuratie page's webhook switch: a flow whose source can call koppeling (Lightspeed) is
booked within seconds of a change instead of at its next scheduled run. The same as
``koppeling webhooks LINK --on/--off``; the watchdog keeps the subscription alive."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from koppeling.connectors.errors import ConnectorError
from koppeling.connectors.registry import connector_class
from koppeling.connectors.webhooks import ReceivesWebhooks
from koppeling.sync import webhooks
from koppeling.sync.models import Flow, Role
from koppeling.sync.outcomes import render
from koppeling.sync.webhook_models import WebhookSubscription

from ..access import links_for, require


def webhook_state(flow: Flow) -> dict[str, Any] | None:
    """What the page shows: None when the flow's source cannot send webhooks."""
    try:
        source = connector_class(flow.source.system)
    except (KeyError, LookupError):
        return None
    if not issubclass(source, ReceivesWebhooks):
        return None
    sub = WebhookSubscription.objects.filter(flow=flow).first()
    problem = render(sub.problem_code, sub.problem_params).text if sub and sub.problem_code else ""
    return {"subscription": sub, "on": bool(sub and sub.status != "off"), "problem": problem}


@login_required
def switch(request: HttpRequest, pk: int) -> HttpResponse:
    flow = get_object_or_404(Flow.objects.filter(link__in=links_for(request.user)), pk=pk)
    back = reverse("pages:config", args=[flow.pk]) + "#webhooks"
    if request.method != "POST":
        return redirect(back)
    require(request, flow.link.organisation_id, Role.MEMBER)
    try:
        if request.POST.get("on") == "1":
            webhooks.enable(flow)
            messages.success(request, _("The shop now tells koppeling at once about every change."))
        else:
            webhooks.disable(flow)
            messages.success(request, _("Webhook off: the flow runs on its schedule only."))
    except webhooks.WebhookSetupError as exc:
        messages.error(request, render(str(exc.code), exc.params).text)
    except ConnectorError as exc:
        messages.error(request, render(str(exc.code), exc.params).text)
    return redirect(back)
