"""The frontend refuses everything outside the kernel language, pointing at the offending node.

Each case is a small module whose kernel ``k`` makes one near-miss; the test checks a distinctive
part of the message, that a hint is given, and the line:col of the refusal.
"""

from __future__ import annotations

import textwrap

import pytest

from helixrc.csim.errors import LanguageError
from helixrc.passes.frontend import check_kernel, load_module


def refusal(source: str, kernel: str = "k") -> LanguageError:
    km = load_module(textwrap.dedent(source).lstrip("\n"), "t.py")
    with pytest.raises(LanguageError) as err:
        check_kernel(km, kernel)
    return err.value


CASES = [
    # -- debugging leftovers and Python containers ------------------------------------------
    pytest.param(
        """
        def k(a, n):
            for i in range(n):
                print(a[i])
        """,
        "print() is not supported in a kernel",
        3,
        8,
        id="print-in-loop",
    ),
    pytest.param(
        """
        def k(a, n):
            table = {0: 1, 1: 2}
            return table[a[0]]
        """,
        "a dict is not supported",
        2,
        12,
        id="dict-literal",
    ),
    pytest.param(
        """
        TABLE = {0: 1, 1: 5}

        def k(a):
            return TABLE[a[0]]
        """,
        "TABLE is a module-level dict",
        4,
        11,
        id="dict-as-table",
    ),
    pytest.param(
        """
        def k(a, out):
            for i in range(len(a)):
                if a[i] > 0:
                    out.append(a[i])
        """,
        "method call out.append()",
        4,
        12,
        id="list-append",
    ),
    pytest.param(
        """
        def k(a):
            return a.sum()
        """,
        "method call a.sum()",
        2,
        11,
        id="array-method",
    ),
    pytest.param(
        """
        def k(d, key):
            return d.get(key)
        """,
        "method call d.get()",
        2,
        11,
        id="dict-method",
    ),
    pytest.param(
        """
        def k(a):
            name = "total"
            return a[0]
        """,
        "strings are not supported",
        2,
        11,
        id="string-literal",
    ),
    pytest.param(
        """
        def k(a):
            msg = f"first is {a[0]}"
            return a[0]
        """,
        "f-strings are not supported",
        2,
        10,
        id="f-string",
    ),
    pytest.param(
        """
        def k(a):
            s = ",".join(a)
        """,
        "string methods such as join() are not supported",
        2,
        8,
        id="string-method",
    ),
    pytest.param(
        """
        def k(n):
            t = (1, 2)
            return t
        """,
        "a tuple is only allowed in a tuple assignment",
        2,
        9,
        id="tuple-literal",  # LibCST ranges exclude parentheses
    ),
    pytest.param(
        """
        def k(n):
            x = [0] * n
            return n
        """,
        "a list is not supported",
        2,
        8,
        id="list-literal",
    ),
    pytest.param(
        """
        def k(a):
            seen = {a[0], a[1]}
        """,
        "a set is not supported",
        2,
        11,
        id="set-literal",
    ),
    pytest.param(
        """
        def k(a):
            b = [x * 2 for x in a]
        """,
        "a list comprehension is not supported",
        2,
        8,
        id="list-comprehension",
    ),
    pytest.param(
        """
        def k(a, b):
            return max(x for x in a)
        """,
        "a generator expression is not supported",
        2,
        15,
        id="generator-expression",
    ),
    pytest.param(
        """
        def k(a):
            return sum(a)
        """,
        "sum() is not supported",
        2,
        11,
        id="sum-builtin",
    ),
    # -- recursion, globals, module state ----------------------------------------------------
    pytest.param(
        """
        def k(n):
            if n <= 1:
                return 1
            return n * k(n - 1)
        """,
        "k calls itself",
        4,
        15,
        id="recursion",
    ),
    pytest.param(
        """
        def k(n):
            if n == 0:
                return True
            return odd(n - 1)

        def odd(n):
            if n == 0:
                return False
            return k(n - 1)
        """,
        "closes a recursion cycle (k -> odd -> k)",
        9,
        11,
        id="mutual-recursion",
    ),
    pytest.param(
        """
        COUNT = 0

        def k(a):
            global COUNT
            COUNT += 1
        """,
        "a global statement is not supported",
        4,
        4,
        id="global",
    ),
    pytest.param(
        """
        N = 10

        def k(a):
            N = len(a)
            return N
        """,
        "N is a module constant; a kernel cannot assign it",
        4,
        4,
        id="assign-module-constant",
    ),
    pytest.param(
        """
        import numpy as np
        rng = np.random.default_rng(0)

        def k(a):
            rng = a[0]
            return rng
        """,
        "rng is a module-level name; a kernel cannot assign it",
        5,
        4,
        id="assign-module-name",
    ),
    pytest.param(
        """
        import numpy as np
        rng = np.random.default_rng(0)

        def k(a):
            return a[0] + rng
        """,
        "rng is a module-level name but not a compile-time constant: line 2 assigns it the result of a call",
        5,
        18,
        id="read-nonconstant-module-name",
    ),
    pytest.param(
        """
        DEBUG = True
        if DEBUG:
            SCALE = 2

        def k(a):
            return a[0] * SCALE
        """,
        "line 3 assigns it inside a block",
        6,
        18,
        id="read-conditional-module-name",
    ),
    pytest.param(
        """
        def k(a):
            return a[0] + y
        """,
        "name y is not defined",
        2,
        18,
        id="undefined-name",
    ),
    pytest.param(
        """
        MASK64 = (1 << 64) - 1

        def k(h):
            return h & MASK64
        """,
        "does not fit in a 64-bit signed int",
        4,
        15,
        id="constant-too-big",
    ),
    # -- exceptions, context managers, other statements --------------------------------------
    pytest.param(
        """
        def k(a, i):
            try:
                return a[i]
            except IndexError:
                return 0
        """,
        "try/except/finally is not supported",
        2,
        4,
        id="try-except",
    ),
    pytest.param(
        """
        def k(a, i):
            if i < 0:
                raise ValueError
            return a[i]
        """,
        "raise is not supported",
        3,
        8,
        id="raise",
    ),
    pytest.param(
        """
        def k(a, lock):
            with lock:
                a[0] += 1
        """,
        "a with statement is not supported",
        2,
        4,
        id="with",
    ),
    pytest.param(
        """
        def k(a):
            x = a[0]
            del x
        """,
        "del is not supported",
        3,
        4,
        id="del",
    ),
    pytest.param(
        """
        def k(x):
            import math
            return math.sqrt(x)
        """,
        "import inside a kernel is not supported",
        2,
        4,
        id="import-in-kernel",
    ),
    pytest.param(
        """
        def k(x):
            match x:
                case 0:
                    return 1
            return 0
        """,
        "a match statement is not supported",
        2,
        4,
        id="match",
    ),
    pytest.param(
        """
        def k(a):
            x: int
            x = a[0]
        """,
        "an annotation without a value",
        2,
        4,
        id="bare-annotation",
    ),
    # -- other modules and math --------------------------------------------------------------
    pytest.param(
        """
        import numpy as np

        def k(a):
            return np.sum(a)
        """,
        "np.sum() calls into another module (numpy)",
        4,
        11,
        id="numpy-call",
    ),
    pytest.param(
        """
        import random

        def k(a):
            a[0] = random.random()
        """,
        "random.random() calls into another module",
        4,
        11,
        id="random-call",
    ),
    pytest.param(
        """
        import os

        def k(a):
            a[0] = os.getpid()
        """,
        "os.getpid() calls into another module (os)",
        4,
        11,
        id="os-call",
    ),
    pytest.param(
        """
        from numpy import sqrt

        def k(x):
            return sqrt(x)
        """,
        "sqrt() is numpy.sqrt, a function of another module",
        4,
        11,
        id="from-import-foreign",
    ),
    pytest.param(
        """
        import numpy as np

        def k(a):
            return np.inf
        """,
        "np.inf reads from another module",
        4,
        11,
        id="numpy-attribute",
    ),
    pytest.param(
        """
        import math

        def k(x):
            return math.sin(x)
        """,
        "math.sin is not supported in a kernel",
        4,
        11,
        id="math-unsupported",
    ),
    pytest.param(
        """
        from math import cos as c

        def k(x):
            return c(x)
        """,
        "math.cos is not supported in a kernel",
        4,
        11,
        id="math-unsupported-alias",
    ),
    pytest.param(
        """
        import math

        def k(r):
            return math.pi * r * r
        """,
        "math.pi is not supported",
        4,
        11,
        id="math-pi",
    ),
    pytest.param(
        """
        import math

        def k(x):
            return math.log(x, 2)
        """,
        "math.log() with a base",
        4,
        11,
        id="math-log-base",
    ),
    pytest.param(
        """
        def k(x):
            return math.sqrt(x)
        """,
        "math is used but not imported",
        2,
        11,
        id="math-not-imported",
    ),
    pytest.param(
        """
        def k(x):
            return float("inf")
        """,
        "float() of a string",
        2,
        11,
        id="float-inf-string",
    ),
    # -- attributes and indexing -------------------------------------------------------------
    pytest.param(
        """
        def k(obj):
            obj.x = 1
        """,
        "assigning to an attribute (obj.x)",
        2,
        4,
        id="attribute-write",
    ),
    pytest.param(
        """
        def k(a):
            n = a.size
            return n
        """,
        "the attribute a.size is not supported",
        2,
        8,
        id="attribute-size",
    ),
    pytest.param(
        """
        def k(a):
            return a.T[0, 1]
        """,
        "the attribute a.T is not supported",
        2,
        11,
        id="attribute-transpose",
    ),
    pytest.param(
        """
        def k(a, d):
            return a.shape[d]
        """,
        "a.shape must be indexed with a constant dimension",
        2,
        11,
        id="shape-variable-index",
    ),
    pytest.param(
        """
        def k(a):
            n, m = a.shape
            return n * m
        """,
        "a.shape cannot be unpacked",
        2,
        11,
        id="shape-unpacking",
    ),
    pytest.param(
        """
        def k(a):
            b = a[1:3]
        """,
        "the slice 1:3 is not supported",
        2,
        10,
        id="slice",
    ),
    pytest.param(
        """
        def k(a, i):
            return a[i, i, i, i]
        """,
        "4 indices: arrays in a kernel have at most 3 dimensions",
        2,
        11,
        id="too-many-indices",
    ),
    # -- functions, lambdas, generators ------------------------------------------------------
    pytest.param(
        """
        def k(a):
            f = lambda x: x + 1
            return f(a[0])
        """,
        "lambda is not supported",
        2,
        8,
        id="lambda",
    ),
    pytest.param(
        """
        def k(a):
            def inner(x):
                return x + 1
            return inner(a[0])
        """,
        "a nested function (inner)",
        2,
        4,
        id="nested-def",
    ),
    pytest.param(
        """
        def k(a):
            class P:
                pass
        """,
        "a class definition is not supported",
        2,
        4,
        id="nested-class",
    ),
    pytest.param(
        """
        def k(a):
            for i in range(len(a)):
                yield a[i]
        """,
        "yield makes a generator",
        3,
        8,
        id="generator",
    ),
    pytest.param(
        """
        async def k(a):
            return a[0]
        """,
        "async def is not supported",
        1,
        0,
        id="async-def",
    ),
    pytest.param(
        """
        def k(a):
            return helper(a)
        """,
        "helper() is not a kernel in this module",
        2,
        11,
        id="unknown-call",
    ),
    pytest.param(
        """
        def helper(x, y):
            return x + y

        def k(a):
            return helper(a[0], a[1], a[2])
        """,
        "helper() takes 2 arguments but 3 were given",
        5,
        11,
        id="helper-arity",
    ),
    pytest.param(
        """
        def helper(x):
            print(x)
            return x

        def k(a):
            return helper(a[0])
        """,
        "print() is not supported in a kernel (in helper, called from k at line 6)",
        2,
        4,
        id="error-in-helper",
    ),
    pytest.param(
        """
        class Point:
            pass

        def k(x):
            p = Point()
        """,
        "Point() creates an object",
        5,
        8,
        id="object-construction",
    ),
    # -- loops -------------------------------------------------------------------------------
    pytest.param(
        """
        def k(arr):
            s = 0
            for x in arr:
                s += x
            return s
        """,
        "a for loop can only iterate over range(...)",
        3,
        13,
        id="for-over-array",
    ),
    pytest.param(
        """
        def k(a):
            s = 0
            for i, x in enumerate(a):
                s += i * x
            return s
        """,
        "a for loop can only iterate over range(...)",
        3,
        16,
        id="for-enumerate",
    ),
    pytest.param(
        """
        def k(d):
            s = 0
            for key in d.keys():
                s += key
            return s
        """,
        "a for loop can only iterate over range(...)",
        3,
        15,
        id="for-over-dict",
    ),
    pytest.param(
        """
        def k(a, n):
            for i in range(n):
                if a[i] == 0:
                    break
            else:
                return -1
            return i
        """,
        "for ... else is not supported",
        5,
        4,
        id="for-else",
    ),
    pytest.param(
        """
        def k(a, n):
            i = 0
            while i < n:
                i += 1
            else:
                i = -1
            return i
        """,
        "while ... else is not supported",
        5,
        4,
        id="while-else",
    ),
    pytest.param(
        """
        def k(n):
            s = 0
            for i in range(0, n, step=2):
                s += i
            return s
        """,
        "the keyword argument step=",
        3,
        25,
        id="range-keyword",
    ),
    pytest.param(
        """
        def k(n):
            for i in range(0, n, 1, 2):
                pass
        """,
        "range() takes 1 to 3 arguments, not 4",
        2,
        13,
        id="range-four-args",
    ),
    pytest.param(
        """
        def k(n):
            r = range(n)
        """,
        "range() can only be the iterable of a for loop",
        2,
        8,
        id="range-outside-for",
    ),
    # -- operators and values ----------------------------------------------------------------
    pytest.param(
        """
        def k(a, b):
            if a[0] is b[0]:
                return 1
            return 0
        """,
        "`is` compares object identity",
        2,
        12,
        id="is-operator",
    ),
    pytest.param(
        """
        def k(a, best):
            if best is not None:
                return best
            return a[0]
        """,
        "a comparison with None is not supported",
        2,
        12,
        id="is-not-none",
    ),
    pytest.param(
        """
        def k(a, x):
            if x in a:
                return 1
            return 0
        """,
        "`in` (a membership test)",
        2,
        9,
        id="in-operator",
    ),
    pytest.param(
        """
        def k(a, x):
            return x not in a
        """,
        "`not in` (a membership test)",
        2,
        13,
        id="not-in-operator",
    ),
    pytest.param(
        """
        def k(a):
            i = 0
            while (x := a[i]) > 0:
                i += 1
            return i
        """,
        "the walrus operator := is not supported",
        3,
        11,
        id="walrus",
    ),
    pytest.param(
        """
        def k(a):
            best = None
            return best
        """,
        "None is not supported in a kernel",
        2,
        11,
        id="none-literal",
    ),
    pytest.param(
        """
        def k(a):
            a[0] = 1
            return None
        """,
        "None is not supported in a kernel",
        3,
        11,
        id="return-none",
    ),
    pytest.param(
        """
        def k(a, b):
            return a @ b
        """,
        "@ (matrix multiplication) is not supported",
        2,
        13,
        id="matmul",
    ),
    pytest.param(
        """
        def k(a):
            return 1j * a[0]
        """,
        "complex numbers are not supported",
        2,
        11,
        id="complex-literal",
    ),
    pytest.param(
        """
        def k(a):
            return a[0] + 18446744073709551615
        """,
        "the integer 18446744073709551615 does not fit",
        2,
        18,
        id="big-int-literal",
    ),
    # -- calls -------------------------------------------------------------------------------
    pytest.param(
        """
        def helper(x, n):
            return x * n

        def k(a):
            return helper(a[0], n=3)
        """,
        "the keyword argument n= is not supported",
        5,
        24,
        id="keyword-argument",
    ),
    pytest.param(
        """
        def helper(x, y):
            return x * y

        def k(a, args):
            return helper(*args)
        """,
        "argument unpacking (*args)",
        5,
        18,
        id="argument-unpacking",
    ),
    pytest.param(
        """
        def k(a):
            return (*a, 1)
        """,
        "the starred expression *a is not supported",
        2,
        12,
        id="starred-in-return",
    ),
    pytest.param(
        """
        def k(a, n):
            x, *rest = a[0], a[1], a[2]
            return x
        """,
        "nested or starred targets",
        2,
        7,
        id="starred-target",
    ),
    pytest.param(
        """
        def k(a):
            return min(a)
        """,
        "min() of a single argument (an iterable)",
        2,
        11,
        id="min-iterable",
    ),
    pytest.param(
        """
        def k(s):
            return int(s, 16)
        """,
        "int() with a base is not supported",
        2,
        11,
        id="int-base",
    ),
    pytest.param(
        """
        def k(a):
            abs(a[0])
        """,
        "the result of abs() is discarded",
        2,
        4,
        id="discarded-result",
    ),
    pytest.param(
        """
        def k(a):
            a[0]
        """,
        "this expression statement has no effect",
        2,
        4,
        id="no-effect",
    ),
    pytest.param(
        """
        def k(a, f):
            return f(a[0])
        """,
        "f is a variable, not a function",
        2,
        11,
        id="call-variable",
    ),
    # -- assignment shapes -------------------------------------------------------------------
    pytest.param(
        """
        def k(a):
            x, y = a[0], a[1], a[2]
            return x
        """,
        "3 values are assigned to 2 targets",
        2,
        11,
        id="unpack-count",
    ),
    pytest.param(
        """
        def k(a):
            x, y = min(a[0], a[1])
            return x
        """,
        "min() returns one value, which cannot be unpacked",
        2,
        11,
        id="unpack-scalar-call",
    ),
    pytest.param(
        """
        def k(a):
            max = a[0]
            return max
        """,
        "the variable max hides the builtin max()",
        2,
        4,
        id="shadow-builtin",
    ),
    pytest.param(
        """
        def helper(x):
            return x

        def k(a, helper):
            return a[0]
        """,
        "helper is a function of this module; a kernel cannot rebind it",
        4,
        9,
        id="param-shadows-kernel",
    ),
    pytest.param(
        """
        def k(a):
            x = a[0]; ...
        """,
        "... (Ellipsis) is not supported",
        2,
        14,
        id="ellipsis",
    ),
    pytest.param(
        """
        def k(a, n):
            assert n > 0, f"bad n {n}"
            return a[0]
        """,
        "an assert message must be a plain string literal, not an f-string",
        2,
        18,
        id="assert-f-string",
    ),
    # -- signatures --------------------------------------------------------------------------
    pytest.param(
        """
        def k(a, n=10):
            return a[n]
        """,
        "parameter n has a default value",
        1,
        9,
        id="default-parameter",
    ),
    pytest.param(
        """
        def k(a, *rest):
            return a[0]
        """,
        "*rest parameters are not supported",
        1,
        9,
        id="star-args",
    ),
    pytest.param(
        """
        def k(a, **options):
            return a[0]
        """,
        "**options parameters are not supported",
        1,
        9,
        id="star-kwargs",
    ),
    pytest.param(
        """
        def k(a, *, n):
            return a[n]
        """,
        "keyword-only parameter n",
        1,
        12,
        id="keyword-only",
    ),
]


@pytest.mark.parametrize(("source", "message", "line", "col"), CASES)
def test_refusal(source: str, message: str, line: int, col: int) -> None:
    err = refusal(source)
    assert message in err.message
    assert err.hint and "\n" not in err.hint
    assert err.loc is not None and (err.loc.line, err.loc.col) == (line, col), str(err)


def test_refusal_renders_file_line_col_and_hint() -> None:
    err = refusal("""
        def k(a, n):
            for i in range(n):
                print(a[i])
        """)
    assert str(err) == (
        "t.py:3:8: print() is not supported in a kernel\n"
        "  hint: remove it, or print after the call returns; the simulator reports per-line statistics instead"
    )


def test_hints_name_the_replacement() -> None:
    assert "math.sqrt" in (refusal("import math\ndef k(x):\n    return math.sin(x)\n").hint or "")
    assert "PI = 3.14159" in (refusal("import math\ndef k(x):\n    return math.pi * x\n").hint or "")
    assert "range(len(a)): x = a[i]" in (
        refusal("def k(a):\n    for i, x in enumerate(a):\n        pass\n").hint or ""
    )
    assert "n = a.shape[0]; m = a.shape[1]" in (refusal("def k(a):\n    n, m = a.shape\n").hint or "")
    assert "use math.sqrt" in (refusal("import numpy as np\ndef k(x):\n    return np.sqrt(x)\n").hint or "")
    assert "bare `return`" in (refusal("def k(a):\n    return None\n").hint or "")


def test_first_violation_in_source_order_wins() -> None:
    err = refusal("""
        def k(a):
            x = a.size
            print(x)
            return {1: x}
        """)
    assert err.loc is not None and err.loc.line == 2 and "a.size" in err.message


def test_unknown_kernel_lists_the_functions() -> None:
    km = load_module("def a(x):\n    return x\n\ndef b(x):\n    return x\n", "t.py")
    with pytest.raises(LanguageError) as err:
        check_kernel(km, "c")
    assert err.value.loc is None
    assert "'c' is not a top-level function of t.py (its functions: a, b)" in err.value.message


def test_syntax_error_has_a_location() -> None:
    with pytest.raises(LanguageError) as err:
        load_module("def k(a):\n    x = = 1\n", "t.py")
    assert err.value.loc is not None and (err.value.loc.file, err.value.loc.line) == ("t.py", 2)
    assert "invalid syntax" in err.value.message and err.value.hint


def test_compile_time_error_is_reported() -> None:
    with pytest.raises(LanguageError) as err:
        load_module("def k(a):\n    break\n", "t.py")
    assert (
        err.value.loc is not None and err.value.loc.line == 2 and "'break' outside loop" in err.value.message
    )
