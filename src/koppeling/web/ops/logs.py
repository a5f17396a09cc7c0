"""Structured logs: ``KOPPELING_LOG_FORMAT=json`` writes one JSON object a line (time, level,
logger, message, and the record's extra fields), and every line — JSON or text — passes
:class:`ScrubSecrets` first, so an address with a password, a token in a query string or the app's
own keys never reach a log file."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

__all__ = ["JsonFormatter", "ScrubSecrets"]

#: attributes every LogRecord has; anything else was passed in ``extra=`` and is logged as a field
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def _scrub(text: str) -> str:
    try:
        from .errors import scrub_text
    except Exception:  # settings not loaded (a log line during start-up): the patterns still apply
        return text
    try:
        return scrub_text(text)
    except Exception:
        from .errors import _QUERY_SECRET, _USERINFO, SUBSTITUTE

        text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{SUBSTITUTE}@", text)
        return _QUERY_SECRET.sub(lambda m: f"{m['name']}{SUBSTITUTE}", text)


class ScrubSecrets(logging.Filter):
    """Rewrites the record's message (and its exception text) without secrets; never drops a line."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: log what there is
            message = str(record.msg)
        record.msg, record.args = _scrub(message), ()
        if record.exc_info:
            record.exc_text = _scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for a log collector (Loki, Elasticsearch, journald …)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
            "thread": record.threadName,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = _scrub(value) if isinstance(value, str) else value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = _scrub(record.exc_text)
        return json.dumps(entry, default=str, ensure_ascii=False)
