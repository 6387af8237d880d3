"""Cost of the optimizer core, side by side with a plain-Python loop, in the same run.

    python bench/bench_core.py

Runs Adam (PyTorch defaults, lr = 0.01) for 10,000 steps on f = x² + 10y²
from (3, −2), once with ``grader.optim.run`` (sympy-built objective, numpy
float64, finiteness checks, full trace) and once as a loop over Python floats
with the same formula written out with the ``math`` module, and reports
µs/step of each and their ratio, plus the largest difference between the two
paths. Then, if the ``grader`` command is installed, the start-up time of
``grader --help`` against ``python -c "import numpy"``.
"""

from __future__ import annotations

import math
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import sympy

from grader.optim import Adam, Objective, run

STEPS = 10_000
LR, BETA1, BETA2, EPS = 0.01, 0.9, 0.999, 1e-8
X0 = (3.0, -2.0)


def plain_adam(steps: int) -> list[tuple[float, float]]:
    """Adam on x² + 10y² over Python floats, recording x, f(x) and ∇f(x) like ``run``."""
    x, y = X0
    mx = my = vx = vy = 0.0
    iterates, values, gradients = [], [], []
    for t in range(1, steps + 2):
        gx, gy = 2 * x, 20 * y
        iterates.append((x, y))
        values.append(x * x + 10 * y * y)
        gradients.append((gx, gy))
        if t > steps:
            break
        mx = BETA1 * mx + (1 - BETA1) * gx
        my = BETA1 * my + (1 - BETA1) * gy
        vx = BETA2 * vx + (1 - BETA2) * (gx * gx)
        vy = BETA2 * vy + (1 - BETA2) * (gy * gy)
        c1, c2 = 1 - BETA1**t, 1 - BETA2**t
        x -= LR * (mx / c1) / (math.sqrt(vx / c2) + EPS)
        y -= LR * (my / c1) / (math.sqrt(vy / c2) + EPS)
    return iterates


def best_of(repeats: int, func, *args):
    """(smallest wall time in seconds, last result) over ``repeats`` calls."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func(*args)
        times.append(time.perf_counter() - start)
    return min(times), result


def startup(command: list[str], repeats: int = 3) -> float:
    """Median wall time of a command, in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    x, y = sympy.symbols("x y")
    objective = Objective.from_sympy(x**2 + 10 * y**2)
    rule = Adam(lr=LR, betas=(BETA1, BETA2), eps=EPS)

    core_time, trace = best_of(3, run, rule, objective, X0, STEPS)
    plain_time, plain = best_of(3, plain_adam, STEPS)
    difference = float(np.abs(trace.iterates - np.array(plain)).max())
    core_us, plain_us = 1e6 * core_time / STEPS, 1e6 * plain_time / STEPS

    print(f"Adam, {STEPS:,} steps on x**2 + 10*y**2 (best of 3)")
    print(f"{'implementation':<34}{'µs/step':>10}")
    print(f"{'grader.optim.run (numpy, trace)':<34}{core_us:>10.2f}")
    print(f"{'plain Python floats (math)':<34}{plain_us:>10.2f}")
    print(f"{'ratio core / plain':<34}{core_us / plain_us:>10.1f}x")
    print(f"largest difference between the paths: {difference:.1e}")
    print()

    grader = shutil.which("grader", path=str(Path(sys.executable).parent)) or shutil.which("grader")
    if grader is None:
        print("grader --help: skipped (the grader command is not installed)")
        return
    numpy_ms = startup([sys.executable, "-c", "import numpy"])
    try:
        grader_ms = startup([grader, "--help"])
    except subprocess.CalledProcessError:
        print("grader --help: skipped (the command exists but does not run yet)")
        return
    print(f"{'start-up (median of 3)':<34}{'ms':>10}")
    print(f"{'python -c ' + repr('import numpy'):<34}{numpy_ms:>10.0f}")
    print(f"{'grader --help':<34}{grader_ms:>10.0f}")
    print(f"{'ratio':<34}{grader_ms / numpy_ms:>10.1f}x")


if __name__ == "__main__":
    main()
