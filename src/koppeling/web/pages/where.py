"""Waar is mijn bestelling?: an order number searched across the user's links, with its whole story.

``sync.explain`` tells it: when it was fetched, the import conditions (checked against the shop
now), each attempt, the booking, the read-back, and a verdict with what to do. The ledger is
searched first; only links that know the number — or, when none does, the one chosen (or the few
the user has) — are asked live, so a firm with a thousand links does not call a thousand shops.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from koppeling.connectors.errors import ConnectorError
from koppeling.sync.explain import explain
from koppeling.sync.flowkinds import KINDS
from koppeling.sync.models import ReasonCode
from koppeling.sync.outcomes import render as render_outcome

from ..access import links_for, records_for
from .common import parse_int

log = logging.getLogger(__name__)

#: with no link that knows the number, this many links are asked live without choosing one
ASK_LIVE_UP_TO = 5


def _step(step) -> dict[str, Any]:
    shown = render_outcome(step.code, step.params)
    return {"at": step.at, "text": shown.text, "suggestion": shown.suggestion, "level": step.level}


def _condition(condition) -> dict[str, Any]:
    def show(value: Any) -> str:
        if isinstance(value, tuple | list):
            return ", ".join(str(v) for v in value) or "—"
        if isinstance(value, bool):
            return "✓" if value else "✗"
        return str(value)

    labels = dict(ReasonCode.choices)
    return {
        "met": condition.met,
        "label": str(labels.get(condition.reason, condition.reason)),
        "value": show(condition.value),
        "wanted": show(condition.wanted),
    }


def story(link, number: str) -> list[dict[str, Any]]:
    """explain()'s stories of ``number`` in ``link``, rendered for the page."""
    try:
        explanation = explain(link, number, live=True)
    except ConnectorError:
        explanation = explain(link, number, live=False)
    stories = []
    for flow_story in explanation.stories:
        stories.append(
            {
                "link": link,
                "flow": flow_story.flow,
                "flow_label": str(KINDS[flow_story.flow.kind].label)
                if flow_story.flow.kind in KINDS
                else flow_story.flow.kind,
                "record": flow_story.record,
                "steps": [_step(s) for s in flow_story.steps],
                "conditions": [_condition(c) for c in flow_story.conditions],
                "lookup": _step(flow_story.lookup) if flow_story.lookup else None,
                "verdict": _step(flow_story.verdict) if flow_story.verdict else None,
            }
        )
    return stories


def links_to_ask(request: HttpRequest, number: str, chosen: int | None) -> tuple[list, bool]:
    """(links to explain, whether the person must choose one first)."""
    mine = links_for(request.user)
    if chosen:
        return list(mine.filter(pk=chosen)), False
    known = (
        records_for(request.user)
        .filter(Q(source_number=number) | Q(source_id=number) | Q(reference=number))
        .values_list("link_id", flat=True)
        .distinct()
    )
    found = list(mine.filter(pk__in=list(known[:20])).order_by("name"))
    if found:
        return found, False
    with_orders = mine.filter(flows__kind__in=("orders_to_invoices", "credit_orders_to_notes")).distinct()
    if with_orders.count() <= ASK_LIVE_UP_TO:
        return list(with_orders.order_by("name")), False
    return [], True


@login_required
@require_GET
def where(request: HttpRequest) -> HttpResponse:
    number = request.GET.get("q", "").strip()[:100]
    chosen = parse_int(request.GET.get("link"))
    stories: list[dict[str, Any]] = []
    must_choose = False
    if number:
        links, must_choose = links_to_ask(request, number, chosen)
        for link in links:
            stories.extend(story(link, number))
    context = {
        "q": number,
        "chosen": chosen,
        "stories": stories,
        "must_choose": must_choose,
        "links": links_for(request.user).order_by("name").values("pk", "name"),
    }
    return render(request, "web/pages/where.html", context)
