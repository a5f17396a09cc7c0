"""Remote systems that echo credentials back never get them stored, mailed, printed or shown.

Secrets are planted in both connections; both simulators repeat what they received in their error
answers. After failed pushes, a refused token, an alert mail, the CLI and the pages, a scan of the
whole database and of every output finds none of them.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.apps import apps
from django.core import mail
from django.urls import reverse

from koppeling import cli
from koppeling.connectors import http as kh
from koppeling.sync.engine import Engine
from koppeling.sync.models import Organisation, RecordState, SyncRecord

pytestmark = pytest.mark.django_db

SHOP_URL, BOOKS_URL = "http://planted-shop.sim", "http://planted-books.sim"
SECRETS = {
    "partner_token": "PLANTED-partner-7f3a9",
    "token": "PLANTED-store-91bc2",
    "password": "PLANTED-pw-55e1/+&",
    "contractcode": "PLANTED-c-8814",
}


@pytest.fixture
def planted(db):
    from koppeling.connectors.acumulus.simulator import AcumulusSimulator
    from koppeling.connectors.mijnwebwinkel.simulator import MijnwebwinkelSimulator
    from koppeling.sync.models import Connection, Flow, Link

    shop = MijnwebwinkelSimulator(partner_token=SECRETS["partner_token"], token=SECRETS["token"])
    shop.seed(12, seed=21, start=dt.date.today() - dt.timedelta(days=2), days=2)
    books = AcumulusSimulator(password=SECRETS["password"], contractcode=SECRETS["contractcode"])
    shop.echo_secret_in_errors = books.echo_secret_in_errors = True
    kh.mount_wsgi(SHOP_URL, shop.wsgi)
    kh.mount_wsgi(BOOKS_URL, books.wsgi)
    org = Organisation.objects.create(name="Geheim", slug="geheim", notify_email="owner@geheim.test")
    source = Connection(organisation=org, name="shop", system="mijnwebwinkel", base_url=SHOP_URL)
    source.credentials = shop.valid_credentials()
    source.save()
    target = Connection(organisation=org, name="books", system="acumulus", base_url=BOOKS_URL)
    target.credentials = books.valid_credentials()
    target.save()
    link = Link.objects.create(organisation=org, name="geheim", source=source, target=target)
    Flow.objects.create(
        link=link,
        kind="orders_to_invoices",
        source=source,
        target=target,
        settings={"statuses": ["3", "6", "7"]},
        target_settings={"accounts": {"*": "999999"}},  # an account Acumulus does not know: refused
    )
    yield link, shop, books
    kh.unmount(SHOP_URL)
    kh.unmount(BOOKS_URL)


def _database_text() -> str:
    chunks = []
    for model in apps.get_models():
        for row in model.objects.all().values():
            chunks.append(json.dumps(row, default=str))
    return "\n".join(chunks)


def _leaks(text: str) -> list[str]:
    from urllib.parse import quote

    return [name for name, value in SECRETS.items() if value in text or quote(value, safe="") in text]


def test_echoed_secrets_are_redacted_everywhere(
    planted, client, django_user_model, capsys, django_capture_on_commit_callbacks
):
    link, shop, _books = planted
    # given Acumulus refuses every invoice with a message that repeats the password
    with django_capture_on_commit_callbacks(execute=True):
        report = Engine(link).run()
        assert report.failed > 0
        refused = SyncRecord.objects.filter(link=link, state=RecordState.FAILED).first()
        assert "***" in refused.params["remote"]  # the remote's text is kept, redacted
        # and the shop then answers a revoked token with both tokens in its error
        shop.revoke_token()
        assert cli.main(["sync", str(link.pk)]) == 3
    printed = capsys.readouterr()
    user = django_user_model.objects.create_user("eigenaar", password="pw-12345678")
    Organisation.objects.get(slug="geheim").members.add(user)
    client.login(username="eigenaar", password="pw-12345678")
    pages = "".join(
        client.get(url).content.decode()
        for url in (reverse("web:links"), reverse("web:link", args=[link.pk]))
    )
    mails = "\n".join(f"{m.subject}\n{m.body}" for m in mail.outbox)
    # then the alert went out, and not one secret is anywhere
    assert mail.outbox, "the refused token must have been mailed about"
    assert _leaks(_database_text()) == []
    assert _leaks(mails) == []
    assert _leaks(printed.out + printed.err) == []
    assert _leaks(pages) == []
