"""``POST /hooks/<token>/``: where shops send "this order changed" (``sync.webhooks`` decides).

No session, no CSRF token (the caller is the shop's server): the unguessable token and the
vendor's signature are the authentication. Every answer is a short JSON word — never a page, never
a traceback: 401 unsigned or mis-signed, 400 unreadable or stale, 404 unknown token, 405 not a
POST, 413 too large, 503 when koppeling itself cannot take it now (the shop retries).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from koppeling.sync import webhooks

__all__ = ["MAX_BODY_BYTES", "receive"]

log = logging.getLogger(__name__)

#: a shop's order, wrapped, is a few kB; anything near this is not a delivery
MAX_BODY_BYTES = 1024 * 1024


def _answer(outcome: str, status: int) -> JsonResponse:
    response = JsonResponse({"outcome": outcome}, status=status)
    response["Cache-Control"] = "no-store"
    # Django would log "Unauthorized: /hooks/<token>/": the token is half the key, so the path
    # stays out of koppeling's logs (``sync.webhooks`` logs refusals by flow id)
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


@csrf_exempt
def receive(request: HttpRequest, token: str) -> JsonResponse:
    """One delivery: size-capped, then verified, recorded and queued by ``sync.webhooks``."""
    if request.method != "POST":
        response = _answer("method", 405)
        response["Allow"] = "POST"
        return response
    limit = int(settings.KOPPELING.get("WEBHOOK_MAX_BODY_BYTES", MAX_BODY_BYTES))
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _answer("malformed", 400)
    if length > limit:
        return _answer("too_large", 413)
    try:
        body = request.body
    except RequestDataTooBig:
        return _answer("too_large", 413)
    if len(body) > limit:
        return _answer("too_large", 413)
    try:
        receipt = webhooks.receive(token, dict(request.headers), body)
    except Exception:  # the database or queue is down: the shop retries later
        log.exception("webhook delivery could not be taken")
        return _answer("unavailable", 503)
    return _answer(receipt.outcome, receipt.status)
