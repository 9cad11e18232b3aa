"""Differential tests: kernels run in CPython and on helixrc must agree bit for bit.

Two halves:

* pinned corner cases (``CORNERS``), one small module per language corner, each with a few
  argument tuples; a failing one names the corner;
* a few hundred random kernels from the typed grammar of ``kernel_gen.py`` in five families
  (scalars, helpers, arrays, arrays with helpers, bare NumPy elements), each run on three argument
  tuples and NumPy layouts; hypothesis is derandomized so CI sees the same kernels every run.

Every comparison goes through ``kernel_gen.check_source``: results and final argument states
equal (``equality.run_both``), or the same exception type with equal argument states, or an
int64 overflow (``kernel_gen.int64_overflow_agrees``). A failure prints the kernel source and
arguments, ready to paste into a repro.
"""

from __future__ import annotations

import os
import textwrap
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import helixrc
from kernel_gen import (
    INT64_MAX, INT64_MIN, GenConfig, arguments, check_source, first_int64_escape,
    int64_overflow_agrees, kernel_file, kernels, layouts,
)

INF, NAN = float("inf"), float("nan")


def corner(name: str, source: str, *arg_tuples: tuple[Any, ...], layout: tuple[str, ...] | None = None) -> list[Any]:
    """One pytest param per argument tuple: (source, args, layout), id ``name-i``."""
    src = textwrap.dedent(source).lstrip("\n")
    return [pytest.param(src, args, layout, id=f"{name}-{i}") for i, args in enumerate(arg_tuples)]


def arr(values: list[Any], dtype: Any) -> np.ndarray:
    return np.array(values, dtype=dtype)


U64_BIG = [2**64 - 1, 2**63, 5]
LIST_12 = [1, 2]  # passed twice: the same list object under two names
NARROW_EXTREMES: list[tuple[Any, list[Any]]] = [
    (np.int8, [-128, 0, 127]), (np.uint8, [255, 0, 1]), (np.int16, [-32768, 1, 32767]),
    (np.uint16, [65535, 0, 2]), (np.int32, [-(2**31), 0, 2**31 - 1]), (np.uint32, [2**32 - 1, 1, 0]),
    (np.uint64, [2**63 - 1, 0, 7]), (np.bool_, [True, False, True])]

CORNERS: list[Any] = [
    # -- int arithmetic ---------------------------------------------------------------------------
    *corner("floordiv-mod-ints", """
        def k(x, y):
            return x // y, x % y, -x // y, x % -y
        """, (7, 2), (-7, 2), (7, -2), (-7, -2), (INT64_MIN, 3), (INT64_MAX, -2), (5, 0), (0, 0)),
    *corner("floordiv-min-by-minus-one", """
        def k(x, y):
            return x // y
        """, (INT64_MIN, -1), (INT64_MIN + 1, -1)),
    *corner("true-div-ints", """
        def k(x, y):
            return x / y
        """, (1, 3), (0, -5), (2**53 + 1, 1), (2**62 + 1, 3), (INT64_MIN, 3), (INT64_MAX, INT64_MAX - 1),
        (-(2**53) - 3, 7), (1, 0)),
    *corner("pow-literal", """
        def k(x):
            return x ** 0, x ** 1, x ** 2, x ** 3
        """, (0,), (-3,), (-(2**21),), (2**21,), (3037000499,), (3037000500,)),
    *corner("pow-negative-literal", """
        def k(x):
            return x ** -1, x ** -2
        """, (2,), (-4,), (0,)),
    *corner("shifts", """
        def k(x, n):
            return x << n, x >> n
        """, (1, 0), (1, 62), (-1, 63), (1, 63), (0, 100), (0, 64), (5, 64), (-5, 64), (-5, 1000),
        (3, -1), (0, -1)),
    *corner("overflow", """
        def k(x, y):
            return x + y, x - y, x * y
        """, (INT64_MAX, 1), (INT64_MIN, 1), (2**32, 2**31), (-(2**32), 2**31)),
    *corner("overflow-unary", """
        def k(x):
            return -x, abs(x)
        """, (INT64_MIN,), (INT64_MIN + 1,)),
    *corner("overflow-intermediate-back-in-range", """
        def k(x, y):
            t = x * y
            return t // y
        """, (2**62, 4), (2**30, 4)),
    *corner("bitwise-ints-bools", """
        def k(x, y, p, q):
            return x & y, x | y, x ^ y, ~x, p & q, p | q, p ^ q, ~p, x & p, -p, p + q
        """, (12, -7, True, False), (INT64_MIN, -1, True, True), (0, INT64_MAX, False, False)),
    # -- comparisons, and/or, not, conditional expressions ----------------------------------------
    *corner("chained-comparisons", """
        def k(x, y, z, f):
            return x < y <= z, x == y == z, x < f < z, x != y != x, f <= x >= y
        """, (1, 2, 2, 1.5), (3, 2, 1, NAN), (2, 2, 2, 2.0), (0, 0, 1, -0.0)),
    *corner("chained-comparison-middle-once", """
        def bump(a):
            a[0] += 1
            return a[0]

        def k(a, x):
            return x < bump(a) <= 3, a[0]
        """, ([1], 0), ([3], 0), ([1], 5)),
    *corner("short-circuit-values", """
        def k(x, y):
            a = x != 0 and y // x > 1
            b = x == 0 or y % x == 0
            c = x and y // x
            d = y or x
            return a, b, c, d
        """, (0, 5), (2, 5), (-3, 9), (0, 0)),
    *corner("short-circuit-conditions", """
        def k(a, x, f):
            n = 0
            if x >= 0 and x < len(a) and a[x] > 0:
                n += 1
            if f != 0.0 and 1.0 / f > 1.0 or x == 2:
                n += 10
            if not (x < 0 or a[x] < 0):
                n += 100
            return n
        """, ([1, -2, 3], 0, 0.0), ([1, -2, 3], 5, 0.5), ([1, -2, 3], -1, -0.0), ([1, -2, 3], 2, 2.0)),
    *corner("short-circuit-skips-call", """
        def bump(a):
            a[0] += 1
            return a[0]

        def k(a, p):
            t = p or bump(a) > 1
            u = p and bump(a) > 1
            return t, u, a[0]
        """, ([1], True), ([1], False)),
    *corner("conditional-expression", """
        def k(x, y):
            return (y // x) if x != 0 else -1, (1.5 if x > y else -0.0)
        """, (0, 5), (2, 5), (-2, -5)),
    *corner("not", """
        def k(x, f, p):
            return not x, not f, not p, not (x and f)
        """, (0, NAN, False), (1, -0.0, True), (-1, 0.0, False)),
    # -- floats -----------------------------------------------------------------------------------
    *corner("float-specials-arith", """
        def k(f, g):
            return f + g, f - g, f * g, min(f, g), max(f, g), min(g, f), max(g, f), abs(f), -f
        """, (INF, -INF), (NAN, 1.0), (1.0, NAN), (-0.0, 0.0), (0.0, -0.0), (5e-324, 0.5),
        (1e308, 1e308), (-0.0, -0.0), (2.2250738585072014e-308, -1e-300)),
    *corner("float-specials-division", """
        def k(f, g):
            return f / g, f // g, f % g
        """, (-7.5, 2.0), (7.5, -2.0), (-0.0, 1.0), (1.0, INF), (-1.0, INF), (1.0, -INF), (INF, 1.0),
        (NAN, 1.0), (5e-324, -1.0), (1e308, 1e-308), (-1e-300, 1e300), (1.0, 0.0), (1.0, -0.0), (0.0, 0.0)),
    *corner("mixed-int-float-division", """
        def k(x, f):
            return x // f, x % f, f // x, f % x, x / f
        """, (7, -2.5), (-7, 2.5), (2**53 + 1, 1.0), (INT64_MIN, -1.0), (3, 0.0), (0, 1.5)),
    *corner("min-max-three", """
        def k(f, g, h):
            return min(f, g, h), max(f, g, h), min(h, g, f), max(h, g, f)
        """, (NAN, 1.0, -1.0), (1.0, NAN, -1.0), (0.0, -0.0, 0.0), (-INF, INF, NAN)),
    *corner("float-pow", """
        def k(f, g):
            return f ** g
        """, (2.0, 0.5), (-2.0, 3.0), (-2.0, -3.0), (NAN, 0.0), (1.0, NAN), (-1.0, INF), (0.5, -INF),
        (-0.0, 3.0), (INF, -1.0), (0.0, -1.0), (10.0, 400.0), (-10.0, 401.0)),
    *corner("float-pow-negative-base-fractional", """
        def k(f, g):
            return f ** g
        """, (-8.0, 0.5)),
    *corner("int-vs-float-compare", """
        def k(x, f):
            return x < f, x <= f, x == f, x != f, x > f, f >= x
        """, (2**53 + 1, 2.0**53), (2**53 + 1, 2.0**53 + 2), (INT64_MAX, 2.0**63), (INT64_MIN, -(2.0**63)),
        (1, NAN), (0, -0.0), (INT64_MAX, INF), (-(2**53) - 1, -(2.0**53))),
    *corner("int-plus-float-rounding", """
        def k(x, f):
            return x + f, x * f, f - x
        """, (2**53 + 1, 0.0), (INT64_MAX, 1.0), (2**60 + 2**36 + 1, -0.0)),
    *corner("math-functions", """
        import math

        def k(f):
            return math.sqrt(math.fabs(f)), math.exp(-math.fabs(f)), math.fabs(f), math.floor(f * 0.5), math.ceil(f)
        """, (2.5,), (-0.0,), (-2.5,), (1e-320,), (4.5e15 + 0.5,)),
    *corner("math-sqrt", """
        import math

        def k(f):
            return math.sqrt(f)
        """, (-1.0,), (-0.0,), (INF,), (NAN,), (-INF,)),
    *corner("math-exp", """
        import math

        def k(f):
            return math.exp(f)
        """, (1000.0,), (-INF,), (NAN,), (709.78,), (-745.2,)),
    *corner("math-log", """
        import math

        def k(f):
            return math.log(f)
        """, (0.0,), (-1.0,), (INF,), (NAN,), (5e-324,), (-0.0,)),
    *corner("math-floor-ceil", """
        from math import ceil, floor

        def k(f):
            return floor(f), ceil(f)
        """, (-0.5,), (2.5,), (INF,), (-INF,), (NAN,), (1e300,), (-(2.0**63),), (2.0**63,)),
    *corner("math-of-ints", """
        import math

        def k(x):
            return math.sqrt(x), math.floor(x), math.ceil(x), math.fabs(x), math.log(x)
        """, (2**53 + 1,), (1,), (0,), (-4,)),
    *corner("conversions", """
        def k(x, f, p):
            return float(x), bool(x), bool(f), int(p), float(p), int(x), bool(p)
        """, (2**53 + 1, NAN, True), (INT64_MAX, -0.0, False), (0, 0.0, True)),
    *corner("int-of-float", """
        def k(f):
            return int(f)
        """, (-0.5,), (2.9999999999999996,), (-(2.0**63),), (NAN,), (INF,), (-INF,), (1e19,), (2.0**63,)),
    # -- arrays -----------------------------------------------------------------------------------
    *corner("negative-indices", """
        def k(a, m):
            return a[-1], a[-len(a)], m[-1, -1], m[-1][0], m[0, -2]
        """, ([1, 2, 3], arr([[1.5, 2.5], [3.5, 4.5]], np.float64)),
        (arr([7, 8], np.int64), arr([[1, 2, 3]], np.int64))),
    *corner("index-out-of-range", """
        def k(a, i):
            return a[i]
        """, ([1, 2, 3], 3), ([1, 2, 3], -4), (arr([1.0], np.float64), 1), (arr([1.0], np.float64), -2),
        ([], 0)),
    *corner("store-negative-and-out-of-range", """
        def k(a, i, x):
            a[-1] = x
            a[i] = x + 1
            return a[0]
        """, ([1, 2, 3], 0, 9), ([1, 2, 3], -3, 9), ([1, 2, 3], 3, 9), (arr([1, 2], np.int64), -3, 4)),
    *corner("index-2d-out-of-range", """
        def k(m, i, j):
            return m[i, j] + m[i][j]
        """, (arr([[1, 2], [3, 4]], np.int64), 1, -2), (arr([[1, 2], [3, 4]], np.int64), 2, 0),
        (arr([[1, 2], [3, 4]], np.int64), 0, -3)),
    *corner("index-2d-chained-evaluation-order", """
        def k(m, f):
            return m[1][int(f)]
        """, (arr([[1.0, 2.0]], np.float64), INF)),
    *corner("narrow-reads", """
        def k(a):
            return int(a[0]) + 1, float(a[-1]) * 2.0, bool(a[1]), a[0] < 3, a[1] == 0
        """, *[(arr(v, dt),) for dt, v in NARROW_EXTREMES]),
    *corner("float32-reads", """
        def k(a):
            return float(a[0]) * 3.0, int(a[1]), bool(a[2]), float(a[1]) + float(a[2])
        """, (arr([0.1, 2.5, -0.0], np.float32),), (arr([NAN, 1.0, 0.0], np.float32),),
        (arr([1.0, INF, 1.0], np.float32),), (arr([3.4028234663852886e38, -7.9, 1e-45], np.float32),)),
    *corner("narrow-as-index-truth-compare", """
        def k(a, na):
            n = 0
            if na[0]:
                n += 1
            if na[1] > 2:
                n += 10
            return a[na[1]] + n
        """, ([10, 20, 30, 40], arr([1, 3], np.uint8)), ([10, 20, 30, 40], arr([0, -1], np.int8)),
        ([10, 20, 30, 40], arr([5, 4], np.int32))),
    *corner("uint64-high-values", """
        def k(a):
            return float(a[0]), a[1] > 5
        """, (arr(U64_BIG, np.uint64),)),
    *corner("uint64-high-truth-and-index", """
        def k(a, b):
            n = 0
            if b[0]:
                n = 1
            return n + a[b[1]]
        """, ([1, 2], arr([2**63, 1], np.uint64)), ([1, 2], arr([1, 2**64 - 1], np.uint64))),
    *corner("uint64-int-overflow", """
        def k(a):
            return int(a[0])
        """, (arr(U64_BIG, np.uint64),)),
    *corner("narrow-stores", """
        def k(a, x):
            a[0] = x
            return int(a[0])
        """, (arr([0, 0], np.uint8), 255), (arr([0, 0], np.uint8), 256), (arr([0, 0], np.uint8), -1),
        (arr([0, 0], np.int8), 128), (arr([0, 0], np.int8), -128), (arr([0, 0], np.int16), 2**15),
        (arr([0, 0], np.int32), 2**31), (arr([0, 0], np.uint32), 2**32), (arr([0, 0], np.uint64), -1),
        (arr([0, 0], np.uint64), INT64_MAX), (arr([0, 0], np.int64), INT64_MIN),
        (arr([False, False], np.bool_), 5), (arr([False, True], np.bool_), 0)),
    *corner("float32-stores", """
        def k(a, f, x):
            a[0] = f
            a[1] = x
            return float(a[0]), float(a[1])
        """, (arr([0, 0], np.float32), 0.1, 16777217), (arr([0, 0], np.float32), -0.0, 2**60 + 2**36 + 1),
        (arr([0, 0], np.float32), NAN, -1), (arr([0, 0], np.float32), INF, 0),
        (arr([0, 0], np.float32), 1e-46, 2**24 + 1)),
    *corner("float32-store-out-of-range", """
        def k(a, f):
            a[0] = f
            return float(a[0])
        """, (arr([0, 0], np.float32), 1e300), (arr([0, 0], np.float32), -1e39),
        (arr([0, 0], np.float32), 3.4028235677973366e38)),
    *corner("bool-and-float64-stores", """
        def k(b, v, f, x):
            b[0] = f
            b[1] = x
            v[0] = x
            v[1] = True
            return bool(b[0]), bool(b[1]), v[0], v[1]
        """, (arr([False, False], np.bool_), arr([0.0, 0.0], np.float64), NAN, 2**53 + 1),
        (arr([True, True], np.bool_), arr([0.0, 0.0], np.float64), -0.0, 0)),
    *corner("2d-arrays", """
        def k(m):
            s = 0.0
            for i in range(m.shape[0]):
                for j in range(m.shape[1]):
                    s = s * 1.5 + m[i, j] - m[i][j] * 0.25
                    m[i, j] = s
            return s, len(m)
        """, (arr([[1.0, 2.0, 3.0], [-0.0, NAN, 4.0]], np.float64),), (arr([[1.5]], np.float64),),
        (arr([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float64),)),
    *corner("3d-array", """
        def k(t):
            s = 0
            for i in range(t.shape[0]):
                for j in range(t.shape[1]):
                    for l in range(t.shape[2]):
                        s = s * 3 + t[i, j, l] - t[i][j][l] // 2
            t[-1, -1, -1] = s
            return s
        """, (np.arange(12, dtype=np.int64).reshape(2, 3, 2),)),
    *corner("list-mutations-visible", """
        def k(a, fl):
            for i in range(len(a)):
                a[i] = a[i] * 2 - i
                fl[i % len(fl)] += 0.5
            a[0], a[-1] = a[-1], a[0]
            return len(a)
        """, ([1, 2, 3], [0.0, -0.0]), ([INT64_MAX, 1], [1e308])),
    *corner("list-mutation-then-exception", """
        def k(a, x):
            a[0] = 7
            a[1] = a[1] // x
            a[2] = 9
            return 0
        """, ([1, 2, 3], 0), ([1, 2, 3], 2)),
    *corner("strided-reversed-fortran", """
        def k(v, m):
            s = 0
            for i in range(len(v)):
                s = s * 10 + v[i]
                v[i] = i
            m[0, 1] = s
            return s, m[1, 0]
        """, (np.arange(4, dtype=np.int64), np.arange(6, dtype=np.int64).reshape(2, 3)),
        layout=("step", "F")),
    *corner("strided-reversed", """
        def k(v, m):
            s = 0
            for i in range(len(v)):
                s = s * 10 + v[i]
                v[i] = i
            m[0, 1] = s
            return s, m[1, 0]
        """, (np.arange(4, dtype=np.int64), np.arange(6, dtype=np.int64).reshape(2, 3)),
        layout=("reversed", "step")),
    *corner("read-only-array-write", """
        def k(a, b):
            b[0] = 1
            a[0] = a[0]
            b[1] = 2
            return 1
        """, (arr([1, 2], np.int64), [0, 0]), layout=("readonly", "C")),
    *corner("read-only-array-write-list-state", """
        def k(a, b):
            b[0] = 1
            a[0] = 7
            b[1] = 2
            return 1
        """, (arr([1, 2], np.int64), [0, 0]), layout=("readonly", "C")),
    # -- loops and control flow -------------------------------------------------------------------
    *corner("range-forms", """
        def k(x, y, z):
            s = 0
            c = 0
            for i in range(x):
                s += i
            for i in range(x, y):
                s = s * 3 + i
            for i in range(x, y, z):
                s = s * 7 - i
                c += 1
            return s, c
        """, (10, 0, -3), (0, 10, 3), (0, 10, -1), (5, 5, 1), (-2, 3, 2), (3, -4, -2), (0, 5, 0)),
    *corner("range-evaluated-once", """
        def k(n):
            c = 0
            for i in range(n):
                n += 1
                c += 1
            return c, n
        """, (3,), (0,)),
    *corner("while-break-continue", """
        def k(n, m):
            i = 0
            s = 0
            while i < n:
                i += 1
                if i % 3 == 0:
                    continue
                if s > m:
                    break
                s += i
            return s, i
        """, (10, 12), (0, 0), (7, 100), (10, -1)),
    *corner("nested-loops-early-return", """
        def k(a, target):
            for i in range(len(a)):
                for j in range(i + 1, len(a)):
                    if a[i] + a[j] == target:
                        return i, j
            return -1, -1
        """, ([1, 4, 6, 9], 10), ([1, 4, 6, 9], 3), ([], 0)),
    *corner("loop-variable-after-loop", """
        def k(n):
            for i in range(n):
                pass
            return i
        """, (0,), (3,), (-2,)),
    *corner("maybe-unassigned-local", """
        def k(n, p):
            if p:
                t = n * 2
            for i in range(n):
                u = i
            return t + u
        """, (2, True), (0, True), (2, False)),
    *corner("unbound-helper-argument", """
        def h(p, q):
            assert q > 0
            return 1

        def k(n):
            for i in range(n):
                pass
            return h(i, 0)
        """, (0,)),
    *corner("unbound-helper-argument-unused", """
        def h(p):
            return 1

        def k(n):
            for i in range(n):
                pass
            return h(i)
        """, (0,), (2,)),
    *corner("helpers-scalar-and-tuple", """
        def divmod2(x, y):
            return x // y, x % y

        def hyp(x, y):
            return (x * x + y * y) ** 0.5

        def k(x, y, f):
            q, r = divmod2(x, y)
            return q, r, hyp(f, float(q))
        """, (17, 5, 1.5), (-17, 5, 0.0), (3, 0, 1.0)),
    *corner("tuple-assignment-swap", """
        def k(x, y, a):
            x, y = y, x
            x, y = y, x + y
            a[0], a[1] = a[1], a[0]
            return x, y
        """, (1, 2, [5, 6]), (INT64_MAX, 1, [0, 1])),
    *corner("assert", """
        def k(x):
            assert x > 0, "x must be positive"
            assert x != 3
            return x
        """, (1,), (0,), (3,)),
    *corner("module-constants", """
        import math

        MASK = 0x7FFF
        BIG = 1 << 62
        HALF = 1.0 / 2.0
        ON = True

        def k(x):
            return (x & MASK) + BIG if ON else -1, x * HALF, -math.inf < x
        """, (5,), (2**62,), (-1,)),
    # -- NumPy scalars in CPython (elements of int64/float64 arrays and narrow comparisons) --------
    *corner("int64-element-arithmetic", """
        def k(a, x):
            return a[0] // x
        """, (arr([5], np.int64), 0)),
    *corner("int64-element-overflow", """
        def k(a, x):
            return a[0] * x
        """, (arr([5], np.int64), 2**62)),
    *corner("int64-element-negative-power", """
        def k(a):
            return a[0] ** -1
        """, (arr([2], np.int64),)),
    *corner("float64-element-division", """
        def k(a, f):
            return a[0] / f
        """, (arr([5.0], np.float64), 0.0)),
    *corner("int64-element-vs-float", """
        def k(a, f):
            return a[0] == f
        """, (arr([2**53 + 1], np.int64), 2.0**53)),
    *corner("narrow-comparison-result-arithmetic", """
        def k(a, f):
            t = a[0] == 1
            return t + t, f // (a[0] == 2)
        """, (arr([1], np.int8), 1.0)),
    *corner("numpy-scalar-arguments", """
        def k(x, y, f, p):
            return x // y, f + 0.1, p + p
        """, (np.int64(5), 0, 1.0, True), (5, 2, np.float32(0.1), True), (5, 2, 1.0, np.True_)),
    *corner("aliased-list-arguments", """
        def k(a, b):
            a[0] = 5
            return b[0]
        """, (LIST_12, LIST_12)),
    *corner("shape-of-list", """
        def k(a):
            return a.shape[0]
        """, ([1, 2],)),
]


@pytest.mark.parametrize("source,args,layout", CORNERS)
def test_corner_case(source: str, args: tuple[Any, ...], layout: tuple[str, ...] | None) -> None:
    check_source(source, "k", args, layout)


# -- generated kernels ------------------------------------------------------------------------------

# HELIXRC_NO_SHRINK=1 reports a failing kernel as found, without hypothesis's shrinking (which
# may take up to five minutes per failing test on these kernels).
PHASES = [Phase.explicit, Phase.reuse, Phase.generate] if os.environ.get("HELIXRC_NO_SHRINK") else list(Phase)
GENERATED = settings(deadline=None, derandomize=True, database=None, print_blob=False, phases=PHASES,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.filter_too_much])
ARG_SETS = 3


def generated(n: int) -> settings:
    """The shared settings with `n` kernels."""
    return settings(GENERATED, max_examples=n)


def run_generated(data: st.DataObject, cfg: GenConfig) -> None:
    kern = data.draw(kernels(cfg), label="kernel")
    for _ in range(ARG_SETS):
        args = data.draw(arguments(kern), label="args")
        layout = data.draw(layouts(kern), label="layouts")
        check_source(kern.source, "k", args, layout)


@generated(90)
@given(st.data())
def test_generated_scalar_kernels(data: st.DataObject) -> None:
    """Scalar parameters only: arithmetic corners, control flow, module constants."""
    run_generated(data, GenConfig())


@generated(50)
@given(st.data())
def test_generated_helper_kernels(data: st.DataObject) -> None:
    """Helper kernels returning scalars and tuples, called in expressions and assignments."""
    run_generated(data, GenConfig(helpers=2))


@generated(90)
@given(st.data())
def test_generated_array_kernels(data: st.DataObject) -> None:
    """Lists, int64/float64 arrays read through int()/float(), narrow arrays, 2-D/3-D arrays,
    in all layouts."""
    run_generated(data, GenConfig(arrays=True))


@generated(40)
@given(st.data())
def test_generated_array_helper_kernels(data: st.DataObject) -> None:
    """Arrays and helpers together (helpers may take and mutate the list ``a``)."""
    run_generated(data, GenConfig(arrays=True, helpers=2))


@generated(40)
@given(st.data())
def test_generated_numpy_element_kernels(data: st.DataObject) -> None:
    """Elements of int64/float64 NumPy arrays used bare, as the language allows, and scalar
    arguments passed as NumPy scalars: CPython then computes with NumPy scalars."""
    run_generated(data, GenConfig(arrays=True, numpy_bare=True))


# -- refusals: generated kernels made invalid in one place ------------------------------------------

VIOLATIONS = [
    "n0 = 0.5",           # a variable changes type
    "r0 = r0 and n0",     # and/or value of mixed types
    "n0 = min(n0, r0)",   # min of mixed types
    "n0 = n0 ** x",       # int ** non-literal exponent
    "r0 = 'text'",        # a string
    "n0 = print(n0)",     # an unsupported call
]


@generated(30)
@given(st.data(), st.sampled_from(VIOLATIONS))
def test_generated_refusals(data: st.DataObject, violation: str) -> None:
    """A valid generated kernel with one rule broken is refused with a LanguageError."""
    kern = data.draw(kernels(GenConfig(arrays=data.draw(st.booleans()))), label="kernel")
    lines = kern.source.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("def k("))
    source = "\n".join(lines[:at + 1] + ["    " + violation] + lines[at + 1:]) + "\n"
    args = data.draw(arguments(kern), label="args")
    with pytest.raises(helixrc.LanguageError):
        helixrc.simulate(kernel_file(source) + "::k", args)


def test_refusal_narrow_arithmetic() -> None:
    source = "def k(a):\n    return a[0] + 1\n"
    with pytest.raises(helixrc.LanguageError):
        helixrc.simulate(source, (arr([1], np.int8),), func="k")


# -- the harness itself ------------------------------------------------------------------------------


def test_escape_found_in_intermediate() -> None:
    source = "def k(x, y):\n    t = x * y\n    return t // y\n"
    assert first_int64_escape(source, "k", (2**62, 4)) == 2**64
    assert first_int64_escape(source, "k", (2**30, 4)) is None
    # CPython's own exception before any overflow: the plain comparison decides
    assert first_int64_escape("def k(x):\n    return (x // 0) * 2**62 * 4\n", "k", (1,)) is None


def test_overflow_rule() -> None:
    assert int64_overflow_agrees(2**64, OverflowError())
    assert not int64_overflow_agrees(None, OverflowError())
    assert not int64_overflow_agrees(2**64, ZeroDivisionError())
    assert not int64_overflow_agrees(2**64, None)
