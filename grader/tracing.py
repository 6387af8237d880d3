"""Run an optimizer of the core on a typed function (``grader trace``): every input checked first, one sentence
for what is wrong (:class:`ValueError`), then the path (:class:`TraceRun`, rendered by
:mod:`grader.reports.trace_output` and :mod:`grader.reports.trace_plot`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader import optim
from grader.calculus import objective, variables_of
from grader.checking.reading import ReadError, read_number
from grader.expressions import ExpressionError, parse

MAX_STEPS = 1_000_000


@dataclass(frozen=True)
class TraceRun:
    formula: str
    variables: tuple[str, ...]
    trace: optim.Trace


def run_trace(
    optimizer: str,
    formula: str,
    x0: str,
    lr: float | None = None,
    momentum: float | None = None,
    nesterov: bool = False,
    alpha: float | None = None,
    betas: str | None = None,
    eps: float | None = None,
    steps: int = 10,
) -> TraceRun:
    """Check every input, then run; raises ValueError with one sentence for bad input."""
    try:
        variables = variables_of(parse(formula))
    except ExpressionError as exc:
        raise ValueError(f"--f: {exc}") from exc
    if not variables:
        raise ValueError("--f: the function has no variable (use x, y, z or x1, x2, …)")
    start = _numbers(x0, "--x0")
    if len(start) != len(variables):
        raise ValueError(
            f"--x0 has {len(start)} value{'s' if len(start) != 1 else ''} but f has {len(variables)} "
            f"variable{'s' if len(variables) != 1 else ''} ({', '.join(variables)})"
        )
    if not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"--steps must be between 0 and {MAX_STEPS:,}")
    name = "nesterov" if nesterov and optimizer == "momentum" else optimizer
    if nesterov and name != "nesterov":
        raise ValueError("--nesterov goes with the momentum optimizer")
    pair = tuple(_numbers(betas, "--betas")) if betas is not None else None
    if pair is not None and len(pair) != 2:
        raise ValueError("--betas takes two numbers, e.g. 0.9,0.999")
    rule = optim.make_rule(name, lr=lr, momentum=momentum, alpha=alpha, betas=pair, eps=eps)
    target = objective(formula, variables)
    return TraceRun(formula, variables, optim.run(rule, target, np.asarray(start), steps))


def _numbers(text: str, option: str) -> list[float]:
    try:
        return [read_number(piece).value for piece in text.split(",")]
    except ReadError as exc:
        raise ValueError(f"{option}: {exc}") from exc
