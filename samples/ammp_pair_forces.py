"""P10: the non-bonded pair-force loop of 188.ammp (`mm_fv_update_nonbon`), explicit pair sum.

For every atom `a` the inner loop runs over its half neighbour list (partners `b > a`). Bonded
partners are excluded by a short linear search of `a`'s exclusion list. A partner beyond the
cutoff gets the explicit Coulomb + Lennard-Jones energy and force: the energy and the force on `a`
are summed in registers, the reaction force is scattered into `b`'s accumulators. A partner
inside the cutoff is only recorded in `a`'s close list for the (separate) short-range treatment.

Dependence pattern, inner loop (the target): float reductions `vp`, `fx`, `fy`, `fz`; a scatter
into `gx[b]`/`gy[b]`/`gz[b]` that never collides within one atom's list (its partners are
distinct) but cannot be proved so statically; the close-list counter `nc`, carried only on the
close path; an early-exit search. Outer loop: the scatter into `b` collides with later atoms'
own updates, a true dependence, so it must be rejected.

Inputs: `natoms` atoms uniform in a periodic-free box at a density giving `n_nbr` half-list
partners on average, charges, exclusion lists of the `n_excl` nearest partners of each atom, and a
cutoff that puts a fraction `p_close` of the pairs in the close list.
"""
import math

import numpy as np

COULOMB = 332.0716  # kcal mol^-1 A e^-2
A_LJ = 1.0e4  # repulsive r^-12 coefficient
B_LJ = 1.0e2  # attractive r^-6 coefficient


# Energy of a pair at distance r and the force factor f (force vector = f * (dx, dy, dz)).
def pair_terms(qa, qb, r):
    ir = 1.0 / r
    ir2 = ir * ir
    ir6 = ir2 * ir2 * ir2
    ec = COULOMB * qa * qb * ir
    e = ec + A_LJ * ir6 * ir6 - B_LJ * ir6
    f = (ec + 12.0 * A_LJ * ir6 * ir6 - 6.0 * B_LJ * ir6) * ir2
    return e, f


# Accumulates pair energies into vp_out and forces into gx/gy/gz; records close partners.
def ammp_pair_forces(x, y, z, q, nb_lo, nbr, ex_lo, excl, cutoff, gx, gy, gz, vp_out, close, ncl):
    natoms = len(x)
    for a in range(natoms):
        vp = 0.0
        fx = 0.0
        fy = 0.0
        fz = 0.0
        nc = 0
        xa = x[a]
        ya = y[a]
        za = z[a]
        qa = q[a]
        e0 = ex_lo[a]
        e1 = ex_lo[a + 1]
        for t in range(nb_lo[a], nb_lo[a + 1]):
            b = int(nbr[t])
            k = e0
            while k < e1 and excl[k] != b:
                k += 1
            if k < e1:
                continue
            dx = x[b] - xa
            dy = y[b] - ya
            dz = z[b] - za
            r = math.sqrt(dx * dx + dy * dy + dz * dz)
            if r > cutoff:
                e, f = pair_terms(qa, q[b], r)
                vp += e
                fx += f * dx
                fy += f * dy
                fz += f * dz
                gx[b] -= f * dx
                gy[b] -= f * dy
                gz[b] -= f * dz
            else:
                close[a, nc] = b
                nc += 1
        vp_out[a] += vp
        gx[a] += fx
        gy[a] += fy
        gz[a] += fz
        ncl[a] = nc


_SIZES = {
    "small": {"natoms": 80, "n_nbr": 12},
    "medium": {"natoms": 1000, "n_nbr": 40},
    "large": {"natoms": 8000, "n_nbr": 80},
}


def make_inputs(size: str, seed: int, *, natoms: int | None = None, n_nbr: int | None = None,
                n_excl: int = 3, p_close: float = 0.2, density: float = 0.05) -> tuple:
    """Positional args: (x, y, z, q, nb_lo, nbr, ex_lo, excl, cutoff, gx, gy, gz, vp_out, close,
    ncl)."""
    cfg = dict(_SIZES[size])
    if natoms is not None:
        cfg["natoms"] = natoms
    if n_nbr is not None:
        cfg["n_nbr"] = n_nbr
    n, m = cfg["natoms"], cfg["n_nbr"]
    rng = np.random.default_rng(seed)
    side = (n / density) ** (1.0 / 3.0)
    pos = rng.uniform(0.0, side, size=(n, 3))
    q = rng.choice([-0.8, -0.4, 0.1, 0.4, 0.5], size=n) + rng.normal(0.0, 0.05, size=n)
    # list radius: a sphere holding 2 * n_nbr atoms on average (half list keeps b > a)
    r_list = (3.0 * 2 * m / (4.0 * np.pi * density)) ** (1.0 / 3.0)
    cutoff = r_list * p_close ** (1.0 / 3.0)
    nbrs, excls = [], []
    for a in range(n):
        d = np.sqrt(((pos[a + 1:] - pos[a]) ** 2).sum(axis=1))
        inside = np.nonzero(d <= r_list)[0]
        nbrs.append(a + 1 + inside)
        near = inside[np.argsort(d[inside], kind="stable")[:n_excl]]
        excls.append(np.sort(a + 1 + near))
    nb_lo = np.concatenate(([0], np.cumsum([len(v) for v in nbrs]))).astype(np.int64)
    ex_lo = np.concatenate(([0], np.cumsum([len(v) for v in excls]))).astype(np.int64)
    nbr = np.concatenate(nbrs).astype(np.int32)
    excl = np.concatenate(excls).astype(np.int32)
    max_close = 1
    for a in range(n):
        d = np.sqrt(((pos[nbrs[a]] - pos[a]) ** 2).sum(axis=1))
        max_close = max(max_close, int((d <= cutoff).sum()))
    close = np.full((n, max_close), -1, dtype=np.int64)
    z0 = np.zeros(n, dtype=np.float64)
    return (pos[:, 0].copy(), pos[:, 1].copy(), pos[:, 2].copy(), q, nb_lo, nbr, ex_lo, excl,
            float(cutoff), z0.copy(), z0.copy(), z0.copy(), z0.copy(), close,
            np.zeros(n, dtype=np.int64))
