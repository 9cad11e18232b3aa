"""SMT contexts (docs/multicore.md section 6): a core's contexts share its issue slots, so two
issue-bound iterations on one core take about as long as back to back, while two miss-bound ones
overlap their misses; per-context stats account for every context's cycles."""

from __future__ import annotations

import numpy as np
import pytest

import helixrc
from helixrc.csim.errors import MachineError
from test_multicore_sim import hand

# Each iteration: a long run of independent integer work (4 independent chains: issue-bound on a
# 2-wide core). Two iterations, one per context.
COMPUTE = """
    def compute(out):
        for i in prange(0, 2, 1, segments=0, signals="uncoupled"):
            a = i
            b = i + 1
            c = i + 2
            d = i + 3
            for k in range(3000):
                a = a + 3
                b = b ^ k
                c = c + k
                d = d | k
            out[i] = a + b + c + d
        return out[0]
    """

# Each iteration: dependent loads of a random permutation far bigger than L2 (pointer chasing,
# every step a DRAM miss and nothing to issue meanwhile).
CHASE = """
    def chase(nxt, out):
        for i in prange(0, 2, 1, segments=0, signals="uncoupled"):
            p = i * 7919
            for k in range(300):
                p = nxt[p]
            out[i] = p
        return out[0]
    """


def _cycles(source: str, name: str, args: tuple, smt: int, policy: str = "icount") -> helixrc.Result:
    text, module = hand(source)
    res = helixrc.simulate(text, args, func=name, cores=1, smt=smt, smt_policy=policy)
    assert res.value == getattr(module, name)(*args)
    return res


def _loop_cycles(res: helixrc.Result) -> int:
    return res.cycles


@pytest.mark.parametrize("policy", ["round-robin", "icount"])
def test_issue_bound_iterations_gain_nothing_from_smt(policy: str) -> None:
    one = _cycles(COMPUTE, "compute", (np.zeros(2, dtype=np.int64),), smt=1)
    two = _cycles(COMPUTE, "compute", (np.zeros(2, dtype=np.int64),), smt=2, policy=policy)
    ratio = _loop_cycles(two) / _loop_cycles(one)
    assert 0.9 < ratio <= 1.02, ratio


@pytest.mark.parametrize("policy", ["round-robin", "icount"])
def test_miss_bound_iterations_overlap_on_two_contexts(policy: str) -> None:
    n = 1 << 21                             # 16 MB of int64: twice the L2
    nxt = np.random.default_rng(1).permutation(n).astype(np.int64)
    one = _cycles(CHASE, "chase", (nxt, np.zeros(2, dtype=np.int64)), smt=1)
    two = _cycles(CHASE, "chase", (nxt, np.zeros(2, dtype=np.int64)), smt=2, policy=policy)
    ratio = _loop_cycles(two) / _loop_cycles(one)
    assert ratio < 0.6, ratio


def test_each_context_accounts_for_every_cycle() -> None:
    res = _cycles(COMPUTE, "compute", (np.zeros(2, dtype=np.int64),), smt=2)
    contexts, core = res.stats["contexts"], res.stats["cores"][0]
    assert len(contexts) == 2 and [c["iterations"] for c in contexts] == [1, 1]
    for ctx, stack in zip(contexts, res.stats["context_cpi_stacks"]):
        assert sum(stack.values()) == res.cycles
        assert ctx["busy"] + ctx["wait"] + ctx["dispatch"] + ctx["idle"] == res.cycles
    for key in ("busy", "instructions", "iterations"):
        assert core[key] == sum(c[key] for c in contexts)


@pytest.mark.parametrize("smt,cores", [(3, 1), (0, 1), (4, 32)])
def test_bad_smt_is_a_machine_error(smt: int, cores: int) -> None:
    with pytest.raises(MachineError, match="smt"):
        helixrc.resolve_machine("atom1", smt=smt, cores=cores)


# Each iteration: a branch with a period-3 pattern (learnable from the global history) and a load
# per step, so the two contexts interleave step by step.
PATTERN = """
    def pattern(a, out):
        for i in prange(0, 2, 1, segments=0, signals="uncoupled"):
            s = 0
            for k in range(3000):
                if k % 3 == 0:
                    s += a[k & 63]
                else:
                    s -= a[(k + i) & 63]
            out[i] = s
        return out[0]
    """


def test_siblings_keep_their_own_branch_history() -> None:
    # SMT cores keep one global history per thread (the counters are shared): two contexts
    # running the same predictable branch must not mispredict much more than one context alone.
    args = (np.arange(64, dtype=np.int64), np.zeros(2, dtype=np.int64))
    one = _cycles(PATTERN, "pattern", args, smt=1).stats["branches"]["mispredicts"]
    two = _cycles(PATTERN, "pattern", args, smt=2).stats["branches"]["mispredicts"]
    assert two <= one + 10, (one, two)  # a shared history: 77 against 26 here
