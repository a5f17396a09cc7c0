"""Transport and headers (issue 13): a CSP on every page, Secure cookies and HSTS in production
(``KOPPELING_HTTPS=1``), ``check --deploy`` clean there, and error pages that never show secrets,
not even with ``KOPPELING_DEBUG=1``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")
PLANTED = "planted-s3cret-pw"


def _production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOPPELING_", "DATABASE_URL"))}
    env |= {
        "PYTHONPATH": SRC,
        "DJANGO_SETTINGS_MODULE": "koppeling.settings",
        "KOPPELING_DATA_DIR": str(tmp_path / "data"),
        "KOPPELING_HTTPS": "1",
        "KOPPELING_ALLOWED_HOSTS": "koppeling.example.com",
        **extra,
    }
    return env


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_https_check_deploy_names_what_is_missing(tmp_path):
    env = _production_env(tmp_path)
    env.pop("KOPPELING_HTTPS")
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    for warning in ("W004", "W008", "W012", "W016"):
        assert warning in result.stderr + result.stdout  # the test above is not clean by accident


def test_production_settings(tmp_path):
    probe = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER, s.DEBUG]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=_production_env(tmp_path, KOPPELING_PROXY_SSL_HEADER="X-Forwarded-Proto"),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    secure, csrf_secure, hsts, redirect, proxy, debug = json.loads(result.stdout)
    assert secure and csrf_secure and hsts >= 31536000 and redirect and not debug
    assert proxy == ["HTTP_X_FORWARDED_PROTO", "https"]


@pytest.mark.django_db
def test_every_page_gets_a_content_security_policy(client):
    response = client.get("/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_the_debug_page_for_a_bad_host_shows_no_secrets(client, settings):
    settings.DEBUG = True
    settings.HUEY = {**settings.HUEY, "url": f"redis://:{PLANTED}@queue.internal:6379/0"}
    settings.KOPPELING = {**settings.KOPPELING, "RATE_LIMIT_URL": f"redis://:{PLANTED}@q:6379/1"}
    settings.DATABASES["default"]["PASSWORD"] = PLANTED
    settings.MY_UPSTREAM = f"postgres://app:{PLANTED}@db.internal/koppeling"
    response = client.get(
        "/login/",
        HTTP_HOST="evil.example.net",
        DATABASE_URL=f"postgres://app:{PLANTED}@db.internal/koppeling",  # a server copies os.environ
        KOPPELING_QUEUE_URL=f"redis://:{PLANTED}@queue.internal:6379/0",
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "DisallowedHost" in body  # it is the debug page, with settings and the request
    assert PLANTED not in body
    assert settings.SECRET_KEY not in body
    assert all(key not in body for key in settings.KOPPELING_FERNET_KEYS)


def test_scrub_text_removes_passwords_tokens_and_keys(settings):
    from koppeling.web.ops.errors import scrub_text

    text = scrub_text(f"redis://:{PLANTED}@q/0 https://api.test/x?token={PLANTED}&a=1 {settings.SECRET_KEY}")
    assert PLANTED not in text and settings.SECRET_KEY not in text and "a=1" in text


def test_traceback_variables_are_scrubbed_on_the_debug_page(rf, settings):
    import sys as _sys

    from django.views.debug import ExceptionReporter

    settings.DEBUG = True

    def failing(address: str, bearer: str) -> None:
        note = f"calling {address} with {bearer}"  # noqa: F841  (a local the page would show)
        raise RuntimeError("upstream failed")

    try:
        failing(f"https://shop:{PLANTED}@api.shop.test/orders", settings.KOPPELING_FERNET_KEYS[0])
    except RuntimeError:
        reporter = ExceptionReporter(rf.get("/"), *_sys.exc_info())
    html = reporter.get_traceback_html()
    assert "upstream failed" in html and "api.shop.test" in html
    assert PLANTED not in html and settings.KOPPELING_FERNET_KEYS[0] not in html
