"""The simulated clock and the Factuursturen simulator the link-level tests share."""

from __future__ import annotations

import pytest
from tests.connectors.factuursturen.fs_helpers import BOOKS_URL, Clock

from koppeling.connectors import http as kh
from koppeling.connectors.factuursturen.simulator import FactuursturenSimulator


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def books(clock: Clock):
    """The simulator on the test's clock (its 60 an hour counts simulated hours), mounted."""
    sim = FactuursturenSimulator(clock=clock.epoch)
    kh.mount_wsgi(BOOKS_URL, sim.wsgi)
    yield sim
    kh.unmount(BOOKS_URL)
