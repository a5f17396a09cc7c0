"""The layers hold: web -> sync -> connectors -> mapping -> core, and no connector imports another.

The layer contracts are import-linter's (``[tool.importlinter]`` in pyproject.toml, also run by
``make lint``); connector independence is checked here over whatever connector packages exist,
so a new connector folder is covered without anyone editing a list.
"""

from __future__ import annotations

import itertools
import pkgutil
from pathlib import Path

import grimp
import pytest

import koppeling.connectors

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_are_kept(monkeypatch):
    from importlinter.cli import lint_imports

    monkeypatch.chdir(ROOT)
    assert lint_imports(no_cache=True, no_logo=True) == 0


def _connector_packages() -> list[str]:
    return [
        f"koppeling.connectors.{info.name}"
        for info in pkgutil.iter_modules(koppeling.connectors.__path__)
        if info.ispkg
    ]


def test_there_are_connector_packages_to_check():
    packages = _connector_packages()
    assert {"koppeling.connectors.acumulus", "koppeling.connectors.mijnwebwinkel"} <= set(packages)


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("koppeling")


PAIRS = list(itertools.permutations(_connector_packages(), 2))


@pytest.mark.parametrize(("importer", "imported"), PAIRS, ids=lambda p: p.rsplit(".")[-1])
def test_no_connector_imports_another(graph, importer, imported):
    chain = graph.find_shortest_chain(importer=importer, imported=imported, as_packages=True)
    assert chain is None, f"{importer} reaches {imported} through {' -> '.join(chain)}"
