"""P9: the F2 competition of 179.art's ART-2 network (`match`).

Every F2 category neuron that has not been reset for this input computes its activation as the
dot product of the F1 pattern with its column of bottom-up weights; the neuron with the largest
activation wins. The weights are stored row-major by F1 neuron, so one neuron's column is a
strided walk.

Dependence pattern: the outer loop over categories is independent except for an argmax whose
ties go to the lowest index, which gives the same answer in any order if combined with that rule;
the inner loop is a float sum, exact only in sequential order (it pays only if reassociation is
allowed). The outer loop is the target once nf2 reaches the core count. Reset neurons skip the
whole body.

Inputs: an `nf1` x `nf2` float32 weight matrix (small random initial weights plus a few learned
columns), a non-negative normalized F1 pattern, and reset flags with probability `p_reset`. With
`tie` set, the best column is copied to another column so that two categories tie exactly.
"""
import numpy as np


# Returns (win, best): the winning category and its activation; y[j] gets every activation.
def art_f2_match(bu, p, reset, y):
    nf1 = bu.shape[0]
    nf2 = bu.shape[1]
    best = -1.0
    win = -1
    for j in range(nf2):
        if reset[j]:
            continue
        s = 0.0
        for i in range(nf1):
            s += float(bu[i, j]) * p[i]
        y[j] = s
        if s > best:
            best = s
            win = j
    return win, best


_SIZES = {
    "small": {"nf1": 100, "nf2": 16},
    "medium": {"nf1": 4000, "nf2": 64},
    "large": {"nf1": 65_536, "nf2": 64},
}


def make_inputs(size: str, seed: int, *, nf1: int | None = None, nf2: int | None = None,
                p_reset: float = 0.2, n_learned: int = 6, tie: bool = True) -> tuple:
    """Positional args: (bu, p, reset, y)."""
    cfg = dict(_SIZES[size])
    if nf1 is not None:
        cfg["nf1"] = nf1
    if nf2 is not None:
        cfg["nf2"] = nf2
    n1, n2 = cfg["nf1"], cfg["nf2"]
    rng = np.random.default_rng(seed)
    # F1 pattern: a smooth blob image, normalized as F1's output is
    t = np.linspace(0.0, 1.0, n1)
    p = np.maximum(0.0, np.sin(2 * np.pi * (t * rng.uniform(1, 4) + rng.uniform())) + rng.normal(0, 0.3, n1))
    p /= np.sqrt((p * p).sum()) + 1e-12
    # untrained categories: small random weights; learned ones: noisy copies of patterns
    bu = rng.uniform(0.0, 1.0 / (0.8 * np.sqrt(n1)), size=(n1, n2))
    learned = rng.choice(n2, size=min(n_learned, n2), replace=False)
    for j in learned:
        bu[:, j] = np.abs(p * rng.uniform(0.5, 1.0) + rng.normal(0, 0.02, n1))
    bu = bu.astype(np.float32)
    reset = rng.random(n2) < p_reset
    if tie:
        live = np.nonzero(~reset)[0]
        if len(live) >= 2:
            score = (bu[:, live].astype(np.float64) * p[:, None]).sum(axis=0)
            top = live[int(np.argmax(score))]
            other = rng.choice(live[live != top])
            bu[:, other] = bu[:, top]
    y = np.zeros(n2, dtype=np.float64)
    return (bu, p, reset, y)
