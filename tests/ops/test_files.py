"""Files at rest (issue 13): the data folder and everything in it are the service user's only;
the keys can live apart from the data; converter uploads are capped and results purged on a
schedule."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from koppeling.web.ops.cleanup import purge_convert_results

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOPPELING_", "DATABASE_URL"))}
    return env | {
        "PYTHONPATH": SRC,
        "DJANGO_SETTINGS_MODULE": "koppeling.settings",
        "KOPPELING_DATA_DIR": str(tmp_path / "data"),
        **extra,
    }


def _start_fresh(env: dict[str, str]) -> None:
    """Start koppeling once as a fresh install does: database, queue and keys are created (opening
    them is enough to create the files; migrating would only make it slower)."""
    code = (
        "import django; django.setup(); from django.db import connection; "
        "connection.ensure_connection(); from huey.contrib.djhuey import HUEY; HUEY.pending_count()"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, timeout=120)


def test_the_data_folder_and_its_files_are_private(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "old-export.csv").write_text("made before the upgrade")
    (data / "old-export.csv").chmod(0o644)
    _start_fresh(_env(tmp_path))
    assert _mode(data) == 0o700
    names = {path.name for path in data.iterdir()}
    assert {"koppeling.sqlite3", "queue.sqlite3", "secret_key", "fernet.key", "old-export.csv"} <= names
    for path in data.rglob("*"):
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), path.name


def test_the_keys_can_live_apart_from_the_data(tmp_path):
    keys = tmp_path / "keys"
    _start_fresh(_env(tmp_path, KOPPELING_KEY_DIR=str(keys)))
    assert (keys / "fernet.key").is_file() and (keys / "secret_key").is_file()
    assert _mode(keys) == 0o700 and _mode(keys / "fernet.key") == 0o600
    assert not (tmp_path / "data" / "fernet.key").exists()  # a backup of the data holds no key


def test_keys_from_files_named_in_the_environment(tmp_path):
    from cryptography.fernet import Fernet

    key_file = tmp_path / "fernet"
    key_file.write_text(Fernet.generate_key().decode() + "\n")
    probe = (
        "import django; django.setup(); from django.conf import settings as s; print(s.KOPPELING_FERNET_KEYS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=_env(tmp_path, KOPPELING_FERNET_KEY_FILE=str(key_file)),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert key_file.read_text().strip() in result.stdout
    assert not (tmp_path / "data" / "fernet.key").exists()
    missing = subprocess.run(
        [sys.executable, "-c", probe],
        env=_env(tmp_path, KOPPELING_FERNET_KEY_FILE=str(tmp_path / "nope")),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert missing.returncode != 0 and "KOPPELING_FERNET_KEY_FILE" in missing.stderr


def test_old_converter_results_are_purged_by_the_scheduled_task(settings, tmp_path):
    from koppeling.web.convert_views import KEEP_SECONDS

    settings.DATA_DIR = tmp_path
    old = tmp_path / "convert" / "7" / "old-token"
    new = tmp_path / "convert" / "8" / "new-token"
    for folder in (old, new):
        folder.mkdir(parents=True)
        (folder / "result.zip").write_bytes(b"customer data")
    long_ago = time.time() - KEEP_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    assert purge_convert_results() == 1
    assert not old.exists() and new.exists()


def test_the_purge_is_a_periodic_task():
    from huey.contrib.djhuey import HUEY

    names = {getattr(task, "name", task.__name__) for task in HUEY._registry._periodic_tasks}
    assert {"purge_convert_results_task", "worker_heartbeat"} <= names


@pytest.mark.django_db
def test_an_upload_over_the_cap_is_refused_before_it_is_read(client, settings, django_user_model):
    settings.KOPPELING = {**settings.KOPPELING, "CONVERT_MAX_UPLOAD_BYTES": 1024}
    user = django_user_model.objects.create_user("u", password="x-long-password")
    client.force_login(user)
    response = client.post(
        "/convert/", {"orders": ("Bestellingen.xml", b"<x>" + b"a" * 4096 + b"</x>")}, format="multipart"
    )
    assert response.status_code == 413
    assert "1,0\xa0KB" in response.content.decode()  # the limit, in the reader's language (nl)
