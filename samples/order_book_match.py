"""L5: a limit-order-book matching engine processing a burst of order messages (an exchange's
matching core, one instrument).

The book is a price ladder of `nticks` levels per side; each level holds a FIFO of resting orders
as a doubly linked list (`onext`, `oprev`) with its total quantity; `best[0]` is the best bid tick
(-1 when there is none), `best[1]` the best ask tick (`nticks` when there is none). Each message
is a new limit order (buy or sell, price, quantity) or a cancel of an earlier order. A new order
first trades against the opposite side while its price crosses the best opposite level, oldest
resting order first (price-time priority), recording each fill; when a level empties the best
price moves to the next non-empty tick; what is left of the order rests at its own level. A
cancel unlinks a resting order (and is a no-op when the order already traded away).

Dependence pattern: the hot loop is the message loop, and everything it touches is carried: the
best prices are read and written by nearly every message, each message's matching depends on
what the previous ones left in the book, and the trade cursor `ntr` is carried on the fill path.
Inside, the matching while loop runs zero times (most orders do not cross), once, or several
times (a sweep through levels), and the best-price scan after an emptied level runs for an
unpredictable number of empty ticks. `volume` is an int reduction.

Why latency-bound: message kind, side, whether it crosses, whether a fill empties the resting
order and whether a level empties are all data-dependent branches; the book touches a random
order slot per cancel and fill (pool arrays indexed by order id), and every load of the next
message's work depends on the book state the previous one wrote.

Transform: the message loop becomes HELIX with one segment that holds all the book work and the
trade appends (the book arrays, the best prices and `ntr` merge into it); only the loads of the
message's kind and order id run before it, and `volume` is privatized. So the parallel form is
correct but sequential in effect: a cost model should decline it. The matching loop (HELIX on its
own, four segments around the level it consumes) is nested inside and stays sequential; the
level scans of `next_level` are refused (their exits are carried). This kernel is in the suite
as the honest case with next to no loop-level parallelism: the SMT sibling can only take the
message decoding ahead of the book update, or nothing.

Inputs: a book seeded with `n_rest` resting orders around the mid price (depth falling off away
from the mid), then `n_msgs` messages: new orders with a price offset from a random-walk mid
price (a fraction `p_cross` aggressive enough to cross, a few of them large enough to take several
resting orders) and log-normal sizes, and cancels (`p_cancel`) of earlier orders, mostly recent
ones (quote updates); a cancel that arrives after its order traded away or was already cancelled
is a no-op, as an exchange rejects it.
"""
import numpy as np

BUY = 0
SELL = 1
CANCEL = 2


# The next tick at or beyond `tick` on `side` with resting orders (bids scan down, asks up).
def next_level(head, side, tick, nticks):
    if side == BUY:
        while tick >= 0 and head[BUY, tick] == -1:
            tick -= 1
    else:
        while tick < nticks and head[SELL, tick] == -1:
            tick += 1
    return tick


# Processes the messages in order; trades go to tr_*[0:ntr]. Returns (ntr, traded volume).
def order_book_match(kind, oid, price, qty, head, tail, lvl_qty, onext, oprev, oqty, oprice,
                     oside, best, tr_taker, tr_maker, tr_price, tr_qty):
    nticks = head.shape[1]
    ntr = 0
    volume = 0
    for i in range(len(kind)):
        k = int(kind[i])
        o = int(oid[i])
        if k == CANCEL:
            if oqty[o] > 0:
                side = int(oside[o])
                px = int(oprice[o])
                p = int(oprev[o])
                n = int(onext[o])
                if p == -1:
                    head[side, px] = n
                else:
                    onext[p] = n
                if n == -1:
                    tail[side, px] = p
                else:
                    oprev[n] = p
                lvl_qty[side, px] -= int(oqty[o])
                oqty[o] = 0
                if head[side, px] == -1 and best[side] == px:
                    best[side] = next_level(head, side, px, nticks)
            continue
        side = k
        opp = 1 - side
        px = int(price[i])
        left = int(qty[i])
        while left > 0 and ((side == BUY and best[SELL] <= px)
                            or (side == SELL and best[BUY] >= px)):
            lp = int(best[opp])
            m = int(head[opp, lp])
            fill = min(left, int(oqty[m]))
            tr_taker[ntr] = o
            tr_maker[ntr] = m
            tr_price[ntr] = lp
            tr_qty[ntr] = fill
            ntr += 1
            volume += fill
            left -= fill
            oqty[m] = int(oqty[m]) - fill
            lvl_qty[opp, lp] -= fill
            if oqty[m] == 0:
                n = int(onext[m])
                head[opp, lp] = n
                if n == -1:
                    tail[opp, lp] = -1
                    best[opp] = next_level(head, opp, lp, nticks)
                else:
                    oprev[n] = -1
        if left > 0:
            t = int(tail[side, px])
            oprev[o] = t
            onext[o] = -1
            if t == -1:
                head[side, px] = o
            else:
                onext[t] = o
            tail[side, px] = o
            oqty[o] = left
            oprice[o] = px
            oside[o] = side
            lvl_qty[side, px] += left
            if (side == BUY and px > best[BUY]) or (side == SELL and px < best[SELL]):
                best[side] = px
    return ntr, volume


_SIZES = {
    "small": {"n_rest": 400, "n_msgs": 800, "nticks": 512},
    "medium": {"n_rest": 20_000, "n_msgs": 40_000, "nticks": 4096},
    "large": {"n_rest": 200_000, "n_msgs": 400_000, "nticks": 16_384},
}


def _size(rng: np.random.Generator, n: int, sigma: float = 1.0) -> np.ndarray:
    """Order sizes: log-normal, rounded to lots, at least one."""
    return np.maximum(1, np.round(rng.lognormal(3.0, sigma, size=n))).astype(np.int32)


def make_inputs(size: str, seed: int, *, n_rest: int | None = None, n_msgs: int | None = None,
                nticks: int | None = None, p_cancel: float = 0.4, p_cross: float = 0.15) -> tuple:
    """Positional args: (kind, oid, price, qty, head, tail, lvl_qty, onext, oprev, oqty, oprice,
    oside, best, tr_taker, tr_maker, tr_price, tr_qty)."""
    given = {"n_rest": n_rest, "n_msgs": n_msgs, "nticks": nticks}
    nr, nm, nt = (v if v is not None else _SIZES[size][k] for k, v in given.items())
    rng = np.random.default_rng(seed)
    mid = nt // 2
    n_orders = nr + nm
    # the resting book: bids below the mid, asks at or above mid + 1, depth decaying away
    side0 = (rng.random(nr) < 0.5).astype(np.int64)
    off0 = np.minimum(rng.geometric(0.08, size=nr), nt // 4)
    px0 = np.where(side0 == BUY, mid - off0, mid + off0)
    head = np.full((2, nt), -1, dtype=np.int32)
    tail = np.full((2, nt), -1, dtype=np.int32)
    lvl_qty = np.zeros((2, nt), dtype=np.int64)
    onext = np.full(n_orders, -1, dtype=np.int32)
    oprev = np.full(n_orders, -1, dtype=np.int32)
    oqty = np.zeros(n_orders, dtype=np.int32)
    oprice = np.zeros(n_orders, dtype=np.int32)
    oside = np.zeros(n_orders, dtype=np.int8)
    oqty[:nr] = _size(rng, nr)
    oprice[:nr] = px0
    oside[:nr] = side0
    for o in range(nr):  # FIFO per level in id order
        s, p = int(side0[o]), int(px0[o])
        t = int(tail[s, p])
        oprev[o] = t
        if t == -1:
            head[s, p] = o
        else:
            onext[t] = o
        tail[s, p] = o
        lvl_qty[s, p] += int(oqty[o])
    best = np.array([int(px0[side0 == BUY].max()), int(px0[side0 == SELL].min())], dtype=np.int64)
    # the message stream
    walk = np.clip(mid + np.cumsum(rng.choice([-1, 0, 1], size=nm, p=[0.2, 0.6, 0.2])),
                   nt // 4, 3 * nt // 4)
    kind = np.where(rng.random(nm) < 0.5, BUY, SELL).astype(np.int8)
    cancel = rng.random(nm) < p_cancel
    kind[cancel] = CANCEL
    cross = rng.random(nm) < p_cross
    off = rng.geometric(0.15, size=nm)
    aggressive = rng.geometric(0.3, size=nm)  # how many ticks past the mid a crossing order bids
    sign = np.where(kind == BUY, 1, -1)
    price = np.where(cross, walk + sign * aggressive, walk - sign * off)
    price = np.clip(price, 0, nt - 1).astype(np.int32)
    qty = _size(rng, nm, 1.3)  # incoming orders: a heavier tail (the odd block order)
    oid = np.arange(nr, n_orders, dtype=np.int32)
    # cancels target earlier orders: mostly a recent one (a quote being replaced), else any
    orders = np.concatenate((np.arange(nr), nr + np.nonzero(~cancel)[0]))
    before = nr + np.cumsum(~cancel) - (~cancel)  # orders placed before each message
    recent = np.maximum(0, before - rng.geometric(0.1, size=nm))
    anyone = (rng.random(nm) * before).astype(np.int64)
    target = orders[np.where(rng.random(nm) < 0.7, recent, anyone)]
    oid[cancel] = target[cancel]
    price[cancel] = 0
    qty[cancel] = 0
    n_tr = nr + 2 * nm  # each trade consumes a resting order or ends its taker
    return (kind, oid, price, qty, head, tail, lvl_qty, onext, oprev, oqty, oprice, oside, best,
            np.full(n_tr, -1, dtype=np.int32), np.full(n_tr, -1, dtype=np.int32),
            np.zeros(n_tr, dtype=np.int32), np.zeros(n_tr, dtype=np.int32))
