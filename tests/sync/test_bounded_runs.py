"""Bounded calls and runs: a stuck or flooding remote costs a run seconds, never the worker.

A target that drips its answer one byte at a time, or answers with a 300 MB body, is cut off at
the connection's deadline or size cap; the pushes that may have arrived wait for review (never
pushed again blindly), the run stops and says why, and the next link's run is not held up. A run
that reaches its own time limit stops taking work and leaves the rest for the next run.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Iterator

import pytest
from tests.conftest import make_link
from tests.sync.test_engine import assert_exactly_once

from koppeling.connectors.simserver import serve_wsgi
from koppeling.sync.engine import Engine
from koppeling.sync.models import RecordState, SyncRecord

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


def dripping(seconds: float = 8.0) -> Callable:
    """Answers 200 and then one byte every 0.3 s (for at most ``seconds``)."""

    def app(environ: dict, start_response: Callable) -> Iterator[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "100000")])
        give_up = time.monotonic() + seconds
        while time.monotonic() < give_up:
            time.sleep(0.3)
            yield b" "

    return app


def flooding(megabytes: int = 300) -> Callable:
    """Answers 200 with ``megabytes`` of body, produced lazily (never held in memory)."""

    def app(environ: dict, start_response: Callable) -> Iterator[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "application/json")])
        chunk = b"x" * MiB
        for _ in range(megabytes):
            yield chunk

    return app


def _link_to(url: str, seeded_shop, books_sim, **options):
    link = make_link(seeded_shop, books_sim, books_options=options, name=f"to {url}")
    target = link.target
    target.base_url = url
    # a connection pointed at another address takes its credentials again (never carried over)
    target.credentials = dict(target.credentials)
    target.save()
    return link


def test_a_dripping_target_is_cut_off_at_the_deadline_and_the_next_link_runs(db, seeded_shop, books_sim):
    server = serve_wsgi(dripping())
    try:
        stuck = _link_to(server.url + "/acumulus", seeded_shop, books_sim, call_deadline_seconds=1.0)
        # when a run pushes into a target that never finishes its answers
        started = time.monotonic()
        report = Engine(stuck).run()
        took = time.monotonic() - started
    finally:
        server.shutdown()
    # then the run ends within a few deadlines, stopped as "unreachable", nothing pushed blindly
    assert took < 8, f"the run took {took:.1f} s"
    assert report.status == "failed" and report.error_code == "target_unreachable"
    review = SyncRecord.objects.filter(link=stuck, state=RecordState.NEEDS_REVIEW)
    assert 1 <= review.count() <= 4  # the calls in flight may have arrived: a person decides
    assert not SyncRecord.objects.filter(link=stuck, state=RecordState.PUSHING).exists()
    # and another organisation's link, next in the queue, runs normally
    fine = make_link(seeded_shop, books_sim, name="fine")
    assert Engine(fine).run().pushed > 0
    assert_exactly_once(fine, books_sim)


def test_a_300_mb_answer_is_refused_at_the_cap_with_flat_memory(db, seeded_shop, books_sim):
    server = serve_wsgi(flooding())
    try:
        link = _link_to(server.url + "/acumulus", seeded_shop, books_sim, max_response_bytes=2 * MiB)
        tracemalloc.start()
        report = Engine(link).run()
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        server.shutdown()
    assert peak < 40 * MiB, f"peak {peak / MiB:.0f} MiB"
    assert report.status == "failed"
    # a booking whose answer could not be read may exist: review, never a blind second push
    assert SyncRecord.objects.filter(link=link, state=RecordState.NEEDS_REVIEW).exists()
    assert not SyncRecord.objects.filter(link=link, state=RecordState.PUSHING).exists()


def test_a_run_that_reaches_its_time_limit_leaves_the_rest_for_the_next(link, books_sim, settings):
    settings.KOPPELING = {**settings.KOPPELING, "RUN_DEADLINE_SECONDS": 0}
    report = Engine(link).run()
    assert report.pushed == 0 and report.error_code == "run_deadline"
    assert SyncRecord.objects.filter(link=link, state=RecordState.PENDING).exists()
    settings.KOPPELING = {**settings.KOPPELING, "RUN_DEADLINE_SECONDS": 1800}
    assert Engine(link).run().pushed > 0
    assert_exactly_once(link, books_sim)
