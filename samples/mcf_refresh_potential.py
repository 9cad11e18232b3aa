"""P5: the spanning-tree walk of 181.mcf (`refresh_potential`).

The network simplex keeps its basis as a rooted spanning tree stored in first-child / next-sibling
/ parent arrays. Refreshing the node potentials is a pre-order walk of that tree without a stack:
go down first children, setting each node's potential from its parent's and the cost of the tree
arc (added or subtracted by the arc's orientation); at a leaf climb back up until some ancestor has
a next sibling, and continue from there.

Dependence pattern: every step is a chain of dependent loads (`child`, `sib`, `pred`), and
`pot[pred[node]]` reads a value written an irregular number of steps earlier. There is no
independent work to overlap; HELIX should gain nothing and must not slow it down (a pipeline would
suit it better). The count of down-oriented arcs is returned as a checksum, like MCF's.

Inputs: a random tree of `n_nodes` nodes rooted at node 0 (MCF's artificial root), built by
attaching each node either under the previous one (probability `p_chain`, which makes deep paths)
or under a random earlier node, then relabelled by a random permutation so that walk order and
memory order are unrelated; random arc costs and orientations (`p_up`).
"""
import numpy as np

MAX_ART_COST = 100_000_000


# Recomputes pot[] for every node below root; returns the number of down-oriented tree arcs.
def mcf_refresh_potential(child, sib, pred, up, cost_in, pot, root):
    checksum = 0
    pot[root] = -MAX_ART_COST
    node = int(child[root])
    last = node
    while node != root:
        while node != -1:
            if up[node]:
                pot[node] = pot[pred[node]] + cost_in[node]
            else:
                pot[node] = pot[pred[node]] - cost_in[node]
                checksum += 1
            last = node
            node = int(child[node])
        node = last
        while pred[node] != -1:
            if sib[node] != -1:
                node = int(sib[node])
                break
            node = int(pred[node])
    return checksum


_SIZES = {"small": {"n_nodes": 400}, "medium": {"n_nodes": 100_000}, "large": {"n_nodes": 1_500_000}}


def make_inputs(size: str, seed: int, *, n_nodes: int | None = None, p_chain: float = 0.6,
                p_up: float = 0.5, max_cost: int = 10_000) -> tuple:
    """Positional args: (child, sib, pred, up, cost_in, pot, root)."""
    n = n_nodes if n_nodes is not None else _SIZES[size]["n_nodes"]
    n = max(n, 2)
    rng = np.random.default_rng(seed)
    i = np.arange(1, n)
    rand_parent = (rng.random(n - 1) * i).astype(np.int64)
    parent = np.concatenate(([-1], np.where(rng.random(n - 1) < p_chain, i - 1, rand_parent)))
    # relabel every node but the root
    perm = np.concatenate(([0], 1 + rng.permutation(n - 1)))
    pred = np.full(n, -1, dtype=np.int64)
    pred[perm[1:]] = perm[parent[1:]]
    # children lists: sibling order as MCF leaves it (most recently attached child first)
    kids = perm[1:][::-1]
    par = pred[kids]
    order = np.argsort(par, kind="stable")
    kids, par = kids[order], par[order]
    child = np.full(n, -1, dtype=np.int64)
    sib = np.full(n, -1, dtype=np.int64)
    first = np.concatenate(([True], par[1:] != par[:-1]))
    child[par[first]] = kids[first]
    same = par[1:] == par[:-1]
    sib[kids[:-1][same]] = kids[1:][same]
    up = rng.random(n) < p_up
    cost_in = rng.integers(0, max_cost, size=n).astype(np.int64)
    pot = np.zeros(n, dtype=np.int64)
    return (child.astype(np.int32), sib.astype(np.int32), pred.astype(np.int32), up, cost_in, pot, 0)
