"""Source locations and the exceptions helixrc raises for user errors.

This module sits in the lowest layer (``helixrc.csim`` imports nothing from the rest of the
package) so that the simulator, the passes and the front doors share one root exception.

Every user-facing error derives from :class:`HelixError` and carries a :class:`Loc`, rendered as
``file:line:col: message`` followed by a one-line hint. Errors a kernel raises at run time in the
simulator also derive from the matching builtin, so ``except IndexError`` catches them exactly as
it catches CPython's own::

    >>> raise KernelIndexError("index 10 is out of bounds for axis 0 with size 10", loc)
    samples/x.py:12:8: index 10 is out of bounds for axis 0 with size 10
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Loc:
    """A source range; lines are 1-based and columns 0-based, as editors and LibCST count them."""

    file: str
    line: int
    col: int = 0
    end_line: int = 0
    end_col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class HelixError(Exception):
    """The root of every error helixrc reports to a user."""

    def __init__(self, message: str, loc: Loc | None = None, hint: str | None = None) -> None:
        self.message = message
        self.loc = loc
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        text = f"{self.loc}: {self.message}" if self.loc is not None else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class LanguageError(HelixError):
    """The source is outside the kernel language (KERNEL_LANGUAGE.md)."""


class PlanError(HelixError):
    """A plan is invalid."""


class MachineError(HelixError, ValueError):
    """A machine configuration is invalid (unknown preset or field, a value out of range)."""


class SimulatorError(HelixError):
    """The simulator could not run the program: instruction budget exhausted or an invalid program."""


class KernelError(HelixError):
    """An exception the kernel itself raised while simulated; subclasses mirror CPython's."""

    @property
    def python_name(self) -> str:
        """The builtin exception CPython would have raised (IndexError, ...)."""
        for cls in type(self).__mro__:
            if cls.__module__ == "builtins" and cls is not Exception:
                return cls.__name__
        return "Exception"


class KernelIndexError(KernelError, IndexError):
    pass


class KernelZeroDivisionError(KernelError, ZeroDivisionError):
    pass


class KernelOverflowError(KernelError, OverflowError):
    pass


class KernelValueError(KernelError, ValueError):
    pass


class KernelAssertionError(KernelError, AssertionError):
    pass


class KernelUnboundLocalError(KernelError, UnboundLocalError):
    pass


class ProfileError(HelixError):
    """The dynamic dependence profiler cannot instrument or run a function (no source, a construct
    it does not model); the location names the function's file and line."""


class AdviseError(HelixError):
    """The adviser cannot advise on a kernel: no inputs, a bad size, no such function."""


class ParallelMismatchWarning(UserWarning):
    """The adviser ran a loop's parallel form and it did not give the sequential run's results bit
    for bit (a bug in the analysis or the transform); the loop is rejected and stays sequential."""


class AnalysisBugError(HelixError):
    """The dynamic profile saw a loop-carried dependence that the static analysis proves absent
    (``cross_check(..., strict=True)``); the location is the sink access's line."""


class AnalysisBugWarning(UserWarning):
    """``cross_check`` found a dependence the static analysis proves absent; the message names the
    loop, the array or scalar and the lines."""
