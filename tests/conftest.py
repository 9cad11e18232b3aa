"""Shared pytest options (``--update-golden`` rewrites golden files), fixtures and plugins."""

from __future__ import annotations

from typing import Any

import pytest

#: pytester runs the helixrc pytest plugin's own tests (tests/test_pytest_plugin.py)
pytest_plugins = ["pytester"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/*.test expectations from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def units(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The standalone C components (tests/csim_units.py), compiled once per session: ffi, lib."""
    from csim_units import build_units

    return build_units(tmp_path_factory.mktemp("csim_units"))
