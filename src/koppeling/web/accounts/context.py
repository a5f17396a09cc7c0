"""The organisation switcher's data on every page (a template context processor).

A bookkeeping firm is a member of many client organisations: the header shows the current one
and lets them switch. One query per page, and none for visitors who are not signed in.
"""

from __future__ import annotations

from django.http import HttpRequest

from ..access import CURRENT_ORGANISATION, organisations_for


def organisations(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    mine = list(organisations_for(user).order_by("name", "pk"))
    chosen = request.session.get(CURRENT_ORGANISATION) if hasattr(request, "session") else None
    current = next((o for o in mine if o.pk == chosen), mine[0] if mine else None)
    return {"my_organisations": mine, "current_organisation": current}
