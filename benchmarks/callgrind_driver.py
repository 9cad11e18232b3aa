"""Simulate the transformed samples on one machine at one size, for a host profiler.

Run under callgrind collecting only the C core, whose instruction counts repeat from run to run on
a loaded host (unlike timings), to compare two builds of the simulator:

    valgrind --tool=callgrind --toggle-collect=csim_run python benchmarks/callgrind_driver.py \\
        medium helixrc16-smt2 mcf_pricing kv_tree_batch_get
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import helixrc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from simulate_samples import cpython_case, sample_kernels  # noqa: E402


def main(argv: list[str]) -> int:
    size, machine, names = argv[0], argv[1], argv[2:]
    config = helixrc.resolve_machine(machine)
    for path, name in sample_kernels(names or None):
        kernel, args, _ = cpython_case(path, name, size, 1)
        result = helixrc.simulate(helixrc.transform(kernel, machine=config).function, copy.deepcopy(args), config)
        print(name, result.cycles, result.instructions, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
