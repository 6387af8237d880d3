"""Before any grading: prove that the jail imports what students use, or refuse with one sentence.

A grader whose jail cannot see its own Python environment would score every
correct notebook that imports sympy as "no answer": the worst failure it
can have, because it blames the student. :func:`self_check` runs a tiny
notebook in the sandbox that imports numpy, ``numpy.random``, sympy,
matplotlib (Agg; a contour plot saved as PNG and SVG under ``/tmp``), scipy
when the grader's Python has it, and every package the course declares for
its kernels (``kernel: packages:`` in ``course.yaml``). Any failure raises
:class:`JailBroken`, whose message names what the jail cannot see and why.
"""

from __future__ import annotations

import importlib.util
import json
import re
import textwrap
from collections.abc import Iterable
from typing import Any

REQUIRED = ("numpy", "numpy.random", "sympy", "matplotlib", "matplotlib.pyplot")
OPTIONAL = ("scipy", "scipy.optimize", "contourpy")  # checked where the grader's own Python has them
MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
RESULT = "grader_self_check_problems"

PLOT = """
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
figure = plt.figure()
X, Y = np.meshgrid(np.linspace(-1, 1, 9), np.linspace(-1, 1, 9))
plt.contour(X, Y, X**2 + 10 * Y**2)
figure.savefig("/tmp/grader-self-check.png")
figure.savefig("/tmp/grader-self-check.svg")
plt.close(figure)
"""


class JailBroken(RuntimeError):
    """The sandbox cannot run what a correct notebook needs; nothing may be graded with it."""


def grader_has(module: str) -> bool:
    """Whether the grader's own Python can import top-level ``module`` (found, not imported)."""
    top = module.split(".")[0]
    if not MODULE_NAME.match(top) or top == "grader":
        return False
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def modules_to_check(declared: Iterable[str] = ()) -> list[str]:
    """The modules the self-check imports: the required ones, the optional ones present, the course's."""
    names = [*REQUIRED, *(m for m in OPTIONAL if grader_has(m)), *declared]
    return list(dict.fromkeys(n for n in names if MODULE_NAME.match(n)))


def check_cell(modules: list[str], folders: list[str] = ()) -> str:
    """The code the self-check notebook runs: each folder of the environment listed, each import, the plot.

    Listing the folders proves the jail shows them even for modules the
    forkserver imported before it closed (those import from memory).
    """
    return f"""
import importlib, os
{RESULT} = {{}}
for _folder in {json.dumps(list(folders))}:
    try:
        os.listdir(_folder)
    except BaseException as _exc:
        {RESULT}[_folder] = f"{{type(_exc).__name__}}: {{_exc}}"
for _name in {json.dumps(modules)}:
    try:
        importlib.import_module(_name)
    except BaseException as _exc:
        {RESULT}[_name] = f"{{type(_exc).__name__}}: {{_exc}}"
try:
{textwrap.indent(PLOT.strip(), "    ")}
except BaseException as _exc:
    {RESULT}["matplotlib (contour, savefig to PNG and SVG)"] = f"{{type(_exc).__name__}}: {{_exc}}"
"""


def self_check(sandbox: Any, declared: Iterable[str] = ()) -> None:
    """Run the check notebook in ``sandbox``; raise :class:`JailBroken` naming what failed and why."""
    from grader.sandbox.pool import InfrastructureError

    try:
        outcome = sandbox.run([check_cell(modules_to_check(declared), folders_to_check())], [RESULT])
    except InfrastructureError as exc:
        raise JailBroken(f"the sandbox did not start ({exc}); its error is above") from exc
    problems = outcome.values.get(RESULT)
    if outcome.error or not isinstance(problems, dict):
        why = outcome.error or "; ".join(f"{e.get('ename')}: {e.get('evalue')}" for e in outcome.cell_errors)
        raise JailBroken(f"the sandbox could not run its self-check notebook ({why or 'no result'})")
    if problems:
        raise JailBroken(explain(problems, sandbox.report))


def folders_to_check() -> list[str]:
    """The folders of the grader's environment the jail must show (those it hides on purpose left out)."""
    import os
    import sys

    from grader.sandbox.jail import inside, python_paths
    from grader.sandbox.pool import environment_path, secret_paths

    prefixes = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    entries = environment_path()
    keep, hide = python_paths(prefixes, entries, sys.executable, secret_paths())
    real = {entry: os.path.realpath(entry) for entry in entries}
    return [
        entry
        for entry, path in real.items()
        if any(inside(path, k) for k in keep) and not any(inside(path, h) for h in hide)
    ]


def explain(problems: dict[str, str], report: dict) -> str:
    """One sentence: what the jail cannot import or list, whether the grader's Python has it, what the jail shows."""
    what = "; ".join(f"{name} ({why})" for name, why in problems.items())
    modules = [n for n in problems if not n.startswith("/")]
    missing_here = [n for n in modules if n.split(" ")[0] and not grader_has(n.split(" ")[0])]
    visible = ", ".join(report.get("visible_paths") or []) or "nothing"
    if missing_here and len(missing_here) == len(problems):
        cause = "the grader's own Python does not have it either: install it where the grader runs"
    else:
        cause = f"the grader's Python has it, but the jail shows only {visible}"
        closed = [p for p in report.get("visible_paths") or [] if _closed_to_others(p)]
        if closed:
            cause += f" ({', '.join(closed)} cannot be entered by other users, as the sandbox's user is: chmod o+rx)"
    return f"the sandbox cannot run {what}; {cause}, so no notebook is graded (a student would be blamed for it)"


def _closed_to_others(path: str) -> bool:
    import os
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISDIR(mode) and not mode & stat.S_IXOTH
