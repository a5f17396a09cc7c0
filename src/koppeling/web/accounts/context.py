"""The organisation switcher's data on every page (a template context processor).

A bookkeeping firm is a member of many client organisations: the header shows the current one
and lets them switch. One query per page (two when the chosen one is not among the first), none
for visitors who are not signed in. Past ``SWITCH_LIST_MAX`` organisations the header holds a
search instead of a list (a thousand options cost ~40 ms a page and help nobody choose); the
organisations page finds and pages them.
"""

from __future__ import annotations

from django.http import HttpRequest

from ..access import CURRENT_ORGANISATION, organisations_for

#: up to this many organisations the header lists them; past it, a search
SWITCH_LIST_MAX = 100


def organisations(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    mine = organisations_for(user).order_by("name", "pk")
    first = list(mine[: SWITCH_LIST_MAX + 1])
    chosen = request.session.get(CURRENT_ORGANISATION) if hasattr(request, "session") else None
    many = len(first) > SWITCH_LIST_MAX
    current = next((o for o in first if o.pk == chosen), None)
    if current is None and chosen and many:  # chosen, but past the first ones by name
        current = mine.filter(pk=chosen).first()
    if current is None and first:
        current = first[0]
    return {
        "my_organisations": [] if many else first,
        "many_organisations": many,
        "current_organisation": current,
    }
