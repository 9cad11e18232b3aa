"""L4: one top-down step of breadth-first search on a CSR graph (a graph-service "friends within k
hops" query, the Graph500 BFS kernel).

For every vertex u of the current frontier, the step walks u's adjacency list in the CSR arrays
(`row_ptr`, `col`); a neighbour v that has no distance yet gets distance `level + 1` and parent u,
and is appended to the next frontier. The step also counts the edges it examined, which a
direction-optimizing BFS compares with the unexplored edges to choose its next step.

Dependence pattern: the hot loop is the frontier loop (the edge loop inside it is short for most
vertices and very long for a few hubs). The next-frontier cursor `nnext` and the `next_front`
append are carried on the discovery path; `dist[v]`/`parent[v]` are a test-and-set through an
index loaded from memory: two frontier vertices that share an unvisited neighbour really conflict
(the first one in frontier order must win, or the parents differ), and in a power-law graph they
often do. `scanned` is an int reduction.

Why latency-bound: `dist[col[e]]` is a dependent random gather over a vertex array larger than
the caches, and whether a neighbour is new is unpredictable (a fifth to a third of the edges reach
an undiscovered vertex at the default step, and each new vertex is reached by several of them).

Transform: the frontier loop is refused: the test-and-set of `dist[v]`, the `parent[v]` write
and the append sit in the inner edge loop, so their segments would span the whole iteration. The
edge loop of each frontier vertex becomes HELIX with one segment (the test of `dist[v]`, the
writes and the append, entered on every edge: the may-dependences through `dist[col[e]]` are
real); only the load of `col[e]` runs outside it, and most vertices have a handful of edges, so
expect little from extra cores, while an SMT sibling can still overlap the `col` and `dist`
loads of the next edges.

Inputs: a Kronecker (R-MAT) graph of 2**`scale` vertices and `edge_factor` * 2**`scale`
undirected edges with Graph500's initiator probabilities, vertex ids permuted, self-loops and
duplicates removed, in CSR form; the BFS from a high-degree root run up to the step `level`
(default: the step that discovers the most vertices), whose frontier and distances are the inputs.
"""
import numpy as np


# Expands frontier[0:nfront] by one level; returns (size of the next frontier, edges examined).
def bfs_frontier_step(row_ptr, col, frontier, nfront, level, dist, parent, next_front):
    nnext = 0
    scanned = 0
    for i in range(nfront):
        u = int(frontier[i])
        lo = int(row_ptr[u])
        hi = int(row_ptr[u + 1])
        scanned += hi - lo
        for e in range(lo, hi):
            v = int(col[e])
            if dist[v] < 0:
                dist[v] = level + 1
                parent[v] = u
                next_front[nnext] = v
                nnext += 1
    return nnext, scanned


_SIZES = {"small": {"scale": 10}, "medium": {"scale": 15}, "large": {"scale": 18}}


def _rmat_edges(rng: np.random.Generator, scale: int,
                n_edges: int) -> tuple[np.ndarray, np.ndarray]:
    """Graph500's Kronecker generator: one bit of each endpoint per level, A/B/C = .57/.19/.19."""
    a, b, c = 0.57, 0.19, 0.19
    src = np.zeros(n_edges, dtype=np.int64)
    dst = np.zeros(n_edges, dtype=np.int64)
    ab, c_norm, a_norm = a + b, c / (1 - (a + b)), a / (a + b)
    for bit in range(scale):
        ii = rng.random(n_edges) > ab
        jj = rng.random(n_edges) > np.where(ii, c_norm, a_norm)
        src |= ii.astype(np.int64) << bit
        dst |= jj.astype(np.int64) << bit
    perm = rng.permutation(1 << scale)
    return perm[src], perm[dst]


def _csr(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = src != dst
    s = np.concatenate((src[keep], dst[keep]))
    d = np.concatenate((dst[keep], src[keep]))
    pairs = np.sort(s * n + d)  # by source, then destination
    pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]  # duplicates dropped
    s, d = pairs // n, pairs % n
    row_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(s, minlength=n), out=row_ptr[1:])
    return row_ptr, d.astype(np.int32)


def _levels(row_ptr: np.ndarray, col: np.ndarray, root: int,
            n: int) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """A reference BFS, level by level (lowest frontier position wins a shared neighbour)."""
    dist = np.full(n, -1, dtype=np.int32)
    parent = np.full(n, -1, dtype=np.int32)
    dist[root] = 0
    parent[root] = root
    fronts = [np.array([root], dtype=np.int32)]
    while len(fronts[-1]):
        f = fronts[-1]
        deg = row_ptr[f + 1] - row_ptr[f]
        owner = np.repeat(f, deg)
        first_edge = np.repeat(row_ptr[f] - (np.cumsum(deg) - deg), deg)
        nbr = col[first_edge + np.arange(int(deg.sum()))]
        new = dist[nbr] < 0
        nbr, owner = nbr[new], owner[new]
        first = np.unique(nbr, return_index=True)[1]
        first.sort()  # discovery order: position of the first edge that reaches the vertex
        nxt = nbr[first]
        dist[nxt] = len(fronts)
        parent[nxt] = owner[first]
        fronts.append(nxt.astype(np.int32))
    return dist, parent, fronts[:-1]


def make_inputs(size: str, seed: int, *, scale: int | None = None, edge_factor: int = 16,
                level: int | None = None) -> tuple:
    """Positional args: (row_ptr, col, frontier, nfront, level, dist, parent, next_front)."""
    sc = scale if scale is not None else _SIZES[size]["scale"]
    n = 1 << sc
    rng = np.random.default_rng(seed)
    row_ptr, col = _csr(n, *_rmat_edges(rng, sc, edge_factor * n))
    deg = np.diff(row_ptr)
    root = int(rng.choice(np.argsort(deg)[-16:]))  # Graph500 roots have at least one edge
    dist, parent, fronts = _levels(row_ptr, col, root, n)
    # default: the step that discovers the most vertices (the costliest top-down step)
    step = level if level is not None else int(np.argmax([len(f) for f in fronts[1:]]))
    # the state just before the step: vertices found later are not discovered yet
    later = dist > step
    dist[later] = -1
    parent[later] = -1
    frontier = fronts[step].copy()
    next_front = np.full(n, -1, dtype=np.int32)
    return (row_ptr, col, frontier, len(frontier), step, dist, parent, next_front)
