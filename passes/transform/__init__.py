"""Source-to-source transforms that write the parallel form (``docs/parallel-form.md``)."""

from helixrc.passes.transform.helix import TransformResult, transform_source

__all__ = ["TransformResult", "transform_source"]
