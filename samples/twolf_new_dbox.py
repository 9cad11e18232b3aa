"""P7: the net-cost delta of a cell move in 300.twolf (`new_dbox_a`), over a batch of moves.

The kernel runs a batch of annealing moves, as TimberWolf's `uloop` does (thousands per
temperature). Each move shifts a cell by `dx`: its pins get their new x and a moved mark, and their
nets are marked for re-costing, with their new centres (`term_newpos`). Then comes the loop of
`new_dbox_a`: it walks the cell's terminal list; a net already handled (reached through an earlier
terminal of the same cell) is skipped by a test-and-clear of its flag; otherwise the inner loop
walks the net's pin list, takes each pin's new x if the pin moved (and clears that mark), and adds
the change of the pin's distance to the net's centre to the cost. The move is accepted if the cost
does not rise, or else with probability exp(-cost / temp), drawing the next number of a linear
congruential generator (TimberWolf's `acceptt`). An accepted move commits the pins' positions and
the nets' centres; a rejected one leaves them (the loop has already cleared every mark).

Dependence pattern: the move loop is sequential by construction. Every move reads the pin
positions and net centres the accepted moves before it committed, and the generator state `seed`
is advanced only by uphill moves, so which number a move draws depends on all earlier decisions.
The parallel target is the terminal loop inside a move: its `t = term_next[t]` is a list walk
carried on every iteration; the test-and-clear of `dflag[net]` conflicts only when two terminals
share a net (`p_share`); the pin-flag clears cannot be proved disjoint across nets; `cost` is an
int reduction (a pointer argument in the original). Its iterations differ a lot in cost (a skipped
terminal vs. a 30-pin net), and both it and the pin loop are short: only the terminal loop is worth
anything.

Inputs: a netlist of `n_nets` nets of `pins_lo`..`pins_hi` pins each, stored as linked lists of
pins in random memory order, dealt to cells of 2 to `n_terms` terminals each; a terminal lands on a
net of an earlier terminal of its cell with probability `p_share` (adding a pin to that net). Cells sit at random x in a row of
`width`, their pins a few units apart. `n_moves` moves each shift a random cell by up to `max_dx`
either way (mv_cell[m], mv_dx[m]), assessed at temperature `temp` (set per size so that a fair
share of uphill moves is accepted). Every flag starts clear; the centres start consistent with the
positions.
"""
import math

import numpy as np

RAND_A = 1103515245  # seed = (A * seed + C) mod M, and seed / M is uniform in [0, 1)
RAND_C = 12345
RAND_M = 2147483648


# Runs the moves in order; returns (accepted moves, total change in cost of the accepted moves).
# Leaves the pin positions, net sums and centres as the accepted moves made them, every flag clear.
def twolf_new_dbox(mv_cell, mv_dx, first_term, term_net, term_pin, term_next, dflag, net_first,
                   pin_next, pflag, x, new_x, npin, net_sum, new_sum, old_mean, new_mean, temp,
                   seed):
    n_acc = 0
    total = 0
    for m in range(len(mv_cell)):
        cell = int(mv_cell[m])
        dx = int(mv_dx[m])
        # term_newpos: mark the cell's pins moved, their nets to be re-costed, with new centres
        t = first_term[cell]
        while t != -1:
            net = int(term_net[t])
            p = term_pin[t]
            pflag[p] = True
            new_x[p] = x[p] + dx
            if dflag[net] == 0:
                dflag[net] = 1
                new_sum[net] = net_sum[net]
            new_sum[net] += dx
            new_mean[net] = new_sum[net] // npin[net]
            t = term_next[t]
        # new_dbox_a (the parallel target)
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
        # acceptt
        accept = True
        if cost > 0:
            seed = (RAND_A * seed + RAND_C) % RAND_M
            accept = float(seed) / RAND_M <= math.exp(-float(cost) / temp)
        if accept:
            t = first_term[cell]
            while t != -1:
                net = int(term_net[t])
                p = term_pin[t]
                x[p] = new_x[p]
                net_sum[net] = new_sum[net]
                old_mean[net] = new_mean[net]
                t = term_next[t]
            n_acc += 1
            total += cost
    return n_acc, total


_SIZES = {
    "small": {"n_terms": 8, "pins_hi": 10, "n_nets": 300, "n_moves": 100, "temp": 200.0},
    "medium": {"n_terms": 30, "pins_hi": 30, "n_nets": 5000, "n_moves": 600, "temp": 800.0},
    "large": {"n_terms": 200, "pins_hi": 60, "n_nets": 50000, "n_moves": 600, "temp": 3000.0},
}


def make_inputs(size: str, seed: int, *, n_terms: int | None = None, pins_lo: int = 2,
                pins_hi: int | None = None, n_nets: int | None = None,
                n_moves: int | None = None, p_share: float = 0.25, width: int = 4000,
                max_dx: int = 200, temp: float | None = None) -> tuple:
    """Positional args: (mv_cell, mv_dx, first_term, term_net, term_pin, term_next, dflag,
    net_first, pin_next, pflag, x, new_x, npin, net_sum, new_sum, old_mean, new_mean, temp,
    seed)."""
    cfg = dict(_SIZES[size])
    for key, val in (("n_terms", n_terms), ("pins_hi", pins_hi), ("n_nets", n_nets),
                     ("n_moves", n_moves), ("temp", temp)):
        if val is not None:
            cfg[key] = val
    rng = np.random.default_rng(seed)
    n_nets, hi = cfg["n_nets"], max(cfg["n_terms"], 2)
    # pins per net, dealt in random order to the cells' terminals: cell c gets the terminals
    # cell_lo[c]..cell_lo[c + 1]; a terminal after a cell's first may instead (p_share) take a
    # net of an earlier terminal of the cell, adding a pin to that net
    sizes = rng.integers(pins_lo, cfg["pins_hi"] + 1, size=n_nets)
    pool = rng.permutation(np.repeat(np.arange(n_nets), sizes))
    nt = rng.integers(2, hi + 1, size=len(pool) // 2 + 1)
    share = rng.random(2 * len(pool) + 2 * hi) < p_share
    term_net_l, cell_lo, used = [], [0], 0
    for c_nt in nt.tolist():
        if used >= len(pool):
            break
        start = len(term_net_l)
        for i in range(c_nt):
            if i > 0 and share[len(term_net_l) % len(share)]:
                term_net_l.append(term_net_l[start + int(rng.integers(0, i))])
            elif used < len(pool):
                term_net_l.append(int(pool[used]))
                used += 1
        cell_lo.append(len(term_net_l))
    n_cells = len(cell_lo) - 1
    n_terms_total = len(term_net_l)
    tnet = np.array(term_net_l, dtype=np.int64)
    npin = np.bincount(tnet, minlength=n_nets).astype(np.int64)
    # a net without terminals keeps one free pin of its own, so every net has pins
    npin = np.maximum(npin, 1)
    total = int(npin.sum())
    # pins are stored in random order; each net's list links its pins in the order they come
    order = np.argsort(np.concatenate((tnet, np.nonzero(np.bincount(tnet, minlength=n_nets)
                                                              == 0)[0])), kind="stable")
    slot = rng.permutation(total)  # memory slot of the k-th pin in net order
    pin_of = np.empty(total, dtype=np.int64)
    pin_of[order] = slot  # pin slot of each terminal (then of each free pin)
    pin_net = np.repeat(np.arange(n_nets), npin)
    starts = np.concatenate(([0], np.cumsum(npin)[:-1]))
    first_of_net = np.zeros(total, dtype=bool)
    first_of_net[starts] = True
    net_first = np.full(n_nets, -1, dtype=np.int64)
    net_first[pin_net[first_of_net]] = slot[first_of_net]
    link = ~np.concatenate((first_of_net[1:], [True]))  # pin k links to pin k + 1 of its net
    pin_next = np.full(total, -1, dtype=np.int64)
    pin_next[slot[:-1][link[:-1]]] = slot[1:][link[:-1]]
    # positions: cells at random x, their pins a few units apart
    cell_x = rng.integers(0, width, size=n_cells)
    x = np.zeros(total, dtype=np.int64)
    x[pin_of[n_terms_total:]] = rng.integers(0, width, size=total - n_terms_total)
    term_cell = np.repeat(np.arange(n_cells), np.diff(cell_lo))
    x[pin_of[:n_terms_total]] = cell_x[term_cell] + rng.integers(0, 12, size=n_terms_total)
    # each cell's terminal list, in random memory order
    tslot = rng.permutation(n_terms_total)  # memory slot of the k-th terminal in cell order
    term_net = np.zeros(n_terms_total, dtype=np.int32)
    term_pin = np.zeros(n_terms_total, dtype=np.int64)
    term_next = np.full(n_terms_total, -1, dtype=np.int64)
    term_net[tslot] = tnet
    term_pin[tslot] = pin_of[:n_terms_total]
    last = np.zeros(n_terms_total, dtype=bool)
    last[np.array(cell_lo[1:]) - 1] = True
    term_next[tslot[~last]] = tslot[1:][~last[:-1]]
    first_term = tslot[np.array(cell_lo[:-1])].astype(np.int64)
    # net sums and centres
    net_sum = np.bincount(pin_net, weights=x[slot], minlength=n_nets).astype(np.int64)
    old_mean = net_sum // npin
    # the moves: a random cell, shifted by 1..max_dx either way
    mv_cell = rng.integers(0, n_cells, size=cfg["n_moves"]).astype(np.int32)
    mv_dx = (rng.integers(1, max_dx + 1, size=cfg["n_moves"])
             * rng.choice([-1, 1], size=cfg["n_moves"])).astype(np.int32)
    dflag = np.zeros(n_nets, dtype=np.int8)
    pflag = np.zeros(total, dtype=bool)
    rand_seed = int(rng.integers(1, RAND_M))
    return (mv_cell, mv_dx, first_term, term_net, term_pin, term_next, dflag, net_first, pin_next,
            pflag, x, x.copy(), npin, net_sum, net_sum.copy(), old_mean, old_mean.copy(),
            float(cfg["temp"]), rand_seed)
