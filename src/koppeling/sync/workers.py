"""Who holds a claim: a worker id, so rows of a worker that died are recovered at once.

Each process has an id ``host:pid:nonce``. A claim or a run records it. Recovery treats a claim as
abandoned when it expired (``CLAIM_TIMEOUT_SECONDS``, renewed while sending) — or, without
waiting, when it was taken on *this* host by a process that no longer exists (or by an earlier
incarnation of this very pid: the nonce differs), which a starting worker checks first.
"""

from __future__ import annotations

import os
import socket
import uuid

__all__ = ["WORKER_ID", "is_dead", "worker_id"]

_NONCE = uuid.uuid4().hex[:8]
_HOST = socket.gethostname()[:60]


def worker_id() -> str:
    """This process's id (the pid is read each time: a forked child gets its own)."""
    return f"{_HOST}:{os.getpid()}:{_NONCE}"


WORKER_ID = worker_id()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def is_dead(holder: str) -> bool:
    """True only when we can be sure: a process of this host that is gone, or an earlier life of ours."""
    host, _, rest = holder.partition(":")
    pid_text, _, nonce = rest.partition(":")
    if host != _HOST or not pid_text.isdigit():
        return False  # another machine: only the claim's expiry can tell
    pid = int(pid_text)
    if pid == os.getpid():
        return nonce != worker_id().rsplit(":", 1)[1]
    return not _alive(pid)
