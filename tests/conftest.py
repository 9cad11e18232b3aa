"""Shared pytest options (``--update-golden`` rewrites golden files), fixtures and plugins.

Checking mode is on for every ``helixrc.simulate`` call of the suite (issue 4: a parallel loop
whose accesses break sequential order fails whichever test runs it). The suite sets
``HELIXRC_SIM_CHECK=1`` for the session (subprocesses inherit it); a call that passes ``check=``
itself decides for itself, and a test marked ``@pytest.mark.sim_check_off`` runs without it.
``HELIXRC_SIM_CHECK=0 pytest tests`` runs the whole suite without it. Users' default stays off.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from helixrc.csim.machine import CHECK_ENV

#: pytester runs the helixrc pytest plugin's own tests (tests/test_pytest_plugin.py)
pytest_plugins = ["pytester"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/*.test expectations from the current output")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sim_check_off: run this test's simulations without checking mode")
    os.environ.setdefault(CHECK_ENV, "1")


@pytest.fixture(autouse=True)
def _sim_check(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A test marked ``sim_check_off`` simulates without checking mode (unless it passes check=)."""
    if request.node.get_closest_marker("sim_check_off") is not None:
        monkeypatch.setenv(CHECK_ENV, "0")
    yield


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def units(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The standalone C components (tests/csim_units.py), compiled once per session: ffi, lib."""
    from csim_units import build_units

    return build_units(tmp_path_factory.mktemp("csim_units"))
