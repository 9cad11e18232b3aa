"""A split ``if`` (passes/transform/split.py): the moved store, the run-time checks that guard it,
and the results and exceptions of the split form on CPython and on the simulator."""

from __future__ import annotations

import copy
import textwrap
from typing import Any

import libcst as cst
import numpy as np
import pytest

import helixrc
from equality import assert_same
from helixrc import parallel
from helixrc.passes.frontend import load_module
from helixrc.passes.transform import transform_source
from helixrc.passes.transform.split import int_helper

PROBE = """\
def mix(x):
    h = (x * 0x9E3779B1) & 0xFFFFFFFF
    h = h ^ (h >> 15)
    return h


def fill(x):
    s = 1
    for k in range((x & 3) + 2):
        s = (s * 31 + (x ^ k)) & 0xFFFF
    return s


def probe(keys, head, link, key_of, val, nfree0):
    total = 0
    nfree = nfree0
    for q in range(len(keys)):
        k = int(keys[q])
        h = mix(k) & 7
        e = head[h]
        while e != -1 and key_of[e] != k:
            e = link[e]
        if e == -1:
            e = nfree
            nfree += 1
            key_of[e] = k
            val[e] = fill(k)
            link[e] = head[h]
            head[h] = e
        total += int(val[e])
    return total, nfree
"""
#: after the check that the arrays do not overlap (every loop that writes an array has it)
GUARD = " and len(val) == len(key_of) and len(link) == len(key_of) and int64_arrays(val, link, head):"


def transformed(signals: str = "uncoupled", source: str = PROBE) -> tuple[str, dict[str, str]]:
    result = transform_source(load_module(source, "probe.py"), "probe", signals)
    return result.source, result.loops


def probe_args(n: int = 40, table: int = 40, val_dtype: Any = np.int64, link_len: int | None = None) -> tuple:
    keys = np.random.default_rng(3).integers(0, 20, n)
    return (keys, np.full(8, -1, dtype=np.int64), np.full(link_len or table, -1, dtype=np.int64),
            np.zeros(table, dtype=np.int64), np.zeros(table, dtype=val_dtype), 0)


def run_cpython(source: str, args: tuple, checking: bool) -> tuple[Any, tuple]:
    """(the result or the exception's type and message, the arguments after the call)."""
    scope: dict[str, Any] = {}
    exec(compile(source, "probe.py", "exec"), scope)
    a = copy.deepcopy(args)
    try:
        if checking:
            with parallel.checking():
                out = scope["probe"](*a)
        else:
            out = scope["probe"](*a)
    except Exception as e:  # noqa: BLE001 - compared with the original's
        out = (type(e).__name__, str(e))
    return out, a


def test_the_value_store_leaves_the_walk_segment() -> None:
    after, loops = transformed()
    assert loops["probe/L1"] == "HELIX, uncoupled, 2 segments"
    assert GUARD in after and "from helixrc.parallel import disjoint, int64_arrays," in after
    loop = after.split("for q in prange(")[1].split("else:")[0]
    # the link stores stay in segment 0, the value store runs in segment 1 on the saved test
    assert loop.index("head[h] = e") < loop.index("signal(0)") < loop.index("wait(1)") < loop.index("val[e] = fill(k)")
    assert "cond = bool(e == -1)" in loop and loop.count("if cond:") == 2


@pytest.mark.parametrize("args", [
    probe_args(),                          # the checks hold: the split form runs
    probe_args(val_dtype=np.int32),        # val is not int64: the original loop runs
    probe_args(link_len=41),               # link is longer than key_of: the original loop runs
    probe_args(table=6),                   # the seventh miss raises at key_of[e] = k
    probe_args(table=6, val_dtype=np.int32),
], ids=["checked", "int32_val", "long_link", "raises", "raises_unchecked"])
def test_same_results_and_exceptions_as_cpython(args: tuple) -> None:
    want, a = run_cpython(PROBE, args, checking=False)
    for signals, machine in (("uncoupled", "helixrc16"), ("coupled", "conventional16")):
        after, _ = transformed(signals)
        got, b = run_cpython(after, args, checking=True)
        assert_same(want, got)
        for x, y in zip(a, b):
            assert_same(x, y)
        c = copy.deepcopy(args)
        try:
            sim: Any = helixrc.simulate(after, c, machine=machine, func="probe", check=1).value
        except IndexError as e:
            sim = ("IndexError", str(e).split(": ", 1)[1])
        assert (sim[0] if isinstance(want[0], str) else sim) == (want[0] if isinstance(want[0], str) else want)
        for x, y in zip(a, c):
            assert_same(x, y)


@pytest.mark.parametrize("edit,why", [
    ("            link[e] = head[h]\n", "            g = e + 0\n            link[g] = head[h]\n"),
    ("        s = (s * 31 + (x ^ k)) & 0xFFFF\n", "        s = (s * 31 + x // (k + 1)) & 0xFFFF\n"),
    ("        s = (s * 31 + (x ^ k)) & 0xFFFF\n", "        s = (s * 31 + (x >> k)) & 0xFFFF\n"),
    ("            val[e] = fill(k)\n", "            val[e] = fill(k) + 0.5\n"),
    ("            val[e] = fill(k)\n", "            val[e] = fill(total)\n"),
], ids=["unchecked_index", "helper_divides", "shift_by_name", "float_value", "value_of_unknown_type"])
def test_nothing_moves_when_unsure(edit: str, why: str) -> None:
    source = PROBE.replace(edit, why)
    assert source != PROBE
    after, loops = transformed(source=source)
    assert loops["probe/L1"] == "HELIX, uncoupled, 1 segment"
    assert "int64_arrays" not in after and "cond" not in after


def helper(text: str) -> cst.FunctionDef:
    fn = cst.parse_module(textwrap.dedent(text)).body[0]
    assert isinstance(fn, cst.FunctionDef)
    return fn


@pytest.mark.parametrize("text,ok", [
    ("def f(x):\n    s = 1\n    for i in range(x & 7):\n        s = (s * 3 + i) & 255\n    return s\n", True),
    ("def f(x, y):\n    return (x << 3) ^ ~y\n", True),
    ("def f(x):\n    return x % 7\n", False),                                  # ZeroDivisionError
    ("def f(x):\n    return x / 2\n", False),                                  # a float
    ("def f(x):\n    for i in range(x):\n        s = i\n    return s\n", False),  # s may be unbound
    ("def f(x):\n    for i in range(0, x, 0):\n        x += 1\n    return x\n", False),  # step 0 raises
    ("def f(x):\n    while x > 0:\n        x -= 1\n    return x\n", False),   # may not end
    ("def f(x, a):\n    return a[x]\n", False),                                # memory
    ("def f(x):\n    return g(x)\n", False),                                   # another call
    ("def f(x=1):\n    return x\n", False),
], ids=["loop", "shift_by_literal", "modulo", "division", "unbound", "zero_step", "while", "subscript", "call",
        "default"])
def test_int_helper(text: str, ok: bool) -> None:
    assert int_helper(helper(text), ()) is ok


def test_int64_arrays_on_cpython() -> None:
    assert parallel.int64_arrays(np.zeros(3, np.int64), [1.5, 2])
    assert not parallel.int64_arrays(np.zeros(3, np.int64), np.zeros(3, np.int32))
    assert not parallel.int64_arrays(np.zeros((3, 2), np.int64))  # an element would be a row


@pytest.mark.parametrize("args,want", [
    ((np.zeros(3, np.int64), [1, 2]), True),
    ((np.zeros(3, np.int64), np.zeros(3, np.uint64)), False),
    ((np.zeros((3, 2), np.int64), np.zeros(3, np.int64)), False),
])
def test_int64_arrays_is_the_signature_s_constant_on_the_simulator(args: tuple, want: bool) -> None:
    source = (
        "from helixrc.parallel import int64_arrays\n\n\n"
        "def f(a, b):\n    if int64_arrays(a, b):\n        return 1\n    return 0\n"
    )
    assert helixrc.simulate(source, args, func="f").value == int(want)
    scope: dict[str, Any] = {}
    exec(compile(source, "f.py", "exec"), scope)
    assert scope["f"](*args) == int(want)
