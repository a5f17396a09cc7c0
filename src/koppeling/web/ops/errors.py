"""Error pages and error mails never show secrets, even with ``KOPPELING_DEBUG=1``.

Django's filter hides settings whose *name* looks secret (``PASSWORD``, ``KEY`` …). Ours also hides
names that hold addresses with passwords in them (``DATABASE``, ``QUEUE``, ``URL``, ``HUEY``,
``FERNET``, ``CREDENTIAL``), removes the password of any ``scheme://user:password@host`` address
wherever it appears (settings, request headers and environment, traceback variables), and blanks
the values of the data folder's own secrets (the secret key and the Fernet keys) where they appear.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.views.debug import SafeExceptionReporterFilter

__all__ = ["SecretScrubbingFilter", "scrub_text"]

_USERINFO = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^/\s:@'\"]*):(?P<password>[^@\s/'\"]+)@", re.I
)
_QUERY_SECRET = re.compile(
    r"(?P<name>(?:token|key|secret|password|pass|signature|auth)[a-z_]*=)[^&\s'\"]+", re.I
)
SUBSTITUTE = "********************"


def _known_secrets() -> list[str]:
    values = [getattr(settings, "SECRET_KEY", ""), *getattr(settings, "KOPPELING_FERNET_KEYS", [])]
    return [v for v in values if isinstance(v, str) and len(v) >= 8]


def scrub_text(text: str) -> str:
    """``text`` without passwords in addresses, secret query parameters or the app's own keys."""
    text = str(text)
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{SUBSTITUTE}@", text)
    text = _QUERY_SECRET.sub(lambda m: f"{m['name']}{SUBSTITUTE}", text)
    for secret in _known_secrets():
        text = text.replace(secret, SUBSTITUTE)
    return text


class _Shown:
    """A traceback variable as the error page prints it, already scrubbed."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class SecretScrubbingFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|CREDENTIAL|FERNET|DATABASE|QUEUE|HUEY|URL|DSN",
        flags=re.I,
    )

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str):  # also str subclasses (lazy settings of apps): plain text out
            return scrub_text(str(cleansed))
        return cleansed

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> list[tuple[str, Any]]:
        from pprint import pformat

        shown = []
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            if isinstance(name, str) and self.hidden_settings.search(name):
                shown.append((name, SUBSTITUTE))
                continue
            try:
                text = pformat(value)
            except Exception:  # an object whose repr fails: Django shows the same
                text = f"Error in formatting: {type(value).__name__}"
            shown.append((name, _Shown(scrub_text(text))))
        return shown
