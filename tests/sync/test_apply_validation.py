"""``koppeling apply`` with wrong types and values: every problem located, exit 2, nothing changed.

Issue 13 found files of the wrong shape ending in tracebacks, and values (``options = "str"``) that
were accepted and broke every sync later. Here every key of the example files gets values of each
wrong type: the result is an ``ApplyError`` (or a valid change), never another exception.
"""

from __future__ import annotations

import copy
import tomllib

import pytest
from django.utils import translation
from tests.sync.test_apply_and_cli import CONFIG, FLOWS_CONFIG, env_for

from koppeling import cli
from koppeling.sync.apply import ApplyError, apply_config
from koppeling.sync.models import Connection, Flow, Link

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The located problems checked here are the English ones (the CLI speaks the user's language)."""
    with translation.override("en"):
        yield


WRONG = ["str", 1e9, -1, True, [], {}, [1], {"a": 1}, 10**30]


def _keys(table: dict, prefix: tuple = ()):
    for key, value in table.items():
        yield (*prefix, key)
        if isinstance(value, dict):
            yield from _keys(value, (*prefix, key))


def _set(data: dict, path: tuple, value) -> dict:
    data = copy.deepcopy(data)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def _problems(data: dict, env: dict | None = None) -> str:
    with pytest.raises(ApplyError) as info:
        apply_config(data, env=env or {}, source="k.toml")
    return "\n".join(info.value.problems)


def test_every_key_with_every_wrong_type_is_a_located_error_or_a_valid_change(shop_sim, books_sim):
    env = env_for(shop_sim, books_sim)
    unexpected = []
    for text in (CONFIG, FLOWS_CONFIG):
        base = tomllib.loads(text)
        extra = [("connections", "shop", "options"), ("connections", "books", "name"), ("links", "x")]
        for path in [*_keys(base), *extra]:
            for value in WRONG:
                try:
                    apply_config(_set(base, path, value), env=env)
                except ApplyError:
                    pass
                except Exception as exc:
                    unexpected.append(f"{'.'.join(path)} = {value!r}: {type(exc).__name__}: {exc}")
    assert not unexpected, "\n".join(unexpected[:20])


def test_bad_values_are_refused_where_they_stand(shop_sim, books_sim):
    base = tomllib.loads(CONFIG)
    env = env_for(shop_sim, books_sim)
    text = _problems(_set(base, ("connections", "books", "options"), "str"), env)
    assert "[connections.books].options: expected a table of name = value, got str" in text
    text = _problems(_set(base, ("connections", "books", "options"), {"call_deadline_seconds": 1e9}), env)
    assert "[connections.books].options.call_deadline_seconds: expected a number from 0.1 to 3600" in text
    text = _problems(_set(base, ("links", "shop-to-books", "schedule_minutes"), 10**9), env)
    assert "[links.shop-to-books].schedule_minutes: expected a whole number of minutes" in text
    text = _problems(_set(base, ("connections", "shop", "systen"), "x"), env)
    assert "[connections.shop].systen: unknown setting" in text  # a typo is not silently ignored
    text = _problems(_set(base, ("organisation", "notify_email"), "not an address"), env)
    assert "[organisation].notify_email: 'not an address' is not a valid notify email" in text
    assert not Connection.objects.exists()  # nothing written while anything is wrong


def test_plain_http_is_refused_for_a_real_system(shop_sim, books_sim):
    data = _set(tomllib.loads(CONFIG), ("connections", "books", "base_url"), "http://api.acumulus.nl")
    text = _problems(data, env_for(shop_sim, books_sim))
    assert "[connections.books].base_url: http://api.acumulus.nl is plain http" in text


def test_a_new_address_needs_the_credentials_again(shop_sim, books_sim):
    env = env_for(shop_sim, books_sim)
    base = tomllib.loads(CONFIG)
    apply_config(base, env=env)
    moved = _set(base, ("connections", "books", "base_url"), "https://books.elsewhere.example")
    del moved["connections"]["books"]["credentials_env"]
    text = _problems(moved, env)
    assert "[connections.books].base_url: the address changes" in text
    assert "give credentials_env too" in text
    assert Connection.objects.get(name="books").base_url == base["connections"]["books"]["base_url"]
    # with the credentials given again for the new address, the change is made
    moved["connections"]["books"]["credentials_env"] = base["connections"]["books"]["credentials_env"]
    apply_config(moved, env=env)
    books = Connection.objects.get(name="books")
    assert books.base_url == "https://books.elsewhere.example" and books.credentials_bound_here()


def test_the_same_shop_into_the_same_books_twice_is_refused(shop_sim, books_sim):
    env = env_for(shop_sim, books_sim)
    base = tomllib.loads(CONFIG)
    apply_config(base, env=env)
    twice = copy.deepcopy(base)
    twice["organisation"] = {"name": "Other", "slug": "other"}
    text = _problems(twice, env)
    assert "Another organisation's link already moves this shop's data into these books" in text
    assert Link.objects.count() == 1 and Flow.objects.count() == 1  # the second was rolled back


def test_cli_apply_of_a_wrong_typed_file_exits_2_without_a_traceback(tmp_path, capsys):
    path = tmp_path / "k.toml"
    path.write_text('organisation = "De Molen"\nconnections = 3\n')
    assert cli.main(["apply", str(path)]) == 2
    err = capsys.readouterr().err
    assert "[organisation]: expected a table, got str" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["sync", "x", "--since", "2026-13-01"], "'2026-13-01' is not a date (YYYY-MM-DD)"),
        (["serve", "--port", "99999"], "'99999' is not a port"),
        (["serve", "--processes", "0"], "'0' is not from 1 to 64"),
        (["sync", "x", "--flow", "nope"], "'nope' is not a flow kind"),
        (["worker", "--workers", "many"], "'many' is not a whole number"),
    ],
)
def test_cli_arguments_are_validated(argv, expected, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def test_cli_version(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("koppeling ")


def test_cli_sync_refuses_to_guess_between_organisations(link, shop_sim, books_sim, capsys):
    from tests.conftest import make_link

    from koppeling.sync.models import Organisation

    other = Organisation.objects.create(name="Other", slug="other")
    make_link(shop_sim, books_sim, name=link.name, org=other)
    with pytest.raises(SystemExit) as info:
        cli.main(["sync", link.name])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "names links of 2 organisations" in err and f"other/{link.name}" in err
    assert cli.main(["sync", f"{link.organisation.slug}/{link.name}"]) == 0
