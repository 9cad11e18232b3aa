"""Host speed of the simulator: simulated instructions per host second of each transformed sample.

Transforms every sample for the machine, skips those left wholly sequential, simulates the
transformed function REPEAT times and writes {kernel: [rates]} as JSON. Run two builds
alternately (each from its own checkout) to compare them side by side on a noisy host:

    python benchmarks/host_speed.py medium helixrc16-smt2 3 new.json
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import helixrc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from simulate_samples import cpython_case, sample_kernels  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    size, machine, repeat, out = argv[0], argv[1], int(argv[2]), argv[3]
    rates: dict[str, list[float]] = {}
    for path, name in sample_kernels(None):
        kernel, args, _ = cpython_case(path, name, size, 1)
        transformed = helixrc.transform(kernel, machine=machine)
        if "HELIX" not in repr(transformed) and "DOALL" not in repr(transformed):
            continue
        for _ in range(max(repeat, 1)):
            result = helixrc.simulate(transformed.function, copy.deepcopy(args), machine)
            rates.setdefault(name, []).append(result.instructions / result.stats["host_seconds"])
        print(f"{name:<26} {max(rates[name]) / 1e6:6.1f} M inst/s (best of {repeat})", flush=True)
    Path(out).write_text(json.dumps(rates, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
