"""L1: the probe side of an in-memory hash join (a foreign-key join in an OLTP / analytics query).

The build side (say, a products table) was loaded into an open-addressing table with linear
probing: `tkey[slot]` holds a key or EMPTY, `tval[slot]` its payload (a price). Each outer row (an
order line) hashes its foreign key, walks the probe sequence until it finds the key or an empty
slot, and on a match appends the pair (outer row, payload) to the join output and adds price *
quantity to the query's revenue.

Dependence pattern: the hot loop is the loop over outer rows; its iterations are independent
except for the output cursor `nout` and the `out_row[nout]`/`out_val[nout]` writes (an ordered
append, carried on the match path only) and the int reduction `revenue`. The probe is a while
loop of data-dependent length (1 slot usually, up to tens in a cluster at high load).

Why latency-bound: each probe's first load lands on a random slot of a table much larger than
the caches (one DRAM miss per row at `large`), the loop's exit branch is taken after an
unpredictable number of slots, and whether a row matches is a coin flip (`p_match`).

Transform: the outer loop becomes HELIX with one segment holding `nout` and the two appends,
entered on the match path only; `revenue` is privatized as an int reduction. The probe loop is
refused on its own (its exit and `h` are carried on every path) and stays inside the parallel
body.

Inputs: `n_build` distinct keys below 2**31 in the smallest power-of-two table holding them at
load `load` or less (so filled to between `load` / 2 and `load`, as a growing table is);
`n_probe` outer rows whose keys are build keys with probability `p_match` (Zipf-skewed
popularity, knob `skew`), other keys otherwise; int32 payloads, int16 quantities.
"""
import numpy as np

EMPTY = -1


# Joins every outer row with the build table; returns (number of output pairs, revenue).
def hash_join_probe(okey, oqty, tkey, tval, out_row, out_val):
    mask = len(tkey) - 1
    nout = 0
    revenue = 0
    for r in range(len(okey)):
        key = okey[r]
        h = (((key * 0x9E3779B1) & 0xFFFFFFFF) >> 6) & mask
        while tkey[h] != key and tkey[h] != EMPTY:
            h = (h + 1) & mask
        if tkey[h] == key:
            out_row[nout] = r
            out_val[nout] = int(tval[h])
            nout += 1
            revenue += int(tval[h]) * int(oqty[r])
    return nout, revenue


_SIZES = {
    "small": {"n_build": 3000, "n_probe": 600},
    "medium": {"n_build": 200_000, "n_probe": 20_000},
    "large": {"n_build": 2_000_000, "n_probe": 150_000},
}


def _slot(key: np.ndarray, mask: int) -> np.ndarray:
    return (((key * 0x9E3779B1) & 0xFFFFFFFF) >> 6) & mask


def make_inputs(size: str, seed: int, *, n_build: int | None = None, n_probe: int | None = None,
                load: float = 0.7, p_match: float = 0.8, skew: float = 1.1) -> tuple:
    """Positional args: (okey, oqty, tkey, tval, out_row, out_val)."""
    nb = n_build if n_build is not None else _SIZES[size]["n_build"]
    npr = n_probe if n_probe is not None else _SIZES[size]["n_probe"]
    rng = np.random.default_rng(seed)
    keys = np.unique(rng.integers(0, 1 << 31, size=nb + nb // 4 + 16))
    keys = keys[rng.permutation(len(keys))]
    build, spare = keys[:nb], keys[nb:]  # spare keys are never in the table: guaranteed misses
    cap = 1 << max(4, int(np.ceil(np.log2(nb / load))))
    mask = cap - 1
    tkey = np.full(cap, EMPTY, dtype=np.int64)
    tval = np.zeros(cap, dtype=np.int32)
    vals = rng.integers(100, 100_000, size=nb).astype(np.int32)  # prices in cents
    # Insert in rounds: every key whose current slot is free and that is the first to want it
    # takes it, the others move one slot on (the same table a one-by-one linear-probing build
    # makes, up to the order of the keys within a cluster).
    pos = _slot(build, mask)
    todo = np.arange(nb)
    while len(todo):
        free = tkey[pos[todo]] == EMPTY
        cand = todo[free]
        _, first = np.unique(pos[cand], return_index=True)
        won = cand[first]
        tkey[pos[won]] = build[won]
        tval[pos[won]] = vals[won]
        rest = np.setdiff1d(todo, won, assume_unique=True)
        pos[rest] = (pos[rest] + 1) & mask
        todo = rest
    # Outer rows: popular products are ordered more often (Zipf ranks over a shuffled catalog).
    rank = (rng.zipf(skew, size=npr) - 1) % nb
    okey = build[rank].copy()
    miss = rng.random(npr) >= p_match
    okey[miss] = spare[rng.integers(0, len(spare), size=int(miss.sum()))]
    oqty = rng.integers(1, 20, size=npr).astype(np.int16)
    out_row = np.full(npr, -1, dtype=np.int32)
    out_val = np.zeros(npr, dtype=np.int32)
    return (okey, oqty, tkey, tval, out_row, out_val)
