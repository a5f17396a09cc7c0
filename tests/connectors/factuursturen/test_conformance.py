"""Factuursturen passes the invoice-target conformance suite (``koppeling.connectors.testing``)."""

from __future__ import annotations

import itertools

from koppeling.connectors import http as kh
from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.testing import TargetHarness, get_connector_test_class, sample_invoice

_ids = itertools.count()


class FactuursturenHarness(TargetHarness):
    def __init__(self) -> None:
        from koppeling.connectors.factuursturen.simulator import FactuursturenSimulator

        self.sim = FactuursturenSimulator()
        self.url = f"http://factuursturen-conformance-{next(_ids)}.sim"
        kh.mount_wsgi(self.url, self.sim.wsgi)
        self._servers = []

    def connector(self, *, bad_credentials: bool = False, url: str | None = None, timeout: float = 30.0):
        from koppeling.connectors.factuursturen.client import FactuursturenTarget

        creds = self.sim.valid_credentials()
        if bad_credentials:
            creds = {**creds, "api_key": "wrong"}
        base = f"{url or self.url}/api/v1"
        return FactuursturenTarget(
            ConnectionConfig("factuursturen", base, creds), kh.make_client(base, timeout=timeout)
        )

    def timing_out_connector(self):
        """On a socket: a first push at full speed (the connector now knows the customer's debtor),
        then Factuursturen slows down past the client's timeout — the next push's invoice is made,
        its answer never read."""
        from koppeling.connectors.simserver import serve_wsgi

        server = serve_wsgi(self.sim.wsgi)
        self._servers.append(server)
        connector = self.connector(url=server.url, timeout=0.2)
        connector.push_invoice(sample_invoice("KC-WARM"), self.target_settings())
        self.sim.latency = 0.6
        return connector

    def inject_fault(self, status: int, retry_after: float | None = None) -> None:
        self.sim.fail_next(status, retry_after=retry_after)

    def target_settings(self):
        from koppeling.connectors.factuursturen.settings import FactuursturenSettings

        return FactuursturenSettings(vat_rates={"21": {"category": 1}, "9": {"category": 1}, "0": {}})

    def refused(self):
        """Mapped to a 19 % rate the account does not have: Factuursturen itself refuses it."""
        from koppeling.connectors.factuursturen.settings import FactuursturenSettings

        settings = FactuursturenSettings(vat_rates={"21": {"tax_rate": "19"}, "9": {}})
        return sample_invoice("KC-1004"), settings

    def close(self) -> None:
        self.sim.latency = 0
        for server in self._servers:
            server.shutdown()
        kh.unmount(self.url)


TestFactuursturenConformance = get_connector_test_class(FactuursturenHarness)
