"""Every Python package of the source tree is declared in pyproject.toml, so it gets installed."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_directory_is_installed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    dirs = config["package-dir"]
    declared = set(config["packages"])
    for name, top in dirs.items():
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top)
            package = ".".join([name, *rel.parts]) if rel.parts else name
            assert package in declared, f"{package} ({init.parent}) is missing from [tool.setuptools] packages"
