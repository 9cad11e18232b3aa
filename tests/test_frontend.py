"""The frontend accepts the kernel language: module scanning, constants, math aliases, and kernels."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import libcst as cst
import pytest

from helixrc.csim.errors import LanguageError, Loc
from helixrc.passes.frontend import KernelModule, check_kernel, load_file, load_module


def load(source: str) -> KernelModule:
    return load_module(textwrap.dedent(source).lstrip("\n"), "t.py")


def accepts(source: str, kernel: str = "k") -> list[str]:
    return check_kernel(load(source), kernel)


# -- module scanning ---------------------------------------------------------------------------


def test_constants_are_evaluated() -> None:
    km = load("""
        import math
        from math import inf
        TS = 1 << 10
        WMASK = 0x7FFF
        NEG = -3
        K1 = 1.2
        MASK = TS - 1
        BIG: int = (WMASK + 1) * 2 ** 4 // 3 % 1000 ^ 5 | 8 & ~NEG
        HALF = 1 / 2
        DEBUG = True
        LO = -math.inf
        HI = inf
        SHIFTED = TS >> 2
        A = B = 7
        """)
    assert km.constants == {
        "TS": 1024, "WMASK": 32767, "NEG": -3, "K1": 1.2, "MASK": 1023,
        "BIG": (32767 + 1) * 2**4 // 3 % 1000 ^ 5 | 8 & ~-3, "HALF": 0.5, "DEBUG": True,
        "LO": -math.inf, "HI": math.inf, "SHIFTED": 256, "A": 7, "B": 7,
    }  # fmt: skip
    assert isinstance(km.constants["DEBUG"], bool)


def test_non_constant_names_are_not_constants() -> None:
    km = load("""
        import numpy as np
        rng = np.random.default_rng()
        R = 5
        R = rng             # the last assignment is not constant
        S = 1
        S = 2               # all constant: the last one wins
        U = 3
        U += 1              # updated: not a definition
        T = {1: 2}
        L = [1, 2]
        X = "text"
        Y = UNDEFINED + 1
        Z = 1 / 0
        H = 2 ** 100000     # refused before it is computed
        C = 1j
        if __name__ == "__main__":
            M = 3           # inside a block
        def f():
            global G
            G = 1
        G = 2               # a function rebinds it
        """)
    assert km.constants == {"S": 2}
    assert km.names["R"].kind == "value" and "uses rng" in km.names["R"].reason
    assert km.names["T"].kind == "dict" and km.names["L"].kind == "list"
    assert "updates it with +=" in km.names["U"].reason
    assert "inside a block" in km.names["M"].reason
    assert "declares it global" in km.names["G"].reason
    assert "fails" in km.names["Z"].reason
    assert "too large" in km.names["H"].reason
    assert km.names["np"].kind == "module" and km.names["np"].origin == "numpy"
    assert km.names["f"].kind == "function"


def test_math_imports() -> None:
    km = load("""
        import math
        import math as m
        from math import sqrt as s, inf, floor, sin
        import numpy as np
        """)
    assert km.math_modules == {"math", "m"}
    assert km.math_aliases == {"s": "sqrt", "inf": "inf", "floor": "floor"}  # sin is not supported
    assert km.names["sin"].origin == "math.sin"


def test_star_import_from_math() -> None:
    km = load("from math import *\ndef k(x):\n    return sqrt(x) + floor(x) + inf\n")
    assert km.math_aliases["sqrt"] == "sqrt" and km.math_aliases["inf"] == "inf"
    assert check_kernel(km, "k") == ["k"]


def test_functions_and_positions_use_the_wrapper_tree() -> None:
    km = load("""
        X = 1

        def k(a):
            return a[0]
        """)
    fn = km.functions["k"]
    assert fn in km.positions  # keyed by the MetadataWrapper's copy, which km.module is
    assert any(stmt is fn for stmt in km.module.body)
    assert km.loc(fn) == Loc("t.py", 3, 0, 4, 15)
    ret = fn.body.body[0].body[0]
    assert isinstance(ret, cst.Return) and km.loc(ret.value) == Loc("t.py", 4, 11, 4, 15)


def test_load_file(tmp_path: Path) -> None:
    path = tmp_path / "kern.py"
    path.write_text("# -*- coding: utf-8 -*-\nN = 4\ndef k(a):\n    return a[N - 1]\n", encoding="utf-8")
    km = load_file(path)
    assert km.filename == str(path) and km.constants == {"N": 4}
    assert check_kernel(km, "k") == ["k"]


# -- kernels -----------------------------------------------------------------------------------


def test_sample_like_kernels_are_accepted() -> None:
    km = load("""
        import math
        import numpy as np
        from math import sqrt as s

        WMASK = 0x7FFF
        MAXM = 258
        TS = 1 << 10
        NEG = -3

        def longest_match(win, prev, head, scan, prev_len, max_chain, limit, nice):
            \"\"\"Hash-chain search: tuple assignment, while, break, multiple returns.\"\"\"
            best, cur, budget = prev_len, head, max_chain
            best_at = -1
            while cur > limit and budget > 0:
                if win[cur + best] == win[scan + best]:
                    n = 0
                    while n < MAXM and win[cur + n] == win[scan + n]: n += 1
                    if n > best:
                        best, best_at = n, cur
                        if n >= nice: break
                cur = prev[cur & WMASK]; budget -= 1
            return best, best_at

        def emit_runs(out, wr, zrun, freq):
            while zrun > 0:
                out[wr] = zrun & 1
                freq[zrun & 1] += 1
                wr += 1
                zrun = (zrun - 1) >> 1
            return wr

        def mtf(ptr, remap, block, order, out, freq, nblock):
            zrun = 0
            wr = 0
            for i in range(nblock):
                j = ptr[i] - 1 + (nblock if ptr[i] == 0 else 0)
                sym = remap[block[j]]
                if order[0] == sym: zrun += 1
                else:
                    if zrun > 0: wr = emit_runs(out, wr, zrun, freq); zrun = 0
                    k, carry = 0, order[0]
                    while carry != sym: k += 1; order[k], carry = carry, order[k]
                    order[0] = sym; out[wr] = k + 1; wr += 1; freq[k + 1] += 1
            return wr

        def geometry(x, y, m: np.ndarray) -> float:
            d: float = 0.0
            for i in range(len(x) - 1, -1, -1):
                for j in range(x.shape[0]):
                    if not (x[i] != y[j]) or i is not j if False else True:
                        continue
                    d += math.sqrt(x[i] * x[i]) + s(y[j]) + math.fabs(m[i, j]) + m[i][j] ** 2
                    d = min(d, math.inf, -math.inf if d < 0 else 1.0, float(int(d) // 3), abs(NEG))
                    d = max(d, math.exp(0.0) * math.log(2.0), float(math.floor(d)), float(math.ceil(d)))
            z = float(TS) / 3 if 0 <= d < 1 <= 2 else -d
            assert z == z, "z is not NaN"
            assert bool(z) or True
            return z

        def make_inputs(size, seed):
            rng = np.random.default_rng(seed)     # never validated: not a kernel
            return {"x": rng.random(size)}
        """)
    assert check_kernel(km, "longest_match") == ["longest_match"]
    assert check_kernel(km, "mtf") == ["emit_runs", "mtf"]
    with pytest.raises(LanguageError, match="`is` compares object identity"):
        check_kernel(km, "geometry")  # `is not` hides in the conditional expression


def test_dependency_order_callees_first() -> None:
    km = load("""
        def leaf(x):
            return x + 1

        def mid(x):
            return leaf(x) * 2

        def pair(x, y):
            return mid(x), leaf(y)

        def k(a, n):
            for i in range(n):
                a[i], b = pair(a[i], i)
                mid(b)              # a kernel call as a statement
            return leaf(n)
        """)
    assert check_kernel(km, "k") == ["leaf", "mid", "pair", "k"]
    assert check_kernel(km, "mid") == ["leaf", "mid"]


def test_statement_forms() -> None:
    assert accepts("""
        C = 4

        def k(a, b, n, /, m):
            "A docstring is fine."
            i = j = 0
            x: int = 1
            a[0] += 1; b[1, 2] -= 2; b[1][2] *= 3
            if n > 0: pass
            elif n < 0:
                x = -x
            else:
                x = ~x
            for i in range(C):
                if i == 2:
                    continue
                x <<= 1
            for i in range(n, 0, -1):
                x //= 2; x %= 7; x **= 2; x &= 255; x |= 1; x ^= 3; x >>= 1
            while True:
                break
            assert x >= 0
            assert x >= 0, "message" " in two parts"
            if x > 3:
                return
            return
        """) == ["k"]


def test_expression_forms() -> None:
    assert accepts("""
        import math as m
        D = 1

        def k(a, n, f):
            x = a[-1] + a[n - 1] * 2 - 3 / 4 // 5 % 6 ** 2
            y = (x & 1) | (x ^ 2) << 3 >> 1
            z = not x and (y or -x) and +y
            w = 1 if 0 < x <= y < 3 != 4 == 4 >= 1 > 0 else 2
            v = abs(x) + min(x, y) + max(x, y, z) + int(f) + float(x) + bool(y) + len(a)
            u = a.shape[0] + a.shape[-1] + a.shape[D] + m.sqrt(f) + m.inf
            t = 1.5e3 + 0x10 + 0o7 + 0b1 + 1_000 + True + False + (-9223372036854775808)
            return x, y, z, w, v, u, t
        """) == ["k"]


def test_parameters_may_shadow_module_values_but_locals_may_not() -> None:
    # A parameter named like a module constant is simply a parameter ...
    assert accepts("N = 10\ndef k(a, N):\n    return a[N - 1]\n") == ["k"]
    # ... and a local may reuse a name bound only inside a module-level block (a __main__ section).
    assert accepts("""
        def k(a):
            total = 0
            for i in range(len(a)):
                total += a[i]
            return total

        if __name__ == "__main__":
            total = k([1, 2, 3])
        """) == ["k"]


def test_decorators_and_annotations_are_ignored() -> None:
    assert accepts("""
        import functools

        @functools.cache
        def helper(x: "np.int64") -> int:
            return x

        @some.decorator(strict=True)
        def k(a: "np.ndarray") -> None:
            a[0] = helper(a[1])
        """) == ["helper", "k"]


def test_helper_shared_by_two_callers_is_checked_once() -> None:
    km = load("""
        def sq(x):
            return x * x

        def a(x):
            return sq(x)

        def k(x):
            return a(x) + sq(x)
        """)
    assert check_kernel(km, "k") == ["sq", "a", "k"]


def test_code_outside_kernels_is_not_validated() -> None:
    km = load("""
        import numpy as np
        TABLE = {1: 2}

        class Thing:
            def method(self):
                print(f"{self}")

        def make_inputs(size, seed):
            return [x for x in range(size)], TABLE

        def k(a):
            return a[0]
        """)
    assert check_kernel(km, "k") == ["k"]
    with pytest.raises(LanguageError, match="a list comprehension"):
        check_kernel(km, "make_inputs")
