"""Request size limits: an upload larger than ``KOPPELING["CONVERT_MAX_UPLOAD_BYTES"]`` is refused
with 413 before Django reads a byte of it (a multi-gigabyte upload would otherwise fill the disk
with temporary files). Django's own ``DATA_UPLOAD_MAX_MEMORY_SIZE`` counts form fields only, not
files, so this is the one limit for files. A request without ``Content-Length`` carries no body
for Django's WSGI handler, so the header is enough to check.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.utils.html import escape
from django.utils.translation import gettext as _

__all__ = ["UploadLimitMiddleware", "upload_limit"]


def upload_limit() -> int:
    """The largest request body accepted, in bytes (the converter's upload cap)."""
    return int(settings.KOPPELING.get("CONVERT_MAX_UPLOAD_BYTES", 200 * 2**20))


class UploadLimitMiddleware:
    """413 for a request body over the cap, with a page that says the limit."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads no body for a malformed length either
        limit = upload_limit()
        if length > limit:
            message = _("The upload is %(size)s; at most %(limit)s is accepted.") % {
                "size": filesizeformat(length),
                "limit": filesizeformat(limit),
            }
            response = HttpResponse(
                f"<!doctype html><title>413</title><p>{escape(message)}</p>",
                status=413,
                content_type="text/html; charset=utf-8",
            )
            response["Connection"] = "close"  # the rest of the body is not read
            return response
        return self.get_response(request)
