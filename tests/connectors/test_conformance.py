"""Every connector passes the shared conformance suite (``koppeling.connectors.testing``)."""

from __future__ import annotations

import itertools

from koppeling.connectors import http as kh
from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.testing import SourceHarness, TargetHarness, get_connector_test_class

_ids = itertools.count()


class MijnwebwinkelHarness(SourceHarness):
    def __init__(self) -> None:
        from koppeling.connectors.mijnwebwinkel.simulator import MijnwebwinkelSimulator

        self.sim = MijnwebwinkelSimulator()
        self.url = f"http://mww-conformance-{next(_ids)}.sim"
        kh.mount_wsgi(self.url, self.sim.wsgi)

    def connector(self, *, bad_credentials: bool = False):
        from koppeling.connectors.mijnwebwinkel.client import MijnwebwinkelSource

        creds = self.sim.valid_credentials()
        if bad_credentials:
            creds = {**creds, "token": "not-a-token"}
        return MijnwebwinkelSource(
            ConnectionConfig("mijnwebwinkel", self.url, creds), kh.make_client(self.url)
        )

    def seed(self, count: int) -> None:
        import datetime as dt

        self.sim.seed(count, seed=5, start=dt.date.today() - dt.timedelta(days=30), days=10)

    def inject_fault(self, status: int, retry_after: float | None = None) -> None:
        self.sim.fail_next(status, retry_after=retry_after)

    def inject_malformed(self) -> None:
        self.sim.malform_next("not_json")

    def close(self) -> None:
        kh.unmount(self.url)


class AcumulusHarness(TargetHarness):
    def __init__(self) -> None:
        from koppeling.connectors.acumulus.simulator import AcumulusSimulator

        self.sim = AcumulusSimulator()
        self.url = f"http://acumulus-conformance-{next(_ids)}.sim"
        kh.mount_wsgi(self.url, self.sim.wsgi)

    def connector(self, *, bad_credentials: bool = False):
        from koppeling.connectors.acumulus.client import AcumulusTarget

        creds = self.sim.valid_credentials()
        if bad_credentials:
            creds = {**creds, "password": "wrong"}
        return AcumulusTarget(ConnectionConfig("acumulus", self.url, creds), kh.make_client(self.url))

    def inject_fault(self, status: int, retry_after: float | None = None) -> None:
        self.sim.fail_next(status, retry_after=retry_after)

    def invoice_settings(self) -> dict[str, str]:
        return {"account": "1", "cost_center": "1"}

    def close(self) -> None:
        kh.unmount(self.url)


TestMijnwebwinkelConformance = get_connector_test_class(MijnwebwinkelHarness)
TestAcumulusConformance = get_connector_test_class(AcumulusHarness)
