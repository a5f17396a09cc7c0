"""Fixtures: a seeded simulator and a source connector talking to it in-process."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import httpx
import pytest

from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.mijnwebwinkel.client import MijnwebwinkelSource
from koppeling.connectors.mijnwebwinkel.simulator import MijnwebwinkelSimulator
from koppeling.core.messages import Outcome, text_of

SAMPLES = Path("/work/shared/api-notes/samples")


def spec_example_order() -> dict:
    """The Order example of the official spec (components.schemas.Order.example), as JSON."""
    sample = SAMPLES / "mijnwebwinkel_order_get_example.json"
    if sample.exists():
        return json.loads(sample.read_text())["_body"]
    import yaml

    from koppeling.connectors.mijnwebwinkel import SPEC_PATH

    spec = yaml.safe_load(SPEC_PATH.read_text())
    return json.loads(json.dumps(spec["components"]["schemas"]["Order"]["example"], default=str))


def missing_params(outcome: Outcome) -> set[str]:
    """The placeholders of the code's registered text (and suggestion) that ``outcome`` does not fill.

    Raises if the code has no registered text at all (it would be shown as the bare code).
    """
    text = text_of(outcome.code)
    assert text is not None, f"no text registered for {outcome.code!r}"
    return set(re.findall(r"%\((\w+)\)s", text.text + text.suggestion)) - set(outcome.params)


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2025, 3, 1, 12, 0, 0))


@pytest.fixture
def sim(clock: Clock) -> MijnwebwinkelSimulator:
    simulator = MijnwebwinkelSimulator(clock=clock)
    simulator.seed(250, start=dt.date(2025, 1, 1), days=40)
    return simulator


def make_source(sim: MijnwebwinkelSimulator, **overrides: object) -> MijnwebwinkelSource:
    credentials = {**sim.valid_credentials(), **overrides.pop("credentials", {})}  # type: ignore[arg-type]
    http = httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi), timeout=5)
    config = ConnectionConfig("mijnwebwinkel", "http://mijnwebwinkel.test", credentials, dict(overrides))
    return MijnwebwinkelSource(config, http)


@pytest.fixture
def source(sim: MijnwebwinkelSimulator) -> MijnwebwinkelSource:
    src = make_source(sim)
    yield src
    src.close()
