"""Credentials at rest: Fernet with key rotation (MultiFernet). Plain text never hits the DB."""

from __future__ import annotations

import json
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.KOPPELING_FERNET_KEYS))


def encrypt_json(value: dict[str, str]) -> str:
    return fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict[str, str]:
    if not token:
        return {}
    return json.loads(fernet().decrypt(token.encode()))


def rotate(token: str) -> str:
    """Re-encrypt under the newest key; run after prepending a key to KOPPELING_FERNET_KEYS."""
    return fernet().rotate(token.encode()).decode()


def mask(secret: str) -> str:
    """What the UI may show of a secret: enough to recognise it, not to use it."""
    if len(secret) <= 6:
        return "•" * len(secret)
    return secret[:2] + "•" * 6 + secret[-2:]
