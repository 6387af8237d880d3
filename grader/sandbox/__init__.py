"""The notebook sandbox: hostile code in warm, isolated, resource-limited children.

It knows nothing of grading: it runs code cells, returns the values of the
names asked for as plain JSON data, and calls the functions asked for on
given inputs.  The public API (``Sandbox``, ``Limits``, ``Probe``,
``RunOutcome``, ``run_cells``, ``sandbox_report``) lives in
:mod:`grader.sandbox.pool` and is re-exported here lazily, so the forkserver
and the child, which import modules of this package, never load the
grader-side code.

Modules: ``pool`` (the grader side: workers, runs), ``channel`` (reading a
child's frames, the verdict), ``frames`` (the wire formats and value limits),
``forkserver``, ``child``, ``jail`` (the file-system view), ``limits``,
``cgroup``, ``seccomp``, ``linux`` (system-call wrappers).
"""

from __future__ import annotations

_PUBLIC = ("InfrastructureError", "Limits", "Probe", "RunOutcome", "Sandbox", "run_cells", "sandbox_report")
__all__ = list(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        from grader.sandbox import pool

        return getattr(pool, name)
    raise AttributeError(f"module 'grader.sandbox' has no attribute {name!r}")
