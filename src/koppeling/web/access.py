"""Who may see and do what: every page and action asks here (one rule, one place).

A user sees the organisations they are a member of, nothing else (another organisation's pages
answer 404, as if they did not exist). Within one, the role decides what they may do:
``read_only`` looks, ``member`` runs and fixes links, ``owner`` also manages members, credentials
and deletes. Superusers are operators: the admin is theirs, the app treats them as anyone else.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from koppeling.sync.models import Link, Membership, Organisation, Role, SyncRecord

__all__ = [
    "CURRENT_ORGANISATION",
    "RANK",
    "can",
    "current_organisation",
    "links_for",
    "organisations_for",
    "records_for",
    "require",
    "role_in",
    "set_current_organisation",
]

#: a role may do what every lower role may
RANK = {Role.READ_ONLY: 0, Role.MEMBER: 1, Role.OWNER: 2}


def organisations_for(user) -> QuerySet[Organisation]:
    return (
        Organisation.objects.filter(memberships__user=user)
        if user.is_authenticated
        else Organisation.objects.none()
    )


def links_for(user) -> QuerySet[Link]:
    return Link.objects.filter(organisation__memberships__user=user)


def records_for(user) -> QuerySet[SyncRecord]:
    return SyncRecord.objects.filter(link__organisation__memberships__user=user)


def role_in(user, organisation: Organisation | int) -> str | None:
    org_id = organisation if isinstance(organisation, int) else organisation.pk
    return (
        Membership.objects.filter(user=user, organisation_id=org_id).values_list("role", flat=True).first()
        if user.is_authenticated
        else None
    )


def can(user, organisation: Organisation | int, needed: str) -> bool:
    role = role_in(user, organisation)
    return role is not None and RANK[Role(role)] >= RANK[Role(needed)]


def require(request: HttpRequest, organisation: Organisation | int, needed: str = Role.READ_ONLY) -> str:
    """The user's role, if it allows ``needed``; else 404 (not a member) — a page of another
    organisation does not exist for them — or PermissionDenied (a member with too small a role)."""
    from django.core.exceptions import PermissionDenied

    role = role_in(request.user, organisation)
    if role is None:
        raise Http404
    if RANK[Role(role)] < RANK[Role(needed)]:
        raise PermissionDenied
    return role


# -- the organisation a user works in (a bookkeeper switches between clients) ------------------------

#: the session key of the organisation chosen with the switcher
CURRENT_ORGANISATION = "koppeling_organisation"


def current_organisation(request: HttpRequest) -> Organisation | None:
    """The organisation the user chose last (the switcher), else their first one by name; None for
    a user without any. A stale choice (membership ended) falls back silently."""
    organisations = organisations_for(request.user).order_by("name", "pk")
    chosen = request.session.get(CURRENT_ORGANISATION) if hasattr(request, "session") else None
    if chosen:
        found = organisations.filter(pk=chosen).first()
        if found is not None:
            return found
    return organisations.first()


def set_current_organisation(request: HttpRequest, organisation: Organisation) -> None:
    """Remember ``organisation`` for this session; the caller checked the membership."""
    request.session[CURRENT_ORGANISATION] = organisation.pk
