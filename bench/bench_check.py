"""Cost of checking answers, side by side with reference points, in the same run.

    python bench/bench_check.py

1. In-process grading of a full ``lec4-homework`` submission (a realistic mix:
   right, misconceptions, a carried-forward slip), median over many calls
   after warm-up (answer keys are cached per variant). Aim: ≤ 1 ms.
2. A symbolic part (an expression answer compared by sympy in the worker
   process, warm). Aim: ≤ 50 ms typical.
3. ``grader check SUBMISSION.json`` wall time against ``python -c "import numpy"``.
   Aim: ≤ 3×.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.answers.expression import ExpressionAnswer
from grader.answers.parts import check_part
from grader.checking.key import AnswerKey
from grader.grading import grade
from grader.specs.model import load_catalog

HOMEWORK = {
    "student": "s042",
    "answers": {
        "gd-step-2d": {"direction": "[1, 2]", "new-point": "(4.5, 4)"},
        "minibatch-gradient": {"full": "3.8, 2.2", "batch": "[10/3, 2]"},
        "updates-per-epoch": {"b50": "24", "b200": 6, "b32": "37"},
    },
}


def median_ms(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def wall(command: list[str], repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    catalog = load_catalog()
    grade(HOMEWORK, catalog)  # warm-up: answer keys of this variant are computed once
    homework_ms = median_ms(lambda: grade(HOMEWORK, catalog), 2000)

    key = AnswerKey(part="f", type=ExpressionAnswer(variables=("x",)), points=1, reference="2*x + 2")
    check_part(key, "2(x+1)")  # warm-up: starts the sympy worker
    answers = ["2x + 2", "2*(x+1)", "x^2", "2*x + 3", "(x+1)*2"]
    symbolic_ms = [median_ms(lambda a=a: check_part(key, a), 20) for a in answers]

    grader = shutil.which("grader") or str(Path(sys.executable).parent / "grader")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(HOMEWORK, handle)
    wall(["grader", "--help"] if shutil.which("grader") else [grader, "--help"], 1)
    check_s = wall([grader, "check", handle.name])
    numpy_s = wall([sys.executable, "-c", "import numpy"])
    help_s = wall([grader, "--help"])

    rows = [
        ("grade() full lec4-homework submission, median", f"{homework_ms:.3f} ms", "≤ 1 ms"),
        (
            "symbolic part (sympy worker): median / slowest of 5 answers",
            f"{statistics.median(symbolic_ms):.1f} / {max(symbolic_ms):.1f} ms",
            "≤ 50 ms",
        ),
        ("grader check SUBMISSION.json, wall", f"{check_s * 1000:.0f} ms", ""),
        ('python -c "import numpy", wall', f"{numpy_s * 1000:.0f} ms", ""),
        ("ratio check / import numpy", f"{check_s / numpy_s:.2f}×", "≤ 3×"),
        ("grader --help, wall (ratio to import numpy)", f"{help_s * 1000:.0f} ms ({help_s / numpy_s:.2f}×)", "≤ 2×"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, aim in rows:
        print(f"{name:<{width}}  {value:>18}  {aim}")


if __name__ == "__main__":
    main()
