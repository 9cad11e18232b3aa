"""P6: the affected-nets loop of 175.vpr's placer (`try_swap`), over a batch of proposed moves.

The kernel runs a batch of annealing moves, as VPR's inner placement loop does (thousands per
temperature). Each move swaps block `from` with the block at its target location (an empty location
is a block with no pins) and tentatively updates the two positions. The net loop then visits every
net touching the moved blocks: a net touching both is unaffected and skipped; a small net gets its
bounding box rebuilt by scanning all its pins; a large net gets it updated incrementally from the
old box and per-edge pin counts (falling back to a full scan when the moved pin was alone on an
edge it left). The new box is written to the next free slot, the net's wiring cost is estimated
from the box, and the change in cost is summed. The move is then assessed as in VPR's
`assess_swap`: downhill moves are accepted, an uphill one draws the next number of VPR's linear
congruential generator and is accepted with probability exp(-delta / temp). An accepted move
commits the new boxes, edge counts and costs; a rejected one puts the two blocks back.

Dependence pattern: the move loop is sequential by construction. Every move reads the positions,
boxes, edge counts and net costs the accepted moves before it committed, and the generator state
`seed` is advanced only by uphill moves, so which number a move draws depends on all earlier
decisions. The parallel target is the net loop inside a move. There, only the non-skipped path
carries anything: the slot counter `bbi`, the box writes it indexes and the float sum `delta`
(kept in order for bit-exact results). The `tmp_cost[net]` writes go to distinct nets at run time,
but nothing in the code proves it. Iteration costs vary a lot (2-pin scan vs. rescan of a big net)
and the trip count is small (the nets of two blocks), which caps the gain. The pin scans inside an
iteration are too short to be worth parallelizing.

Inputs: blocks placed on a `grid` x `grid` grid (80% full), each with at most `n_aff // 2` pins,
so a move affects at most `n_aff` nets. The netlist has `n_nets` nets with a heavy-tailed pin
count (mostly 2 to 5 pins, sometimes up to `max_pins`) and pins near their driver. `n_moves`
moves each pick a block and a target within `rlim` of it (with probability `p_both` a block on one
of its nets instead, so that some nets connect both); an empty target is kept with probability
`p_empty_target`, otherwise a nearby block is taken. The moves are given as CSR lists of affected
nets: move m affects aff_net[mv_lo[m]:mv_lo[m + 1]], with moved[k] saying which block each net
follows. Boxes, edge counts and costs start consistent with the placement; the moves are assessed
at temperature `temp` (set per size so that a fair share of uphill moves is accepted).
"""
import math

import numpy as np

FROM = 1  # the net's pin moved with block `from`
TO = 2  # the net's pin moved with the block that was at the target
BOTH = 3  # the net connects both moved blocks: its box cannot change
SMALL = 4  # nets with at most this many pins are always rescanned
INV_CHANX = 1.0  # inverse average channel widths, as in VPR's cost factors
INV_CHANY = 1.0
RAND_A = 1103515245  # VPR's my_irand / my_frand generator: seed = (A * seed + C) mod M
RAND_C = 12345
RAND_M = 2147483648


# Bounding box of a net from its pins' current positions.
def scan_pins_minmax(net, pin_lo, pin_blk, bx, by):
    p0 = pin_lo[net]
    b = int(pin_blk[p0])
    xl = bx[b]
    xh = xl
    yl = by[b]
    yh = yl
    for p in range(p0 + 1, pin_lo[net + 1]):
        b = int(pin_blk[p])
        x = bx[b]
        y = by[b]
        if x < xl:
            xl = x
        elif x > xh:
            xh = x
        if y < yl:
            yl = y
        elif y > yh:
            yh = y
    return xl, xh, yl, yh


# New box of a net whose pin moved from (xold, yold) to (xnew, ynew), from the old box and the
# number of pins on each old edge; rescans when the pin leaves an edge it was alone on.
def update_bbox(net, xold, yold, xnew, ynew, bb, ecnt, pin_lo, pin_blk, bx, by):
    xl = bb[net, 0]
    xh = bb[net, 1]
    yl = bb[net, 2]
    yh = bb[net, 3]
    rescan = False
    if xnew < xold:
        if xold == xh and ecnt[net, 1] == 1:
            rescan = True
        if xnew < xl:
            xl = xnew
    elif xnew > xold:
        if xold == xl and ecnt[net, 0] == 1:
            rescan = True
        if xnew > xh:
            xh = xnew
    if ynew < yold:
        if yold == yh and ecnt[net, 3] == 1:
            rescan = True
        if ynew < yl:
            yl = ynew
    elif ynew > yold:
        if yold == yl and ecnt[net, 2] == 1:
            rescan = True
        if ynew > yh:
            yh = ynew
    if rescan:
        xl, xh, yl, yh = scan_pins_minmax(net, pin_lo, pin_blk, bx, by)
    return xl, xh, yl, yh


# Wiring cost estimate of a box: half perimeter scaled by the expected crossings of a net of
# npins pins.
def wire_cost(npins, xl, xh, yl, yh, cross):
    if npins > 50:
        q = 2.7933 + 0.02616 * (npins - 50)
    else:
        q = cross[npins]
    return q * (float(xh - xl + 1) * INV_CHANX + float(yh - yl + 1) * INV_CHANY)


# Number of pins on an edge of the new box, when only the moved pin changed coordinate (vold to
# vnew): the edge moved outward (only the moved pin is on it) or stayed (count it in and out).
def edge_count(c, old_edge, new_edge, vold, vnew):
    if new_edge != old_edge:
        return 1
    if vold == old_edge:
        c -= 1
    if vnew == old_edge:
        c += 1
    return c


# Pins of a net on each edge of its box, counted from scratch.
def count_edges(net, xl, xh, yl, yh, ecnt, pin_lo, pin_blk, bx, by):
    nxl = 0
    nxh = 0
    nyl = 0
    nyh = 0
    for p in range(pin_lo[net], pin_lo[net + 1]):
        b = int(pin_blk[p])
        if bx[b] == xl:
            nxl += 1
        if bx[b] == xh:
            nxh += 1
        if by[b] == yl:
            nyl += 1
        if by[b] == yh:
            nyh += 1
    ecnt[net, 0] = nxl
    ecnt[net, 1] = nxh
    ecnt[net, 2] = nyl
    ecnt[net, 3] = nyh


# Commit slot j of nb as the box of `net` after an accepted move of its pin from (xold, yold) to
# (xnew, ynew), with its edge counts: incremental, recounted when an edge moved inward.
def commit_bbox(net, j, xold, yold, xnew, ynew, bb, ecnt, nb, pin_lo, pin_blk, bx, by):
    xl = nb[j, 0]
    xh = nb[j, 1]
    yl = nb[j, 2]
    yh = nb[j, 3]
    if xl > bb[net, 0] or xh < bb[net, 1] or yl > bb[net, 2] or yh < bb[net, 3]:
        count_edges(net, xl, xh, yl, yh, ecnt, pin_lo, pin_blk, bx, by)
    else:
        ecnt[net, 0] = edge_count(ecnt[net, 0], bb[net, 0], xl, xold, xnew)
        ecnt[net, 1] = edge_count(ecnt[net, 1], bb[net, 1], xh, xold, xnew)
        ecnt[net, 2] = edge_count(ecnt[net, 2], bb[net, 2], yl, yold, ynew)
        ecnt[net, 3] = edge_count(ecnt[net, 3], bb[net, 3], yh, yold, ynew)
    bb[net, 0] = xl
    bb[net, 1] = xh
    bb[net, 2] = yl
    bb[net, 3] = yh


# Runs the moves in order; returns (accepted moves, total change in wiring cost of the accepted
# moves). Leaves the placement, boxes, edge counts and net costs as the accepted moves made them.
def vpr_affected_nets(mv_from, mv_to, mv_lo, aff_net, moved, pin_lo, pin_blk, bx, by, bb, ecnt,
                      cross, net_cost, tmp_cost, nb, temp, seed):
    n_acc = 0
    dcost = 0.0
    for m in range(len(mv_from)):
        b_from = int(mv_from[m])
        b_to = int(mv_to[m])
        x_from = bx[b_from]
        y_from = by[b_from]
        x_to = bx[b_to]
        y_to = by[b_to]
        bx[b_from] = x_to
        by[b_from] = y_to
        bx[b_to] = x_from
        by[b_to] = y_from
        # the net loop (the parallel target)
        bbi = 0
        delta = 0.0
        for k in range(mv_lo[m], mv_lo[m + 1]):
            net = int(aff_net[k])
            if moved[k] == BOTH:
                continue
            npins = pin_lo[net + 1] - pin_lo[net]
            if npins <= SMALL:
                xl, xh, yl, yh = scan_pins_minmax(net, pin_lo, pin_blk, bx, by)
            elif moved[k] == FROM:
                xl, xh, yl, yh = update_bbox(net, x_from, y_from, x_to, y_to, bb, ecnt, pin_lo,
                                             pin_blk, bx, by)
            else:
                xl, xh, yl, yh = update_bbox(net, x_to, y_to, x_from, y_from, bb, ecnt, pin_lo,
                                             pin_blk, bx, by)
            nb[bbi, 0] = xl
            nb[bbi, 1] = xh
            nb[bbi, 2] = yl
            nb[bbi, 3] = yh
            c = wire_cost(npins, xl, xh, yl, yh, cross)
            tmp_cost[net] = c
            delta += c - net_cost[net]
            bbi += 1
        # assess_swap
        accept = True
        if delta > 0.0:
            seed = (RAND_A * seed + RAND_C) % RAND_M
            accept = float(seed) / RAND_M <= math.exp(-delta / temp)
        if accept:
            j = 0
            for k in range(mv_lo[m], mv_lo[m + 1]):
                if moved[k] == BOTH:
                    continue
                net = int(aff_net[k])
                if moved[k] == FROM:
                    commit_bbox(net, j, x_from, y_from, x_to, y_to, bb, ecnt, nb, pin_lo,
                                pin_blk, bx, by)
                else:
                    commit_bbox(net, j, x_to, y_to, x_from, y_from, bb, ecnt, nb, pin_lo,
                                pin_blk, bx, by)
                net_cost[net] = tmp_cost[net]
                j += 1
            n_acc += 1
            dcost += delta
        else:
            bx[b_from] = x_from
            by[b_from] = y_from
            bx[b_to] = x_to
            by[b_to] = y_to
    return n_acc, dcost


_SIZES = {
    "small": {"n_aff": 10, "grid": 20, "n_nets": 200, "max_pins": 40, "n_moves": 100,
              "temp": 2.0},
    "medium": {"n_aff": 20, "grid": 60, "n_nets": 4000, "max_pins": 300, "n_moves": 3000,
               "temp": 4.0},
    "large": {"n_aff": 60, "grid": 120, "n_nets": 20000, "max_pins": 1000, "n_moves": 30000,
              "temp": 8.0},
}

# VPR's expected-crossing correction for nets of 0..50 pins
_CROSS = [1.0, 1.0, 1.0, 1.0828, 1.1536, 1.2206, 1.2823, 1.3385, 1.3991, 1.4493, 1.4974, 1.5455,
          1.5937, 1.6418, 1.6899, 1.7304, 1.7709, 1.8114, 1.8519, 1.8924, 1.9288, 1.9652, 2.0015,
          2.0379, 2.0743, 2.1061, 2.1379, 2.1698, 2.2016, 2.2334, 2.2646, 2.2958, 2.3271, 2.3583,
          2.3895, 2.4187, 2.4479, 2.4772, 2.5064, 2.5356, 2.5610, 2.5864, 2.6117, 2.6371, 2.6625,
          2.6887, 2.7148, 2.7410, 2.7671, 2.7933, 2.7933]


def _pin_count(rng: np.random.Generator, max_pins: int) -> int:
    """Heavy-tailed net size: mostly 2-5 pins, sometimes a high-fanout net."""
    if rng.random() < 0.85:
        return int(rng.integers(2, 6))
    return int(min(max_pins, 6 + rng.pareto(1.2) * 6))


def make_inputs(size: str, seed: int, *, n_aff: int | None = None, grid: int | None = None,
                n_nets: int | None = None, max_pins: int | None = None,
                n_moves: int | None = None, temp: float | None = None, p_both: float = 0.3,
                p_empty_target: float = 0.2, rlim: int = 6) -> tuple:
    """Positional args: (mv_from, mv_to, mv_lo, aff_net, moved, pin_lo, pin_blk, bx, by, bb, ecnt,
    cross, net_cost, tmp_cost, nb, temp, seed)."""
    cfg = dict(_SIZES[size])
    for key, val in (("n_aff", n_aff), ("grid", grid), ("n_nets", n_nets), ("max_pins", max_pins),
                     ("n_moves", n_moves), ("temp", temp)):
        if val is not None:
            cfg[key] = val
    rng = np.random.default_rng(seed)
    g = cfg["grid"]
    n_blocks = int(g * g * 0.8)
    # every location holds a block; blocks n_blocks.. stand for the empty locations (no pins)
    cells = rng.permutation(g * g)
    bx = (cells % g + 1).astype(np.int64)
    by = (cells // g + 1).astype(np.int64)
    occ = np.empty((g, g), dtype=np.int64)  # block at each location
    occ[bx - 1, by - 1] = np.arange(g * g)
    # nets: a driver and blocks near it (a placement that is already decent), farther out for big
    # nets; a block has at most n_aff // 2 pins
    free = np.zeros(g * g, dtype=np.int64)
    free[:n_blocks] = max(cfg["n_aff"] // 2, 1)
    nets = []
    for _ in range(cfg["n_nets"]):
        npins = _pin_count(rng, cfg["max_pins"])
        drv = int(rng.integers(0, n_blocks))
        for _ in range(100):
            if free[drv] > 0:
                break
            drv = int(rng.integers(0, n_blocks))
        else:
            break  # the blocks' pins are used up
        reach = 8 + int(np.sqrt(npins))
        cx = np.clip(bx[drv] + rng.integers(-reach, reach + 1, size=2 * npins + 8), 1, g)
        cy = np.clip(by[drv] + rng.integers(-reach, reach + 1, size=2 * npins + 8), 1, g)
        cand = occ[cx - 1, cy - 1]
        cand = cand[(cand < n_blocks) & (cand != drv)]
        cand = cand[free[cand] > 0]
        pins = [drv] + list(dict.fromkeys(cand.tolist()))[:npins - 1]
        free[pins] -= 1
        nets.append(pins)
    n_nets_total = len(nets)
    pin_lo = np.concatenate(([0], np.cumsum([len(p) for p in nets]))).astype(np.int64)
    pin_blk = np.concatenate([np.array(p) for p in nets]).astype(np.int32)
    blk_nets = [[] for _ in range(g * g)]
    for i, pins in enumerate(nets):
        for b in pins:
            blk_nets[b].append(i)
    # the moves and the nets each one affects (VPR's find_affected_nets: the nets of `from`,
    # then those of the other block not already listed)
    mv_from = rng.integers(0, n_blocks, size=cfg["n_moves"]).astype(np.int32)
    mv_to = np.zeros(cfg["n_moves"], dtype=np.int32)
    aff_net, moved, mv_lo = [], [], [0]
    for m, a in enumerate(mv_from.tolist()):
        b = -1
        if blk_nets[a] and rng.random() < p_both:
            net = nets[blk_nets[a][int(rng.integers(0, len(blk_nets[a])))]]
            if len(net) > 1:
                b = net[int(rng.integers(0, len(net)))]
                while b == a:
                    b = net[int(rng.integers(0, len(net)))]
        for _ in range(100):
            if b != -1:
                break
            x = int(np.clip(bx[a] + rng.integers(-rlim, rlim + 1), 1, g))
            y = int(np.clip(by[a] + rng.integers(-rlim, rlim + 1), 1, g))
            c = int(occ[x - 1, y - 1])
            if c != a and (c < n_blocks or rng.random() < p_empty_target):
                b = c
        if b == -1:  # nothing suitable within rlim: any other location
            b = (a + 1 + int(rng.integers(0, g * g - 1))) % (g * g)
        mv_to[m] = b
        of_b = set(blk_nets[b])
        for net in blk_nets[a]:
            aff_net.append(net)
            moved.append(BOTH if net in of_b else FROM)
        of_a = set(blk_nets[a])
        for net in blk_nets[b]:
            if net not in of_a:
                aff_net.append(net)
                moved.append(TO)
        mv_lo.append(len(aff_net))
    # boxes, edge counts and costs of the placement
    bb = np.zeros((n_nets_total, 4), dtype=np.int64)
    ecnt = np.zeros((n_nets_total, 4), dtype=np.int64)
    cross = np.array(_CROSS, dtype=np.float64)
    net_cost = np.zeros(n_nets_total, dtype=np.float64)
    for i in range(n_nets_total):
        blk = pin_blk[pin_lo[i]:pin_lo[i + 1]]
        px, py = bx[blk], by[blk]
        box = (px.min(), px.max(), py.min(), py.max())
        bb[i] = box
        ecnt[i] = ((px == box[0]).sum(), (px == box[1]).sum(), (py == box[2]).sum(),
                   (py == box[3]).sum())
        npins = len(px)
        q = 2.7933 + 0.02616 * (npins - 50) if npins > 50 else cross[npins]
        net_cost[i] = q * ((box[1] - box[0] + 1) * INV_CHANX + (box[3] - box[2] + 1) * INV_CHANY)
    mv_lo_arr = np.array(mv_lo, dtype=np.int64)
    tmp_cost = np.zeros(n_nets_total, dtype=np.float64)
    nb = np.zeros((max(int(np.diff(mv_lo_arr).max(initial=0)), 1), 4), dtype=np.int64)
    rand_seed = int(rng.integers(1, RAND_M))
    return (mv_from, mv_to, mv_lo_arr, np.array(aff_net, dtype=np.int32),
            np.array(moved, dtype=np.int8), pin_lo, pin_blk, bx, by, bb, ecnt, cross, net_cost,
            tmp_cost, nb, float(cfg["temp"]), rand_seed)
