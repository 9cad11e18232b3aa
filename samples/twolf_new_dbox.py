"""P7: the net-cost delta of a cell move in 300.twolf (`new_dbox_a`).

When a cell moves, every net reached through one of its terminals must be re-costed. The outer
loop walks the cell's terminal list; a net already handled (reached through an earlier terminal of
the same cell) is skipped by a test-and-clear of its flag; otherwise the inner loop walks the net's
pin list, takes each pin's new x if the pin moved (and clears that mark), and adds the change of
the pin's distance to the net's centre to the cost.

Dependence pattern: the outer loop's `t = term_next[t]` is a list walk carried on every
iteration; the test-and-clear of `dflag[net]` conflicts only when two terminals share a net
(`p_share`); the pin-flag clears cannot be proved disjoint across nets; `cost` is an int
reduction (a pointer argument in the original). Outer iterations differ a lot in cost (a skipped
terminal vs. a 30-pin net), and both loops are short: only the outer one is worth anything.

Inputs: a netlist whose nets are linked lists of pins stored in random memory order, and a cell
with `n_terms` terminals, each on its own net except that with probability `p_share` it lands on a
net of an earlier terminal; nets have `pins_lo`..`pins_hi` pins. The cell's pins are flagged as
moved with their new x (the cell moved by up to `max_dx`); the old and new net centres are given.
"""
import numpy as np


# Returns the change in cost of the nets of `cell` (flags are cleared as they are consumed).
def twolf_new_dbox(cell, first_term, term_net, term_next, dflag, net_first, pin_next, pflag, x,
                   new_x, old_mean, new_mean):
    cost = 0
    t = first_term[cell]
    while t != -1:
        net = int(term_net[t])
        if dflag[net] != 0:
            dflag[net] = 0
            p = net_first[net]
            while p != -1:
                if pflag[p]:
                    nx = new_x[p]
                else:
                    nx = x[p]
                pflag[p] = False
                cost += abs(nx - new_mean[net]) - abs(x[p] - old_mean[net])
                p = pin_next[p]
        t = term_next[t]
    return cost


_SIZES = {
    "small": {"n_terms": 8, "pins_hi": 10, "n_nets": 300},
    "medium": {"n_terms": 30, "pins_hi": 30, "n_nets": 5000},
    "large": {"n_terms": 200, "pins_hi": 60, "n_nets": 50000},
}


def make_inputs(size: str, seed: int, *, n_terms: int | None = None, pins_lo: int = 2,
                pins_hi: int | None = None, n_nets: int | None = None, p_share: float = 0.25,
                width: int = 4000, max_dx: int = 200) -> tuple:
    """Positional args: (cell, first_term, term_net, term_next, dflag, net_first, pin_next, pflag,
    x, new_x, old_mean, new_mean)."""
    cfg = dict(_SIZES[size])
    for key, val in (("n_terms", n_terms), ("pins_hi", pins_hi), ("n_nets", n_nets)):
        if val is not None:
            cfg[key] = val
    rng = np.random.default_rng(seed)
    nt, n_nets = cfg["n_terms"], max(cfg["n_nets"], cfg["n_terms"] + 1)
    n_cells = max(n_nets // 2, 2)
    cell = int(rng.integers(0, n_cells))
    # the moving cell's terminals: own nets, or (p_share) a net of an earlier terminal
    cell_nets = rng.choice(n_nets, size=nt, replace=False)
    for i in range(1, nt):
        if rng.random() < p_share:
            cell_nets[i] = cell_nets[rng.integers(0, i)]
    # pins per net; nets of the cell get one pin per terminal on them, plus others
    npins = rng.integers(pins_lo, cfg["pins_hi"] + 1, size=n_nets)
    own = np.bincount(cell_nets, minlength=n_nets)
    npins = np.maximum(npins, own + 1)
    total = int(npins.sum())
    pin_net = np.repeat(np.arange(n_nets), npins)
    # pins are stored in random order; each net's list links its pins in that order
    slot = rng.permutation(total)
    pin_next = np.full(total, -1, dtype=np.int64)
    net_first = np.full(n_nets, -1, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(npins)[:-1]))
    first_of_net = np.zeros(total, dtype=bool)
    first_of_net[starts] = True
    net_first[pin_net[first_of_net]] = slot[first_of_net]
    link = ~np.concatenate((first_of_net[1:], [True]))  # pin k links to pin k + 1 of its net
    pin_next[slot[:-1][link[:-1]]] = slot[1:][link[:-1]]
    x = np.zeros(total, dtype=np.int64)
    x[slot] = rng.integers(0, width, size=total)
    # the cell's pins are the first pins of its nets' lists (one per terminal); they move by dx
    dx = int(rng.integers(1, max_dx + 1)) * int(rng.choice([-1, 1]))
    pflag = np.zeros(total, dtype=bool)
    new_x = x.copy()
    used = np.zeros(n_nets, dtype=np.int64)
    term_pin = np.zeros(nt, dtype=np.int64)
    for i, net in enumerate(cell_nets.tolist()):
        p = slot[starts[net] + used[net]]
        used[net] += 1
        term_pin[i] = p
        pflag[p] = True
        new_x[p] = x[p] + dx
    # old and new centres of every net
    sums_old = np.bincount(pin_net, weights=x[slot], minlength=n_nets)
    sums_new = np.bincount(pin_net, weights=new_x[slot], minlength=n_nets)
    old_mean = (sums_old // npins).astype(np.int64)
    new_mean = (sums_new // npins).astype(np.int64)
    # terminals of all cells; the moving cell's terminal list is in random memory order
    n_terms_total = n_cells * 4 + nt
    term_net = rng.integers(0, n_nets, size=n_terms_total).astype(np.int32)
    term_next = np.full(n_terms_total, -1, dtype=np.int64)
    tslots = rng.choice(n_terms_total, size=nt, replace=False)
    term_net[tslots] = cell_nets
    term_next[tslots[:-1]] = tslots[1:]
    first_term = np.full(n_cells, -1, dtype=np.int64)
    first_term[cell] = tslots[0]
    dflag = np.zeros(n_nets, dtype=np.int8)
    dflag[cell_nets] = 1
    return (cell, first_term, term_net, term_next, dflag, net_first, pin_next, pflag, x, new_x,
            old_mean, new_mean)
