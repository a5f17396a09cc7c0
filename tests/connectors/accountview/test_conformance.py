"""AccountView passes the invoice-target conformance suite, as sales orders and as sales invoices."""

from __future__ import annotations

import itertools

from koppeling.connectors import http as kh
from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.testing import TargetHarness, get_connector_test_class, sample_invoice

from .helpers import OPTIONS, add_article, credentials, invoice_settings, order_settings, slow_documents

_ids = itertools.count()


class AccountViewOrderHarness(TargetHarness):
    """Orders booked as sales orders (SO1)."""

    def __init__(self) -> None:
        from koppeling.connectors.accountview.simulator import AccountViewSimulator

        self.sim = AccountViewSimulator()
        self.sim.seed(debtors=8, articles=20, sales_orders=0, invoices=0)
        add_article(self.sim, "VERZEND", "Verzendkosten")
        self.url = f"http://accountview-conformance-{next(_ids)}.sim/api/v3"
        kh.mount_wsgi(self.url.removesuffix("/api/v3"), self.sim.wsgi)
        self._servers = []

    def connector(self, *, bad_credentials: bool = False, url: str | None = None, timeout: float = 30.0):
        from koppeling.connectors.accountview.client import AccountViewConnector

        creds = credentials(self.sim)
        if bad_credentials:
            creds = {**creds, "access_token": "sim-av-at-revoked", "refresh_token": "sim-av-rt-unknown"}
        base = url or self.url
        return AccountViewConnector(
            ConnectionConfig("accountview", base, creds, dict(OPTIONS)), kh.make_client(base, timeout=timeout)
        )

    def timing_out_connector(self):
        from koppeling.connectors.simserver import serve_wsgi

        server = serve_wsgi(slow_documents(self.sim.wsgi, 0.6))
        self._servers.append(server)
        return self.connector(url=f"{server.url}/api/v3", timeout=0.2)

    def inject_fault(self, status: int, retry_after: float | None = None) -> None:
        self.sim.fail_next(status, retry_after=retry_after)

    def target_settings(self):
        return order_settings()

    def refused(self):
        # the collective account of the new debtor does not exist in the administration
        return sample_invoice("KC-1004"), order_settings(collective_account="9999")

    def close(self) -> None:
        for server in self._servers:
            server.shutdown()
        kh.unmount(self.url.removesuffix("/api/v3"))


class AccountViewInvoiceHarness(AccountViewOrderHarness):
    """Orders booked as sales invoices (a page in the sales journal, DJ2)."""

    def target_settings(self):
        return invoice_settings()

    def refused(self):
        # the sales journal does not exist in the administration
        return sample_invoice("KC-1004"), invoice_settings(sales_journal="XYZ")


TestAccountViewOrderConformance = get_connector_test_class(AccountViewOrderHarness)
TestAccountViewInvoiceConformance = get_connector_test_class(AccountViewInvoiceHarness)
