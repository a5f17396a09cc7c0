"""The runtime's own outcome codes, and rendering any stored outcome in the reader's language.

Every package registers English source texts for its codes (``koppeling.core.messages``); the
Dutch (and any other) translation comes from the Django catalogue. :func:`render` turns a stored
``code`` + ``params`` into text at the moment it is shown — in a page, a mail, the CLI.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.utils.formats import date_format, number_format
from django.utils.timezone import is_aware, localtime
from django.utils.translation import gettext

from koppeling.core.messages import fill, gettext_noop, register, text_of

__all__ = ["Rendered", "SyncCode", "render", "render_list"]


class SyncCode(StrEnum):
    LEGACY_TEXT = "legacy_text"
    PUSHED = "pushed"
    PUSHED_CONCEPT = "pushed_concept"
    UPDATED = "updated"
    CHANGED_AFTER_BOOKING = "changed_after_booking"
    NEEDS_REVIEW = "needs_review"
    CLAIM_LOST = "claim_lost"
    NOT_BOOKED = "not_booked"
    INTERNAL_ERROR = "internal_error"
    GAVE_UP = "gave_up"
    RUN_STOPPED = "run_stopped"
    RUN_INTERRUPTED = "run_interrupted"
    RUN_DEADLINE = "run_deadline"
    TARGET_UNREACHABLE = "target_unreachable"
    SOURCE_UNREACHABLE = "source_unreachable"
    RATE_LIMIT_WAIT = "rate_limit_wait"
    LINK_PAUSED = "link_paused"
    LINK_RESUMED = "link_resumed"
    ALERT_UNREACHABLE = "alert_unreachable"
    ALERT_CLOSED = "alert_closed"
    ALERT_WEBHOOK_FAILED = "alert_webhook_failed"
    MARKED_BOOKED = "marked_booked"
    CONFIRMED_NOT_BOOKED = "confirmed_not_booked"
    RETRY_REQUESTED = "retry_requested"
    RETRY_SCHEDULED = "retry_scheduled"
    TOO_MANY_REQUESTS = "too_many_requests"
    IGNORED = "record_ignored"
    UNIGNORED = "record_unignored"
    RECONCILE_OK = "reconcile_ok"
    RECONCILE_TOTAL_DIFFERS = "reconcile_total_differs"
    RECONCILE_TOTAL_EX_DIFFERS = "reconcile_total_ex_differs"
    RECONCILE_CUSTOMER_DIFFERS = "reconcile_customer_differs"
    RECONCILE_REFERENCE_MISSING = "reconcile_reference_missing"
    RECONCILE_MISSING = "reconcile_missing"
    RECONCILE_UNAVAILABLE = "reconcile_unavailable"
    RECONCILE_ALERT = "reconcile_alert"
    PRODUCT_NOT_FOUND = "product_not_found"
    SETTINGS_INVALID = "flow_settings_invalid"
    BATCH_DELIVERED = "batch_delivered"
    BATCH_IMPORTED = "batch_imported"
    BATCH_NOT_IMPORTED = "batch_not_imported"
    BATCH_IMPORT_PROBLEMS = "batch_import_problems"
    BACKFILL_STARTED = "backfill_started"
    BACKFILL_PAUSED = "backfill_paused"
    BACKFILL_RESUMED = "backfill_resumed"
    BACKFILL_CANCELLED = "backfill_cancelled"
    BACKFILL_DONE = "backfill_done"
    BACKFILL_NOT_ORDERS = "backfill_not_orders"
    BACKFILL_RANGE_REVERSED = "backfill_range_reversed"
    BACKFILL_NUMBERS_REVERSED = "backfill_numbers_reversed"
    EXPLAIN_FIRST_SEEN = "explain_first_seen"
    EXPLAIN_IN_BACKFILL = "explain_in_backfill"
    EXPLAIN_ATTEMPT = "explain_attempt"
    EXPLAIN_READ_BACK = "explain_read_back"
    EXPLAIN_BOOKED = "explain_booked"
    EXPLAIN_SKIPPED = "explain_skipped"
    EXPLAIN_WAITING = "explain_waiting"
    EXPLAIN_WAITING_BACKFILL_PAUSED = "explain_waiting_backfill_paused"
    EXPLAIN_PUSHING = "explain_pushing"
    EXPLAIN_IGNORED = "explain_ignored"
    EXPLAIN_FAILED = "explain_failed"
    EXPLAIN_WOULD_SKIP = "explain_would_skip"
    EXPLAIN_NOT_SEEN_YET = "explain_not_seen_yet"
    EXPLAIN_NOT_IN_SHOP = "explain_not_in_shop"
    EXPLAIN_UNREADABLE = "explain_unreadable"
    EXPLAIN_SHOP_UNAVAILABLE = "explain_shop_unavailable"


_VERWERK = gettext_noop("Press Verwerk to try again once it is fixed.")

register(
    {
        SyncCode.LEGACY_TEXT: (gettext_noop("%(text)s"), gettext_noop("%(suggestion)s")),
        SyncCode.PUSHED: (gettext_noop("%(what)s %(number)s booked as %(booked_as)s."),),
        SyncCode.PUSHED_CONCEPT: (gettext_noop("%(what)s %(number)s booked as concept %(booked_as)s."),),
        SyncCode.UPDATED: (gettext_noop("%(what)s %(number)s updated in %(system)s (%(booked_as)s)."),),
        SyncCode.CHANGED_AFTER_BOOKING: (
            gettext_noop(
                "Order %(number)s was changed in the shop after it was booked as %(booked_as)s. It was not "
                "booked again."
            ),
            gettext_noop("Correct the booking by hand (credit and book again) if the change matters."),
        ),
        SyncCode.NEEDS_REVIEW: (
            gettext_noop(
                "The push of %(number)s was interrupted after it was sent; %(system)s may or may not have "
                "booked it, and it cannot be searched by its reference."
            ),
            gettext_noop(
                "Look for %(reference)s in %(system)s. If it is there, choose 'Mark as booked'; if not, "
                "choose 'Not in %(system)s: push again'."
            ),
        ),
        SyncCode.CLAIM_LOST: (
            gettext_noop(
                "%(number)s was booked as %(booked_as)s, but its claim had expired and was taken over; check "
                "for a duplicate booking."
            ),
            gettext_noop("Look for %(reference)s in %(system)s and remove a duplicate if there is one."),
        ),
        SyncCode.NOT_BOOKED: (
            gettext_noop("%(system)s checked the document but stored nothing."),
            gettext_noop("Switch off test mode for this connection, then press Verwerk."),
        ),
        SyncCode.INTERNAL_ERROR: (
            gettext_noop("Internal error in koppeling (%(error)s) while preparing %(number)s."),
            gettext_noop(
                "This is a fault in koppeling, not in your data; it has been logged. Press Verwerk once "
                "it is fixed."
            ),
        ),
        SyncCode.GAVE_UP: (
            gettext_noop("%(system)s kept failing for %(number)s after %(attempts)s tries."),
            gettext_noop("Press Verwerk to try again once %(system)s is back."),
        ),
        SyncCode.RUN_STOPPED: (gettext_noop("The run stopped: %(detail)s"),),
        SyncCode.RUN_INTERRUPTED: (
            gettext_noop("The run was interrupted: the worker stopped mid-run."),
            gettext_noop("Nothing to do: the next run continues where it stopped."),
        ),
        SyncCode.RUN_DEADLINE: (
            gettext_noop(
                "The run reached its time limit of %(seconds)s seconds; the rest follows in the next run."
            ),
        ),
        SyncCode.TARGET_UNREACHABLE: (
            gettext_noop("%(system)s could not be reached: %(detail)s. The run stopped; nothing was lost."),
            gettext_noop(
                "koppeling tries again on its schedule; check %(system)s's status page if it lasts."
            ),
        ),
        SyncCode.SOURCE_UNREACHABLE: (
            gettext_noop("%(system)s could not be read: %(detail)s. The run stopped; nothing was lost."),
            gettext_noop(
                "koppeling tries again on its schedule; check %(system)s's status page if it lasts."
            ),
        ),
        SyncCode.RATE_LIMIT_WAIT: (
            gettext_noop(
                "%(system)s's limit is reached: %(waiting)s waiting; the next goes at %(next_at)s, all done "
                "around %(eta)s."
            ),
            gettext_noop("Nothing to do: koppeling spreads the work over the limit."),
        ),
        SyncCode.LINK_PAUSED: (
            gettext_noop("The link is paused: %(detail)s"),
            gettext_noop("Fix the cause, then choose 'Resume'; nothing that came in meanwhile is lost."),
        ),
        SyncCode.LINK_RESUMED: (gettext_noop("The link was resumed."),),
        SyncCode.ALERT_UNREACHABLE: (
            gettext_noop("The last %(runs)s runs could not complete: %(detail)s"),
            gettext_noop(
                "koppeling keeps trying on its schedule and misses nothing meanwhile; check the system's "
                "status page, or the connection's address if it keeps failing."
            ),
        ),
        SyncCode.ALERT_CLOSED: (gettext_noop("The systems answer again; the link runs normally."),),
        SyncCode.ALERT_WEBHOOK_FAILED: (
            gettext_noop(
                "The alert webhook at %(host)s did not take the alert after %(attempts)s tries (%(detail)s)."
            ),
            gettext_noop(
                "Check the webhook's address in the organisation's settings; the e-mail went out as usual."
            ),
        ),
        SyncCode.MARKED_BOOKED: (
            gettext_noop("%(number)s was marked as booked (%(booked_as)s) by %(user)s."),
        ),
        SyncCode.CONFIRMED_NOT_BOOKED: (
            gettext_noop("%(user)s confirmed %(number)s is not in the target; it is pushed again."),
        ),
        SyncCode.RETRY_REQUESTED: (gettext_noop("%(user)s pressed Verwerk for %(number)s."),),
        SyncCode.RETRY_SCHEDULED: (
            gettext_noop(
                "%(system)s did not take %(number)s (attempt %(attempts)s); it is tried again automatically."
            ),
        ),
        SyncCode.TOO_MANY_REQUESTS: (
            gettext_noop(
                "%(system)s answered 'too many requests' for %(number)s; it waits until %(until)s and is "
                "sent again then."
            ),
        ),
        SyncCode.IGNORED: (gettext_noop("%(user)s set %(number)s aside: %(why)s"),),
        SyncCode.UNIGNORED: (gettext_noop("%(user)s took %(number)s up again."),),
        SyncCode.RECONCILE_OK: (gettext_noop("Read back from %(system)s: it matches what was sent."),),
        SyncCode.RECONCILE_TOTAL_DIFFERS: (
            gettext_noop(
                "%(system)s booked %(booked)s incl. VAT, where %(expected)s was sent and the order says "
                "%(source)s (difference %(difference)s)."
            ),
            gettext_noop("Correct the booking in %(system)s, or report it if koppeling sent it wrong."),
        ),
        SyncCode.RECONCILE_TOTAL_EX_DIFFERS: (
            gettext_noop(
                "%(system)s booked %(booked)s excl. VAT, where %(expected)s was sent (difference "
                "%(difference)s)."
            ),
            gettext_noop("Correct the booking in %(system)s, or report it if koppeling sent it wrong."),
        ),
        SyncCode.RECONCILE_CUSTOMER_DIFFERS: (
            gettext_noop("%(system)s holds %(field)s '%(booked)s' where the order has '%(expected)s'."),
            gettext_noop("Check the customer in %(system)s."),
        ),
        SyncCode.RECONCILE_REFERENCE_MISSING: (
            gettext_noop("The booking in %(system)s does not mention %(reference)s."),
            gettext_noop("Add the order number to the booking's description in %(system)s."),
        ),
        SyncCode.RECONCILE_MISSING: (
            gettext_noop("%(system)s no longer has the booking %(booked_as)s."),
            gettext_noop("Check whether it was deleted in %(system)s; if so, push the order again."),
        ),
        SyncCode.RECONCILE_UNAVAILABLE: (
            gettext_noop("The booking could not be read back from %(system)s: %(detail)s"),
        ),
        SyncCode.RECONCILE_ALERT: (
            gettext_noop(
                "%(count)s booked documents differ from their orders, the first %(number)s: %(detail)s"
            ),
            gettext_noop("Open the link, show the orders that differ, and correct each booking."),
        ),
        SyncCode.PRODUCT_NOT_FOUND: (
            gettext_noop("%(system)s has no article %(sku)s used on line %(line)s."),
            gettext_noop("Create the article in %(system)s (or sync articles first), then press Verwerk."),
        ),
        SyncCode.SETTINGS_INVALID: (
            gettext_noop("The flow's settings are invalid: %(problems)s"),
            gettext_noop("Correct the settings in the configuration, then press Verwerk."),
        ),
        SyncCode.BATCH_DELIVERED: (
            gettext_noop("Batch %(reference)s with %(count)s documents delivered to %(system)s."),
        ),
        SyncCode.BATCH_IMPORTED: (
            gettext_noop("Batch %(reference)s was imported in %(system)s (%(count)s documents)."),
        ),
        SyncCode.BATCH_NOT_IMPORTED: (
            gettext_noop(
                "Batch %(reference)s was delivered to %(system)s %(hours)s hours ago and has not been "
                "imported yet."
            ),
            gettext_noop(
                "Import it in %(system)s (Extra > Im-/Export Basis > Import orders (xml)); if it is not "
                "offered there, check the licence code of the connection."
            ),
        ),
        SyncCode.BATCH_IMPORT_PROBLEMS: (
            gettext_noop(
                "%(system)s imported batch %(reference)s but left %(count)s orders out, the first "
                "%(number)s: %(detail)s"
            ),
            gettext_noop("Correct those orders in %(system)s by hand, or in the shop and book them again."),
        ),
        SyncCode.BACKFILL_STARTED: (
            gettext_noop("Past orders from %(start)s to %(end)s asked for (backfill %(backfill)s)."),
            gettext_noop("They go after the daily orders, within the rate limit; you can pause it."),
        ),
        SyncCode.BACKFILL_PAUSED: (gettext_noop("Backfill %(backfill)s (%(start)s to %(end)s) paused."),),
        SyncCode.BACKFILL_RESUMED: (gettext_noop("Backfill %(backfill)s (%(start)s to %(end)s) resumed."),),
        SyncCode.BACKFILL_CANCELLED: (
            gettext_noop(
                "Backfill %(backfill)s (%(start)s to %(end)s) cancelled; %(ignored)s orders not booked "
                "were set to ignored."
            ),
            gettext_noop("Un-ignore an order to book it after all."),
        ),
        SyncCode.BACKFILL_DONE: (
            gettext_noop(
                "Backfill %(backfill)s (%(start)s to %(end)s) done: %(booked)s of %(total)s orders booked."
            ),
        ),
        SyncCode.BACKFILL_NOT_ORDERS: (
            gettext_noop("A %(kind)s flow does not read orders; only order flows can fetch past orders."),
        ),
        SyncCode.BACKFILL_RANGE_REVERSED: (
            gettext_noop("The range ends (%(end)s) before it starts (%(start)s)."),
            gettext_noop("Swap the two dates."),
        ),
        SyncCode.BACKFILL_NUMBERS_REVERSED: (
            gettext_noop("The number range ends (%(end)s) below where it starts (%(start)s)."),
            gettext_noop("Swap the two numbers."),
        ),
        SyncCode.EXPLAIN_FIRST_SEEN: (
            gettext_noop("Fetched from the shop: status %(status)s, placed on %(date)s, total %(amount)s."),
        ),
        SyncCode.EXPLAIN_IN_BACKFILL: (
            gettext_noop("Brought in by backfill %(backfill)s (%(start)s to %(end)s), which is %(status)s."),
        ),
        SyncCode.EXPLAIN_ATTEMPT: (gettext_noop("Push attempt: %(outcome)s %(status)s %(answer)s"),),
        SyncCode.EXPLAIN_READ_BACK: (gettext_noop("Read back from the accounting package: %(result)s."),),
        SyncCode.EXPLAIN_BOOKED: (gettext_noop("Booked as %(booked_as)s."),),
        SyncCode.EXPLAIN_SKIPPED: (
            gettext_noop("Not booked: %(reason)s."),
            gettext_noop(
                "Change the link's conditions if it should be booked; an order older than the start date "
                "can be fetched with a backfill."
            ),
        ),
        SyncCode.EXPLAIN_WAITING: (
            gettext_noop(
                "Waiting to be pushed; next attempt %(until)s, all waiting orders done around %(eta)s."
            ),
        ),
        SyncCode.EXPLAIN_WAITING_BACKFILL_PAUSED: (
            gettext_noop("Waiting: backfill %(backfill)s it belongs to is paused."),
            gettext_noop("Resume the backfill to let it go."),
        ),
        SyncCode.EXPLAIN_PUSHING: (gettext_noop("Being pushed right now (worker %(worker)s)."),),
        SyncCode.EXPLAIN_IGNORED: (
            gettext_noop("Ignored by a person: it will not be booked."),
            gettext_noop("Un-ignore it to book it after all."),
        ),
        SyncCode.EXPLAIN_FAILED: (gettext_noop("Not booked: it failed."), _VERWERK),
        SyncCode.EXPLAIN_WOULD_SKIP: (
            gettext_noop("Not in the ledger yet, and it would not be booked: %(reason)s."),
            gettext_noop(
                "Change the link's conditions if it should be booked; an order older than the start date "
                "can be fetched with a backfill."
            ),
        ),
        SyncCode.EXPLAIN_NOT_SEEN_YET: (
            gettext_noop("Not fetched yet (last run %(last_run)s); it meets the conditions."),
            gettext_noop("It is booked on the next run; press Verwerk to book it now."),
        ),
        SyncCode.EXPLAIN_NOT_IN_SHOP: (
            gettext_noop("The shop does not know an order %(number)s."),
            gettext_noop("Check the order number (without the link's prefix)."),
        ),
        SyncCode.EXPLAIN_UNREADABLE: (gettext_noop("The shop's order could not be read (%(detail)s)."),),
        SyncCode.EXPLAIN_SHOP_UNAVAILABLE: (
            gettext_noop("The shop could not be asked right now (%(detail)s); the ledger's story is shown."),
        ),
    }
)


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    suggestion: str = ""


_AMOUNT = re.compile(r"^-?\d+\.\d+$")


def _localized(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as the reader writes them: amounts (12.50 -> "12,50" in Dutch), dates and times
    (local time), none as a dash, and the ledger's choice codes by their label (``reason``,
    ``outcome``, ``result``); the rest as stored."""
    labels = _choice_labels()
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Decimal):
            value = format(value, "f")
        if isinstance(value, str) and _AMOUNT.match(value):
            amount = Decimal(value)
            out[key] = number_format(amount, decimal_pos=max(2, -amount.as_tuple().exponent), use_l10n=True)
        elif isinstance(value, dt.datetime):
            out[key] = date_format(localtime(value) if is_aware(value) else value, "SHORT_DATETIME_FORMAT")
        elif isinstance(value, dt.date):
            out[key] = date_format(value, "SHORT_DATE_FORMAT")
        elif value is None:
            out[key] = "—"
        elif key in labels and isinstance(value, str) and value in labels[key]:
            out[key] = str(labels[key][value])
        else:
            out[key] = value
    return out


def _choice_labels() -> dict[str, dict[str, Any]]:
    from .models import AttemptOutcome, ReasonCode, ReconcileStatus

    return {
        "reason": dict(ReasonCode.choices),
        "outcome": dict(AttemptOutcome.choices),
        "result": dict(ReconcileStatus.choices),
    }


def render(code: str, params: Mapping[str, Any] | None = None) -> Rendered:
    """``code`` + ``params`` in the active language; an unknown code shows itself, never fails."""
    entry = text_of(code)
    if entry is None:
        return Rendered(str(code))
    params = _localized(params or {})
    text = fill(gettext(entry.text), params)
    suggestion = fill(gettext(entry.suggestion), params) if entry.suggestion else ""
    return Rendered(text, suggestion)


def render_list(outcomes: list[Mapping[str, Any]] | None) -> list[Rendered]:
    """Stored ``[{"code", "params"}, …]`` (e.g. a record's warnings) rendered."""
    return [render(str(o.get("code", "")), o.get("params") or {}) for o in (outcomes or [])]
