"""Sign-in throttling with django-axes: failed sign-ins per (user name, address) lock it out for a
while (``AXES_FAILURE_LIMIT``, ``AXES_COOLOFF_TIME``), for the app's and the admin's sign-in alike."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest


class ThrottledSignIn(AxesStandaloneBackend):
    """django-axes' check, for every sign-in that comes with a request.

    ``authenticate()`` without a request (a management command, the test client's ``login``) is
    not a sign-in form anyone can hammer, so it is left to the next backend instead of refused.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or behind ``KOPPELING_TRUSTED_PROXIES`` proxies the
    address the outermost trusted one saw (X-Forwarded-For is forgeable beyond that)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = int(getattr(settings, "KOPPELING_TRUSTED_PROXIES", 0) or 0)
    if proxies <= 0:
        return remote
    chain = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
    if len(chain) < proxies:
        return remote
    return chain[-proxies]
