"""Lightspeed eCom passes the order-source conformance suite (``koppeling.connectors.testing``),
including the cursor-order claim: it lists a window, sorts it by ``updatedAt`` and reads in that order."""

from __future__ import annotations

import itertools

from koppeling.connectors import http as kh
from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.testing import SourceHarness, get_connector_test_class

_ids = itertools.count()


class LightspeedHarness(SourceHarness):
    """The simulator on its own address; a small listing page so paging is exercised cheaply."""

    PAGE = 20

    def __init__(self) -> None:
        from koppeling.connectors.lightspeed.simulator import LightspeedSimulator

        self.sim = LightspeedSimulator()
        self.url = f"http://lightspeed-conformance-{next(_ids)}.sim"
        kh.mount_wsgi(self.url, self.sim.wsgi)

    def connector(self, *, bad_credentials: bool = False):
        from koppeling.connectors.lightspeed.client import LightspeedSource

        secret = "0" * 32 if bad_credentials else self.sim.api_secret
        creds = {"api_key": self.sim.api_key, "api_secret": secret}
        options = {"language": self.sim.language, "page_size": self.PAGE}
        return LightspeedSource(
            ConnectionConfig("lightspeed", self.url, creds, options), kh.make_client(self.url)
        )

    def seed(self, count: int) -> None:
        self.sim.seed(count, seed=7)

    def inject_fault(self, status: int, retry_after: float | None = None) -> None:
        self.sim.fail_next(status, retry_after=retry_after)

    def inject_malformed(self) -> None:
        self.sim.malform_next("not_json")

    def page_size(self) -> int:
        return self.PAGE

    def close(self) -> None:
        self.sim.assert_read_only()  # every check, too, proves the connector never writes
        kh.unmount(self.url)


TestLightspeedConformance = get_connector_test_class(LightspeedHarness)
