"""The parallel form's constructs outside the shapes the transform writes are refused, like every
other near-miss of the kernel language: ``file:line:col``, a message naming the construct, a hint."""

from __future__ import annotations

import textwrap

import pytest

from helixrc.csim.errors import LanguageError
from helixrc.passes.frontend import check_kernel, load_module
from helixrc.passes.ir import ArrayType, Scalar
from helixrc.passes.lower import lower_kernel

RUNTIME = "from helixrc.parallel import independent, lastprivate, prange, prange_while, reduction, shared, signal, wait\n"
LOOP = 'prange(0, len(a), 1, segments=1, signals="uncoupled")'


def refusal(body: str) -> LanguageError:
    """The refusal of kernel ``k`` in a module that imports the runtime (line 1)."""
    km = load_module(RUNTIME + textwrap.dedent(body), "t.py")
    with pytest.raises(LanguageError) as err:
        check_kernel(km, "k")
    return err.value


CASES = [
    pytest.param("""\
        def h(x):
            return x

        def k(a):
            seg0 = shared(0, n=0)
            return h(seg0)
        """, "seg0 is the shared cells of line 6; a kernel uses it only through its cells, as seg0.n", 7, 13,
        id="object-passed-to-a-function"),
    pytest.param("""\
        def k(a):
            seg0 = shared(0, n=0)
            return seg0
        """, "uses it only through its cells", 4, 11, id="object-returned"),
    pytest.param("""\
        def k(a):
            seg0 = shared(0, n=0)
            return seg0.m
        """, "seg0 has no cell 'm' (its cells, from line 3: n)", 4, 11, id="unknown-cell"),
    pytest.param("""\
        def k(a):
            acc = reduction("+", s=0)
            acc.total += 1
        """, "acc has no cell 'total'", 4, 4, id="unknown-cell-written"),
    pytest.param(f"""\
        def k(a):
            for i in {LOOP}:
                seg0 = shared(0, n=i)
        """, "shared() inside the parallel loop of line 3", 4, 15, id="shared-inside-the-loop"),
    pytest.param("""\
        def k(a, s):
            for i in prange(0, len(a), 1, segments=s, signals="uncoupled"):
                a[i] = 0
        """, "segments= must be an int literal, not s", 3, 43, id="segments-not-a-literal"),
    pytest.param("""\
        def k(a):
            for i in prange(0, len(a), 1, segments=300, signals="uncoupled"):
                a[i] = 0
        """, "segments= is 300; the simulator supports 0 to 256", 3, 43, id="too-many-segments"),
    pytest.param(f"""\
        def k(a):
            for i in {LOOP}:
                wait(i)
                signal(0)
        """, "the segment of wait() must be an int literal, not i", 4, 13, id="wait-not-a-literal"),
    pytest.param("""\
        def k(a):
            wait(0)
        """, "wait(0) outside a parallel loop", 3, 4, id="wait-outside-the-loop"),
    pytest.param(f"""\
        def k(a):
            for i in {LOOP}:
                signal(1)
        """, "signal(1): the parallel loop of line 3 declares 1 segment", 4, 15, id="segment-not-declared"),
    pytest.param(f"""\
        def k(a):
            for i in {LOOP}:
                x = wait(0)
        """, "wait(k) can only be a statement of its own", 4, 12, id="wait-as-a-value"),
    pytest.param(f"""\
        def k(a):
            for i in {LOOP}:
                for j in prange(0, 3, 1, segments=0, signals="uncoupled"):
                    a[j] = i
        """, "prange() inside the parallel loop of line 3: one parallel loop runs at a time", 4, 17,
        id="nested-parallel-loop"),
    pytest.param("""\
        def k(a):
            r = prange(0, 3, 1, segments=0, signals="uncoupled")
        """, "prange() can only be the iterable of a for loop", 3, 8, id="prange-as-a-value"),
    pytest.param("""\
        def k(a):
            for i in prange(len(a), segments=0, signals="uncoupled"):
                a[i] = 0
        """, "prange() takes start, stop and step, then segments= and signals=", 3, 13, id="prange-one-bound"),
    pytest.param("""\
        def k(a):
            for i in prange(0, len(a), 1, segments=0):
                a[i] = 0
        """, "prange() needs signals=", 3, 13, id="prange-without-signals"),
    pytest.param("""\
        def k(a):
            for i in prange(0, len(a), 1, segments=0, signals="copuled"):
                a[i] = 0
        """, "signals= must be one of 'coupled', 'uncoupled', not \"copuled\"", 3, 54, id="bad-signals"),
    pytest.param("""\
        def k(a):
            for it in prange_while(segments=0, signals="uncoupled", chunk=4):
                break
        """, "prange_while() has no argument chunk=", 3, 60, id="unknown-keyword"),
    pytest.param(f"""\
        def k(a):
            for i, j in {LOOP}:
                a[i] = 0
        """, "a parallel loop variable must be a single name", 3, 8, id="tuple-loop-variable"),
    pytest.param("""\
        def k(a):
            acc = reduction("max2", m=0)
        """, "the operator of reduction() must be one of '+'", 3, 20, id="unknown-reduction"),
    pytest.param("""\
        def k(a):
            acc = reduction("+", "first", s=0)
        """, "a '+' reduction has no ties to break", 3, 25, id="ties-of-a-sum"),
    pytest.param("""\
        def k(a):
            last = lastprivate(0, i=0)
        """, "lastprivate() takes only the variables, as keywords", 3, 23, id="lastprivate-positional"),
    pytest.param("""\
        def k(a):
            seg0 = shared(0)
        """, "shared() without cells", 3, 11, id="shared-without-cells"),
    pytest.param("""\
        def k(a):
            seg0 = shared(0, __n=0)
        """, "'__n' cannot be a cell name", 3, 21, id="mangled-cell-name"),
    pytest.param("""\
        def k(a):
            x = seg0 = shared(0, n=0)
        """, "shared(...) must be assigned to one name", 3, 4, id="two-targets"),
    pytest.param("""\
        def k(a):
            seg0 = shared(0, n=0)
            seg0 = shared(0, n=1)
        """, "seg0 is already the shared cells of line 3", 4, 4, id="object-created-twice"),
    pytest.param("""\
        def k(a):
            seg0 = shared(0, n=0)
            seg0 = 3
        """, "seg0 is the shared cells of line 3; it cannot be assigned again", 4, 4, id="object-reassigned"),
    pytest.param("""\
        def k(a):
            seg0 = shared(0, n=0)
            x, seg0 = 1, 2
        """, "it cannot be assigned again", 4, 7, id="object-in-a-tuple-target"),
    pytest.param("""\
        def k(seg0):
            seg0 = shared(0, n=0)
        """, "seg0 is a parameter; it cannot name shared cells", 3, 4, id="parameter-as-object"),
    pytest.param("""\
        def k(a):
            shared(0, n=0)
        """, "shared(...) can only be assigned to a name, in a statement of its own", 3, 4, id="object-discarded"),
    pytest.param(f"""\
        def k(a):
            seg0 = shared(0, over=False)
            for i in {LOOP}:
                wait(0)
                result = i, a[i]
                seg0.over = True
                a[0] = 1
                signal(0)
                return result
            return 0, 0
        """, "a tuple is only allowed in a tuple assignment", 6, 17, id="return-temporary-not-as-the-transform-writes-it"),
    pytest.param(f"""\
        def k(a):
            for i in {LOOP}:
                if independent(a, 0, len(a), 1, (None, 0, "w")):
                    a[i] = 1
        """, "independent(...) inside the parallel loop of line 3", 4, 11, id="independent-inside-the-loop"),
    pytest.param("""\
        def k(a):
            if independent(a, 0, len(a), 1):
                a[0] = 1
        """, "independent() takes the array, start, stop, step, then one or more accesses",
        3, 7, id="independent-without-accesses"),
    pytest.param("""\
        def k(a, j):
            if independent(a, 0, len(a), 1, (None, j, "w")):
                a[0] = 1
        """, "the offset of an access must be an int literal, not j", 3, 43, id="independent-offset"),
    pytest.param("""\
        def k(a):
            if independent(a, 0, len(a), 1, (None, 0, "x")):
                a[0] = 1
        """, "the mode of an access must be one of 'r', 'w'", 3, 46, id="independent-mode"),
    pytest.param("""\
        def k(a):
            if independent(a[0:2], 0, len(a), 1, (None, 0, "w")):
                a[0] = 1
        """, "the array of independent() must be a name", 3, 19, id="independent-array"),
    pytest.param("""\
        def k(a):
            check = independent
            return 0
        """, "independent is the run-time check of a plan's assume_independent; it can only be called",
        3, 12, id="independent-not-called"),
]


@pytest.mark.parametrize("body,message,line,col", CASES)
def test_refusal(body: str, message: str, line: int, col: int) -> None:
    err = refusal(body)
    assert message in err.message
    assert err.hint and "\n" not in err.hint
    assert err.loc is not None and (err.loc.line, err.loc.col) == (line, col), str(err)


def test_runtime_names_need_the_import() -> None:
    km = load_module("def k(a):\n    seg0 = shared(0, n=0)\n    return seg0.n\n", "t.py")
    with pytest.raises(LanguageError, match="shared.. is not a kernel in this module"):
        check_kernel(km, "k")


def test_a_local_shadows_a_runtime_name() -> None:
    # `wait` is a parameter here, so wait(0) is a call of a variable, not the runtime's wait
    err = refusal("""\
        def k(a, wait):
            for i in prange(0, len(a), 1, segments=1, signals="coupled"):
                wait(0)
                signal(0)
        """)
    assert "wait is a variable, not a function" in err.message


def test_the_report_renders_file_line_col_and_hint() -> None:
    err = refusal("""\
        def k(a):
            wait(0)
        """)
    assert str(err) == (
        "t.py:3:4: wait(0) outside a parallel loop\n"
        "  hint: wait and signal belong inside the body of a for ... in prange(...) loop"
    )


def lowering_refusal(body: str, *args: Scalar | ArrayType) -> LanguageError:
    km = load_module(RUNTIME + textwrap.dedent(body), "t.py")
    with pytest.raises(LanguageError) as err:
        lower_kernel(km, "k", args)
    return err.value


def test_a_cell_keeps_the_type_of_its_initial_value() -> None:
    err = lowering_refusal("""\
        def k(a):
            seg0 = shared(0, n=0)
            for i in prange(0, len(a), 1, segments=1, signals="uncoupled"):
                wait(0)
                seg0.n += a[i]
                signal(0)
            return seg0.n
        """, ArrayType("float64", 1))
    assert "'seg0.n' is i64 (from line 3) but f64 here; a cell keeps the type of its initial value" in err.message
    assert err.loc is not None and err.loc.line == 6 and err.hint


def test_a_narrow_element_must_be_converted_before_it_initializes_a_cell() -> None:
    err = lowering_refusal("""\
        def k(a):
            acc = reduction("max", m=a[0])
            return acc.m
        """, ArrayType("int32", 1))
    assert "an element of int32 array 'a' must be converted" in err.message
    assert err.loc is not None and (err.loc.line, err.loc.col) == (3, 29)


def test_prange_bounds_must_be_integers() -> None:
    err = lowering_refusal("""\
        def k(a, x):
            for i in prange(0, x, 1, segments=0, signals="uncoupled"):
                a[i] = 0
        """, ArrayType("int64", 1), Scalar.F64)
    assert "prange() arguments must be integers, this one is f64" in err.message
