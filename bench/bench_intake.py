"""Where a notebook's time goes, stage by stage, on the command line's path and the service's.

    python bench/bench_intake.py [--notebooks 40] [--workers 2]

Uses the class of ``bench_grade.py`` (realistic ``lec4-inclass`` notebooks)
and prints, per notebook and once per process:

* start: a bare ``python -c pass``; imports: what ``grader grade`` imports
  before it reads a notebook (``python -c "import …"`` minus the start);
* sandbox ready: ``--workers`` forkservers started (numpy, matplotlib and
  sympy preloaded, jail built) — once per process, overlapped on the command
  line with the imports and the reading; self-check: its notebook, once;
* per notebook, on one warm worker, sequentially: read + identify (the
  intake's stages 1-3), run in the sandbox with every protection, and the
  same with the namespaces, the cgroup or the seccomp filter switched off
  (the differences are what each costs), check (grading what the notebook
  bound), store (the queued path: stored as a submission and its result
  written, SQLite);
* end to end, the command line (``grader grade``) against the service's
  queued path (``grader grade --queue``, local job pool, warm sandbox per
  process): cost per notebook and their ratio (aim: within 2x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_grade import ASSIGNMENT, grader_command, run_grader, run_queued, write_class  # noqa: E402

IMPORTS = "import grader.cli.notebooks, grader.notebooks.batch, grader.notebooks.intake, grader.reports.exports"


def _seconds(args: list[str], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _per_notebook(function, items) -> float:
    start = time.perf_counter()
    for item in items:
        function(item)
    return 1000 * (time.perf_counter() - start) / len(items)


def main() -> None:
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # keep compiled modules, as a TA's machine does
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()

    from grader.grading import grade_checked
    from grader.notebooks import batch
    from grader.notebooks.intake import gather
    from grader.sandbox import Limits, Sandbox
    from grader.sandbox.selfcheck import self_check
    from grader.specs.model import load_catalog
    from grader.store import submissions
    from grader.store.db import Database

    catalog = load_catalog()
    rows: list[tuple[str, float, str]] = []
    start = _seconds([sys.executable, "-c", "pass"])
    imports = _seconds([sys.executable, "-c", IMPORTS]) - start
    rows += [("start (python -c pass)", 1000 * start, "once"), ("imports of grader grade", 1000 * imports, "once")]

    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        folder = Path(tmp) / ASSIGNMENT
        folder.mkdir()
        write_class(folder, options.notebooks)
        limits = Limits(cpu_seconds=31, wall_seconds=30)
        began = time.perf_counter()
        sandbox = Sandbox(workers=options.workers, limits=limits)
        rows.append((f"sandbox ready ({options.workers} forkservers)", 1000 * (time.perf_counter() - began), "once"))
        began = time.perf_counter()
        self_check(sandbox)
        rows.append(("self-check notebook", 1000 * (time.perf_counter() - began), "once"))
        sandbox.close()

        read = _per_notebook(lambda _: gather([folder], catalog), [0]) / options.notebooks
        handed = gather([folder], catalog)
        rows.append(("read + identify", read, "per notebook"))
        runs = {}
        for label, switches in (
            ("run, every protection", {}),
            ("run without namespaces", {"namespaces": False}),
            ("run without the cgroup", {"cgroups": False}),
            ("run without seccomp", {"seccomp": False}),
        ):
            with Sandbox(workers=1, limits=limits, **switches) as box:
                box.run(["x = 1"], ["x"])  # warm
                runs[label] = _per_notebook(lambda h, box=box: batch.grade_handed_in(h, catalog, box), handed)
        from grader.notebooks.generate import variable_name

        checked = []
        exercises = [catalog.exercises[e] for e in catalog.assignments[ASSIGNMENT].exercises]
        names = {variable_name(e.id, p.id): (e.id, p.id) for e in exercises for p in e.parts}
        with Sandbox(workers=1, limits=limits) as box:
            for h in handed[:5]:
                outcome = box.run(h.notebook.cells, list(names))
                answers: dict = {}
                for name, value in outcome.values.items():
                    exercise_id, part_id = names[name]
                    answers.setdefault(exercise_id, {})[part_id] = value
                checked.append((h, answers))
        from grader.contract import Submission

        check = _per_notebook(
            lambda pair: grade_checked(Submission(pair[0].owner.student, pair[1], ASSIGNMENT), catalog), checked
        )
        rows.append(("run + check, every protection", runs["run, every protection"], "per notebook"))
        for label in ("namespaces", "the cgroup", "seccomp"):
            cost = runs["run, every protection"] - runs[f"run without {label}"]
            rows.append((f"  of which {label}", cost, "per notebook (difference)"))
        rows.append(("  of which check (grading the values)", check, "per notebook"))
        db = Database(f"sqlite:///{tmp}/store.db")
        db.migrate()
        result = batch.grade_handed_in(handed[0], catalog, None)

        def store(h):
            sid = submissions.create_queued(db, h.owner.student, "notebook", h.data, filename=str(h.path))
            submissions.claim(db, sid, 3)
            submissions.finish(db, sid, result, None)

        rows.append(("store (queued path, SQLite)", _per_notebook(store, handed), "per notebook"))

        command, how = grader_command()
        run_grader(command, folder, options.workers, "/dev/null")
        wall, _, _ = run_grader(command, folder, options.workers, "/dev/null")
        run_queued(command, folder, options.workers, Path(tmp) / "warm")
        queued = run_queued(command, folder, options.workers, Path(tmp) / "data")

    print(f"{options.notebooks} notebooks of {ASSIGNMENT}, {options.workers} workers")
    print(f"{'stage':<44}{'ms':>10}  when")
    print("-" * 72)
    for label, ms, when in rows:
        print(f"{label:<44}{ms:>10.1f}  {when}")
    print("-" * 72)
    n = options.notebooks
    print(f"{'(a) ' + how + ', end to end':<44}{1000 * wall / n:>10.1f}  per notebook ({wall:.2f} s)")
    print(f"{'(b) ' + how + ' --queue (local pool)':<44}{1000 * queued / n:>10.1f}  per notebook ({queued:.2f} s)")
    ratio = queued / wall
    print(f"{'(b) / (a)':<44}{ratio:>10.2f}x (aim <= 2x: {'met' if ratio <= 2 else 'NOT met'})")


if __name__ == "__main__":
    main()
