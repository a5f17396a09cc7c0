"""The seed-004 link (eAccounting ⇄ AccountView simulators) and its article and customer flows."""

from __future__ import annotations

import pytest
from tests.connectors.accountview import test_flows

from koppeling.sync.models import Cursor, Flow, SyncRecord

# both simulators mounted at the connections' addresses, and the link between them; the
# dashboard fixtures (owner, reader, outsider …) are members of this link's organisation
accountview, eaccounting, link = test_flows.accountview, test_flows.eaccounting, test_flows.link


@pytest.fixture
def articles(link) -> Flow:
    """Articles AccountView -> eAccounting as after a run: a ledger row (the recent record the
    preview reads again from AccountView) and a cursor (cleared when the mapping is saved)."""
    flow = test_flows.flow(link, "products", reverse=True, settings={"update_existing": True})
    SyncRecord.objects.create(link=link, flow=flow, object_type="product", source_id="SKU-1001")
    SyncRecord.objects.create(link=link, flow=flow, object_type="product", source_id="SKU-1003")
    Cursor.objects.create(flow=flow, state={"version": 3})
    return flow


@pytest.fixture
def customers(link) -> Flow:
    return test_flows.flow(link, "customers", settings={"update_existing": True})
