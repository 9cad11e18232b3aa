"""L6: scoring a batch of requests with a gradient-boosted decision-tree ensemble (an ads / fraud /
ranking model served on the request path, XGBoost / LightGBM style).

The model is `ntrees` binary trees stored node-wise in flat arrays: an inner node tests
`x[feature] < threshold` and goes left or right; a missing feature (NaN) goes the node's default
way; a leaf (`feat[node] == -1`) holds a weight. A request's margin is the base score plus the
weight of the leaf it reaches in every tree, in tree order; its score is the logistic of the
margin, and the batch counts the requests whose score passes the decision threshold.

Dependence pattern: the hot loop is the tree-descent while loop: each step loads the node's
feature, threshold and children, then the request's feature value, and the next node depends on
the comparison (a pointer chase through data-dependent branches). The tree loop carries the
float sum `margin`, exact only in tree order. Requests are independent: the request loop writes
`score[r]` and carries the int reduction `nflag`.

Why latency-bound: every descent step is a branch on a feature value against a threshold that
sits near the middle of that feature's distribution (about 50/50 and unpredictable), followed by
a load whose address depends on the outcome; the node arrays of a large model do not fit in L1.

Transform: the request loop becomes DOALL (`score[r]` indexed by the loop counter, `nflag` an
int reduction). The tree loop would be DOALL only with its float sum reassociated (the analysis
marks `margin` as needing reassociation), and it is nested in the parallel request loop anyway.
The descent loop is refused (its exit and `node` are carried on every path).

Inputs: `nreq` requests of `nfeat` float32 features (log-normal, normal and small-integer
categorical columns, a fraction `p_missing` NaN), and a model of `ntrees` trees grown to at most
`depth` levels with unbalanced shapes (a node splits with a probability falling with its depth),
feature choice skewed toward a few important features, thresholds at random quantiles between
20% and 80% of a training sample, float32 leaf weights; nodes are stored tree after tree in
breadth-first order, as the model files lay them out.
"""
import math

import numpy as np


# Scores every request: score[r] = logistic(base + sum of its leaf weights). Returns how many
# scores are at least `cut`.
def gbdt_score_batch(x, feat, thr, left, right, default_left, leaf_w, roots, base, cut, score):
    nflag = 0
    for r in range(x.shape[0]):
        margin = base
        for t in range(len(roots)):
            node = int(roots[t])
            while feat[node] >= 0:
                v = float(x[r, feat[node]])
                if v != v:
                    if default_left[node]:
                        node = int(left[node])
                    else:
                        node = int(right[node])
                elif v < float(thr[node]):
                    node = int(left[node])
                else:
                    node = int(right[node])
            margin += float(leaf_w[node])
        s = 1.0 / (1.0 + math.exp(-margin))
        score[r] = s
        if s >= cut:
            nflag += 1
    return nflag


_SIZES = {
    "small": {"nreq": 40, "ntrees": 30, "depth": 6, "nfeat": 24},
    "medium": {"nreq": 400, "ntrees": 300, "depth": 8, "nfeat": 64},
    "large": {"nreq": 1000, "ntrees": 800, "depth": 8, "nfeat": 128},
}


def _features(rng: np.random.Generator, n: int, nfeat: int, p_missing: float) -> np.ndarray:
    kinds = np.arange(nfeat) % 3
    x = np.empty((n, nfeat), dtype=np.float64)
    x[:, kinds == 0] = rng.lognormal(1.0, 1.2, size=(n, int((kinds == 0).sum())))
    x[:, kinds == 1] = rng.normal(0.0, 1.0, size=(n, int((kinds == 1).sum())))
    x[:, kinds == 2] = rng.integers(0, 12, size=(n, int((kinds == 2).sum())))
    x[rng.random((n, nfeat)) < p_missing] = np.nan
    return x.astype(np.float32)


def _grow(rng: np.random.Generator, sample: np.ndarray, depth: int,
          fprob: np.ndarray) -> list[tuple]:
    """One tree, breadth first: (feature, threshold, left, right, default_left, weight) per node,
    children as indices within the tree."""
    nodes: list[list] = [[-1, 0.0, -1, -1, False, 0.0, 0]]  # last field: the node's depth
    i = 0
    while i < len(nodes):
        d = nodes[i][6]
        if d < depth and (d < 2 or rng.random() < 0.9 - 0.08 * d):
            f = int(rng.choice(len(fprob), p=fprob))
            col = sample[:, f]
            col = col[~np.isnan(col)]
            thr = np.float32(np.quantile(col, rng.uniform(0.2, 0.8)))
            nodes[i][:5] = [f, float(thr), len(nodes), len(nodes) + 1, bool(rng.random() < 0.5)]
            nodes.append([-1, 0.0, -1, -1, False, 0.0, d + 1])
            nodes.append([-1, 0.0, -1, -1, False, 0.0, d + 1])
        else:
            nodes[i][5] = float(rng.normal(0.0, 0.1))
        i += 1
    return [tuple(n[:6]) for n in nodes]


def make_inputs(size: str, seed: int, *, nreq: int | None = None, ntrees: int | None = None,
                depth: int | None = None, nfeat: int | None = None,
                p_missing: float = 0.05) -> tuple:
    """Positional args: (x, feat, thr, left, right, default_left, leaf_w, roots, base, cut,
    score)."""
    given = {"nreq": nreq, "ntrees": ntrees, "depth": depth, "nfeat": nfeat}
    cfg = {k: v if v is not None else _SIZES[size][k] for k, v in given.items()}
    rng = np.random.default_rng(seed)
    nf = cfg["nfeat"]
    sample = _features(rng, 2000, nf, p_missing)
    fprob = rng.pareto(1.0, size=nf) + 0.05  # a few features dominate the splits
    fprob /= fprob.sum()
    trees = [_grow(rng, sample, cfg["depth"], fprob) for _ in range(cfg["ntrees"])]
    total = sum(len(t) for t in trees)
    feat = np.empty(total, dtype=np.int32)
    thr = np.empty(total, dtype=np.float32)
    left = np.empty(total, dtype=np.int32)
    right = np.empty(total, dtype=np.int32)
    dleft = np.empty(total, dtype=bool)
    leaf_w = np.empty(total, dtype=np.float32)
    roots = np.empty(len(trees), dtype=np.int32)
    at = 0
    for t, nodes in enumerate(trees):
        roots[t] = at
        for j, (f, th, lc, rc, dl, w) in enumerate(nodes):
            feat[at + j] = f
            thr[at + j] = th
            left[at + j] = at + lc if lc >= 0 else -1
            right[at + j] = at + rc if rc >= 0 else -1
            dleft[at + j] = dl
            leaf_w[at + j] = w
        at += len(nodes)
    x = _features(rng, cfg["nreq"], nf, p_missing)
    score = np.zeros(cfg["nreq"], dtype=np.float64)
    return (x, feat, thr, left, right, dleft, leaf_w, roots, -0.5, 0.5, score)
