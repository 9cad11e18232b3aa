"""Find a kernel's module source and name from what a user hands helixrc.

A kernel is named by a function object (its module file is read; for a function whose source
lives only in ``linecache``, such as ``helixrc.transform(...).function``, that source), by
``"FILE::FUNC"``, or by source text plus a function name. The whole module is needed: kernels read
module constants and call helper kernels defined beside them.
"""

from __future__ import annotations

import importlib.util
import inspect
import linecache
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from helixrc.csim.errors import HelixError
from helixrc.passes.frontend import KernelModule, load_module

_modules: dict[tuple[str, str, float, int], KernelModule] = {}
#: parses of kernels given as source text, by text and filename (oldest dropped first)
_text_modules: dict[tuple[str, str], KernelModule] = {}


def split_spec(spec: str) -> tuple[str, str | None]:
    """``"path/to/file.py::func"`` -> (path, func); the function part is optional."""
    if "::" in spec:
        path, func = spec.rsplit("::", 1)
        return path, func or None
    return spec, None


def load_source_file(path: str | os.PathLike[str]) -> KernelModule:
    """Parse a kernel file, reusing the parse while the file is unchanged."""
    p = Path(path)
    if not p.is_file():
        raise HelixError(f"{path}: no such file")
    st = p.stat()
    # the path as given is in the key too: the module names its file (in reports) as it was given
    key = (str(p.resolve()), str(path), st.st_mtime, st.st_size)
    if key not in _modules:
        _modules[key] = load_module(p.read_text(), str(path))
    return _modules[key]


def resolve_kernel(kernel: Callable[..., Any] | str, func: str | None = None) -> tuple[KernelModule, str]:
    """The parsed module and the kernel's name."""
    if callable(kernel):
        name = getattr(kernel, "__name__", None)
        try:
            path = inspect.getsourcefile(kernel)
        except TypeError:
            path = None
        if path is not None and name is not None and not os.path.exists(path):
            lines = linecache.getlines(path)  # a module that exists only in memory
            if lines:
                return _text_module("".join(lines), path), func or name
        if path is None or name is None or not os.path.exists(path):
            raise HelixError(
                f"cannot find the source of {kernel!r}; helixrc reads kernels from their module "
                "file (pass 'FILE::FUNC' or source text instead)"
            )
        return load_source_file(path), func or name
    if not isinstance(kernel, str):
        raise HelixError(f"a kernel is a function, 'FILE::FUNC' or source text, not {type(kernel).__name__}")
    if "\n" in kernel or kernel.lstrip().startswith(("def ", "import ", "from ")):
        module = _text_module(kernel, "<kernel>")
        if func is None:
            if not module.functions:
                raise HelixError("the source text defines no function")
            func = list(module.functions)[-1]
        return module, func
    path, name = split_spec(kernel)
    name = func or name
    if name is None:
        raise HelixError(f"{kernel}: name the kernel as FILE::FUNC")
    return load_source_file(path), name


def _text_module(source: str, filename: str) -> KernelModule:
    """Parse kernels given as text, reusing the parse of the same text and filename."""
    key = (source, filename)
    module = _text_modules.get(key)
    if module is None:
        module = load_module(source, filename)
        if len(_text_modules) >= 128:
            _text_modules.pop(next(iter(_text_modules)))
        _text_modules[key] = module
    return module


def import_file(path: str) -> ModuleType:
    """Import a kernel file as a Python module (to call make_inputs or the original kernel)."""
    p = Path(path).resolve()
    if not p.is_file():
        raise HelixError(f"{path}: no such file")
    mod_name = f"helixrc_user_{abs(hash(str(p)))}"
    if mod_name in sys.modules:
        return sys.modules[mod_name]
    spec = importlib.util.spec_from_file_location(mod_name, p)
    if spec is None or spec.loader is None:
        raise HelixError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[mod_name]
        raise
    return module


def build_inputs(module: ModuleType, builder: str, size: str, seed: int) -> tuple[Any, ...]:
    """A kernel's arguments from its module's input builder: ``builder(size, seed)`` as a tuple."""
    make = getattr(module, builder, None)
    where = getattr(module, "__file__", None) or module.__name__
    if not callable(make):
        raise HelixError(f"{where}: no function '{builder}' to build the inputs")
    try:
        built = make(size, seed)
    except (KeyError, ValueError) as err:  # the samples' builders raise KeyError for an unknown size
        raise HelixError(f"{where}: {builder}({size!r}, {seed}) failed: {type(err).__name__}: {err}",
                         hint="the samples take the sizes small, medium and large") from None
    return built if isinstance(built, tuple) else (built,)
