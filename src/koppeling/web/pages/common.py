"""What every dashboard page shares: who may act where, paging, the htmx question, filters.

Scoping lives in ``web.access`` (one rule, one place); this module only adds what pages need on
top of it: the organisations in which the user may *act* (a bookkeeper can be read-only in one
client and a member in another), a pager that does not count twice, and small parsers that turn a
bad query parameter into "no filter" instead of a traceback.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.db.models import Q, QuerySet
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from koppeling.sync.models import Membership, Role

from ..access import RANK, links_for

PAGE_SIZE = 50
#: more links than this and a page's link filter is a search on the name instead of a list (a
#: bookkeeping firm can have thousands: a list of them all is neither usable nor cheap to render)
LINK_LIST_MAX = 100
#: a page number past this is refused (OFFSET that deep is a scan, and no person pages that far)
MAX_PAGE = 2000


def acting_organisations(user) -> frozenset[int]:
    """Organisations where ``user`` may press buttons (member or owner), for per-row decisions."""
    if not user.is_authenticated:
        return frozenset()
    roles = Membership.objects.filter(user=user).values_list("organisation_id", "role")
    return frozenset(org for org, role in roles if RANK[Role(role)] >= RANK[Role.MEMBER])


@dataclass
class LinkFilter:
    """A page's "which link" filter: a list to choose from, or (``choices`` None) a name search."""

    choices: list[dict] | None
    chosen: int | None = None
    name: str = ""

    @property
    def several(self) -> bool:
        """More than one link to tell apart (rows then say which link they belong to)."""
        return self.choices is None or len(self.choices) > 1

    def apply(self, rows, field: str = "link"):
        if self.chosen:
            return rows.filter(**{f"{field}_id": self.chosen})
        if self.name:
            return rows.filter(**{f"{field}__name__icontains": self.name})
        return rows


def link_filter(request: HttpRequest) -> LinkFilter:
    found = list(links_for(request.user).order_by("name").values("pk", "name")[: LINK_LIST_MAX + 1])
    return LinkFilter(
        None if len(found) > LINK_LIST_MAX else found,
        parse_int(request.GET.get("link") or request.POST.get("link")),
        str(request.GET.get("link_name") or request.POST.get("link_name") or "").strip()[:100],
    )


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def user_label(request: HttpRequest) -> str:
    return request.user.get_username()


@dataclass
class Pager:
    """One page of ``count`` rows; ``page`` is 1-based and clamped to what exists.

    A page read by its sort key (``keyset_page``) links on with the key of its last (first) row:
    ``next_query`` / ``previous_query``, empty where there is no such page."""

    page: int
    count: int
    size: int = PAGE_SIZE
    keyset: bool = False
    next_query: str = ""
    previous_query: str = ""

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.size))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_row(self) -> int:
        return self.offset + 1 if self.count else 0

    @property
    def last_row(self) -> int:
        return min(self.offset + self.size, self.count)


def pager(request: HttpRequest, count: int, size: int = PAGE_SIZE) -> Pager:
    wanted = parse_int(request.GET.get("page")) or 1
    page = Pager(1, count, size)
    return Pager(max(1, min(wanted, page.pages, MAX_PAGE)), count, size)


def keyset_page(
    request: HttpRequest, rows: QuerySet, count: int, field: str, size: int = PAGE_SIZE
) -> tuple[Pager, list]:
    """One page of ``rows`` newest first by (``field``, id), and its pager.

    The pager's links carry the sort key of the page's last row (``after``) or first row
    (``before``), so the next page is read from the index where this one stopped: a deep page
    costs what the first does (an OFFSET reads and skips every row before it). The page number
    travels along for the label. Without a key (the first page, or a page number typed in) it is
    read by OFFSET as before."""
    wanted = parse_int(request.GET.get("page")) or 1
    newest = rows.order_by(f"-{field}", "-id")
    after, before = parse_cursor(request.GET.get("after")), parse_cursor(request.GET.get("before"))
    if after is None and before is None:
        wanted = min(wanted, MAX_PAGE)
    page = Pager(max(1, min(wanted, Pager(1, count, size).pages)), count, size, keyset=True)
    if after is not None:
        shown = list(newest.filter(beyond(field, after, "lt"))[:size])
    elif before is not None:
        shown = list(rows.filter(beyond(field, before, "gt")).order_by(field, "id")[:size])[::-1]
    else:
        shown = list(newest[page.offset : page.offset + size])
    base = query_without(request.GET, "page", "after", "before")
    joiner = f"{base}&" if base else ""
    if shown and page.has_next and len(shown) == size and getattr(shown[-1], field) is not None:
        page.next_query = f"{joiner}after={cursor_of(shown[-1], field)}&page={page.page + 1}"
    if shown and page.has_previous and getattr(shown[0], field) is not None:
        page.previous_query = f"{joiner}before={cursor_of(shown[0], field)}&page={page.page - 1}"
    if page.has_next and not page.next_query:
        page.next_query = f"{joiner}page={page.page + 1}"
    if page.has_previous and not page.previous_query:
        page.previous_query = f"{joiner}page={page.page - 1}"
    return page, shown


def beyond(field: str, key: tuple[dt.datetime, int], direction: str) -> Q:
    """Rows past ``key`` in the sort order; the redundant bound on ``field`` alone is where the
    index scan starts (the OR alone is no index condition)."""
    value, pk = key
    past = Q(**{f"{field}__{direction}": value}) | Q(**{field: value, f"id__{direction}": pk})
    return Q(**{f"{field}__{direction}e": value}) & past


def cursor_of(row, field: str) -> str:
    """A row's sort key as a query value: its time (ISO 8601) and id."""
    return quote(f"{getattr(row, field).isoformat()}_{row.pk}")


def parse_cursor(value: str | None) -> tuple[dt.datetime, int] | None:
    """``cursor_of`` read back; a bad value is no cursor."""
    when, _sep, pk = str(value or "").rpartition("_")
    try:
        moment = dt.datetime.fromisoformat(when)
    except ValueError:
        return None
    number = parse_int(pk)
    if number is None or timezone.is_naive(moment):
        return None
    return moment, number


def parse_int(value: str | None) -> int | None:
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def parse_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value).strip()) if value else None
    except ValueError:
        return None


def day_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in the site's time zone, as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def today() -> dt.date:
    return timezone.localdate()


def query_without(params: QueryDict, *drop: str) -> str:
    """The current filters as a query string, without ``drop`` (e.g. the page number)."""
    kept = [(k, v) for k, values in params.lists() if k not in drop for v in values if v != ""]
    return urlencode(kept)


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "") or request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def system_label(system: str) -> str:
    """A system's own name ("Acumulus"), from its connector; the id when none is registered."""
    from koppeling.connectors.registry import connector_class

    try:
        return str(connector_class(system).label)
    except (KeyError, LookupError, ValueError, AttributeError):
        return system.capitalize()
