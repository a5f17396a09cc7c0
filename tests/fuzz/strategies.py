"""What the fuzz tests share: odd JSON values, mutants of a good record, and a middleware that
serves a simulator's answers with one record swapped for its mutant.

A mutant is a good record with one to three changes at random places: a value replaced by any
JSON value (wrong types, huge numbers, odd strings), a key or item removed, or a value wrapped in a
list or object. Good records come from the connectors' own simulators, so each test asks: with one
odd record among good ones, does the read path still read every good one, and say what is wrong
with the odd one, without an exception?
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: modest and without a deadline: the suite runs on two shared cores (``FUZZ_EXAMPLES=1000`` digs deeper)
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "NaN",
        "Infinity",
        "-0",
        "1e999",
        "12,50",
        "1.234,56",
        "9" * 40,
        "2026-13-45",
        "0x1F",
        "€",
        "\x00",
        "ü",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | ODD_TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return list(node)
    if isinstance(node, list):
        return list(range(len(node)))
    return []


@st.composite
def mutants(draw: st.DrawFn, record: Any, *, max_changes: int = 3) -> Any:
    """``record`` with 1 … ``max_changes`` random changes (see the module's docstring)."""
    doc = copy.deepcopy(record)
    for _ in range(draw(st.integers(1, max_changes))):
        parent, key, node = None, None, doc
        while _children(node) and (parent is None or draw(st.booleans())):
            parent, key = node, draw(st.sampled_from(_children(node)))
            node = node[key]
        action = draw(st.sampled_from(["replace", "remove", "wrap"]))
        if parent is None:
            doc = draw(JSON) if action != "wrap" else [doc]
        elif action == "remove":
            del parent[key]
        elif action == "wrap":
            parent[key] = draw(st.sampled_from([[node], {"value": node}]))
        else:
            parent[key] = draw(JSON)
    return doc


class Swapping:
    """A WSGI middleware: each JSON answer passes through ``swap(path, query, body) -> body``."""

    def __init__(self, app: Callable[..., Any], swap: Callable[[str, str, Any], Any]) -> None:
        self.app = app
        self.swap = swap

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        answered: list[tuple[Any, ...]] = []
        body = b"".join(self.app(environ, lambda *args: answered.append(args)))
        status, headers = answered[0][:2]
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if data is not None:
            data = self.swap(environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""), data)
            body = json.dumps(data, default=str).encode()
        kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*kept, ("Content-Length", str(len(body)))])
        return [body]


def swap_in_list(rows: Any, key: str, wanted: str, mutant: Any) -> Any:
    """``rows`` with the row whose ``key`` is ``wanted`` replaced by ``mutant``."""
    if not isinstance(rows, list):
        return rows
    return [mutant if isinstance(r, dict) and str(r.get(key)) == wanted else r for r in rows]


def readable(error: Any) -> str:
    """An error the runtime stores and shows: a code and its text, rendered (raises if it cannot)."""
    assert error.code, error
    text = error.message
    assert isinstance(text, str) and text
    return text
