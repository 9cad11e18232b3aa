"""The helixrc pytest plugin: equivalence, speedup and cycle-regression checks of kernels.

Installed helixrc registers it through the ``pytest11`` entry point; from a source tree load it
with ``pytest -p helixrc.pytest_plugin``. It adds:

- the fixture ``helixrc_check(kernel, args, machine=None, min_speedup=None, rtol=None,
  baseline_tolerance=None, plan=None) -> RunResult``. It runs the original in CPython, the
  transformed code in CPython, and the sequential and parallel simulations, each on its own
  copy of ``args``; all four must agree bit for bit (within ``rtol`` when one is declared),
  the simulator's checker must be clean, the speedup must reach ``min_speedup``, and the
  parallel run's cycles are held against the test's baseline;
- the marker ``@pytest.mark.helixrc(machine=..., min_speedup=..., rtol=..., baseline_tolerance=...)``
  giving the fixture's defaults for one test (the fixture's own arguments win);
- ``--helixrc-update``: record the cycles of this run as the baselines;
- ``--helixrc-samples DIR``: a check for every kernel in DIR whose module has ``make_inputs``
  (the function named like the file, or the one the module's ``KERNEL`` names), at size small;
- the ini option ``helixrc_machine``: the machine when neither the test nor its marker names one.

Baselines live next to the test file, in ``.helixrc-baselines/<test file stem>.json``, one entry
per test node, kernel and machine config (docs/frontdoors.md gives the format). Simulated cycles
are deterministic, so a run that takes more than ``baseline_tolerance`` (2%) more cycles than its
baseline fails; a run that takes fewer is noted in the summary, to be recorded with
``--helixrc-update``. A check without a baseline records one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from helixrc.compare import args_difference, copy_args, first_difference
from helixrc.csim.errors import HelixError
from helixrc.csim.machine import MachineConfig, resolve_machine
from helixrc.resolve import import_file
from helixrc.run import RunResult, execute, transform_for
from helixrc.transform_api import PlanLike

BASELINE_DIR = ".helixrc-baselines"
BASELINE_SCHEMA = 1
DEFAULT_MACHINE = "atom1"
DEFAULT_TOLERANCE = 0.02
SAMPLE_SIZE = "small"
SAMPLE_SEED = 0

_notes_key = pytest.StashKey[list[str]]()


# ---------------------------------------------------------------------------------------------
# Options, marker, fixture
# ---------------------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("helixrc")
    group.addoption("--helixrc-update", action="store_true", default=False,
                    help="record the simulated cycles of helixrc checks as their baselines")
    group.addoption("--helixrc-samples", metavar="DIR", default=None,
                    help="check every kernel in DIR whose module has make_inputs (size small)")
    parser.addini("helixrc_machine", f"machine for helixrc checks that name none (default {DEFAULT_MACHINE})",
                  default=DEFAULT_MACHINE)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "helixrc(machine=None, min_speedup=None, rtol=None, baseline_tolerance=None, plan=None): "
        "defaults for the helixrc_check fixture",
    )
    config.stash[_notes_key] = []
    samples = config.getoption("--helixrc-samples")
    if samples is not None:
        if not Path(samples).is_dir():
            raise pytest.UsageError(f"--helixrc-samples {samples}: not a directory")
        # alone, the option runs the samples; with paths named, it adds the samples to them
        named = config.args_source == pytest.Config.ArgsSource.ARGS
        config.args = [*config.args, samples] if named else [samples]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    notes = config.stash.get(_notes_key, [])
    if notes:
        terminalreporter.section("helixrc baselines")
        for note in notes:
            terminalreporter.write_line(note)


@pytest.fixture
def helixrc_check(request: pytest.FixtureRequest) -> Checker:
    """Check a kernel call: see :class:`Checker`; ``@pytest.mark.helixrc`` supplies defaults."""
    marker = request.node.get_closest_marker("helixrc")
    return Checker(request.node, dict(marker.kwargs) if marker is not None else {})


# ---------------------------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------------------------


class Checker:
    """``helixrc_check(kernel, args, ...)``: the four runs, their agreement, speedup and cycles."""

    def __init__(self, node: pytest.Item, defaults: dict[str, Any]) -> None:
        self._node = node
        self._defaults = defaults
        self._calls: dict[str, int] = {}

    def __call__(self, kernel: Callable[..., Any], args: Sequence[Any], machine: str | MachineConfig | None = None,
                 min_speedup: float | None = None, rtol: float | None = None,
                 baseline_tolerance: float | None = None, plan: PlanLike | None = None) -> RunResult:
        def pick(name: str, value: Any, default: Any = None) -> Any:
            return value if value is not None else self._defaults.get(name, default)

        config = self._node.config
        machine = pick("machine", machine, config.getini("helixrc_machine") or DEFAULT_MACHINE)
        # Checking mode is on in every check: an access out of sequential order fails the test.
        resolved = resolve_machine(machine, check=True)
        rtol = pick("rtol", rtol)
        name = getattr(kernel, "__name__", "kernel")

        expected_args = copy_args(args)
        expected = kernel(*expected_args)
        transformed = transform_for(kernel, resolved, pick("plan", plan))
        py_args = copy_args(args)
        _agree(expected, expected_args, transformed.function(*py_args), py_args, kernel,
               "the transformed code in CPython", "transformed", rtol)
        try:
            result, sim_args = execute(kernel, transformed, copy_args(args), resolved, rtol=rtol)
        except HelixError as err:
            pytest.fail(f"helixrc: {name} on {resolved.name}: {err}", pytrace=False)
        _agree(expected, expected_args, result.value, sim_args, kernel, "the simulated parallel form",
               "simulated", rtol)
        assert_checker_clean(result)
        _check_speedup(result, pick("min_speedup", min_speedup), name)
        tolerance = pick("baseline_tolerance", baseline_tolerance, DEFAULT_TOLERANCE)
        self._check_baseline(result, name, float(tolerance))
        return result

    def _check_baseline(self, result: RunResult, kernel: str, tolerance: float) -> None:
        key = baseline_key(self._node.nodeid, kernel, result.machine)
        self._calls[key] = self._calls.get(key, 0) + 1
        if self._calls[key] > 1:  # the same kernel checked again in one test
            key += f"#{self._calls[key]}"
        path = baseline_path(Path(self._node.path))
        config = self._node.config
        hold_baseline(path, key, result, tolerance, config.getoption("--helixrc-update"), config.stash[_notes_key])


def _agree(expected: Any, expected_args: Sequence[Any], value: Any, final_args: Sequence[Any],
           kernel: Callable[..., Any], what: str, short: str, rtol: float | None) -> None:
    """Fail unless ``what`` returned the original's value and left the arguments as it did."""
    code = getattr(kernel, "__code__", None)
    names = list(code.co_varnames[:code.co_argcount]) if code is not None else []
    diff = first_difference(expected, value, "return value", rtol) or args_difference(
        expected_args, final_args, names, rtol)
    if diff is not None:
        pytest.fail(f"helixrc: {what} differs from the original {getattr(kernel, '__name__', 'kernel')} "
                    f"in CPython: {diff} (original vs {short})", pytrace=False)


def assert_checker_clean(result: RunResult) -> None:
    """Fail when the simulator's checker saw an access out of sequential order.

    The multicore engine reports its checking mode in ``stats["checker"]`` (docs/multicore.md,
    sections 7 and 11); a run without that entry (the single-core model) has nothing to check.
    """
    checker = result.stats.get("checker")
    if not checker:
        return
    violations = checker.get("violations", 0) if isinstance(checker, dict) else len(checker)
    if violations:
        first = checker.get("first") if isinstance(checker, dict) else checker[0]
        pytest.fail(f"helixrc: the checker saw {violations} access(es) out of sequential order; "
                    f"the first: {first}", pytrace=False)


def _check_speedup(result: RunResult, min_speedup: float | None, kernel: str) -> None:
    if min_speedup is None or result.speedup >= min_speedup:
        return
    why = f" ({result.note})" if result.note else ""
    pytest.fail(f"helixrc: {kernel} on {result.machine.name}: speedup {result.speedup:.3f} is below "
                f"min_speedup {min_speedup:g} ({result.cycles} cycles parallel, "
                f"{result.sequential_cycles} sequential){why}", pytrace=False)


# ---------------------------------------------------------------------------------------------
# Baselines
# ---------------------------------------------------------------------------------------------


def config_hash(config: MachineConfig) -> str:
    """A short digest of every machine field that can change cycles (all but the description)."""
    fields = {k: v for k, v in config.to_dict().items() if k != "description"}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]


def baseline_key(nodeid: str, kernel: str, config: MachineConfig) -> str:
    """``test_y[param]|kernel|atom1@<config hash>``: one entry per test, kernel and machine config.

    The test is named without its file (the baseline file is the test file's) so that the key
    does not change with the directory pytest runs from.
    """
    return f"{nodeid.split('::', 1)[-1]}|{kernel}|{config.name}@{config_hash(config)}"


def baseline_path(test_file: Path) -> Path:
    """``.helixrc-baselines/<stem>.json`` next to the test (or sample) file."""
    return test_file.parent / BASELINE_DIR / f"{test_file.stem}.json"


def _load_baselines(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise pytest.UsageError(f"{path}: not a helixrc baseline file ({err}); delete it or fix it") from None
    if data.get("schema") != BASELINE_SCHEMA or not isinstance(data.get("entries"), dict):
        raise pytest.UsageError(f"{path}: not a helixrc baseline file of schema {BASELINE_SCHEMA}")
    return dict(data["entries"])


def _store_baseline(path: Path, key: str, result: RunResult) -> None:
    entries = _load_baselines(path)
    entries[key] = {
        "cycles": result.cycles,
        "sequential_cycles": result.sequential_cycles,
        "machine": result.machine.name,
        "config_hash": config_hash(result.machine),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"schema": BASELINE_SCHEMA, "entries": dict(sorted(entries.items()))}, indent=2)
    path.write_text(text + "\n")


def hold_baseline(path: Path, key: str, result: RunResult, tolerance: float, update: bool,
                  notes: list[str]) -> None:
    """Compare the run's cycles with the stored ones; record them when asked or when none are stored."""
    base = _load_baselines(path).get(key)
    if update or base is None:
        _store_baseline(path, key, result)
        if base is None and not update:
            notes.append(f"recorded {key}: {result.cycles} cycles ({path})")
        return
    for field in ("cycles", "sequential_cycles"):
        now, then = getattr(result, field), int(base[field])
        if now > then * (1 + tolerance):
            pytest.fail(
                f"helixrc: {key}: {field.replace('_', ' ')} regressed: {now} against the baseline {then} "
                f"(+{(now - then) / then:.1%}, tolerance {tolerance:.1%}, {path}); "
                "rerun with --helixrc-update to accept",
                pytrace=False,
            )
        if now < then * (1 - tolerance):
            notes.append(f"improved {key}: {field.replace('_', ' ')} {now} against the baseline {then} "
                         f"({(now - then) / then:.1%}); --helixrc-update records it")


# ---------------------------------------------------------------------------------------------
# --helixrc-samples DIR
# ---------------------------------------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    samples = parent.config.getoption("--helixrc-samples")
    if samples is None or file_path.suffix != ".py" or file_path.name.startswith(("_", "conftest")):
        return None
    if file_path.parent.resolve() != Path(samples).resolve():
        return None
    return SampleFile.from_parent(parent, path=file_path)


def sample_kernel(module: Any, stem: str) -> Callable[..., Any] | None:
    """A sample module's kernel: what ``KERNEL`` names (a function or its name), else the function ``stem``."""
    kernel = getattr(module, "KERNEL", None)
    if isinstance(kernel, str):
        kernel = getattr(module, kernel, None)
    if kernel is None:
        kernel = getattr(module, stem, None)
    return kernel if callable(kernel) else None


class SampleFile(pytest.File):
    """A kernel file of the samples directory: one check if it has ``make_inputs`` and a kernel."""

    def collect(self) -> Iterator[pytest.Item]:
        module = import_file(str(self.path))
        kernel = sample_kernel(module, self.path.stem)
        if not hasattr(module, "make_inputs") or kernel is None:
            return
        yield SampleItem.from_parent(self, name=kernel.__name__, kernel=kernel,
                                     make_inputs=module.make_inputs)


class SampleItem(pytest.Item):
    """``helixrc_check(kernel, make_inputs("small", 0))`` for one sample kernel."""

    def __init__(self, *, kernel: Callable[..., Any], make_inputs: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kernel = kernel
        self.make_inputs = make_inputs

    def runtest(self) -> None:
        Checker(self, {})(self.kernel, self.make_inputs(SAMPLE_SIZE, SAMPLE_SEED))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"helixrc check {self.name} ({SAMPLE_SIZE} inputs)"
