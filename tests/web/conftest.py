"""Dashboard fixtures: members of each role, a second organisation, orders that fail on purpose."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from koppeling.sync.engine import Engine
from koppeling.sync.models import Membership, Organisation, RecordState, Role, SyncRecord

PASSWORD = "pw-12345678"


def member_of(django_user_model, org, username: str, role: str = Role.MEMBER):
    user = django_user_model.objects.create_user(
        username, password=PASSWORD, email=f"{username}@example.test"
    )
    Membership.objects.create(organisation=org, user=user, role=role)
    return user


@pytest.fixture
def owner(django_user_model, link):
    return member_of(django_user_model, link.organisation, "eigenaar", Role.OWNER)


@pytest.fixture
def reader(django_user_model, link):
    """The bookkeeper: may look, not act."""
    return member_of(django_user_model, link.organisation, "boekhouder", Role.READ_ONLY)


@pytest.fixture
def outsider(django_user_model, db):
    other = Organisation.objects.create(name="Other shop", slug="other")
    return member_of(django_user_model, other, "ander", Role.OWNER)


@pytest.fixture
def signed_in(client, owner):
    client.login(username=owner.username, password=PASSWORD)
    return client


def icp_order(shop, *, vat_number: str = "") -> int:
    """A Belgian business order at 0 % (an intra-community supply); without ``vat_number`` it
    cannot be booked: the shop charged 0 % to a business whose VAT number is missing."""
    from koppeling.connectors.mijnwebwinkel.simulator import MijnwebwinkelSimulator

    template = MijnwebwinkelSimulator()
    template.seed(5, seed=11, start=dt.date.today() - dt.timedelta(days=4), days=3)
    record = copy.deepcopy(template.order(1001))  # seed 11's first order is one
    for key in ("number", "uuid", "date", "time", "status_changed_date", "status_changed_time"):
        record.pop(key)  # the simulator stamps them now: the next incremental run reads it
    invoice = record["debtor"]["address"]["invoice"]
    if vat_number:
        invoice["taxnumber"] = vat_number
    else:
        invoice.pop("taxnumber", None)
    return shop.add_order(record)


def add_vat_number(shop, number: int, vat_number: str = "BE1835477055") -> None:
    invoice = shop.order(number)["debtor"]["address"]["invoice"]
    invoice["taxnumber"] = vat_number
    shop.edit_order(number, **{"debtor.address.invoice": invoice})


@pytest.fixture
def failed_icp(link, seeded_shop):
    """The link ran; one order failed for its missing VAT number."""
    number = icp_order(seeded_shop)
    Engine(link).run()
    return SyncRecord.objects.get(link=link, source_number=str(number), state=RecordState.FAILED)


@pytest.fixture
def in_review(link, books_sim, seeded_shop):
    """The link ran; the first push was booked but its answer was lost: needs review."""
    icp_order(seeded_shop, vat_number="BE1835477055")  # something new, also after an earlier run
    books_sim.accept_then_fail_next(502)
    Engine(link).run()
    return SyncRecord.objects.get(link=link, state=RecordState.NEEDS_REVIEW)
