"""Django settings: the embedded default (SQLite + Huey SQLite queue) unless the environment
says otherwise (``DATABASE_URL`` for PostgreSQL, ``KOPPELING_QUEUE_URL`` for Redis)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("KOPPELING_DATA_DIR", Path.cwd() / "data")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _persistent_secret(name: str, factory) -> str:
    """A secret kept in the data folder so a fresh install works without configuration."""
    import time

    path = DATA_DIR / name
    try:  # O_EXCL: parallel processes (test workers, web + worker) agree on one value
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(100):
            value = path.read_text().strip()
            if value:
                return value
            time.sleep(0.01)
        raise RuntimeError(f"{path} is empty; delete it to generate a new secret") from None
    value = factory()
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


SECRET_KEY = os.environ.get("KOPPELING_SECRET_KEY") or _persistent_secret(
    "secret_key", lambda: secrets.token_urlsafe(50)
)


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


_SHARED_DATABASE = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql", "pgsql"))
if (
    _SHARED_DATABASE
    and not os.environ.get("KOPPELING_FERNET_KEYS")
    and not os.environ.get("KOPPELING_ALLOW_LOCAL_KEYS")
):
    # every web and worker process must decrypt the same credentials: a key generated per machine
    # would leave the other machines unable to read them
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "DATABASE_URL points at a shared database: set KOPPELING_FERNET_KEYS (and KOPPELING_SECRET_KEY) "
        "to the same values on every machine. Generate a key with: python -c "
        "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
    )

# Comma-separated; the first encrypts, all decrypt (rotate by prepending a new key).
KOPPELING_FERNET_KEYS = [
    k.strip()
    for k in (os.environ.get("KOPPELING_FERNET_KEYS") or _persistent_secret("fernet.key", _fernet_key)).split(
        ","
    )
    if k.strip()
]

DEBUG = os.environ.get("KOPPELING_DEBUG", "0") == "1"
ALLOWED_HOSTS = [
    h for h in os.environ.get("KOPPELING_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("KOPPELING_CSRF_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "koppeling.sync",
    "koppeling.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "koppeling.urls"
WSGI_APPLICATION = "koppeling.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

_SQLITE_OPTIONS = {
    # IMMEDIATE takes the write lock at BEGIN, so web and worker queue for it instead of failing
    # with "database is locked" halfway through a transaction (Django 5.1+).
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
}

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
    if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        DATABASES["default"]["OPTIONS"] = dict(_SQLITE_OPTIONS)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "koppeling.sqlite3"),
            "OPTIONS": dict(_SQLITE_OPTIONS),
        }
    }

_QUEUE_URL = os.environ.get("KOPPELING_QUEUE_URL", "")
if _QUEUE_URL.startswith(("redis://", "rediss://", "unix://")):
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": os.environ.get("KOPPELING_QUEUE_NAME", "koppeling"),
        "url": _QUEUE_URL,
        "immediate": False,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "koppeling",
        "filename": _QUEUE_URL.removeprefix("sqlite://") or str(DATA_DIR / "queue.sqlite3"),
        "immediate": False,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:links"
LOGOUT_REDIRECT_URL = "login"

EMAIL_BACKEND = os.environ.get("KOPPELING_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("KOPPELING_FROM_EMAIL", "koppeling@localhost")

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"

KOPPELING = {
    # how long activity payloads are kept before they are purged (GDPR, design guarantee 6)
    "ACTIVITY_RETENTION_DAYS": int(os.environ.get("KOPPELING_ACTIVITY_RETENTION_DAYS", "30")),
    # a claim older than this is considered abandoned by a crashed worker
    # (renewed while a worker is sending; short, so rows of a crashed worker are recovered soon)
    "CLAIM_TIMEOUT_SECONDS": int(os.environ.get("KOPPELING_CLAIM_TIMEOUT", "180")),
    # a run stops taking new work after this long; the next run continues
    "RUN_DEADLINE_SECONDS": int(os.environ.get("KOPPELING_RUN_DEADLINE", "1800")),
    # shared rate-limit buckets: Redis in scale-out (the queue's), else a SQLite file in the data folder
    "RATE_LIMIT_URL": os.environ.get("KOPPELING_RATE_LIMIT_URL")
    or (_QUEUE_URL if _QUEUE_URL.startswith(("redis://", "rediss://", "unix://")) else ""),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KOPPELING_LOG_LEVEL", "WARNING")},
    # httpx logs every URL at INFO, and some APIs (Mijnwebwinkel) carry tokens in the query string
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
WHITENOISE_USE_FINDERS = True  # serve app static files without a collectstatic step
