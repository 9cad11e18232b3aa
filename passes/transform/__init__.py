"""Source-to-source transforms that write the parallel form (``docs/parallel-form.md``).

One entry point, :func:`transform_source`; the HELIX transform is split by job:

    helix         the pass: plan handling, one rewrite per chosen loop, splice and runtime import
    loop          the parallel form of one loop: segments, brackets, jumps, cells, setup and copy-back
    relic         a loop split into two tasks for the SMT sibling: spawn, the main context's part, join
    relic_statements  two independent runs of statements: the first spawned, the second the continuation
    independence  a plan's ``assume_independent``: the run-time ``independent(...)`` guard
    split         an ``if`` holding code of two segments split in two, guarded by ``int64_arrays(...)``
    records       what the modules pass each other: options, segments, refusals
    cst_tools     LibCST helpers and the small transformers the rewrite uses
"""

from helixrc.passes.transform.helix import TransformResult, loop_legality, transform_source

__all__ = ["TransformResult", "loop_legality", "transform_source"]
