"""Concurrency, real crashes and scale-out on the real PostgreSQL and Redis (``make test-services``).

These fail, not skip, when the services are missing: CI must not pass without them.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading

import pytest
from django.db import connection, connections
from tests.conftest import BOOKS_URL, SHOP_URL, make_link
from tests.sync.test_engine import assert_exactly_once, invoices_for

from koppeling.connectors import http as kh
from koppeling.connectors.simserver import serve_wsgi
from koppeling.sync.engine import Engine
from koppeling.sync.models import RecordState, SyncRecord
from koppeling.sync.pushing import Pusher
from koppeling.sync.runstate import FlowRun

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_database_is_postgresql():
    assert connection.vendor == "postgresql", "DATABASE_URL must point at PostgreSQL for these tests"


def _in_thread(fn, results, errors):
    def target():
        try:
            results.append(fn())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    return threading.Thread(target=target)


def test_two_workers_and_duplicate_trigger_book_each_order_once(seeded_shop, books_sim):
    # given one link and some latency so the workers really overlap
    link = make_link(seeded_shop, books_sim)
    books_sim.latency = 0.01
    order_number = str(seeded_shop.order_numbers()[0])
    seeded_shop.set_status(int(order_number), 3)
    results, errors = [], []
    # when two workers run the link at once and a duplicate "Verwerk" trigger arrives for one order
    threads = [
        _in_thread(lambda: Engine(link).run(), results, errors),
        _in_thread(lambda: Engine(link).run(), results, errors),
        _in_thread(lambda: Engine(link).run(kind="order", order_number=order_number), results, errors),
        _in_thread(lambda: Engine(link).run(kind="order", order_number=order_number), results, errors),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    # then every order is booked exactly once
    assert_exactly_once(link, books_sim)
    pushed = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED)
    assert sum(r.pushed for r in results) == pushed.count() == len(books_sim.invoices) > 0
    assert len(invoices_for(books_sim, "WA" + order_number)) == 1


def test_same_claim_cannot_be_taken_twice(seeded_shop, books_sim):
    link = make_link(seeded_shop, books_sim)
    Engine(link).run(dry_run=False)
    SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).update(state=RecordState.PENDING)
    ids = list(SyncRecord.objects.filter(link=link, state=RecordState.PENDING).values_list("id", flat=True))
    barrier = threading.Barrier(2)
    claims, errors = [], []

    def claim():
        pusher = Pusher(Engine(link).runners[0].prepare_run())
        barrier.wait()
        _, rows = pusher.claim(ids)
        return {r.pk for r in rows}

    threads = [_in_thread(claim, claims, errors) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert claims[0].isdisjoint(claims[1])
    assert claims[0] | claims[1] == set(ids)


def test_killed_worker_process_is_recovered_exactly_once(seeded_shop, books_sim, settings):
    """The engine's process dies by os._exit right after Acumulus accepted; no cleanup at all."""
    settings.KOPPELING = {**settings.KOPPELING, "CLAIM_TIMEOUT_SECONDS": 0}
    shop_srv, books_srv = serve_wsgi(seeded_shop.wsgi), serve_wsgi(books_sim.wsgi)
    kh.unmount(SHOP_URL)
    kh.unmount(BOOKS_URL)
    try:
        link = make_link(seeded_shop, books_sim)
        for conn, url, sim in (
            (link.source, shop_srv.url, seeded_shop),
            (link.target, books_srv.url, books_sim),
        ):
            conn.base_url = url
            conn.credentials = sim.valid_credentials()  # a new address needs its credentials again
            conn.save()
        connections.close_all()
        ctx = mp.get_context("fork")

        def child() -> None:
            original = FlowRun.checkpoint

            def crash(self, name: str) -> None:
                original(self, name)
                if name == "after_target_accepted":
                    os._exit(137)

            FlowRun.checkpoint = crash  # type: ignore[method-assign]
            Engine(link).run()
            os._exit(0)

        proc = ctx.Process(target=child)
        proc.start()
        proc.join(120)
        assert proc.exitcode == 137
        booked_before = len(books_sim.invoices)
        assert booked_before >= 1
        # when the next worker runs
        report = Engine(link).run()
        # then the interrupted one waits for review and nothing was booked twice
        assert report.recovered >= 1
        assert_exactly_once(link, books_sim)
        review = SyncRecord.objects.filter(link=link, state=RecordState.NEEDS_REVIEW)
        assert review.count() >= 1
        counts = [len(invoices_for(books_sim, record.reference)) for record in review]
        assert max(counts) == 1  # the accepted one is there, once; others in flight may not have arrived
    finally:
        shop_srv.shutdown()
        books_srv.shutdown()


def test_cursor_and_ledger_survive_a_fresh_connection(seeded_shop, books_sim):
    link = make_link(seeded_shop, books_sim)
    Engine(link).run()
    connections.close_all()
    report = Engine(link).run()
    assert report.pushed == 0
    assert report.api_calls == 1


@pytest.mark.redis
def test_two_workers_share_one_rate_limit_bucket_in_redis(shop_sim):
    """Two worker processes (each its own limiter) at once against one account limited to 5 an hour."""
    import datetime as dt
    import uuid

    from django.conf import settings as django_settings

    from koppeling.connectors.acumulus.simulator import AcumulusSimulator
    from koppeling.sync.ratelimit import Limiter

    url = django_settings.KOPPELING["RATE_LIMIT_URL"]
    assert url.startswith("redis://"), "scale-out shares its buckets through Redis"
    moment = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
    account = uuid.uuid4().hex[:10]  # its own bucket
    books = AcumulusSimulator(contractcode=account, rate_limit=(5, 3600), clock=moment.timestamp)
    books.latency = 0.01
    kh.mount_wsgi(BOOKS_URL, books.wsgi)
    shop_sim.seed(20, seed=4, start=dt.date(2026, 12, 1), days=1)
    for number in shop_sim.order_numbers():
        shop_sim.set_status(number, 3, at=dt.datetime(2026, 12, 1, 12, 0))
    limits = [{"name": "invoices", "limit": 5, "period_seconds": 3600, "applies_to": ["writes_invoices"]}]
    link = make_link(
        shop_sim,
        books,
        settings={"statuses": ["3"], "order_prefix": "WA", "from_date": "2026-11-01"},
        books_options={"rate_limits": limits},
    )
    results, errors = [], []
    barrier = threading.Barrier(2)

    def worker():
        engine = Engine(link, now=lambda: moment, rate_limiter=Limiter(url))
        barrier.wait()
        return engine.run()

    threads = [_in_thread(worker, results, errors) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    # together exactly the limit was booked, each order once, and the target never had to refuse
    assert sum(r.pushed for r in results) == len(books.invoices) == 5
    assert books.rate_limited_count == 0
    assert_exactly_once(link, books)


def test_a_stuck_remote_does_not_hold_up_another_organisations_run(seeded_shop, books_sim):
    """Two worker threads: one pushes into a target that drips its answers, the other runs a
    healthy link of another organisation at the same time and finishes first."""
    import time

    from tests.sync.test_bounded_runs import dripping

    from koppeling.sync.models import Organisation

    server = serve_wsgi(dripping(seconds=6))
    try:
        stuck = make_link(seeded_shop, books_sim, name="stuck", books_options={"call_deadline_seconds": 2.0})
        stuck.target.base_url = server.url + "/acumulus"
        stuck.target.credentials = books_sim.valid_credentials()  # a new address: credentials again
        stuck.target.save()
        other = Organisation.objects.create(name="Other", slug="other")
        fine = make_link(seeded_shop, books_sim, name="fine", org=other)
        finished: dict[str, float] = {}
        started = time.monotonic()

        def run(link, name):
            def go():
                report = Engine(link).run()
                finished[name] = time.monotonic() - started
                return report

            return go

        results, errors = [], []
        threads = [
            _in_thread(run(stuck, "stuck"), results, errors),
            _in_thread(run(fine, "fine"), results, errors),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        server.shutdown()
    assert not errors, errors
    assert finished["fine"] < finished["stuck"]  # not held up behind the stuck one
    assert finished["stuck"] < 10  # and the stuck one is bounded by its deadline
    assert SyncRecord.objects.filter(link=fine, state=RecordState.PUSHED).exists()
    assert_exactly_once(fine, books_sim)


def test_two_workers_refreshing_one_token_never_spend_it_twice(db):
    """A single-use refresh token (Visma Connect rotates them): both workers refresh at once under
    the connection's lock; the second sees the first's new token instead of spending the old one."""
    from koppeling.sync.connections import ConnectionCredentials
    from koppeling.sync.models import Connection, Organisation

    org = Organisation.objects.create(name="OAuth", slug="oauth")
    conn = Connection(organisation=org, name="visma", system="acumulus")
    conn.credentials = {"refresh_token": "r0", "access_token": "a0"}
    conn.save()
    spent: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)

    def refresh(current):
        with lock:
            spent.append(current["refresh_token"])
        n = int(current["refresh_token"][1:]) + 1
        return {"refresh_token": f"r{n}", "access_token": f"a{n}"}

    def worker():
        barrier.wait()
        return ConnectionCredentials(conn.pk).update(refresh)

    results, errors = [], []
    threads = [_in_thread(worker, results, errors) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert sorted(spent) == ["r0", "r1"]  # each token spent once
    conn.refresh_from_db()
    assert conn.credentials == {"refresh_token": "r2", "access_token": "a2"}
