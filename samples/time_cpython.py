"""Time the sample kernels in plain CPython, to calibrate the input sizes.

    python3 samples/time_cpython.py                       # every kernel, size medium
    python3 samples/time_cpython.py --size large gzip_longest_match mcf_pricing

Each repeat builds fresh inputs (kernels mutate their arrays; input generation is not timed) and
times one kernel call; the median of the repeats is reported, with the input-generation time.
The gzip file holds two kernels; both are timed.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
KERNELS = [
    "gzip_longest_match", "bzip2_mtf", "bzip2_bigram_hist", "mcf_pricing",
    "mcf_refresh_potential", "vpr_affected_nets", "twolf_new_dbox", "parser_memo_probe",
    "art_f2_match", "ammp_pair_forces", "kv_tree_batch_get", "dfa_match_batch", "topk_bm25",
    "hash_join_probe", "huffman_decode", "json_log_scan", "bfs_frontier_step", "order_book_match",
    "gbdt_score_batch",
]
EXTRA = {"gzip_longest_match": ["gzip_longest_match_norej"]}


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"helixrc_sample_{name}", HERE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def time_kernel(mod: ModuleType, kernel: str, size: str, seed: int, repeat: int) -> tuple[float, float]:
    """(median kernel seconds, median input-generation seconds) over `repeat` fresh runs."""
    fn = getattr(mod, kernel)
    runs, gens = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        args = mod.make_inputs(size, seed)
        t1 = time.perf_counter()
        fn(*args)
        t2 = time.perf_counter()
        gens.append(t1 - t0)
        runs.append(t2 - t1)
    return statistics.median(runs), statistics.median(gens)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="sample files (default: all)")
    ap.add_argument("--size", default="medium", choices=["small", "medium", "large"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    opts = ap.parse_args(argv)
    names = opts.names or KERNELS
    unknown = [n for n in names if n not in KERNELS]
    if unknown:
        ap.error(f"unknown sample(s): {', '.join(unknown)}")
    print(f"{'kernel':28s} {'size':6s} {'median s':>10s} {'inputs s':>9s}")
    for name in names:
        mod = load(name)
        for kernel in [name] + EXTRA.get(name, []):
            run_s, gen_s = time_kernel(mod, kernel, opts.size, opts.seed, opts.repeat)
            print(f"{kernel:28s} {opts.size:6s} {run_s:10.4f} {gen_s:9.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
