"""P4: the pricing scan of 181.mcf's network simplex (`primal_bea_mpp`).

One pricing group is a strided sweep over the arc array. Each non-basic arc gets its reduced cost
from its own cost and the potentials of its two end nodes (two dependent, random gathers); an arc
whose reduced cost has the wrong sign for the bound it sits at is dual infeasible, a candidate to
enter the basis, and is appended to the basket.

Dependence pattern: a strided while loop whose only carried state is the basket counter `nb` and
the basket writes it indexes, and those happen only on the infeasible path (a fraction
`p_infeasible` of the non-basic arcs, 2 to 30% in practice). Every other iteration skips the
segment entirely, which is exactly where fast (ring-cache) signalling pays: the canonical
HELIX-RC loop.

Inputs: a network of `n_nodes` nodes and `n_arcs` arcs; a random spanning tree of basic arcs with
node potentials that make their reduced cost zero; non-basic arcs at their lower bound or (with
probability `p_upper`) their upper bound, with costs drawn so that a fraction `p_infeasible` is
dual infeasible. The scan covers group `group_start` of `n_groups` (public MCF: ~300 arcs per
group; the larger sizes use long groups to get measurable run times).
"""
import numpy as np

BASIC = 0
LOWER = 1
UPPER = 2


# Appends the dual-infeasible arcs of one group to the basket (1-based, after entry nb0);
# returns the new basket size.
def mcf_pricing(state, cost, tail, head, pot, bask_arc, bask_rc, group_start, n_groups, nb0):
    n_arcs = len(state)
    nb = nb0
    a = group_start
    while a < n_arcs:
        if state[a] != BASIC:
            rc = cost[a] - pot[tail[a]] + pot[head[a]]
            if (rc < 0 and state[a] == LOWER) or (rc > 0 and state[a] == UPPER):
                nb += 1
                bask_arc[nb] = a
                bask_rc[nb] = rc
        a += n_groups
    return nb


_SIZES = {
    "small": {"n_arcs": 6000, "n_groups": 20},
    "medium": {"n_arcs": 600_000, "n_groups": 4},
    "large": {"n_arcs": 4_000_000, "n_groups": 2},
}


def make_inputs(size: str, seed: int, *, n_arcs: int | None = None, n_groups: int | None = None,
                n_nodes: int | None = None, p_infeasible: float = 0.1, p_upper: float = 0.1,
                group_start: int = 1, nb0: int = 0) -> tuple:
    """Positional args: (state, cost, tail, head, pot, bask_arc, bask_rc, group_start, n_groups, nb0)."""
    cfg = dict(_SIZES[size])
    if n_arcs is not None:
        cfg["n_arcs"] = n_arcs
    if n_groups is not None:
        cfg["n_groups"] = n_groups
    m = cfg["n_arcs"]
    n = n_nodes if n_nodes is not None else max(m // 8, 16)
    rng = np.random.default_rng(seed)
    # spanning tree: node i > 0 hangs below a random earlier node; potentials follow the tree
    parent = np.concatenate(([-1], (rng.random(n - 1) * np.arange(1, n)).astype(np.int64)))
    tree_cost = rng.integers(0, 20_000, size=n)
    pot = np.zeros(n, dtype=np.int64)
    for i in range(1, n):  # parents come first, so one forward pass settles every potential
        pot[i] = pot[parent[i]] + tree_cost[i]
    tail = rng.integers(0, n, size=m)
    head = rng.integers(0, n, size=m)
    state = np.where(rng.random(m) < p_upper, UPPER, LOWER).astype(np.int8)
    # n - 1 tree arcs, scattered through the arc array, are basic with zero reduced cost
    basic = rng.choice(m, size=min(n - 1, m), replace=False)
    tail[basic] = parent[1:len(basic) + 1]
    head[basic] = np.arange(1, len(basic) + 1)
    state[basic] = BASIC
    # reduced cost of non-basic arcs: wrong sign for their bound with probability p_infeasible
    mag = rng.integers(1, 50_000, size=m)
    wrong = rng.random(m) < p_infeasible
    sign = np.where(state == LOWER, 1, -1) * np.where(wrong, -1, 1)
    rc = sign * mag
    rc[basic] = 0
    cost = rc + pot[tail] - pot[head]
    # relabel nodes so that tree order and memory order are unrelated
    perm = rng.permutation(n)
    pot_p = np.empty_like(pot)
    pot_p[perm] = pot
    tail = perm[tail].astype(np.int32)
    head = perm[head].astype(np.int32)
    cap = m // cfg["n_groups"] + nb0 + 2
    bask_arc = np.zeros(cap, dtype=np.int64)
    bask_rc = np.zeros(cap, dtype=np.int64)
    return (state, cost.astype(np.int64), tail, head, pot_p, bask_arc, bask_rc, group_start,
            cfg["n_groups"], nb0)
