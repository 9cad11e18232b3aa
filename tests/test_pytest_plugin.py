"""The helixrc pytest plugin, run in pytester sessions: the check, its failures, baselines, samples.

The plugin is loaded with ``-p helixrc.pytest_plugin`` (from a source tree there is no entry
point); entry-point autoloading is switched off so an installed helixrc does not load it twice.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import libcst
import pytest

from helixrc import pytest_plugin
from helixrc.run import RunResult
from test_transform_api import COUNT

# count_hits under another name (see test_run.WRONG), and a version with a different answer
KERNELS = COUNT.replace("count_hits", "hits") + "\n\n" + COUNT.replace("count_hits", "hits_off").replace(
    "out[n] = i", "out[n] = i + 1")

#: load the plugin (no entry point in a source tree); it is imported already, hence the warning
PLUGIN = ("-p", "helixrc.pytest_plugin", "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning")

TEST_HEADER = textwrap.dedent("""\
    import numpy as np
    import pytest

    from plugin_kernels import hits


    def inputs():
        return np.array([3, -1, 2, 5]), np.full(4, -1, dtype=np.int64)
""")


@pytest.fixture(scope="session")
def _native_parser_loaded() -> None:
    """pytester drops the modules an in-process run imported, and libcst's native parser cannot be
    imported twice: it is imported before the first run (and before pytester's module snapshot)."""
    libcst.parse_module("pass\n")


@pytest.fixture
def session(_native_parser_loaded: None, pytester: pytest.Pytester,
            monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(plugin_kernels=KERNELS)
    return pytester


def run(pytester: pytest.Pytester, body: str, *options: str) -> pytest.RunResult:
    pytester.makepyfile(test_k=TEST_HEADER + textwrap.dedent(body))
    return pytester.runpytest(*PLUGIN, *options)


def baselines(pytester: pytest.Pytester, stem: str = "test_k") -> dict[str, dict[str, object]]:
    data = json.loads((pytester.path / ".helixrc-baselines" / f"{stem}.json").read_text())
    assert data["schema"] == 1
    return data["entries"]  # type: ignore[no-any-return]


PASSING = """
    def test_hits(helixrc_check):
        xs, out = inputs()
        res = helixrc_check(hits, (xs, out))
        assert res.value == 3 and res.machine.name == "atom1"
        assert out.tolist() == [-1] * 4  # the check runs on copies
"""


def test_a_passing_check_records_its_baseline(session: pytest.Pytester) -> None:
    result = run(session, PASSING)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*helixrc baselines*", "recorded test_hits|hits|atom1@* cycles*"])
    (key,) = baselines(session)
    entry = baselines(session)[key]
    assert key.startswith("test_hits|hits|atom1@")
    assert entry["machine"] == "atom1" and entry["cycles"] > entry["sequential_cycles"] > 0


def test_a_wrong_transformed_kernel_fails(session: pytest.Pytester) -> None:
    result = run(session, """
        import dataclasses

        import helixrc
        from helixrc import pytest_plugin


        def test_hits(helixrc_check, monkeypatch):
            real = pytest_plugin.transform_for
            wrong = helixrc.transform(hits.__code__.co_filename + "::hits_off").function
            monkeypatch.setattr(pytest_plugin, "transform_for",
                                lambda *a: dataclasses.replace(real(*a), function=wrong))
            helixrc_check(hits, inputs())
    """)
    result.assert_outcomes(failed=1)
    assert ("helixrc: the transformed code in CPython differs from the original hits in CPython: "
            "argument 2 (out)[0]: 0 vs 1 (original vs transformed)") in result.stdout.str()
    assert not (session.path / ".helixrc-baselines").exists()


def test_rtol_admits_float_differences_within_it(session: pytest.Pytester) -> None:
    session.makepyfile(float_kernels=textwrap.dedent("""\
        def total(a, n):
            s = 0.0
            for i in range(n):
                s += a[i]
            return s


        def total_off(a, n):
            s = 0.0
            for i in range(n):
                s += a[i] * 1.000000000000001
            return s
    """))
    result = run(session, """
        import dataclasses

        import helixrc
        from helixrc import pytest_plugin
        from float_kernels import total


        @pytest.fixture
        def reordered(monkeypatch):
            # a parallel form whose float sum differs in the last bits, as a reassociated one may
            real = pytest_plugin.transform_for
            off = helixrc.transform(total.__code__.co_filename + "::total_off").function
            monkeypatch.setattr(pytest_plugin, "transform_for",
                                lambda *a: dataclasses.replace(real(*a), function=off))


        def test_exact(helixrc_check, reordered):
            helixrc_check(total, (np.linspace(0.1, 7.0, 50), 50))


        @pytest.mark.helixrc(rtol=1e-12)
        def test_within(helixrc_check, reordered):
            helixrc_check(total, (np.linspace(0.1, 7.0, 50), 50))


        def test_beyond(helixrc_check, reordered):
            helixrc_check(total, (np.linspace(0.1, 7.0, 50), 50), rtol=1e-17)
    """)
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines_random([
        "*test_exact*", "*test_beyond*",
        "helixrc: the transformed code in CPython differs from the original total in CPython: return value: *",
    ])
    result.stdout.no_fnmatch_line("FAILED*test_within*")


def test_a_speedup_below_the_minimum_fails_and_the_marker_sets_it(session: pytest.Pytester) -> None:
    result = run(session, """
        def test_argument(helixrc_check):
            helixrc_check(hits, inputs(), min_speedup=4)


        @pytest.mark.helixrc(min_speedup=3.5)
        def test_marker(helixrc_check):
            helixrc_check(hits, inputs())


        @pytest.mark.helixrc(min_speedup=3.5)
        def test_argument_wins(helixrc_check):
            helixrc_check(hits, inputs(), min_speedup=0.1)
    """)
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines_random([
        "*helixrc: hits on atom1: speedup 0.* is below min_speedup 4 (* cycles parallel, * sequential)*",
        "*helixrc: hits on atom1: speedup 0.* is below min_speedup 3.5*",
    ])


def test_baseline_regression_fails_and_update_accepts(session: pytest.Pytester) -> None:
    run(session, PASSING).assert_outcomes(passed=1)
    path = session.path / ".helixrc-baselines" / "test_k.json"
    (key,) = baselines(session)
    measured = baselines(session)[key]["cycles"]
    assert isinstance(measured, int)

    def set_cycles(cycles: int) -> None:
        data = json.loads(path.read_text())
        data["entries"][key]["cycles"] = cycles
        path.write_text(json.dumps(data))

    base = int(measured / 1.05)  # the run now takes ~5% more than its baseline
    set_cycles(base)
    result = run(session, PASSING)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        f"*helixrc: {key}: cycles regressed: {measured} against the baseline {base} "
        f"(+{(measured - base) / base:.1%}, tolerance 2.0%*rerun with --helixrc-update to accept*",
    ])
    marked = PASSING.replace("    def test_hits", "    @pytest.mark.helixrc(baseline_tolerance=0.06)\n    def test_hits")
    run(session, marked).assert_outcomes(passed=1)  # a wider tolerance lets it through

    run(session, PASSING, "--helixrc-update").assert_outcomes(passed=1)
    assert baselines(session)[key]["cycles"] == measured

    set_cycles(measured * 2)  # the run is now far faster than its baseline: noted, not failed
    result = run(session, PASSING)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"improved {key}: cycles {measured} against the baseline {measured * 2} (-50.0%)*"])
    assert baselines(session)[key]["cycles"] == measured * 2  # kept until --helixrc-update


def test_baselines_are_per_machine_config(session: pytest.Pytester) -> None:
    run(session, """
        from helixrc import resolve_machine


        def test_hits(helixrc_check):
            helixrc_check(hits, inputs())
            helixrc_check(hits, inputs(), machine=resolve_machine("atom1", dram_latency=400))
            helixrc_check(hits, inputs())
    """).assert_outcomes(passed=1)
    keys = set(baselines(session))
    repeated = [k for k in keys if k + "#2" in keys]  # the second check with the same config
    assert len(keys) == 3 and len(repeated) == 1
    assert len({k.split("@")[1].split("#")[0] for k in keys}) == 2


def test_samples_option_checks_every_kernel_with_make_inputs(session: pytest.Pytester) -> None:
    samples = session.mkdir("kernels")
    (samples / "hits.py").write_text(COUNT.replace("count_hits", "hits") + textwrap.dedent("""

        def make_inputs(size, seed):
            import numpy as np
            n = {"small": 50}[size]
            xs = np.random.default_rng(seed).integers(-5, 5, n)
            return xs, np.zeros(n, dtype=np.int64)
    """))
    (samples / "named.py").write_text(
        "KERNEL = 'hits_off'\n\n" + KERNELS + "\n\ndef make_inputs(size, seed):\n    return [1, -1, 2], [0, 0, 0]\n")
    (samples / "no_inputs.py").write_text(COUNT)
    session.makepyfile(test_k=TEST_HEADER + textwrap.dedent(PASSING))
    alone = session.runpytest(*PLUGIN, "-v", "--helixrc-samples", "kernels")
    alone.assert_outcomes(passed=2)
    alone.stdout.fnmatch_lines_random(["kernels/hits.py::hits PASSED*", "kernels/named.py::hits_off PASSED*"])
    assert sorted(p.name for p in (samples / ".helixrc-baselines").iterdir()) == ["hits.json", "named.json"]
    with_tests = session.runpytest(*PLUGIN, "--helixrc-samples", "kernels", "test_k.py")
    with_tests.assert_outcomes(passed=3)
    missing = session.runpytest(*PLUGIN, "--helixrc-samples", "nowhere")
    missing.stderr.fnmatch_lines(["*--helixrc-samples nowhere: not a directory*"])


def test_checks_run_the_simulator_in_checking_mode(session: pytest.Pytester) -> None:
    run(session, """
        def test_hits(helixrc_check):
            result = helixrc_check(hits, inputs())
            assert result.machine.check and result.stats["checker"] == {"violations": 0}
    """).assert_outcomes(passed=1)


CHAIN = textwrap.dedent("""\
    def chain(xs, out):
        acc = 1
        for i in range(xs.shape[0]):
            v = xs[i] * 3 + 1
            acc = acc * 7 % 1000003 + v
            out[i] = acc
        return acc
""")

BROKEN_SEGMENT = r"""
    import dataclasses
    import re

    from helixrc import pytest_plugin
    from helixrc.resolve import import_file
    from chain_kernels import chain


    def chain_inputs():
        return np.arange(64) % 13, np.zeros(64, dtype=np.int64)


    @pytest.fixture
    def without_segment_0(monkeypatch, tmp_path):
        # the transform's output with segment 0's wait(0) and signal(0) removed: the iterations race
        # on acc; CPython, running the iterations in order, still gets the right answer
        real = pytest_plugin.transform_for

        def broken(*args):
            t = real(*args)
            lines = t.source.splitlines()
            kept = [line for line in lines if not re.fullmatch(r"\s*(wait|signal)\(0\)\s*", line)]
            assert len(kept) == len(lines) - 2
            path = tmp_path / "broken_chain.py"
            path.write_text("\n".join(kept) + "\n")
            return dataclasses.replace(t, function=import_file(str(path)).chain, source=path.read_text())

        monkeypatch.setattr(pytest_plugin, "transform_for", broken)


    @pytest.mark.helixrc(machine="helixrc16")
    def test_correct(helixrc_check):
        assert helixrc_check(chain, chain_inputs()).loops["chain/L1"].startswith("HELIX")


    @pytest.mark.helixrc(machine="helixrc16")
    def test_broken(helixrc_check, without_segment_0):
        helixrc_check(chain, chain_inputs())
"""


def test_a_transform_without_a_segment_fails_with_the_checkers_message(session: pytest.Pytester) -> None:
    session.makepyfile(chain_kernels=CHAIN)
    result = run(session, BROKEN_SEGMENT)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*FAILED*test_broken*",
    ])
    result.stdout.fnmatch_lines([
        # the first access of the racing pair the checker meets (deterministic for the timing model)
        "helixrc: chain on helixrc16: */broken_chain.py:*: iteration * wrote cell seg0.acc after "
        "iteration * read it (that read missed the value of iteration *)",
        "  iteration * at */broken_chain.py:*: seg0.acc = seg0.acc * 7 % 1000003 + v",
    ])
    result.stdout.no_fnmatch_line("*FAILED*test_correct*")
    # the failed check records no baseline; the correct one does
    assert [k.split("|")[0] for k in baselines(session)] == ["test_correct"]


def test_checker_hook_fails_on_a_reported_violation() -> None:
    result = RunResult(value=0, cycles=1, sequential_cycles=1, speedup=1.0, stats={}, sequential_stats={},
                       source="", plan=None, machine=None)  # type: ignore[arg-type]
    pytest_plugin.assert_checker_clean(result)  # no checker entry: nothing to check
    result.stats["checker"] = {"violations": 0}
    pytest_plugin.assert_checker_clean(result)
    result.stats["checker"] = {"violations": 2, "first": "x.py:3:4: iteration 0 wrote a[1] after iteration 1 read it"}
    with pytest.raises(pytest.fail.Exception, match="checker saw 2 access.*iteration 0 wrote a"):
        pytest_plugin.assert_checker_clean(result)


def test_entry_point_is_declared() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["pytest11"] == {"helixrc": "helixrc.pytest_plugin"}


def test_overlapping_views_pass_the_check(session: pytest.Pytester) -> None:
    # x[:-1] and x[1:] share memory: the check's copies share it too, and the transformed code
    # runs the original loop for them (a parallel run would give [0 1 1 1 ...])
    session.makepyfile(shift_kernels=textwrap.dedent("""\
        def shift_add(a, b, n):
            for i in range(n):
                b[i] = a[i] + 1
            return 0
    """))
    result = run(session, """
        from shift_kernels import shift_add


        @pytest.mark.parametrize("machine", ["helixrc16", "conventional16"])
        def test_shift(helixrc_check, machine):
            x = np.zeros(65, dtype=np.int64)
            helixrc_check(shift_add, (x[:-1], x[1:], 64), machine=machine)
            assert not x.any()  # the check runs on copies
    """)
    result.assert_outcomes(passed=2)
