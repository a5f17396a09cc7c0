"""OSS: the organisation's EU distance sales against the EUR 10,000 threshold (issue 8).

One organisation at a time — the current one (the switcher), or ``?organisation=<id>`` of another
the user is a member of (any other answers 404, as every page does). The numbers come from
``sync.oss_monitor``, computed the way the runtime decides, so the page says what the next order
will be booked as: below the threshold the shop's own VAT, past it the customer's country's VAT
(OSS), from the sale that crossed it on; the crossing sale links to where-is-my-order.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from koppeling.sync.models import Organisation
from koppeling.sync.oss_monitor import oss_monitor

from ..access import current_organisation, organisations_for, require
from .common import parse_int


def _organisation(request: HttpRequest) -> Organisation | None:
    """The organisation asked for (a member's only: else 404), or the current one."""
    wanted = parse_int(request.GET.get("organisation"))
    if wanted is None:
        return current_organisation(request)
    require(request, wanted)
    return Organisation.objects.get(pk=wanted)


@login_required
@require_GET
def oss(request: HttpRequest) -> HttpResponse:
    organisation = _organisation(request)
    monitor = oss_monitor(organisation.pk) if organisation is not None else None
    where_url = ""
    if monitor is not None and monitor.crossing is not None:
        query = urlencode({"q": monitor.crossing.number, "link": monitor.crossing.link_id})
        where_url = f"{reverse('pages:where')}?{query}"
    context = {
        "organisation": organisation,
        "organisations": organisations_for(request.user).order_by("name", "pk").values("pk", "name"),
        "monitor": monitor,
        "where_url": where_url,
    }
    return render(request, "web/pages/oss.html", context)
