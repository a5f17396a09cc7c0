"""Configuration as code, the CLI, encrypted credentials and settings validation."""

from __future__ import annotations

import textwrap

import pytest
from tests.conftest import BOOKS_URL, SHOP_URL

from koppeling import cli
from koppeling.sync.apply import ApplyError, apply_config, load
from koppeling.sync.flow_settings import OrderFlowSettings, SettingsError, validate
from koppeling.sync.models import Connection, Flow, Link, RecordState, SyncRecord

pytestmark = pytest.mark.django_db

CONFIG = textwrap.dedent(f"""
    [organisation]
    name = "De Molen"
    slug = "de-molen"
    notify_email = "boekhouding@demolen.test"

    [connections.shop]
    system = "mijnwebwinkel"
    base_url = "{SHOP_URL}"
    credentials_env = {{ partner_token = "MWW_PARTNER", token = "MWW_TOKEN" }}

    [connections.books]
    system = "acumulus"
    base_url = "{BOOKS_URL}"
    credentials_env = {{ contractcode = "ACU_CODE", username = "ACU_USER", password = "ACU_PASS" }}

    [links.shop-to-books]
    source = "shop"
    target = "books"
    schedule_minutes = 30

    [links.shop-to-books.settings]
    statuses = ["3", "6", "7"]
    accounts = {{ paypal = "2", "*" = "1" }}
    cost_centers = {{ "*" = "1" }}
    order_prefix = "WB"
""")


def env_for(shop, books) -> dict[str, str]:
    s, b = shop.valid_credentials(), books.valid_credentials()
    return {
        "MWW_PARTNER": s["partner_token"],
        "MWW_TOKEN": s["token"],
        "ACU_CODE": b["contractcode"],
        "ACU_USER": b["username"],
        "ACU_PASS": b["password"],
    }


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "koppeling.toml"
    path.write_text(CONFIG)
    return path


def test_apply_creates_then_updates(config_file, shop_sim, books_sim):
    env = env_for(shop_sim, books_sim)
    first = apply_config(load(config_file), env=env)
    assert "link shop-to-books" in first.created
    second = apply_config(load(config_file), env=env)
    assert "link shop-to-books" in second.updated
    link = Link.objects.get(name="shop-to-books")
    flow = Flow.objects.get(link=link)  # the first landing's shape became one orders → invoices flow
    assert flow.kind == "orders_to_invoices" and flow.schedule_minutes == 30
    assert flow.settings["order_prefix"] == "WB"
    assert flow.target_settings["accounts"] == {"paypal": "2", "*": "1"}  # moved to the target's side
    assert "accounts" not in flow.settings
    assert link.source.credentials == shop_sim.valid_credentials()
    assert Connection.objects.count() == 2


FLOWS_CONFIG = CONFIG.replace(
    textwrap.dedent("""    schedule_minutes = 30

    [links.shop-to-books.settings]
    statuses = ["3", "6", "7"]
    accounts = { paypal = "2", "*" = "1" }
    cost_centers = { "*" = "1" }
    order_prefix = "WB"
"""),
    textwrap.dedent("""
    [links.shop-to-books.flows.orders_to_invoices]
    daily_at = "06:30"
    [links.shop-to-books.flows.orders_to_invoices.settings]
    statuses = ["3", "6", "7"]
    order_prefix = "WB"
    [links.shop-to-books.flows.orders_to_invoices.target_settings]
    accounts = { paypal = "2", "*" = "1" }
    cost_centers = { "*" = "1" }

    [links.shop-to-books.flows.credit_orders_to_notes]
    status = "paused"
    [links.shop-to-books.flows.credit_orders_to_notes.settings]
    statuses = ["3"]
"""),
)
assert FLOWS_CONFIG != CONFIG


def test_apply_with_flows(tmp_path, shop_sim, books_sim):
    import datetime as dt

    path = tmp_path / "flows.toml"
    path.write_text(FLOWS_CONFIG)
    result = apply_config(load(path), env=env_for(shop_sim, books_sim))
    assert "flow shop-to-books: orders_to_invoices" in result.created
    invoices = Flow.objects.get(kind="orders_to_invoices")
    assert invoices.daily_at == dt.time(6, 30)
    assert invoices.target_settings["cost_centers"] == {"*": "1"}
    assert Flow.objects.get(kind="credit_orders_to_notes").status == "paused"


def test_apply_locates_problems_inside_flows(tmp_path):
    bad = FLOWS_CONFIG.replace('daily_at = "06:30"', 'daily_at = "half zeven"\nkind = "orders_to_nowhere"')
    bad = bad.replace('accounts = { paypal = "2", "*" = "1" }', 'accounts = "twee"\nledger = 1')
    path = tmp_path / "bad.toml"
    path.write_text(bad)
    with pytest.raises(ApplyError) as info:
        apply_config(load(path), env={}, source="bad.toml")
    text = "\n".join(info.value.problems)
    assert "[links.shop-to-books].flows.orders_to_invoices: unknown flow kind 'orders_to_nowhere'" in text
    path.write_text(
        FLOWS_CONFIG.replace('accounts = { paypal = "2", "*" = "1" }', 'accounts = "twee"\nledger = 1')
    )
    with pytest.raises(ApplyError) as info:
        apply_config(load(path), env={}, source="bad.toml")
    text = "\n".join(info.value.problems)
    assert "flows.orders_to_invoices.target_settings.accounts" in text
    assert "flows.orders_to_invoices.target_settings.ledger" in text


def test_apply_reports_every_problem_and_changes_nothing(tmp_path):
    bad = CONFIG.replace(
        'order_prefix = "WB"', 'order_prefix = "WB"\nfrom_date = "gisteren"\nstatusses = [1]'
    )
    bad = bad.replace('target = "books"', 'target = "boeken"')
    path = tmp_path / "bad.toml"
    path.write_text(bad)
    with pytest.raises(ApplyError) as info:
        apply_config(load(path), env={}, source="bad.toml")
    text = "\n".join(info.value.problems)
    assert "MWW_TOKEN" in text  # missing environment variable, named
    assert "'boeken' is not a connection" in text
    assert "settings.from_date" in text and "settings.statusses: Extra inputs are not permitted" in text
    assert not Link.objects.exists() and not Connection.objects.exists()


def test_credentials_are_encrypted_at_rest_and_rotatable(shop_sim, settings):
    from cryptography.fernet import Fernet

    from koppeling.sync import crypto

    org_link_conn = Connection(name="x", system="mijnwebwinkel", organisation_id=None)
    org_link_conn.credentials = {"token": "super-secret-token"}
    assert "super-secret-token" not in org_link_conn.credentials_encrypted
    assert org_link_conn.masked_credentials()["token"].startswith("su")
    assert "secret" not in org_link_conn.masked_credentials()["token"]
    old = org_link_conn.credentials_encrypted
    settings.KOPPELING_FERNET_KEYS = [Fernet.generate_key().decode(), *settings.KOPPELING_FERNET_KEYS]
    rotated = crypto.rotate(old)
    assert rotated != old
    assert crypto.decrypt_json(rotated) == {"token": "super-secret-token"}


def test_flow_settings_validation_names_each_field():
    with pytest.raises(SettingsError) as info:
        validate(
            OrderFlowSettings,
            {
                "countries": ["Nederland"],
                "payment_status": "soms",
                "sweep_days": 0,
                "description_template": "Order",
            },
        )
    problems = info.value.problems
    assert set(problems) == {"countries", "payment_status", "sweep_days", "description_template"}
    ok = validate(OrderFlowSettings, {"statuses": "3, 6", "from_date": "2026-01-01"})
    assert ok.statuses == ("3", "6")


def test_cli_sync_twice_pushes_nothing_the_second_time(link, capsys):
    assert cli.main(["sync", str(link.pk)]) == 0
    first = capsys.readouterr().out
    assert "pushed 0" not in first
    assert cli.main(["sync", link.name]) == 0
    assert "pushed 0," in capsys.readouterr().out


def test_cli_sync_dry_run_and_single_order(link, seeded_shop, capsys):
    assert cli.main(["sync", str(link.pk), "--dry-run"]) == 0
    assert "would be pushed" in capsys.readouterr().out
    assert not SyncRecord.objects.exists()
    number = next(n for n in seeded_shop.order_numbers() if seeded_shop.order(n)["status"] in (3, 6, 7))
    assert cli.main(["sync", str(link.pk), "--order", str(number)]) == 0
    assert SyncRecord.objects.get(source_id=str(number)).state == RecordState.PUSHED
    assert SyncRecord.objects.filter(state=RecordState.PUSHED).count() == 1


def test_cli_sync_unknown_link_names_the_known_ones(link):
    with pytest.raises(SystemExit, match="no link 'nope'"):
        cli.main(["sync", "nope"])


def test_cli_apply_exit_codes(config_file, shop_sim, books_sim, monkeypatch, capsys):
    for key, value in env_for(shop_sim, books_sim).items():
        monkeypatch.setenv(key, value)
    assert cli.main(["apply", str(config_file)]) == 0
    assert "created link shop-to-books" in capsys.readouterr().out
    monkeypatch.delenv("MWW_TOKEN")
    assert cli.main(["apply", str(config_file)]) == 2
    assert "MWW_TOKEN" in capsys.readouterr().err


def test_apply_refuses_a_target_as_source(tmp_path):
    path = tmp_path / "swapped.toml"
    path.write_text(CONFIG.replace('source = "shop"', 'source = "books"'))
    with pytest.raises(ApplyError, match="cannot do reads_orders"):
        apply_config(
            load(path), env={k: "x" for k in ("MWW_PARTNER", "MWW_TOKEN", "ACU_CODE", "ACU_USER", "ACU_PASS")}
        )


def test_cli_sync_exit_code_when_the_run_stopped(link, seeded_shop, capsys):
    seeded_shop.malform_next("not_json")
    assert cli.main(["sync", str(link.pk)]) == 2


def test_shared_database_needs_shared_keys(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("KOPPELING_")}
    env |= {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test", "KOPPELING_DATA_DIR": str(tmp_path)}
    probe = subprocess.run(
        [sys.executable, "-c", "import koppeling.settings"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode != 0
    assert "KOPPELING_FERNET_KEYS" in probe.stderr


def test_the_readme_example_applies(shop_sim, books_sim):
    import re
    import tomllib
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = re.search(r"```toml\n(.*?)```", readme, re.S).group(1)
    data = tomllib.loads(block)
    env = {
        "MWW_PARTNER_TOKEN": "p",
        "MWW_TOKEN": "t",
        "ACU_CONTRACT": "c",
        "ACU_USER": "u",
        "ACU_PASSWORD": "w",
    }
    result = apply_config(data, env=env, source="README.md")
    assert "flow shop-to-books: orders_to_invoices" in result.created
    flow = Flow.objects.get()
    assert flow.target_settings["accounts"] == {"paypal": "2", "*": "1"}


def test_the_readme_factuursturen_example_applies(shop_sim):
    """The second example of the README (Mijnwebwinkel -> Factuursturen) is valid as written."""
    import re
    import tomllib
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", readme, re.S)
    (block,) = [b for b in blocks if 'system = "factuursturen"' in b]
    env = {"MWW_PARTNER_TOKEN": "p", "MWW_TOKEN": "t", "FS_LOGIN": "winkel", "FS_API_KEY": "k"}
    result = apply_config(tomllib.loads(block), env=env, source="README.md")
    assert "flow shop-to-factuursturen: orders_to_invoices" in result.created
    flow = Flow.objects.get()
    assert flow.target_settings["vat_rates"]["9"] == {"category": 2}
    assert flow.settings["payment_status"] == "paid" and flow.link.target.system == "factuursturen"
    assert flow.link.target.credentials == {"username": "winkel", "api_key": "k"}
    assert flow.daily_at.strftime("%H:%M") == "06:00"
