"""Plans: reading TOML and JSON, writing them back, and every error with its message and line:col."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from helixrc.csim.errors import HelixError, PlanError
from helixrc.passes.plan import Legality, LoopPlan, Plan, load_plan, parse_plan, validate_plan

EXAMPLE = """\
signals = "uncoupled"

[loops."mcf_pricing/L1"]
technique = "helix"
segments = "auto"

[loops."art_f2_match/L1.1"]
technique = "doall"
reassociate = true
"""

FULL = """\
# every feature once
signals = "coupled"

[loops."f/L1"]
technique = "helix"
signals = "uncoupled"          # overrides the default
segments = [["nb", "bask_arc", "bask_rc"], ["total"]]
reassociate = true
assume_independent = ["out"]

[loops."f/L2"]
technique = "sequential"

[loops."g/L1.2"]
technique = "doall"
"""

ANALYSIS: dict[str, Legality] = {
    "mcf_pricing/L1": {"helix": None, "doall": "nb is carried (line 37)"},
    "art_f2_match/L1": {"doall", "helix"},
    "art_f2_match/L1.1": {"doall", "helix"},
}


def plan_error(text: str, fmt: str | None = None) -> PlanError:
    with pytest.raises(PlanError) as info:
        parse_plan(textwrap.dedent(text), "plan.toml" if fmt != "json" else "plan.json", fmt)  # type: ignore[arg-type]
    return info.value


# ---------------------------------------------------------------------------------------------
# Reading and writing
# ---------------------------------------------------------------------------------------------


def test_example() -> None:
    plan = parse_plan(EXAMPLE, "plan.toml")
    assert plan.signals == "uncoupled"
    assert list(plan.loops) == ["mcf_pricing/L1", "art_f2_match/L1.1"]
    assert plan.loops["mcf_pricing/L1"] == LoopPlan("helix", "uncoupled", "auto", False, ())
    assert plan.loops["art_f2_match/L1.1"] == LoopPlan("doall", reassociate=True)
    assert plan.technique_of("art_f2_match/L1") == "sequential"  # not named: stays sequential
    loop = plan.loops["mcf_pricing/L1"]
    assert loop.parallel and loop.loc is not None and (loop.loc.line, loop.loc.col) == (3, 7)
    assert (loop.key_locs["technique"].line, loop.key_locs["segments"].line) == (4, 5)
    validate_plan(plan, ANALYSIS)


def test_full_plan_values() -> None:
    plan = parse_plan(FULL, "full.toml")
    assert plan.signals == "coupled"
    f1 = plan.loops["f/L1"]
    assert f1.signals == "uncoupled"
    assert f1.segments == (("nb", "bask_arc", "bask_rc"), ("total",))
    assert f1.reassociate and f1.assume_independent == ("out",)
    assert plan.loops["f/L2"].signals == "coupled"  # inherits the default
    assert not plan.loops["f/L2"].parallel


@pytest.mark.parametrize("text", [EXAMPLE, FULL, 'signals = "coupled"\n', ""], ids=["example", "full", "no-loops", "empty"])
def test_toml_round_trip(text: str) -> None:
    plan = parse_plan(text, "a.toml")
    written = plan.to_toml()
    again = parse_plan(written, "b.toml")
    assert again == plan
    assert again.to_toml() == written  # stable text


def test_round_trip_of_a_plan_built_in_code() -> None:
    plan = Plan({
        "k/L1": LoopPlan("helix", "coupled", (("a",), ("b", "c")), True, ("x", "y")),
        "k/L2": LoopPlan("doall"),
    }, signals="uncoupled")
    assert parse_plan(plan.to_toml()) == plan
    assert parse_plan(plan.to_json()) == plan
    assert 'signals = "coupled"' in plan.to_toml()  # the loop's own value differs from the default


def test_written_toml_reads_well() -> None:
    assert parse_plan(EXAMPLE).to_toml() == (
        "# helixrc plan: one table per loop id; technique = doall | helix | relic | sequential\n"
        + EXAMPLE
    )


def test_plans_are_immutable_and_hashable() -> None:
    plan = parse_plan(FULL)
    with pytest.raises(TypeError):
        plan.loops["f/L9"] = LoopPlan("doall")  # type: ignore[index]
    with pytest.raises(AttributeError):
        plan.signals = "uncoupled"  # type: ignore[misc]
    assert hash(plan) == hash(parse_plan(plan.to_toml()))
    assert len({plan, parse_plan(FULL)}) == 1


def test_json() -> None:
    toml_plan = parse_plan(FULL)
    data = json.loads(toml_plan.to_json())
    assert data["loops"]["f/L1"]["segments"] == [["nb", "bask_arc", "bask_rc"], ["total"]]
    assert parse_plan(json.dumps(data), "p.json", "json") == toml_plan
    assert parse_plan(json.dumps(data, indent=1)) == toml_plan  # recognised by content


def test_load_plan_by_extension_and_content(tmp_path: Path) -> None:
    plan = parse_plan(FULL)
    (tmp_path / "p.toml").write_text(FULL)
    (tmp_path / "p.json").write_text(plan.to_json())
    (tmp_path / "p.plan").write_text(plan.to_json())  # no telling extension: JSON by content
    (tmp_path / "q.plan").write_text(FULL)
    for name in ("p.toml", "p.json", "p.plan", "q.plan"):
        loaded = load_plan(tmp_path / name)
        assert loaded == plan and loaded.source == str(tmp_path / name)


def test_load_plan_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot read plan file .*missing.toml"):
        load_plan(tmp_path / "missing.toml")
    path = tmp_path / "bad.json"
    path.write_text('{"signals": "coupled",\n "loops": {"f/L1": {"technique": "doal"}}}')
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert str(info.value).startswith(f"{path}:2:")


def test_other_table_forms_have_positions() -> None:
    text = textwrap.dedent("""\
        [loops]
        "f/L1" = { technique = "helix", segments = "auto" }
        "f/L2" = { technique = "helx" }
    """)
    err = plan_error(text)
    assert "unknown technique 'helx'" in err.message
    assert err.loc is not None and (err.loc.line, err.loc.col) == (3, 11)
    dotted = 'loops."f/L1".technique = "doall"\nloops."f/L2".technique = 3\n'
    err = plan_error(dotted)
    assert "technique must be a string" in err.message and err.loc is not None and err.loc.line == 2


def test_comments_do_not_mislead_positions() -> None:
    err = plan_error("""\
        # [loops."f/L1"] technique = "doal" in a comment
        [loops."f/L1"]
        # technique = "x"
        technique = "doal"
    """)
    assert err.loc is not None and (err.loc.line, err.loc.col) == (4, 0)


# ---------------------------------------------------------------------------------------------
# Errors while reading
# ---------------------------------------------------------------------------------------------

ERRORS = [
    pytest.param('signals = "uncoupled\n', "not valid TOML", 1, None, id="toml-syntax"),
    pytest.param('[loops."f/L1"]\ntechnique = doall\n', "not valid TOML: Invalid value", 2, 12, id="toml-bare-value"),
    pytest.param('signal = "coupled"\n', "unknown top-level key 'signal' (valid keys: signals, loops)", 1, 0,
                 id="unknown-top-key"),
    pytest.param('signals = "cupled"\n', "unknown signals 'cupled' (valid: coupled, uncoupled)", 1, 0,
                 id="unknown-signals"),
    pytest.param("signals = true\n", "signals must be a string (one of coupled, uncoupled), not a boolean", 1, 0,
                 id="signals-type"),
    pytest.param("loops = 3\n", "'loops' must be a table of loop tables, not an integer", 1, 0, id="loops-type"),
    pytest.param('[loops]\n"f/L1" = "helix"\n', "loop 'f/L1' must be a table of settings, not a string", 2, 0,
                 id="loop-not-a-table"),
    pytest.param('[loops."f/L"]\ntechnique = "doall"\n', "malformed loop id 'f/L'", 1, 7, id="malformed-id"),
    pytest.param('[loops."f-g/L1"]\ntechnique = "doall"\n', "malformed loop id 'f-g/L1'", 1, 7, id="malformed-func"),
    pytest.param('[loops."f/L1"]\nsegments = "auto"\n', "loop 'f/L1' has no technique", 1, 7, id="no-technique"),
    pytest.param('[loops."f/L1"]\ntechnique = "doal"\n',
                 "unknown technique 'doal' (valid: doall, helix, relic, sequential)", 2, 0, id="unknown-technique"),
    pytest.param('[loops."f/L1"]\ntechnique = 1\n',
                 "technique must be a string (one of doall, helix, relic, sequential), not an integer", 2, 0,
                 id="technique-type"),
    pytest.param('\n[loops."f/L1"]\ntechnique = "helix"\nsignals = "sync"\n', "unknown signals 'sync'", 4, 0,
                 id="unknown-loop-signals"),
    pytest.param('[loops."f/L1"]\ntechnique = "helix"\n  segment = "auto"\n',
                 "unknown key 'segment' in loop 'f/L1' (valid keys: technique, signals, segments, reassociate, "
                 "assume_independent, chunks, split)", 3, 2, id="unknown-loop-key"),
    pytest.param('[loops."f/L1"]\ntechnique = "doall"\nreassociate = "yes"\n',
                 "reassociate must be a boolean (true or false), not a string", 3, 0, id="reassociate-type"),
    pytest.param('[loops."f/L1"]\ntechnique = "helix"\nsegments = 2\n',
                 'segments must be "auto" or a list of lists of names, not an integer', 3, 0, id="segments-type"),
    pytest.param('[loops."f/L1"]\ntechnique = "helix"\nsegments = "manual"\n',
                 "not the string 'manual'", 3, 0, id="segments-string"),
    pytest.param('[loops."f/L1"]\ntechnique = "helix"\nsegments = [["a"], "b"]\n',
                 "segments[1] must be a list of names, not a string", 3, 0, id="segments-group-type"),
    pytest.param('[loops."f/L1"]\ntechnique = "helix"\nsegments = [["a", 2]]\n',
                 "segments[0][1] must be a variable or array name (a string), not an integer", 3, 0,
                 id="segments-name-type"),
    pytest.param('[loops."f/L1"]\ntechnique = "helix"\nsegments = [["a b"]]\n',
                 "segments[0][0]: 'a b' is not a variable or array name", 3, 0, id="segments-bad-name"),
    pytest.param('[loops."f/L1"]\ntechnique = "helix"\nsegments = [["a"], []]\n', "segments[1] is empty", 3, 0,
                 id="segments-empty-group"),
    pytest.param('[loops."f/L1"]\ntechnique = "helix"\nsegments = []\n', "segments is an empty list", 3, 0,
                 id="segments-empty"),
    pytest.param('[loops."f/L1"]\ntechnique = "helix"\nsegments = [["nb", "x"], ["y", "nb"]]\n',
                 "'nb' is in segments[0] and segments[1]", 3, 0, id="segments-overlap"),
    pytest.param('[loops."f/L1"]\ntechnique = "doall"\nsegments = [["nb"]]\n',
                 "loop 'f/L1' is doall: an explicit segment grouping applies only to helix loops", 3, 0,
                 id="segments-on-doall"),
    pytest.param('[loops."f/L1"]\ntechnique = "doall"\nassume_independent = "out"\n',
                 "assume_independent must be a list of array names, not a string", 3, 0, id="independent-type"),
    pytest.param('[loops."f/L1"]\ntechnique = "doall"\nassume_independent = ["out", 3]\n',
                 "assume_independent[1] must be a variable or array name (a string), not an integer", 3, 0,
                 id="independent-item"),
    pytest.param('[loops."f/L1"]\ntechnique = "helix"\n\n[loops."f/L1.2"]\ntechnique = "doall"\n',
                 "loop 'f/L1.2' (doall) is nested in loop 'f/L1' (helix, line 1): one parallel loop runs at a time",
                 5, 0, id="nested-parallel"),
]


@pytest.mark.parametrize("text, message, line, col", ERRORS)
def test_reading_errors(text: str, message: str, line: int, col: int | None) -> None:
    err = plan_error(text)
    assert message in err.message
    assert err.loc is not None and err.loc.file == "plan.toml" and err.loc.line == line
    if col is not None:
        assert err.loc.col == col
    assert str(err).startswith(f"plan.toml:{line}:")
    assert isinstance(err, HelixError)


def test_did_you_mean_hints() -> None:
    assert plan_error('[loops."f/L1"]\ntechnique = "doal"\n').hint == "did you mean 'doall'?"
    assert plan_error('[loops."f/L1"]\ntechnique = "helix"\nsegment = "auto"\n').hint == "did you mean 'segments'?"
    assert plan_error('signal = "coupled"\n').hint == "did you mean 'signals'?"


def test_sequential_inside_parallel_is_fine() -> None:
    plan = parse_plan('[loops."f/L1"]\ntechnique = "helix"\n[loops."f/L1.1"]\ntechnique = "sequential"\n'
                      '[loops."f/L10"]\ntechnique = "doall"\n')  # f/L10 is not inside f/L1
    assert plan.technique_of("f/L10") == "doall"


JSON_ERRORS = [
    pytest.param('{"signals": "coupled",\n  "loops": {\n    "f/L1": {"technique": "doall",}}}',
                 "not valid JSON", 3, None, id="json-syntax"),
    pytest.param('{\n  "loops": {\n    "f/L1": {\n      "technique": "doall",\n      "signal": "coupled"\n}}}',
                 "unknown key 'signal' in loop 'f/L1'", 5, 7, id="json-unknown-key"),
    pytest.param('{"loops": {"f/L1": {"technique": "doall", "signals": "coupled"}},\n "signals": "sync"}',
                 "unknown signals 'sync'", 2, 2, id="json-top-signals-after-loop-signals"),
    pytest.param('{"loops": {\n"f/L1": {"technique": "doall"},\n"f/L1": {"technique": "helix"}}}',
                 "duplicate key 'f/L1'", 3, 0, id="json-duplicate"),
    pytest.param('[1, 2]', "a plan is a table with keys 'signals' and 'loops', not an array", 1, 0, id="json-array"),
]


@pytest.mark.parametrize("text, message, line, col", JSON_ERRORS)
def test_json_errors(text: str, message: str, line: int, col: int | None) -> None:
    err = plan_error(text, "json")
    assert message in err.message
    assert err.loc is not None and err.loc.file == "plan.json" and err.loc.line == line
    if col is not None:
        assert err.loc.col == col


# ---------------------------------------------------------------------------------------------
# Checks against the analysis
# ---------------------------------------------------------------------------------------------


def validation_error(text: str, loop_ids: Mapping[str, Legality]) -> PlanError:
    with pytest.raises(PlanError) as info:
        validate_plan(parse_plan(textwrap.dedent(text), "plan.toml"), loop_ids)
    return info.value


def test_unknown_loop_id_lists_the_known_ones_at_its_line() -> None:
    err = validation_error("""\
        [loops."f/L1"]
        technique = "helix"

        [loops."f/L9"]
        technique = "doall"
    """, {"f/L1.1": {"doall"}, "f/L1": {"helix"}, "f/L10": set(), "f/L2": set()})
    assert err.message == "unknown loop id 'f/L9' (known: f/L1, f/L1.1, f/L2, f/L10)"
    assert err.loc is not None and (err.loc.line, err.loc.col) == (4, 7)
    assert str(err).startswith("plan.toml:4:7: unknown loop id 'f/L9'")


def test_illegal_technique_says_why() -> None:
    err = validation_error(EXAMPLE.replace('"helix"', '"doall"', 1), ANALYSIS)
    assert err.message == ("loop 'mcf_pricing/L1' cannot be doall: nb is carried (line 37); "
                           "legal here: helix, sequential")
    assert err.loc is not None and (err.loc.line, err.loc.col) == (4, 0)


def test_illegal_technique_without_a_reason() -> None:
    err = validation_error('[loops."f/L1"]\ntechnique = "helix"\n', {"f/L1": {"doall"}})
    assert err.message == "loop 'f/L1' cannot be helix; legal here: doall, sequential"
    err = validation_error('[loops."f/L1"]\ntechnique = "helix"\n', {"f/L1": {"doall": None}})
    assert err.message == "loop 'f/L1' cannot be helix; legal here: doall, sequential"
    assert err.loc is not None and err.loc.line == 2


def test_sequential_is_always_legal() -> None:
    plan = parse_plan('[loops."f/L1"]\ntechnique = "sequential"\n')
    validate_plan(plan, {"f/L1": set()})
    validate_plan(plan, {"f/L1": {"doall": "no", "helix": "no"}})


def test_validation_of_plans_built_in_code() -> None:
    nested = Plan({"f/L1": LoopPlan("doall"), "f/L1.1": LoopPlan("helix")})
    with pytest.raises(PlanError, match="loop 'f/L1.1' \\(helix\\) is nested in loop 'f/L1' \\(doall\\)"):
        validate_plan(nested, {"f/L1": {"doall", "helix"}, "f/L1.1": {"doall", "helix"}})
    with pytest.raises(PlanError, match="unknown technique 'fast'"):
        validate_plan(Plan({"f/L1": LoopPlan("fast")}), {"f/L1": {"doall"}})
    with pytest.raises(PlanError) as info:
        validate_plan(Plan({"f/L2": LoopPlan("doall")}), {"f/L1": {"doall"}})
    assert info.value.loc is None and info.value.hint == "did you mean 'f/L1'?"
