"""Benchmark: the warm forkserver sandbox vs a fresh interpreter (and nbclient) per notebook.

Run:  python bench/bench_sandbox.py [--notebooks 100] [--nbclient 10]

Generates realistic student notebooks for the gd-parabola / implement-gd
exercises (numpy imported, mostly right, some wrong, some crashing, one
infinite loop) and grades them

* with ``Sandbox(workers=2)`` (forked from warm forkservers, fully isolated);
* with a fresh ``python -c`` per notebook running the same cells (two at a
  time), i.e. what "start a new interpreter for every submission" costs
  without any isolation;
* with nbclient in a fresh Jupyter kernel per notebook on a few of them
  (what nbgrader and Otter do), if ``nbclient`` and ``ipykernel`` are
  installed.

Prints a table: per-notebook time, notebooks/s, ratio to the sandbox, peak RSS.
Then the cost of the per-notebook cgroup and seccomp filter: the same small
notebooks, one at a time on one worker, alternating between a sandbox with
them and one without (``Sandbox(cgroups=False, seccomp=False)``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.sandbox import Limits, Probe, Sandbox  # noqa: E402

LIMITS = Limits(cpu_seconds=1, wall_seconds=2, memory_mb=512, probe_seconds=1)
NAMES = ["gd_parabola_iterates", "gd_parabola_values"]
PROBES = [Probe("gradient_descent", [{"quadratic_gradient": {"A": [[2.0]], "b": [0.0]}}, 4.0, 0.25, 5])]

HEADER = "# Lecture 4: gradient descent\nimport numpy as np\n%matplotlib inline"
FUNCTIONS = "def f(x):\n    return x**2 + 2\n\ndef df(x):\n    return 2 * x"
ITERATES = (
    "eta = 0.25\nx = 4.0\ngd_parabola_iterates = [x]\nfor step in range(5):\n"
    "    x = x {sign} eta * df(x)\n    gd_parabola_iterates.append(x)\nprint(gd_parabola_iterates)"
)
VALUES = "gd_parabola_values = np.array([f(x) for x in gd_parabola_iterates])\ngd_parabola_values"
IMPLEMENT = (
    "def gradient_descent(df, x0, eta, steps):\n    xs = [x0]\n    for _ in range(steps):\n"
    "        xs.append(xs[-1] - eta * df(xs[-1]))\n    return xs"
)
CRASHES = ["undefined_variable + 1", "np.linalg.inv(np.zeros((2, 2)))", "raise ValueError('oops')", "x = [1, 2][5]"]


def make_notebooks(n: int, seed: int = 4) -> list[list[str]]:
    """``n`` notebooks' code cells: mostly right, some wrong, some crashing, one infinite loop."""
    rng = random.Random(seed)
    notebooks = []
    for i in range(n):
        cells = [HEADER, FUNCTIONS, ITERATES.format(sign="+" if rng.random() < 0.15 else "-"), VALUES, IMPLEMENT]
        if rng.random() < 0.15:
            cells.insert(rng.randrange(2, len(cells)), rng.choice(CRASHES))
        if rng.random() < 0.3:
            cells.append("# scratch\nnp.mean(np.random.default_rng(0).normal(size=1000))")
        if i == n // 2:
            cells.append("while True:\n    pass  # forgot to stop")
        notebooks.append(cells)
    return notebooks


def bench_sandbox(notebooks: list[list[str]], workers: int) -> dict:
    started = time.perf_counter()
    with Sandbox(workers=workers, limits=LIMITS) as sandbox:
        startup = time.perf_counter() - started
        fs_pids = [w.proc.pid for w in sandbox._workers]

        def one(cells: list[str]) -> tuple[float, object]:
            t0 = time.perf_counter()
            outcome = sandbox.run(cells, NAMES, PROBES)
            return time.perf_counter() - t0, outcome

        t0 = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(one, notebooks))
        total = time.perf_counter() - t0
        fs_rss = sum(_rss_mb(pid) for pid in fs_pids)
    outcomes = [o for _, o in results]
    assert all(o.error is None or "limit" in o.error or "timeout" in o.error for o in outcomes)
    child_peak = max(o.peak_rss_mb for o in outcomes)
    return {
        "mode": f"Sandbox, {workers} warm forkservers",
        "times": [t for t, _ in results],
        "total": total,
        "startup": startup,
        "rss": f"{fs_rss:.0f} forkservers + {child_peak:.0f}/child",
        "graded": sum(1 for o in outcomes if "gd_parabola_iterates" in o.values),
    }


def bench_protections(notebooks: list[list[str]], rounds: int = 3) -> dict:
    """Median ms per notebook with and without the cgroup + seccomp set-up, interleaved run by run."""
    times: dict[str, list[float]] = {"on": [], "off": []}
    with (
        Sandbox(workers=1, limits=LIMITS) as on,
        Sandbox(workers=1, limits=LIMITS, cgroups=False, seccomp=False) as off,
    ):
        assert on.report["cgroup"] and on.report["seccomp"], on.report["missing"]
        for _ in range(rounds):
            for cells in notebooks:
                for key, box in (("on", on), ("off", off)):
                    t0 = time.perf_counter()
                    outcome = box.run(cells, NAMES, PROBES)
                    times[key].append(time.perf_counter() - t0)
                    assert outcome.error is None or "limit" in outcome.error, outcome.error
    return {key: 1000 * statistics.median(values) for key, values in times.items()} | {"n": len(times["on"])}


def bench_setup_steps(rounds: int = 60) -> dict[str, float] | None:
    """Median ms of each per-notebook step the cgroup and seccomp add, timed one by one (needs root).

    The same calls the forkserver and the child make: create the group, join
    it, a fresh session keyring, load the compiled filter, read the peak and
    remove the group.
    """
    if os.geteuid() != 0:
        return None
    from grader.sandbox import linux, seccomp
    from grader.sandbox.cgroup import Cgroups

    program, groups = seccomp.compile_filter(), Cgroups.create()
    steps: dict[str, list[float]] = {"create": [], "join": [], "keyring": [], "seccomp": [], "finish": []}
    read_end, write_end = os.pipe()
    try:
        for _ in range(rounds):
            t0 = time.perf_counter()
            group = groups.child(LIMITS.memory_mb << 20, LIMITS.max_processes)
            steps["create"].append(time.perf_counter() - t0)
            pid = os.fork()
            if pid == 0:
                marks = [time.perf_counter()]
                for fd in group.procs_fds:
                    os.write(fd, b"0")
                marks.append(time.perf_counter())
                linux.join_fresh_session_keyring()
                marks.append(time.perf_counter())
                linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1)
                linux.load_seccomp_program(program)
                marks.append(time.perf_counter())
                os.write(
                    write_end, json.dumps([b - a for a, b in zip(marks, marks[1:], strict=False)]).encode() + b"\n"
                )
                os._exit(0)
            group.close_fds()
            os.waitpid(pid, 0)
            t0 = time.perf_counter()
            group.finish()
            steps["finish"].append(time.perf_counter() - t0)
        os.close(write_end)
        with os.fdopen(read_end) as lines:
            for line in lines:
                for key, seconds in zip(("join", "keyring", "seccomp"), json.loads(line), strict=True):
                    steps[key].append(seconds)
    finally:
        groups.close()
    return {key: 1000 * statistics.median(values) for key, values in steps.items()}


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


FRESH_SCRIPT = """
import json, sys
import numpy as np
from IPython.core.inputtransformer2 import TransformerManager
request = json.load(sys.stdin)
ns = {"__name__": "__main__", "get_ipython": lambda: None}
class Shell:
    def __getattr__(self, name):
        return lambda *a, **k: None
ns["get_ipython"] = lambda: Shell()
tm = TransformerManager()
for cell in request["cells"]:
    try:
        exec(compile(tm.transform_cell(cell), "<cell>", "exec"), ns)
    except Exception:
        pass
out = {}
for name in request["names"]:
    if name in ns:
        value = ns[name]
        out[name] = value.tolist() if hasattr(value, "tolist") else value
print(json.dumps(out))
"""


def bench_fresh(notebooks: list[list[str]], workers: int) -> dict:
    def one(cells: list[str]) -> float:
        t0 = time.perf_counter()
        try:
            subprocess.run(
                [sys.executable, "-c", FRESH_SCRIPT],
                input=json.dumps({"cells": cells, "names": NAMES}),
                capture_output=True,
                text=True,
                timeout=LIMITS.wall_seconds,
                env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"},
            )
        except subprocess.TimeoutExpired:
            pass
        return time.perf_counter() - t0

    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        times = list(pool.map(one, notebooks))
    total = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "mode": f"fresh `python -c`, {workers} at a time",
        "times": times,
        "total": total,
        "rss": f"{peak:.0f}/process",
    }


def bench_nbclient(notebooks: list[list[str]]) -> dict | None:
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError:
        return None
    times = []
    saved_stderr = os.dup(2)  # the kernels' start-up warnings are noise here
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        t0 = time.perf_counter()
        for cells in notebooks:
            nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
            start = time.perf_counter()
            NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True).execute()
            times.append(time.perf_counter() - start)
        total = time.perf_counter() - t0
    finally:
        os.dup2(saved_stderr, 2)
        os.close(null)
        os.close(saved_stderr)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "mode": "nbclient, fresh kernel each, 1 at a time",
        "times": times,
        "total": total,
        "rss": f"{peak:.0f}/kernel",
    }


def print_table(rows: list[dict], reference: dict) -> None:
    ref_per_nb = reference["total"] / len(reference["times"])
    print(f"{'mode':42} {'n':>4} {'median ms':>10} {'p95 ms':>8} {'nb/s':>7} {'x slower':>9}  peak RSS (MB)")
    for row in rows:
        times = sorted(row["times"])
        n = len(times)
        per_nb = row["total"] / n
        p95 = times[min(n - 1, int(0.95 * n))]
        print(
            f"{row['mode']:42} {n:>4} {1000 * statistics.median(times):>10.1f} {1000 * p95:>8.1f} "
            f"{n / row['total']:>7.1f} {per_nb / ref_per_nb:>9.1f}  {row['rss']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=int, default=100)
    parser.add_argument("--nbclient", type=int, default=10, help="how many notebooks to run through nbclient (0: skip)")
    args = parser.parse_args()
    notebooks = make_notebooks(args.notebooks)
    quick = [nb for nb in notebooks if not any("while True" in c for c in nb)]
    print(
        f"{len(notebooks)} notebooks ({len(notebooks) - len(quick)} with an infinite loop, limited to {LIMITS.cpu_seconds:g} s CPU)"
    )
    sandbox = bench_sandbox(notebooks, workers=2)
    single = bench_sandbox(quick[:20], workers=1)
    rows = [sandbox, single, bench_fresh(notebooks, workers=2)]
    if args.nbclient:
        nbclient_row = bench_nbclient(quick[: args.nbclient])
        if nbclient_row:
            rows.append(nbclient_row)
        else:
            print("(nbclient/ipykernel not installed: skipped)")
    print()
    print_table(rows, sandbox)
    print(f"\nload average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"Sandbox start-up (2 forkservers, numpy + matplotlib preloaded): {sandbox['startup']:.2f} s; "
        f"notebooks graded with iterates: {sandbox['graded']}/{len(notebooks)}"
    )
    steps = bench_setup_steps()
    if steps:
        listed = ", ".join(f"{key} {ms:.2f}" for key, ms in steps.items())
        print(f"\nper-notebook set-up steps (median ms): {listed}; total {sum(steps.values()):.2f} ms")
    cost = bench_protections(quick[:20])
    print(
        f"cgroup + seccomp, whole notebooks, {cost['n']} one at a time, interleaved: "
        f"median {cost['on']:.1f} ms with, {cost['off']:.1f} ms without: {cost['on'] - cost['off']:+.1f} ms per notebook"
    )


if __name__ == "__main__":
    main()
