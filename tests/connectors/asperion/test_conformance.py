"""Asperion passes the batch-target conformance suite (``koppeling.connectors.testing``)."""

from __future__ import annotations

import itertools

from koppeling.connectors import http as kh
from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.testing import BatchTargetHarness, get_connector_test_class

_ids = itertools.count()


class AsperionHarness(BatchTargetHarness):
    """The simulator's file drop on its own address.

    "Bad credentials" is a licence code that has no licence code's form: a well-formed but unknown
    code cannot be told from a good one — the seed says so, and the simulator accepts any.
    """

    def __init__(self) -> None:
        from koppeling.connectors.asperion.simulator import AsperionSimulator

        self.sim = AsperionSimulator()
        self.url = f"http://asperion-conformance-{next(_ids)}.sim"
        kh.mount_wsgi(self.url, self.sim.wsgi)

    def connector(self, *, bad_credentials: bool = False):
        from koppeling.connectors.asperion.client import AsperionTarget

        licence = "geen code/../x" if bad_credentials else self.sim.licence_code
        config = ConnectionConfig("asperion", self.url, {"licence_code": licence})
        return AsperionTarget(config, kh.make_client(self.url))

    def inject_fault(self, status: int, retry_after: float | None = None) -> None:
        self.sim.fail_next(status, retry_after=retry_after)

    def documents(self, reference: str) -> int:
        """Every file delivered for the licence (a fresh simulator per check): a second name for the
        same batch would count as a second document."""
        return sum(1 for f in self.sim.files.values() if f.licence_code == self.sim.licence_code)

    def target_settings(self):
        from koppeling.connectors.asperion.client import AsperionSettings

        return AsperionSettings()

    def close(self) -> None:
        kh.unmount(self.url)


TestAsperionConformance = get_connector_test_class(AsperionHarness)
