"""Fixtures for the Acumulus connector: a simulator mounted in-process and a target on it."""

from __future__ import annotations

import pytest
from acumulus_helpers import make_target

from koppeling.connectors.acumulus.client import AcumulusTarget
from koppeling.connectors.acumulus.simulator import AcumulusSimulator


@pytest.fixture
def sim() -> AcumulusSimulator:
    return AcumulusSimulator()


@pytest.fixture
def target(sim: AcumulusSimulator) -> AcumulusTarget:
    return make_target(sim)
