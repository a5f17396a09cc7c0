"""eAccounting passes the order-source conformance suite (``koppeling.connectors.testing``)."""

from __future__ import annotations

import itertools

from koppeling.connectors import http as kh
from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.testing import SourceHarness, get_connector_test_class

from .helpers import add_orders

_ids = itertools.count()
PAGE = 50


class EAccountingHarness(SourceHarness):
    """Sales orders of a simulated company (real clock: the suite asks for "now + 2 days")."""

    def __init__(self) -> None:
        from koppeling.connectors.eaccounting.simulator import EAccountingSimulator

        self.sim = EAccountingSimulator()
        self.sim.seed(customers=15, articles=20, orders=0, invoices=0)
        self.url = f"http://eaccounting-conformance-{next(_ids)}.sim"
        kh.mount_wsgi(self.url, self.sim.wsgi)

    def connector(self, *, bad_credentials: bool = False):
        from koppeling.connectors.eaccounting.client import EAccountingConnector

        creds = {k: str(v) for k, v in self.sim.valid_credentials().items()}
        if bad_credentials:
            creds = {**creds, "access_token": "sim-at-revoked", "refresh_token": "sim-rt-unknown"}
        config = ConnectionConfig("eaccounting", self.url, creds, {"page_size": PAGE})
        return EAccountingConnector(config, kh.make_client(self.url))

    def seed(self, count: int) -> None:
        add_orders(self.sim, count)

    def page_size(self) -> int:
        return PAGE

    def inject_fault(self, status: int, retry_after: float | None = None) -> None:
        self.sim.fail_next(status, retry_after=retry_after)

    def inject_malformed(self) -> None:
        self.sim.malform_next("not_json")

    def close(self) -> None:
        kh.unmount(self.url)


TestEAccountingConformance = get_connector_test_class(EAccountingHarness)
