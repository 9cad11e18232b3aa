"""P6: the affected-nets loop of 175.vpr's placer (`try_swap`).

A proposed move swaps block `from` with whatever sits at the target location. The loop then visits
every net touching the moved block(s): a net touching both is unaffected and skipped; a small net
gets its bounding box rebuilt by scanning all its pins; a large net gets it updated incrementally
from the old box and per-edge pin counts (falling back to a full scan when the moved pin was alone
on an edge it left). The new box is written to the next free slot, the net's wiring cost is
estimated from the box, and the change in cost is summed.

Dependence pattern: only the non-skipped path carries anything: the slot counter `bbi`, the box
writes it indexes and the float sum `delta` (kept in order for bit-exact results). The
`tmp_cost[net]` writes go to distinct nets at run time, but nothing in the code proves it.
Iteration costs vary a lot (2-pin scan vs. rescan of a big net) and the trip count is small, which
caps the gain. The parallel target is this outer loop, not the pin scans inside it.

Inputs: blocks placed on an `nx` x `ny` grid, a netlist whose nets have a heavy-tailed pin count
(mostly 2 to 5 pins, sometimes up to `max_pins`) with pins near their driver, and a swap of two
blocks carrying `n_aff` nets between them, a fraction `p_both` connecting both. Block positions
are already updated to after the move; the old boxes, edge counts and costs are from before it.
"""
import numpy as np

FROM = 1  # the net's pin moved with block `from`
TO = 2  # the net's pin moved with the block that was at the target
BOTH = 3  # the net connects both moved blocks: its box cannot change
SMALL = 4  # nets with at most this many pins are always rescanned
INV_CHANX = 1.0  # inverse average channel widths, as in VPR's cost factors
INV_CHANY = 1.0


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


# Returns (bbi, delta): how many new boxes were written to nb, and the change in wiring cost.
def vpr_affected_nets(aff_net, moved, pin_lo, pin_blk, bx, by, bb, ecnt, x_from, y_from, x_to,
                      y_to, cross, old_cost, tmp_cost, nb):
    bbi = 0
    delta = 0.0
    for k in range(len(aff_net)):
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
        delta += c - old_cost[net]
        bbi += 1
    return bbi, delta


_SIZES = {
    "small": {"n_aff": 10, "grid": 20, "n_nets": 200, "max_pins": 40},
    "medium": {"n_aff": 20, "grid": 60, "n_nets": 4000, "max_pins": 300},
    "large": {"n_aff": 60, "grid": 120, "n_nets": 20000, "max_pins": 1000},
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
                n_nets: int | None = None, max_pins: int | None = None, p_both: float = 0.15,
                p_empty_target: float = 0.2, rlim: int = 6) -> tuple:
    """Positional args: (aff_net, moved, pin_lo, pin_blk, bx, by, bb, ecnt, x_from, y_from, x_to,
    y_to, cross, old_cost, tmp_cost, nb)."""
    cfg = dict(_SIZES[size])
    for key, val in (("n_aff", n_aff), ("grid", grid), ("n_nets", n_nets), ("max_pins", max_pins)):
        if val is not None:
            cfg[key] = val
    rng = np.random.default_rng(seed)
    g = cfg["grid"]
    n_blocks = int(g * g * 0.8)
    cells = rng.permutation(g * g)[:n_blocks]
    bx = (cells % g + 1).astype(np.int64)
    by = (cells // g + 1).astype(np.int64)
    # the move: block 0 goes to a location within rlim; whatever block was there comes back
    occ = np.full((g, g), -1, dtype=np.int64)  # block at each location, before the move
    occ[bx - 1, by - 1] = np.arange(n_blocks)
    b_from = 0
    while True:
        x_to = int(np.clip(bx[b_from] + rng.integers(-rlim, rlim + 1), 1, g))
        y_to = int(np.clip(by[b_from] + rng.integers(-rlim, rlim + 1), 1, g))
        if (x_to, y_to) != (int(bx[b_from]), int(by[b_from])):
            break
    x_from, y_from = int(bx[b_from]), int(by[b_from])
    b_to = int(occ[x_to - 1, y_to - 1])
    if b_to == -1 and rng.random() >= p_empty_target:
        b_to = 1  # pull a block over so that the move is a swap
        occ[bx[1] - 1, by[1] - 1] = -1
        bx[1], by[1] = x_to, y_to
        occ[x_to - 1, y_to - 1] = 1
    # nets: the first n_aff touch the moved blocks, the rest are elsewhere in the netlist
    nets = []
    moved = []
    for k in range(cfg["n_nets"]):
        npins = _pin_count(rng, cfg["max_pins"])
        drv = int(rng.integers(0, n_blocks))
        if k < cfg["n_aff"]:
            if b_to != -1 and rng.random() < p_both:
                own, kind = [b_from, b_to], BOTH
            elif b_to != -1 and rng.random() < 0.5:
                own, kind = [b_to], TO
            else:
                own, kind = [b_from], FROM
            drv = own[0]
            moved.append(kind)
        else:
            own = [drv]
        # other pins: blocks near the driver (a placement that is already decent), farther
        # out for big nets; a moved block sits anywhere in its net's box, often on an edge
        reach = 8 + int(np.sqrt(npins))
        x0, y0 = int(bx[drv]), int(by[drv])
        if k < cfg["n_aff"]:
            x0 += int(rng.integers(-reach, reach + 1))
            y0 += int(rng.integers(-reach, reach + 1))
        cx = np.clip(x0 + rng.integers(-reach, reach + 1, size=2 * npins + 8), 1, g)
        cy = np.clip(y0 + rng.integers(-reach, reach + 1, size=2 * npins + 8), 1, g)
        cand = occ[cx - 1, cy - 1]
        cand = cand[(cand >= 0) & (cand != b_from) & (cand != b_to)]
        others = list(dict.fromkeys(cand.tolist()))
        nets.append(own + others[:max(npins - len(own), 1)])
    order = rng.permutation(cfg["n_nets"])  # affected nets live anywhere in the net array
    nets = [nets[i] for i in order]
    aff_net = np.argsort(order)[:cfg["n_aff"]].astype(np.int32)
    pin_lo = np.concatenate(([0], np.cumsum([len(p) for p in nets]))).astype(np.int64)
    pin_blk = np.concatenate([np.array(p) for p in nets]).astype(np.int32)
    # old boxes and edge counts use the positions before the move
    ox, oy = bx.copy(), by.copy()
    if b_to != -1:
        ox[b_to], oy[b_to] = x_to, y_to
    ox[b_from], oy[b_from] = x_from, y_from
    n_nets_total = len(nets)
    bb = np.zeros((n_nets_total, 4), dtype=np.int64)
    ecnt = np.zeros((n_nets_total, 4), dtype=np.int64)
    cross = np.array(_CROSS, dtype=np.float64)
    old_cost = np.zeros(n_nets_total, dtype=np.float64)
    for i in range(n_nets_total):
        px, py = ox[pin_blk[pin_lo[i]:pin_lo[i + 1]]], oy[pin_blk[pin_lo[i]:pin_lo[i + 1]]]
        box = (px.min(), px.max(), py.min(), py.max())
        bb[i] = box
        ecnt[i] = ((px == box[0]).sum(), (px == box[1]).sum(), (py == box[2]).sum(),
                   (py == box[3]).sum())
        npins = len(px)
        q = 2.7933 + 0.02616 * (npins - 50) if npins > 50 else cross[npins]
        old_cost[i] = q * ((box[1] - box[0] + 1) * INV_CHANX + (box[3] - box[2] + 1) * INV_CHANY)
    # after the move: the blocks are at their new places
    bx[b_from], by[b_from] = x_to, y_to
    if b_to != -1:
        bx[b_to], by[b_to] = x_from, y_from
    moved_arr = np.array(moved, dtype=np.int8)
    tmp_cost = np.zeros(n_nets_total, dtype=np.float64)
    nb = np.zeros((cfg["n_aff"], 4), dtype=np.int64)
    return (aff_net, moved_arr, pin_lo, pin_blk, bx, by, bb, ecnt, x_from, y_from, x_to, y_to,
            cross, old_cost, tmp_cost, nb)
