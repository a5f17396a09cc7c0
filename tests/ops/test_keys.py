"""Key rotation: put a new key first, ``koppeling rotate-keys``, remove the old key — every
connection's credentials (and the address they are bound to) still read."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from koppeling import cli
from koppeling.sync.models import Connection

pytestmark = pytest.mark.django_db


def test_rotate_then_drop_the_old_key(link, settings, capsys):
    old = list(settings.KOPPELING_FERNET_KEYS)
    before = {c.pk: c.credentials for c in Connection.objects.all()}
    settings.KOPPELING_FERNET_KEYS = [Fernet.generate_key().decode(), *old]
    assert cli.main(["rotate-keys"]) == 0
    assert "re-encrypted the credentials of 2 connection(s)" in capsys.readouterr().out
    settings.KOPPELING_FERNET_KEYS = settings.KOPPELING_FERNET_KEYS[:1]  # the old key is gone
    after = {c.pk: c.credentials for c in Connection.objects.all()}
    assert after == before
    assert all(c.credentials_bound_here() for c in Connection.objects.all())


def test_credentials_no_key_reads_are_named(link, settings, capsys):
    settings.KOPPELING_FERNET_KEYS = [Fernet.generate_key().decode()]  # the right key was lost
    assert cli.main(["rotate-keys"]) == 1
    assert f"connection(s) {link.source_id}, {link.target_id}" in capsys.readouterr().err


def test_rotation_takes_the_alert_webhook_along(link, settings, capsys):
    org = link.organisation
    org.alert_webhook = {"url": "https://hooks.example.com/x", "secret": "whsec_1"}
    org.save()
    old = list(settings.KOPPELING_FERNET_KEYS)
    settings.KOPPELING_FERNET_KEYS = [Fernet.generate_key().decode(), *old]
    assert cli.main(["rotate-keys"]) == 0
    settings.KOPPELING_FERNET_KEYS = settings.KOPPELING_FERNET_KEYS[:1]  # the old key is gone
    org.refresh_from_db()
    assert org.alert_webhook == {"url": "https://hooks.example.com/x", "secret": "whsec_1"}
