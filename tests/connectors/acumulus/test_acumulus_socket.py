"""The Acumulus client on a real localhost socket: latency, client timeout, base URL only."""

from __future__ import annotations

import httpx
import pytest
from acumulus_helpers import SETTINGS, invoice

from koppeling.connectors.acumulus.client import AcumulusTarget
from koppeling.connectors.acumulus.simulator import AcumulusSimulator
from koppeling.connectors.base import ConnectionConfig
from koppeling.connectors.errors import TransientError
from koppeling.connectors.simserver import serve_wsgi


def test_socket_push_with_latency_then_timeout_is_outcome_unknown():
    # given the simulator on a socket, 50 ms slow
    sim = AcumulusSimulator(latency=0.05)
    with serve_wsgi(sim.wsgi) as server:
        config = ConnectionConfig("acumulus", server.url + "/acumulus", sim.valid_credentials())
        target = AcumulusTarget(config, httpx.Client(timeout=httpx.Timeout(2.0, connect=2.0)))
        # when pushing normally, it books and reads back over the network
        result = target.push_invoice(invoice("WA-net"), SETTINGS)
        assert target.read_back_invoice(result.target_id).total_inc == invoice("WA-net").total_inc
        # when Acumulus becomes slower than our read timeout
        sim.latency = 0.5
        slow = AcumulusTarget(config, httpx.Client(timeout=httpx.Timeout(0.2, connect=2.0)))
        with pytest.raises(TransientError) as info:
            slow.push_invoice(invoice("WA-slow"), SETTINGS)
        # then the push is "maybe processed": the engine must not blindly push again
        assert info.value.code == "acumulus_outcome_unknown" and info.value.maybe_processed
        assert "ReadTimeout" in info.value.params["detail"]
        sim.latency = 0.0
    assert sim.requests["invoices/invoice_add"] >= 1
