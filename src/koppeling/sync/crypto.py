"""Credentials at rest: Fernet with key rotation (MultiFernet). Plain text never hits the DB.

A stored value may also seal the origin its credentials were entered for (``BOUND_TO``): it is
encrypted and authenticated with them, so nobody who can only write the database can re-point a
connection at another host and keep its secrets (``Connection``, ``sync.connections``).
Keys: ``KOPPELING_FERNET_KEYS`` / ``KOPPELING_FERNET_KEY_FILE``, or generated in ``KOPPELING_KEY_DIR``
(the data folder by default); rotate by putting a new key first, then ``rotate`` every value.
"""

from __future__ import annotations

import json
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings

__all__ = ["BOUND_TO", "decrypt_json", "encrypt_json", "fernet", "mask", "open_sealed", "rotate"]

#: the key inside the encrypted value that names the origin the credentials were entered for
BOUND_TO = "__bound_to__"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.KOPPELING_FERNET_KEYS))


def encrypt_json(value: dict[str, str], *, bound_to: str | None = None) -> str:
    data = dict(value) if bound_to is None else {**value, BOUND_TO: bound_to}
    return fernet().encrypt(json.dumps(data, sort_keys=True).encode()).decode()


def open_sealed(token: str) -> tuple[dict[str, str], str | None]:
    """The credentials and the origin they are bound to (None: stored before binding existed)."""
    if not token:
        return {}, None
    data = json.loads(fernet().decrypt(token.encode()))
    bound = data.pop(BOUND_TO, None)
    return data, bound


def decrypt_json(token: str) -> dict[str, str]:
    return open_sealed(token)[0]


def rotate(token: str) -> str:
    """Re-encrypt under the newest key; run after prepending a key to KOPPELING_FERNET_KEYS."""
    return fernet().rotate(token.encode()).decode()


def mask(secret: str) -> str:
    """What the UI may show of a secret: enough to recognise it, not to use it."""
    if len(secret) <= 6:
        return "•" * len(secret)
    return secret[:2] + "•" * 6 + secret[-2:]
