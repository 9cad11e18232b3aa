"""Ctrl-C stops a long simulation between slices with KeyboardInterrupt."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

SCRIPT = textwrap.dedent(
    """
    import sys
    from helixrc.csim import binding
    from helixrc.csim.machine import resolve_machine
    from helixrc.csim.opcodes import Opcode
    forever = binding.Program([(Opcode.ADD_I, 0, 0, 0, 1, -1), (Opcode.JMP, 0, 0, -1, -1, -1)], 2)
    config = resolve_machine("atom1", max_instructions=0)   # no budget: only Ctrl-C stops it
    print("running", flush=True)
    try:
        binding.run(forever, [(1, 0)], [], config, slice_steps=200_000)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(3)
    """
)


def test_ctrl_c_interrupts_a_run() -> None:
    # The child imports helixrc the way this process does (the dev shim or an install).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    child = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "running"
        time.sleep(0.5)
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 3 and "interrupted" in out
