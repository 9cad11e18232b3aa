"""The type rules that keep results exact: refusals with file:line:col and a hint."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import helixrc
from helixrc.csim.errors import LanguageError


def refused(code: str, args: tuple, fragment: str) -> LanguageError:  # type: ignore[type-arg]
    with pytest.raises(LanguageError) as err:
        helixrc.simulate(textwrap.dedent(code), args)
    assert fragment in err.value.message, err.value.render()
    assert err.value.loc is not None and err.value.hint
    return err.value


def test_int_then_float_variable() -> None:
    err = refused("""
        def f(a):
            s = 0
            for i in range(len(a)):
                s += a[i]
            return s
    """, (np.zeros(3),), "'s' is i64")
    assert err.loc.line == 5 and "0.0" in err.hint


def test_narrow_element_arithmetic_needs_int() -> None:
    err = refused("""
        def f(a):
            return a[0] + 1
    """, (np.zeros(3, dtype=np.int32),), "int32")
    assert err.loc.line == 3 and "int(" in err.hint


def test_narrow_element_assignment_needs_conversion() -> None:
    refused("""
        def f(a):
            x = a[0]
            return x
    """, (np.zeros(3, dtype=np.uint8),), "must be converted")


def test_float32_comparison_needs_float() -> None:
    refused("""
        def f(a):
            return a[0] < 0.1
    """, (np.zeros(3, dtype=np.float32),), "float32")


def test_float_store_into_int_array() -> None:
    refused("""
        def f(a):
            a[0] = 2.5
    """, (np.zeros(3, dtype=np.int64),), "truncates")


def test_mixed_min() -> None:
    refused("""
        def f(x):
            return max(1, x)
    """, (2.5,), "max()")


def test_and_or_value_of_two_types() -> None:
    refused("""
        def f(x, y):
            z = x or y
            return z
    """, (1, 2.0), "'or'")


def test_int_power_with_variable_exponent() -> None:
    refused("""
        def f(x, k):
            return x ** k
    """, (2, 3), "**")


def test_returns_of_different_types() -> None:
    refused("""
        def f(x):
            if x > 0:
                return 1
            return 1.5
    """, (1,), "returns")


def test_missing_return_on_a_path() -> None:
    refused("""
        def f(x):
            if x > 0:
                return 1
    """, (1,), "without returning")


def test_assign_to_module_constant() -> None:
    refused("""
        K = 3

        def f(x):
            K = x
            return K
    """, (1,), "module constant")


def test_allowed_narrow_uses_run_exactly() -> None:
    code = textwrap.dedent("""
        def f(idx, val, flag):
            s = 0
            for i in range(len(idx)):
                if flag[i] and idx[i] >= 0:
                    s += val[idx[i]] * int(idx[i])
            return s
    """)
    idx = np.array([2, 0, -1, 1], dtype=np.int16)
    val = np.array([10, 20, 30], dtype=np.int64)
    flag = np.array([True, True, True, False])
    assert helixrc.simulate(code, (idx, val, flag)).value == 30 * 2 + 10 * 0


def test_numpy_scalar_variable_compared_with_float() -> None:
    err = refused("""
        def f(a, x):
            v = a[0]
            return v < x
    """, (np.array([2**53 + 1]), 2.0**53), "NumPy")
    assert "'v'" in err.message and "line 3" in err.message


def test_true_division_of_int_elements() -> None:
    refused("""
        def f(a):
            return a[0] / a[1]
    """, (np.array([2**60 + 1, 3]),), "true division")


def test_element_to_negative_power() -> None:
    refused("""
        def f(a):
            return a[0] ** -1
    """, (np.array([2]),), "negative power")


def test_comparison_of_element_is_a_numpy_bool() -> None:
    refused("""
        def f(a):
            t = a[0] == 1
            return t
    """, (np.array([1], dtype=np.int8),), "NumPy bool")


def test_direct_element_against_float_compares_like_numpy() -> None:
    code = textwrap.dedent("""
        def f(a, x):
            return bool(a[0] == x)
    """)
    a = np.array([2**53 + 1])
    assert helixrc.simulate(code, (a, 2.0**53)).value == bool(a[0] == 2.0**53) is True


def test_numpy_scalar_arguments_are_refused() -> None:
    with pytest.raises(helixrc.HelixError, match="NumPy scalar"):
        helixrc.simulate("def f(x):\n    return x + 1\n", (np.int64(3),))
