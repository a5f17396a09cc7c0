"""Django settings: the embedded default (SQLite + Huey SQLite queue) unless the environment
says otherwise (``DATABASE_URL`` for PostgreSQL, ``KOPPELING_QUEUE_URL`` for Redis)."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent


def _number(name: str, default: float, low: float = 0, high: float = 10**12, *, whole: bool = True):
    """``os.environ[name]`` as a number from ``low`` to ``high``; a wrong value names the variable
    (``ImproperlyConfigured``, which the CLI shows as one line) instead of a bare ValueError."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        from django.core.exceptions import ImproperlyConfigured

        kind = "a whole number" if whole else "a number"
        raise ImproperlyConfigured(f"{name}={text!r}: expected {kind} from {low:g} to {high:g}")
    return value


DATA_DIR = Path(os.environ.get("KOPPELING_DATA_DIR", Path.cwd() / "data")).resolve()

# --- Files at rest (issue 13) --------------------------------------------------------------------
# The data folder holds customers' orders and the connections' encrypted credentials: it and every
# file koppeling creates are for its own user only (0700 / 0600). KOPPELING_UMASK=022 undoes it.
_UMASK = os.environ.get("KOPPELING_UMASK", "077").strip()
if not re.fullmatch(r"0?[0-7]{3}", _UMASK):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"KOPPELING_UMASK={_UMASK!r}: expected three octal digits, e.g. 077")
os.umask(int(_UMASK, 8))
DATA_DIR.mkdir(parents=True, exist_ok=True)
#: where generated keys live: apart from the data (another disk, a secrets mount), so a backup of
#: the data folder does not hold the key that decrypts it
KEY_DIR = Path(os.environ.get("KOPPELING_KEY_DIR") or DATA_DIR).resolve()
KEY_DIR.mkdir(parents=True, exist_ok=True)


def _private(folder: Path) -> None:
    """Tighten a folder made before koppeling made its files private (an upgrade)."""
    try:
        folder.chmod(0o700)
        for entry in folder.iterdir():
            if entry.is_file() and not entry.is_symlink():
                entry.chmod(0o600)
    except OSError:  # not ours (a mounted volume): the umask still covers new files
        pass


_private(DATA_DIR)
_private(KEY_DIR)
# --- end files at rest ---------------------------------------------------------------------------


def _persistent_secret(name: str, factory) -> str:
    """A secret kept in the data folder so a fresh install works without configuration."""
    import time

    path = KEY_DIR / name
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


def _key_file(variable: str) -> str:
    """The contents of the file a ``*_FILE`` variable names (a Docker/systemd secret), or ""."""
    name = os.environ.get(variable, "")
    if not name:
        return ""
    try:
        return Path(name).read_text().strip()
    except OSError as exc:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{variable}={name}: cannot read it ({exc.strerror})") from None


SECRET_KEY = (
    os.environ.get("KOPPELING_SECRET_KEY") or _key_file("KOPPELING_SECRET_KEY_FILE")
) or _persistent_secret("secret_key", lambda: secrets.token_urlsafe(50))


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


_SHARED_DATABASE = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql", "pgsql"))
_FERNET_FROM_ENV = os.environ.get("KOPPELING_FERNET_KEYS") or _key_file("KOPPELING_FERNET_KEY_FILE")
if _SHARED_DATABASE and not _FERNET_FROM_ENV and not os.environ.get("KOPPELING_ALLOW_LOCAL_KEYS"):
    # every web and worker process must decrypt the same credentials: a key generated per machine
    # would leave the other machines unable to read them
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "DATABASE_URL points at a shared database: set KOPPELING_FERNET_KEYS or KOPPELING_FERNET_KEY_FILE "
        "(and KOPPELING_SECRET_KEY) "
        "to the same values on every machine. Generate a key with: python -c "
        "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
    )

# Comma-separated; the first encrypts, all decrypt (rotate by prepending a new key).
KOPPELING_FERNET_KEYS = [
    k.strip()
    for k in (_FERNET_FROM_ENV or _persistent_secret("fernet.key", _fernet_key)).replace("\n", ",").split(",")
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
    "axes",  # sign-in throttling (issue 13)
    # second factor (TOTP) for sign-in, optional per user (issue 12, web/accounts)
    "django_otp",
    "django_otp.plugins.otp_totp",
    "koppeling.sync",
    "koppeling.web",
    "koppeling.web.ops",  # health, metrics, scheduled clean-up (issue 13)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "koppeling.web.ops.limits.UploadLimitMiddleware",  # 413 over the upload cap (issue 13)
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified() (issue 12, web/accounts)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
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
                # the organisations a user can switch between (issue 12, web/accounts)
                "koppeling.web.accounts.context.organisations",
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

#: Django's SQLite backend plus the tenancy triggers it keeps out of schema changes' way (issue 13)
_SQLITE_ENGINE = "koppeling.web.ops.sqlite"

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
    if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        DATABASES["default"]["ENGINE"] = _SQLITE_ENGINE
        DATABASES["default"]["OPTIONS"] = dict(_SQLITE_OPTIONS)
        DATABASES["default"].setdefault("TEST", {"NAME": ":memory:"})
else:
    DATABASES = {
        "default": {
            "ENGINE": _SQLITE_ENGINE,
            "NAME": str(DATA_DIR / "koppeling.sqlite3"),
            "OPTIONS": dict(_SQLITE_OPTIONS),
            # tests: in memory, as for Django's own engine name (pytest-django looks for that name)
            "TEST": {"NAME": ":memory:"},
        }
    }

_QUEUE_URL = os.environ.get("KOPPELING_QUEUE_URL", "")
if _QUEUE_URL.startswith(("redis://", "rediss://", "unix://")):
    HUEY = {
        # priorities: Verwerk (``tasks.push_record_now``, priority 10) goes before the scheduled
        # runs; plain RedisHuey refuses every task with a priority (needs Redis 5 or later)
        "huey_class": "huey.PriorityRedisHuey",
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

# --- Sign-in (issue 13) ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # refuses a locked-out sign-in before any password is checked (django-axes)
    "koppeling.web.ops.signin.ThrottledSignIn",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = _number("KOPPELING_SIGNIN_FAILURES", 5, 1, 1000)
AXES_COOLOFF_TIME = dt.timedelta(
    minutes=_number("KOPPELING_SIGNIN_LOCKOUT_MINUTES", 15, 0.1, 10**6, whole=False)
)
# per name *and* address: a stranger cannot lock a user out from elsewhere
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "koppeling.web.ops.signin.client_ip"
AXES_LOCKOUT_TEMPLATE = "ops/locked_out.html"
AXES_VERBOSE = False
#: how many reverse proxies in front add X-Forwarded-For (the client address for throttling)
KOPPELING_TRUSTED_PROXIES = _number("KOPPELING_TRUSTED_PROXIES", 0, 0, 10)
SESSION_COOKIE_AGE = int(_number("KOPPELING_SESSION_HOURS", 12, 0.1, 24 * 366, whole=False) * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
# --- end sign-in ---------------------------------------------------------------------------------

# --- Transport and headers (issue 13) ------------------------------------------------------------
# KOPPELING_HTTPS=1: served over HTTPS (production): Secure cookies, HSTS, http -> https redirect.
HTTPS = os.environ.get("KOPPELING_HTTPS", "0") == "1"
_PROXY_HEADER = os.environ.get("KOPPELING_PROXY_SSL_HEADER", "")  # e.g. X-Forwarded-Proto
if _PROXY_HEADER:  # only behind a proxy that sets (and strips what clients send in) this header
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _PROXY_HEADER.upper().replace("-", "_"), "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and os.environ.get("KOPPELING_SSL_REDIRECT", "1") == "1"
# a load balancer's probe and a local Prometheus speak http (metrics still want a token or loopback)
SECURE_REDIRECT_EXEMPT = [r"^ops/healthz$", r"^healthz$", r"^ops/metrics$", r"^metrics$"]
SECURE_HSTS_SECONDS = _number("KOPPELING_HSTS_SECONDS", 31536000, 0, 10**9) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("KOPPELING_HSTS_SUBDOMAINS", "1") == "1"
SECURE_HSTS_PRELOAD = os.environ.get("KOPPELING_HSTS_PRELOAD", "1") == "1"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts and styles come from our own static files only: no inline script, no inline handler.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# Uploads being read are customers' data too: for koppeling's user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# Error pages (DEBUG) never show the database or queue address, keys or tokens.
DEFAULT_EXCEPTION_REPORTER_FILTER = "koppeling.web.ops.errors.SecretScrubbingFilter"
# --- end transport and headers -------------------------------------------------------------------

KOPPELING = {
    # how long activity payloads are kept before they are purged (GDPR, design guarantee 6)
    "ACTIVITY_RETENTION_DAYS": _number("KOPPELING_ACTIVITY_RETENTION_DAYS", 30, 1, 36600),
    # a claim older than this is considered abandoned by a crashed worker
    # (renewed while a worker is sending; short, so rows of a crashed worker are recovered soon)
    "CLAIM_TIMEOUT_SECONDS": _number("KOPPELING_CLAIM_TIMEOUT", 180, 0, 10**6),
    # a run stops taking new work after this long; the next run continues
    "RUN_DEADLINE_SECONDS": _number("KOPPELING_RUN_DEADLINE", 1800, 0, 10**6),
    # where shops reach koppeling (webhook addresses are built from it), e.g. https://koppeling.example.nl
    "PUBLIC_URL": os.environ.get("KOPPELING_PUBLIC_URL", ""),
    # shared rate-limit buckets: Redis in scale-out (the queue's), else a SQLite file in the data folder
    "RATE_LIMIT_URL": os.environ.get("KOPPELING_RATE_LIMIT_URL")
    or (_QUEUE_URL if _QUEUE_URL.startswith(("redis://", "rediss://", "unix://")) else ""),
    # the converter's uploads: at most this many bytes per request (issue 13, web.ops.limits)
    "CONVERT_MAX_UPLOAD_BYTES": int(
        _number("KOPPELING_CONVERT_MAX_UPLOAD_MB", 200, 0.001, 10**6, whole=False) * 2**20
    ),
    # plain http is refused for real systems; these hosts may use it too (a stand-in on a LAN)
    "HTTP_HOSTS": [h for h in os.environ.get("KOPPELING_HTTP_HOSTS", "").split(",") if h.strip()],
    # a worker that has not checked in for this long is reported as down by /ops/healthz
    "WORKER_STALE_SECONDS": _number("KOPPELING_WORKER_STALE_SECONDS", 180, 1, 10**6),
    # /ops/metrics: with a token, Prometheus sends "Authorization: Bearer <token>"
    "METRICS_TOKEN": os.environ.get("KOPPELING_METRICS_TOKEN", ""),
}

# --- Logs (issue 13): KOPPELING_LOG_FORMAT=json for one JSON object a line; secrets scrubbed ------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"secrets": {"()": "koppeling.web.ops.logs.ScrubSecrets"}},
    "formatters": {
        "json": {"()": "koppeling.web.ops.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["secrets"],
            "formatter": "json" if os.environ.get("KOPPELING_LOG_FORMAT", "") == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("KOPPELING_LOG_LEVEL", "WARNING")},
    # httpx logs every URL at INFO, and some APIs (Mijnwebwinkel) carry tokens in the query string
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
WHITENOISE_USE_FINDERS = True  # serve app static files without a collectstatic step
