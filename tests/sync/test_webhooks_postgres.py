"""Duplicate webhooks racing on the real PostgreSQL: every order still becomes exactly one invoice.

Three copies of each delivery (and Lightspeed's ``updated`` + ``paid`` pair of one change) are
posted at once from parallel threads; the event table lets one through per change, the ledger's
claims do the rest. Fails, not skips, without PostgreSQL (``make test-services``).
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import Client
from tests.sync.test_webhooks import (  # noqa: F401  (fixtures)
    _pay,
    _unpaid,
    flow,
    immediate,
    public_url,
    shop,
)

from koppeling.sync import webhooks
from koppeling.sync.models import RecordState, SyncRecord
from koppeling.sync.webhook_models import WebhookEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]  # the real URL conf


def test_three_copies_of_every_delivery_at_once_book_each_order_once(flow, shop, books_sim, immediate):  # noqa: F811
    assert connection.vendor == "postgresql", "DATABASE_URL must point at PostgreSQL for these tests"
    sub = webhooks.enable(flow)
    books_sim.latency = 0.01  # the pushes overlap
    orders = _unpaid(shop)[:4]
    for oid in orders:
        _pay(shop, oid)
    deliveries = [d for d in shop.outbox for _ in range(3)]
    answers: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(deliveries))

    def post(delivery) -> None:
        try:
            start.wait(10)
            response = Client().post(
                f"/hooks/{sub.token}/",
                data=delivery.body,
                content_type=delivery.headers["Content-Type"],
                headers={k: v for k, v in delivery.headers.items() if k != "Content-Type"},
            )
            answers.append(response.json()["outcome"])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(d,)) for d in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert sorted(set(answers)) == ["duplicate", "queued"] and answers.count("queued") == len(orders)
    assert WebhookEvent.objects.filter(flow=flow).count() == len(orders)
    pushed = SyncRecord.objects.filter(flow=flow, source_id__in=[str(o) for o in orders])
    assert [r.state for r in pushed] == [RecordState.PUSHED] * len(orders)
    assert len(books_sim.invoices) == len(orders)
