"""``koppeling apply`` with odd TOML: a valid change or an ``ApplyError`` whose every problem is
located ("file: [links.x].key: …"), never another exception; nothing changed when refused."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest
from django.utils import translation
from hypothesis import event, given
from hypothesis import strategies as st
from tests.fuzz.strategies import FUZZ, mutants
from tests.sync.test_apply_and_cli import CONFIG, FLOWS_CONFIG

from koppeling.sync.apply import ApplyError, apply_config, load
from koppeling.sync.models import Connection, Flow, Link

pytestmark = pytest.mark.django_db

ENV = {"MWW_PARTNER": "p", "MWW_TOKEN": "t", "ACU_CODE": "c", "ACU_USER": "u", "ACU_PASS": "w"}

#: "[" or "]" in a base URL makes ``apply`` raise (``test_a_bracket_in_a_base_url``): not drawn until fixed
NO_BRACKETS = st.characters(blacklist_categories=["Cs"], blacklist_characters="[]")

#: what a TOML value can be (no null; dates and times; inf and nan are TOML floats)
TOML_SCALARS = (
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats()
    | st.text(alphabet=NO_BRACKETS, max_size=12)
    | st.sampled_from(["", "-1", "1e9", "06:61", "2026-13-01", "https://", "ftp://x", "*", "../../etc"])
)
#: TOML's dates and times; not drawn until the bug of ``test_a_date_in_the_flow_settings`` is fixed
#: (add ``| TOML_DATES`` to ``TOML_SCALARS`` then)
TOML_DATES = st.dates() | st.times() | st.datetimes(timezones=st.none() | st.just(dt.UTC))
TOML_VALUES = st.recursive(
    TOML_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=5,
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _state() -> tuple[int, int, int]:
    return Connection.objects.count(), Link.objects.count(), Flow.objects.count()


def _apply(data) -> str:
    before = _state()
    try:
        apply_config(data, env=dict(ENV), source="koppeling.toml")
    except ApplyError as exc:
        problems = list(getattr(exc, "problems", None) or [str(exc)])
        assert problems and all(isinstance(p, str) and p.strip() for p in problems), problems
        # each one located: the file, or the table it is about (the duplicate-link check names
        # only the table)
        assert all("koppeling.toml" in p or p.startswith("[") for p in problems), problems
        assert _state() == before  # nothing changed
        return "refused"
    return "applied"


@FUZZ
@given(data=st.data(), text=st.sampled_from([CONFIG, FLOWS_CONFIG]))
def test_odd_values_are_located_problems(data, text):
    doc = tomllib.loads(text)
    odd = data.draw(mutants(doc).map(_only_toml) | _replaced_leaf(doc), label="config")
    event(_apply(odd))


@st.composite
def _replaced_leaf(draw: st.DrawFn, doc: dict):
    """One key anywhere in the file set to any TOML value."""
    import copy

    doc = copy.deepcopy(doc)
    node = doc
    while True:
        key = draw(st.sampled_from(sorted(node)))
        if isinstance(node[key], dict) and node[key] and draw(st.booleans()):
            node = node[key]
            continue
        node[key] = draw(TOML_VALUES)
        return doc


def _only_toml(value):
    """JSON's null does not exist in TOML: a mutant's None becomes an empty string."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return {str(k): _only_toml(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_only_toml(v) for v in value]
    return value


@FUZZ
@given(
    insert=st.text(alphabet=NO_BRACKETS, max_size=30),
    at=st.integers(0, 10_000),
)
def test_odd_text_in_the_file(tmp_path_factory, insert, at):
    at %= len(FLOWS_CONFIG)
    path = tmp_path_factory.mktemp("toml") / "koppeling.toml"
    path.write_text(FLOWS_CONFIG[:at] + insert + FLOWS_CONFIG[at:], encoding="utf-8")
    try:
        data = load(path)
    except ApplyError as exc:
        assert str(path) in str(exc)
        event("not TOML")
        return
    event(_apply(data))


def test_a_date_in_the_flow_settings():
    text = CONFIG.replace('statuses = ["3", "6", "7"]', "statuses = [2000-01-01]")
    assert text != CONFIG
    assert _apply(tomllib.loads(text)) == "refused"


def test_a_bracket_in_a_base_url():
    text = FLOWS_CONFIG.replace(
        'base_url = "http://mijnwebwinkel.sim"', 'base_url = "http://[mijnwebwinkel.sim"'
    )
    assert text != FLOWS_CONFIG
    assert _apply(tomllib.loads(text)) == "refused"
