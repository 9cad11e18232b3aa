"""P11: a batch of GETs on an in-memory B+-tree, as in masstree / silo (TailBench).

Each query descends from the root: in an interior node it scans the separator keys to pick a
child, in the leaf it scans for the first key not below the query key, and it reports the value
on an exact match or -1 on a miss.

Dependence pattern: queries are independent; the only carried state is the int reduction `found`
(the per-query output slot is indexed by the loop counter). The inner loops are while loops with
data-dependent exits, and the descent is a chain of dependent, cache-missing loads, so each query
is long and latency-bound: the textbook case for spreading iterations and for SMT.

Inputs: a real B+-tree bulk-loaded from `n_keys` random distinct keys, with nodes filled between
half and full (`fanout` keys per node at most), stored in randomly permuted node slots; `nq`
queries of which a fraction `p_hit` are present keys.
"""
import numpy as np


# Looks up every qkey[q]; out[q] gets the value or -1. Returns how many keys were found.
def kv_tree_batch_get(root, leaf, nkeys, sep, kid, lkey, lval, qkey, out):
    found = 0
    for q in range(len(qkey)):
        node = root
        key = qkey[q]
        while not leaf[node]:
            k = 0
            while k < nkeys[node] and key >= sep[node, k]:
                k += 1
            node = int(kid[node, k])
        k = 0
        while k < nkeys[node] and lkey[node, k] < key:
            k += 1
        if k < nkeys[node] and lkey[node, k] == key:
            out[q] = lval[node, k]
            found += 1
        else:
            out[q] = -1
    return found


_SIZES = {
    "small": {"n_keys": 3000, "fanout": 8, "nq": 200},
    "medium": {"n_keys": 200_000, "fanout": 16, "nq": 8000},
    "large": {"n_keys": 2_000_000, "fanout": 16, "nq": 200_000},
}

_PAD = np.iinfo(np.int64).max


def _split(rng: np.random.Generator, total: int, lo: int, hi: int) -> list[int]:
    """Sizes in [lo, hi] summing to total (total >= lo), as a bulk load with random fill gives."""
    sizes = []
    left = total
    while left > 0:
        if left <= hi:
            sizes.append(left)
            break
        s = int(rng.integers(lo, hi + 1))
        if left - s < lo:  # keep the remainder legal
            s = left - lo if left - lo >= lo else left
            s = min(s, hi)
        sizes.append(s)
        left -= s
    return sizes


def make_inputs(size: str, seed: int, *, n_keys: int | None = None, fanout: int | None = None,
                nq: int | None = None, p_hit: float = 0.7) -> tuple:
    """Positional args: (root, leaf, nkeys, sep, kid, lkey, lval, qkey, out)."""
    cfg = dict(_SIZES[size])
    for key, val in (("n_keys", n_keys), ("fanout", fanout), ("nq", nq)):
        if val is not None:
            cfg[key] = val
    n, f, nq = cfg["n_keys"], cfg["fanout"], cfg["nq"]
    rng = np.random.default_rng(seed)
    keys = np.unique(rng.integers(0, 1 << 40, size=n + n // 8 + 16))[:n]
    keys = keys[rng.permutation(len(keys))][:n]
    keys.sort()
    vals = rng.integers(0, 1 << 40, size=n)
    # levels[0] = leaves, each node as (first key index, key count) / (child list)
    nodes_keys: list[np.ndarray] = []
    nodes_vals: list[np.ndarray] = []
    nodes_kids: list[list[int]] = []
    nodes_leaf: list[bool] = []
    level: list[int] = []  # node ids of the current level, left to right
    low: list[int] = []  # smallest key under each node of the current level
    start = 0
    for s in _split(rng, n, (f + 1) // 2, f):
        nodes_keys.append(keys[start:start + s])
        nodes_vals.append(vals[start:start + s])
        nodes_kids.append([])
        nodes_leaf.append(True)
        level.append(len(nodes_leaf) - 1)
        low.append(int(keys[start]))
        start += s
    while len(level) > 1:
        nxt, nlow = [], []
        start = 0
        for s in _split(rng, len(level), min((f + 2) // 2, len(level)), f + 1):
            ch = level[start:start + s]
            nodes_keys.append(np.array(low[start + 1:start + s], dtype=np.int64))
            nodes_vals.append(np.zeros(0, dtype=np.int64))
            nodes_kids.append(ch)
            nodes_leaf.append(False)
            nxt.append(len(nodes_leaf) - 1)
            nlow.append(low[start])
            start += s
        level, low = nxt, nlow
    total = len(nodes_leaf)
    slot = rng.permutation(total)  # node id -> storage slot
    leaf = np.zeros(total, dtype=bool)
    nkeys = np.zeros(total, dtype=np.int16)
    sep = np.full((total, f), _PAD, dtype=np.int64)
    kid = np.full((total, f + 1), -1, dtype=np.int32)
    lkey = np.full((total, f), _PAD, dtype=np.int64)
    lval = np.zeros((total, f), dtype=np.int64)
    for i in range(total):
        s = slot[i]
        leaf[s] = nodes_leaf[i]
        nk = len(nodes_keys[i])
        nkeys[s] = nk
        if nodes_leaf[i]:
            lkey[s, :nk] = nodes_keys[i]
            lval[s, :nk] = nodes_vals[i]
        else:
            sep[s, :nk] = nodes_keys[i]
            kid[s, :nk + 1] = slot[nodes_kids[i]]
    root = int(slot[level[0]])
    # queries: present keys and absent ones
    hit = rng.random(nq) < p_hit
    qkey = np.empty(nq, dtype=np.int64)
    qkey[hit] = keys[rng.integers(0, n, size=int(hit.sum()))]
    miss = rng.integers(0, 1 << 40, size=int((~hit).sum()))
    present = np.isin(miss, keys)
    while present.any():
        miss[present] = rng.integers(0, 1 << 40, size=int(present.sum()))
        present = np.isin(miss, keys)
    qkey[~hit] = miss
    out = np.zeros(nq, dtype=np.int64)
    return (root, leaf, nkeys, sep, kid, lkey, lval, qkey, out)
