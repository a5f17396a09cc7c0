"""Structured logs: ``KOPPELING_LOG_FORMAT=json`` gives one JSON object a line; no line, JSON or
text, carries a password, a token or the app's own keys."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from koppeling.web.ops.logs import JsonFormatter, ScrubSecrets

SRC = str(Path(__file__).resolve().parents[2] / "src")
PLANTED = "planted-s3cret-pw"


def _record(msg: str, *args, exc: BaseException | None = None, **extra) -> logging.LogRecord:
    record = logging.LogRecord("koppeling.sync", logging.WARNING, __file__, 1, msg, args, None)
    if exc is not None:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_json_line_has_the_fields_and_no_secret(settings):
    record = _record(
        "push to %s failed", f"https://u:{PLANTED}@api.test/x?api_key={PLANTED}", link_id=7, run="r1"
    )
    try:
        raise ValueError(f"redis://:{PLANTED}@queue:6379")
    except ValueError as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    assert ScrubSecrets().filter(record) is True
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["level"] == "warning" and entry["logger"] == "koppeling.sync"
    assert entry["message"].startswith("push to https://u:") and entry["link_id"] == 7
    assert "ValueError" in entry["exception"]
    assert PLANTED not in line and "\n" not in line


def test_the_app_keys_never_reach_a_log(settings):
    record = _record("key is %s", settings.KOPPELING_FERNET_KEYS[0])
    ScrubSecrets().filter(record)
    assert settings.KOPPELING_FERNET_KEYS[0] not in record.getMessage()


def test_json_logs_from_a_real_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOPPELING_", "DATABASE_URL"))}
    env |= {
        "PYTHONPATH": SRC,
        "DJANGO_SETTINGS_MODULE": "koppeling.settings",
        "KOPPELING_DATA_DIR": str(tmp_path),
        "KOPPELING_LOG_FORMAT": "json",
    }
    code = (
        "import django, logging; django.setup(); "
        f"logging.getLogger('koppeling.test').warning('queue at redis://:{PLANTED}@q:6379/0')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    entry = json.loads(result.stderr.strip().splitlines()[-1])
    assert entry["logger"] == "koppeling.test" and "redis://:" in entry["message"]
    assert PLANTED not in result.stderr
