"""Rows a dead worker left in flight are recovered when a worker starts; its runs are closed;
an unreachable target fails the run and alerts once, without pausing."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from django.core import mail
from django.utils import timezone, translation
from tests.conftest import flow_of
from tests.sync.test_engine import assert_exactly_once

from koppeling import cli
from koppeling.sync import tasks
from koppeling.sync.engine import Engine
from koppeling.sync.models import (
    Alert,
    AttemptOutcome,
    Link,
    LinkStatus,
    RecordState,
    Run,
    SyncAttempt,
    SyncRecord,
)
from koppeling.sync.workers import is_dead, worker_id

pytestmark = pytest.mark.django_db


def _dead_worker() -> str:
    """The id of a worker process of this host that has ended."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    host = worker_id().split(":", 1)[0]
    return f"{host}:{child.stdout.strip()}:deadbeef"


def test_is_dead_only_when_sure():
    assert not is_dead(worker_id())
    assert is_dead(_dead_worker())
    assert not is_dead("another-host:1:abcd")  # another machine: only the claim's expiry tells
    own_pid_earlier_life = worker_id().rsplit(":", 1)[0] + ":0ldn0nce"
    assert is_dead(own_pid_earlier_life)


def test_rows_of_a_dead_worker_are_recovered_at_worker_start_without_waiting(link, books_sim):
    # given a run booked some orders, and a worker that died with two rows claimed (claims not expired)
    Engine(link).run()
    pushed = list(SyncRecord.objects.filter(link=link, state=RecordState.PUSHED)[:2])
    dead = _dead_worker()
    never_sent, maybe_sent = pushed
    for record in pushed:
        SyncRecord.objects.filter(pk=record.pk).update(
            state=RecordState.PUSHING, claim_token=uuid.uuid4(), claimed_at=timezone.now(), claimed_by=dead
        )
    maybe_sent.refresh_from_db()
    maybe_sent_token = maybe_sent.claim_token
    SyncAttempt.objects.create(record=maybe_sent, claim_token=maybe_sent_token)
    run = Run.objects.create(link=link, flow=flow_of(link), worker=dead, started_at=timezone.now())
    # when a worker starts
    tasks.recover_on_startup()
    # then: never sent -> waiting again; maybe sent (Acumulus cannot be searched) -> a person reviews
    never_sent.refresh_from_db()
    maybe_sent.refresh_from_db()
    run.refresh_from_db()
    assert never_sent.state == RecordState.PENDING and never_sent.claim_token is None
    assert maybe_sent.state == RecordState.NEEDS_REVIEW
    assert (
        SyncAttempt.objects.get(record=maybe_sent, claim_token=maybe_sent_token).outcome
        == AttemptOutcome.UNCERTAIN
    )
    assert run.status == "failed" and run.error_code == "run_interrupted"


def test_rows_of_a_live_worker_elsewhere_wait_for_the_claim_to_expire(link):
    Engine(link).run()
    record = SyncRecord.objects.filter(link=link, state=RecordState.PUSHED).first()
    SyncRecord.objects.filter(pk=record.pk).update(
        state=RecordState.PUSHING,
        claim_token=uuid.uuid4(),
        claimed_at=timezone.now(),
        claimed_by="other:12:ab",
    )
    tasks.recover_on_startup()
    record.refresh_from_db()
    assert record.state == RecordState.PUSHING  # it may still be working: never touched early


def test_unreachable_target_fails_the_run_and_alerts_once_without_pausing(
    link, books_sim, django_capture_on_commit_callbacks, capsys
):
    # given Acumulus answers 503 to everything, for hours
    books_sim.fail_next(503, times=10_000)
    with django_capture_on_commit_callbacks(execute=True):
        first = Engine(link).run()
    # then the run stops after a few tries instead of hammering every order, and says why
    assert first.status == "failed" and first.error_code == "target_unreachable"
    assert first.error_params["system"] == "Acumulus"
    eligible = SyncRecord.objects.filter(link=link).exclude(state=RecordState.SKIPPED).count()
    assert SyncAttempt.objects.count() <= 4 + 3 < eligible  # the calls in flight, then 3 failures: stop
    assert not SyncRecord.objects.filter(link=link, state=RecordState.FAILED).exists()
    # and the CLI says it failed (exit 2), naming the system, not "paused"
    Run.objects.update(started_at=timezone.now() - timezone.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True), translation.override("en"):
        code = cli.main(["sync", str(link.pk)])
        out = capsys.readouterr().out
        Engine(link).run()
    assert code == 2 and "Acumulus could not be reached" in out and "paused" not in out.lower()
    # after three failed runs: one alert and one mail that says what happened, the link still running
    alert = Alert.objects.get(link=link, kind="unreachable")
    assert alert.paused is False
    assert Link.objects.get(pk=link.pk).status == LinkStatus.ACTIVE
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "gepauzeerd" not in body and "paused" not in body
    assert "Acumulus" in body
    # when Acumulus answers again, the orders go (after their backoff) and the alert closes itself
    books_sim.reset_faults()
    later = timezone.now() + timezone.timedelta(hours=3)
    report = Engine(link, now=lambda: later).run()
    assert report.pushed > 0
    alert.refresh_from_db()
    assert alert.closed_at is not None
    assert_exactly_once(link, books_sim)
