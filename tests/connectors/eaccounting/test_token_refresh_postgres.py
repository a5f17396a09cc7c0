"""Token refresh under two concurrent worker *processes* on PostgreSQL (issue 11).

Visma Connect rotates refresh tokens: each one may be used once. Two workers whose access token
expired at the same moment must not both spend the stored refresh token — one refresh wins, the
other waits on the connection's row lock (``sync.connections.ConnectionCredentials``) and uses the
winner's new pair. The simulator is served over a real socket by this process; each worker is a
forked process with its own database connection, as ``koppeling worker`` processes are.

The control run replaces the row lock with a plain read-then-write: the same two workers then
spend the token twice and one of them is refused (``invalid_grant``) — so the test can fail.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time

import pytest
from django.db import connections

from koppeling.connectors.eaccounting.simulator import EAccountingSimulator
from koppeling.connectors.simserver import serve_wsgi
from koppeling.sync.models import Connection, Organisation

from .helpers import credentials

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class _NaiveStore:
    """Credentials read and written without a lock: what the row lock prevents."""

    def __init__(self, connection_id: int) -> None:
        self.connection_id = connection_id

    def update(self, change):
        row = Connection.objects.get(pk=self.connection_id)
        current = row.credentials
        new = change(current)
        if new is not None and dict(new) != current:
            row.credentials = dict(new)
            row.save(update_fields=["credentials_encrypted", "updated_at"])
            return dict(new)
        return current


def _worker(connection_id: int, barrier, results, naive: bool) -> None:
    """One worker process: build the connection's connector, wait for the other, call the API."""
    from koppeling.sync import connections as stored

    try:
        connections.close_all()  # this process's own database connection
        if naive:
            stored.ConnectionCredentials = _NaiveStore  # type: ignore[misc,assignment]
        connector = stored.build_connector(Connection.objects.get(pk=connection_id))
        barrier.wait(30)
        try:
            rows = connector.mapping_records("customers", "", 1)
            results.put(("ok", len(rows)))
        finally:
            connector.close()
    except Exception as exc:
        results.put(("error", f"{type(exc).__name__}: {getattr(exc, 'code', '')}"))
    finally:
        connections.close_all()
        os._exit(0)  # SimpleQueue.put has written: nothing of the parent's to clean up here


def _race(naive: bool) -> tuple[list[tuple[str, object]], list[int], Connection, str]:
    """Two workers at once on one expired token; (their outcomes, the statuses of the refresh
    grants the simulator answered, the connection afterwards, the refresh token it started with)."""
    sim = EAccountingSimulator(latency=0.3)  # every answer takes 0.3 s: the two really overlap
    sim.seed(customers=3, articles=2, orders=0, invoices=0)
    server = serve_wsgi(sim.wsgi)
    try:
        org = Organisation.objects.create(name=f"OAuth {naive}", slug=f"oauth-{int(naive)}")
        conn = Connection(organisation=org, name="eAccounting", system="eaccounting", base_url=server.url)
        start = credentials(sim, access_token_expires_at=str(int(time.time()) - 60))
        conn.credentials = start
        conn.save()
        before = len(sim.token_requests)
        connections.close_all()
        ctx = mp.get_context("fork")
        barrier, results = ctx.Barrier(2), ctx.SimpleQueue()
        workers = [ctx.Process(target=_worker, args=(conn.pk, barrier, results, naive)) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        outcomes = [results.get() for _ in workers if not results.empty()]
        grants = [r["status"] for r in sim.token_requests[before:] if r["grant_type"] == "refresh_token"]
        conn.refresh_from_db()
        return outcomes, grants, conn, start["refresh_token"]
    finally:
        server.shutdown()


def test_two_worker_processes_refresh_once_and_both_use_the_new_token():
    # when two worker processes find the access token expired at the same moment
    outcomes, grants, conn, first = _race(naive=False)
    # then one refresh happened, both calls succeeded, and the rotated pair is the one stored
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert grants == [200]
    stored = conn.credentials
    assert stored["refresh_token"] != first
    assert int(stored["access_token_expires_at"]) > time.time()


def test_without_the_row_lock_the_second_worker_spends_a_used_token():
    outcomes, grants, _conn, _first = _race(naive=True)
    assert sorted(grants) == [200, 400]  # the second use of one refresh token: invalid_grant
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
