"""Acumulus passes the invoice-target conformance suite (``koppeling.connectors.testing``)."""

from __future__ import annotations

import itertools

from koppeling.connectors import http as kh
from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.testing import TargetHarness, get_connector_test_class, sample_invoice

_ids = itertools.count()


class AcumulusHarness(TargetHarness):
    def __init__(self) -> None:
        from koppeling.connectors.acumulus.simulator import AcumulusSimulator

        self.sim = AcumulusSimulator()
        self.url = f"http://acumulus-conformance-{next(_ids)}.sim"
        kh.mount_wsgi(self.url, self.sim.wsgi)
        self._servers = []

    def connector(self, *, bad_credentials: bool = False, url: str | None = None, timeout: float = 30.0):
        from koppeling.connectors.acumulus.client import AcumulusTarget

        creds = self.sim.valid_credentials()
        if bad_credentials:
            creds = {**creds, "password": "wrong"}
        base = url or self.url
        return AcumulusTarget(
            ConnectionConfig("acumulus", base, creds), kh.make_client(base, timeout=timeout)
        )

    def timing_out_connector(self):
        from koppeling.connectors.simserver import serve_wsgi

        server = serve_wsgi(self.sim.wsgi)
        self._servers.append(server)
        self.sim.latency = 0.6  # the booking happens; the answer comes after the client gave up
        return self.connector(url=server.url, timeout=0.2)

    def inject_fault(self, status: int, retry_after: float | None = None) -> None:
        self.sim.fail_next(status, retry_after=retry_after)

    def target_settings(self):
        from koppeling.connectors.acumulus.client import AcumulusSettings

        return AcumulusSettings(accounts={"*": "1"}, cost_centers={"*": "1"})

    def refused(self):
        from koppeling.connectors.acumulus.client import AcumulusSettings

        return sample_invoice("KC-1004"), AcumulusSettings(accounts={"*": "999999"})

    def close(self) -> None:
        self.sim.latency = 0
        for server in self._servers:
            server.shutdown()
        kh.unmount(self.url)


TestAcumulusConformance = get_connector_test_class(AcumulusHarness)
