"""Mijnwebwinkel passes the order-source conformance suite (``koppeling.connectors.testing``)."""

from __future__ import annotations

import datetime as dt
import itertools

from koppeling.connectors import http as kh
from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.testing import SourceHarness, get_connector_test_class

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
        self.sim.seed(count, seed=5, start=dt.date.today() - dt.timedelta(days=30), days=10)

    def inject_fault(self, status: int, retry_after: float | None = None) -> None:
        self.sim.fail_next(status, retry_after=retry_after)

    def inject_malformed(self) -> None:
        self.sim.malform_next("not_json")

    def close(self) -> None:
        kh.unmount(self.url)


TestMijnwebwinkelConformance = get_connector_test_class(MijnwebwinkelHarness)
