"""Source-to-source transforms that write the parallel form (``docs/parallel-form.md``).

One entry point, :func:`transform_source`; the HELIX transform is split by job:

    helix         the pass: plan handling, one rewrite per chosen loop, splice and runtime import
    loop          the parallel form of one loop: segments, brackets, jumps, cells, setup and copy-back
    independence  a plan's ``assume_independent``: the run-time ``independent(...)`` guard
    records       what the modules pass each other: options, segments, refusals
    cst_tools     LibCST helpers and the small transformers the rewrite uses
"""

from helixrc.passes.transform.helix import TransformResult, transform_source

__all__ = ["TransformResult", "transform_source"]
