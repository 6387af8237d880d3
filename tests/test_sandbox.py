"""Normal behaviour of the notebook sandbox: values, IPython semantics, probes, workers."""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.sandbox import Limits, Probe, RunOutcome, Sandbox, run_cells, sandbox_report

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux")

LIMITS = Limits(cpu_seconds=3, wall_seconds=6, memory_mb=256, file_size_mb=8, max_processes=8, probe_seconds=1)

GD_CELLS = [
    "# Exercise: gradient descent on f(x) = x**2 + 2\nimport numpy as np",
    "def f(x):\n    return x**2 + 2\n\ndef df(x):\n    return 2 * x",
    "eta = 0.25\nx = 4.0\ngd_parabola_iterates = [x]\nfor _ in range(5):\n"
    "    x = x - eta * df(x)\n    gd_parabola_iterates.append(x)",
    "gd_parabola_values = np.array([f(v) for v in gd_parabola_iterates])",
    "def gradient_descent(df, x0, eta, steps):\n    xs = [x0]\n    for _ in range(steps):\n"
    "        xs.append(xs[-1] - eta * df(xs[-1]))\n    return xs",
]


def running(pid: int, wait: float = 2.0) -> bool:
    """Whether ``pid`` is still a live (non-zombie) process after up to ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        if state in ("Z", "X") or time.monotonic() > deadline:
            return state not in ("Z", "X")
        time.sleep(0.02)


def test_values_come_back_as_plain_data(sandbox: Sandbox) -> None:
    outcome = sandbox.run(GD_CELLS, ["gd_parabola_iterates", "gd_parabola_values", "missing_name"])
    assert outcome.error is None
    assert outcome.cell_errors == []
    assert outcome.values == {
        "gd_parabola_iterates": [4.0, 2.0, 1.0, 0.5, 0.25, 0.125],
        "gd_parabola_values": [18.0, 6.0, 3.0, 2.25, 2.0625, 2.015625],
    }
    assert outcome.cells_run == len(GD_CELLS)
    assert isinstance(outcome, RunOutcome) and outcome.seconds > 0


def test_numpy_and_python_types_become_plain_json(sandbox: Sandbox) -> None:
    cells = [
        "import numpy as np\nfrom fractions import Fraction",
        "a = np.float64(1.5); b = np.int32(7); c = np.bool_(True); d = np.arange(6).reshape(2, 3)\n"
        "e = (1, 2.5, 'three', None, True); f = {'k': [np.float32(0.5)]}; g = np.array([True, False])\n"
        "h = float('nan'); i = [float('inf'), -float('inf')]; j = np.zeros((0,)); k = 'text'; m = 2**70",
        "n = 1 + 2j; o = {1, 2}; p = Fraction(1, 3); q = np.zeros(200_000); r = {1: 'x'}",
    ]
    names = list("abcdefghijkmnopqr")
    outcome = sandbox.run(cells, names)
    v = outcome.values
    assert v["a"] == 1.5 and type(v["a"]) is float
    assert v["b"] == 7 and type(v["b"]) is int
    assert v["c"] is True
    assert v["d"] == [[0, 1, 2], [3, 4, 5]]
    assert v["e"] == [1, 2.5, "three", None, True]
    assert v["f"] == {"k": [0.5]}
    assert v["g"] == [True, False]
    assert math.isnan(v["h"]) and v["i"] == [math.inf, -math.inf]
    assert v["j"] == [] and v["k"] == "text" and v["m"] == 2**70
    assert v["p"] == "1/3"  # exact, as a student would type it
    errors = outcome.value_errors
    assert set(errors) == {"n", "o", "q", "r"} and not set(errors) & set(v)
    assert "complex" in errors["n"] and "set" in errors["o"]
    assert "too large" in errors["q"] and "key" in errors["r"]


def test_ipython_syntax_is_neutralised_and_cells_share_a_namespace(sandbox: Sandbox) -> None:
    cells = [
        "%matplotlib inline\n!pip install torch\nimport numpy as np",
        "%%time\nslow = sum(range(1000))",
        "%time timed = 3\nfiles = !ls\nnp?",
        "%%writefile helper.py\nVALUE = 41\n",
        "import helper\nanswer = helper.VALUE + 1\ndisplay(answer)\nget_ipython().run_line_magic('load_ext', 'x')",
        "import warnings\nwarnings.warn('careful')\nprint('noise')\nimport sys\nprint('more', file=sys.stderr)",
    ]
    outcome = sandbox.run(cells, ["slow", "timed", "files", "answer"])
    assert outcome.error is None and outcome.cell_errors == []
    assert outcome.values == {"slow": 499500, "timed": 3, "files": [], "answer": 42}


def test_cell_errors_are_recorded_and_later_cells_still_run(sandbox: Sandbox) -> None:
    cells = ["x = 1", "def broken(:\n    pass", "y = 1 / 0", "raise SystemExit(3)", "z = x + 1"]
    outcome = sandbox.run(cells, ["x", "y", "z"])
    assert outcome.error is None
    assert outcome.values == {"x": 1, "z": 2}
    assert [(e["cell"], e["ename"]) for e in outcome.cell_errors] == [
        (1, "SyntaxError"),
        (2, "ZeroDivisionError"),
        (3, "SystemExit"),
    ]
    assert outcome.cell_errors[1]["evalue"] == "division by zero"


def test_latest_binding_wins_and_deleted_names_disappear(sandbox: Sandbox) -> None:
    outcome = sandbox.run(["x = 1\ny = 2", "x = [x, 'again']\ndel y"], ["x", "y"])
    assert outcome.values == {"x": [1, "again"]}


def test_probes_call_student_functions_on_hidden_inputs(sandbox: Sandbox) -> None:
    scalar = {"quadratic_gradient": {"A": [[2.0]], "b": [0.0]}}
    vector = {"quadratic_gradient": {"A": [[2.0, 0.0], [0.0, 4.0]], "b": [1.0, -1.0]}}
    probes = [
        Probe("gradient_descent", [scalar, 4.0, 0.25, 3]),
        Probe("gradient_descent", [vector, {"ndarray": [1.0, 1.0]}, 0.5, 1]),
        Probe("kinds", [scalar, 3.0]),
        Probe("kinds", [vector, [1.0, 2.0]]),
        Probe("gradient_descent", [scalar], {"x0": 1.0, "eta": 0.5, "steps": 1}),
        Probe("gradient_descent", [scalar], {"rate": 1}),
        Probe("not_defined", []),
    ]
    cells = [*GD_CELLS, "def kinds(df, x):\n    return type(df(x)).__name__"]
    outcome = sandbox.run(cells, [], probes)
    assert outcome.error is None
    assert outcome.probes[0] == {"result": [4.0, 2.0, 1.0, 0.5]}
    assert outcome.probes[1] == {"result": [[1.0, 1.0], [-0.5, -0.5]]}
    assert outcome.probes[2] == {"result": "float"}
    assert outcome.probes[3] == {"result": "ndarray"}
    assert outcome.probes[4] == {"result": [1.0, 0.0]}
    assert outcome.probes[5]["error"].startswith("TypeError: gradient_descent() got an unexpected")
    assert outcome.probes[6]["error"].startswith("NameError")


def test_probe_time_budget_and_unsendable_results(sandbox: Sandbox) -> None:
    cells = [
        "import time\ndef slow():\n    time.sleep(30)\n"
        "def weird():\n    return object()\n"
        "def fine():\n    return (1, 2)"
    ]
    probes = [Probe("slow", []), Probe("weird", []), Probe("fine", [])]
    outcome = sandbox.run(cells, [], probes)
    assert outcome.error is None
    assert outcome.probes[0]["error"].startswith("TimeoutError")
    assert "not plain data" in outcome.probes[1]["error"]
    assert outcome.probes[2] == {"result": [1, 2]}


def test_cells_never_see_the_probe_inputs(sandbox: Sandbox) -> None:
    """Hidden inputs reach the child only after the cells ran and values are frozen."""
    cells = [
        "import gc\nseen = [repr(o) for o in gc.get_objects() if isinstance(o, dict) and 'probes' in o]",
        "def f(x):\n    global seen\n    seen = 'overwritten during the probe'\n    return x",
    ]
    outcome = sandbox.run(cells, ["seen"], [Probe("f", [123456789])])
    assert outcome.probes == [{"result": 123456789}]
    assert outcome.values["seen"] == []


def test_two_workers_run_twenty_notebooks_concurrently(sandbox: Sandbox) -> None:
    """Twenty threads share two workers: every notebook gets its own result, and two really run at once.

    (How much faster that is belongs to bench/bench_sandbox.py, not to a test.)
    """
    results: dict[int, RunOutcome] = {}

    def grade(i: int) -> None:
        cells = [
            "import numpy as np, time",
            f"x = np.arange({i}).sum()",
            "start = time.time()\ntime.sleep(0.05)\nend = time.time()",
        ]
        results[i] = sandbox.run(cells, ["x", "start", "end"])

    threads = [threading.Thread(target=grade, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {i: r.values["x"] for i, r in results.items()} == {i: i * (i - 1) // 2 for i in range(20)}
    assert all(r.error is None for r in results.values())
    spans = sorted((r.values["start"], r.values["end"]) for r in results.values())
    assert any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False))  # two sleeps overlapped


def test_forkserver_is_restarted_after_being_killed(sandbox: Sandbox) -> None:
    for worker in sandbox._workers:
        os.kill(worker.proc.pid, 9)
    for worker in sandbox._workers:
        worker.proc.wait()
    outcomes = [sandbox.run(["x = 1"], ["x"]) for _ in range(3)]
    assert all(o.values == {"x": 1} and o.error is None for o in outcomes)


def test_forkserver_dying_mid_run_is_retried_transparently(sandbox: Sandbox) -> None:
    pids_before = {w.proc.pid for w in sandbox._workers if w.proc}

    def kill_busy_forkserver() -> None:
        time.sleep(0.3)
        for worker in sandbox._workers:
            if worker.proc and worker.proc.pid in pids_before:
                try:
                    os.kill(worker.proc.pid, 9)
                except ProcessLookupError:
                    pass

    killer = threading.Thread(target=kill_busy_forkserver)
    killer.start()
    outcome = sandbox.run(["import time\ntime.sleep(0.8)\nx = 'finished'"], ["x"])
    killer.join()
    assert outcome.error is None
    assert outcome.values == {"x": "finished"}


def test_persistent_infrastructure_failure_is_reported_not_graded() -> None:
    with Sandbox(workers=1, limits=LIMITS) as box:
        stop = threading.Event()

        def keep_killing_the_forkserver() -> None:
            while not stop.is_set():
                proc = box._workers[0].proc
                if proc is not None and proc.poll() is None:
                    time.sleep(0.2)
                    try:
                        os.kill(proc.pid, 9)
                    except ProcessLookupError:
                        pass
                time.sleep(0.01)

        killer = threading.Thread(target=keep_killing_the_forkserver)
        killer.start()
        try:
            outcome = box.run(["import time\ntime.sleep(2)\nx = 1"], ["x"])
        finally:
            stop.set()
            killer.join()
        assert outcome.error.startswith("infrastructure: forkserver")
        assert outcome.values == {} and outcome.probes == []
        assert box.run(["x = 1"], ["x"]).values == {"x": 1}  # and it recovers


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="file_size_mb"):
        Limits(file_size_mb=-1)
    with pytest.raises(ValueError, match="cpu_seconds"):
        Limits(cpu_seconds=0)


def test_run_cells_one_shot_and_report() -> None:
    outcome = run_cells(["y = [1, 2]"], ["y"], limits=LIMITS)
    assert outcome.values == {"y": [1, 2]} and outcome.error is None
    report = sandbox_report()
    assert set(report["namespaces"]) == {"network", "ipc", "pid", "mount"}
    if os.geteuid() == 0:
        assert report["privileges_dropped"] and report["missing"] == []


def test_degraded_mode_still_limits_and_cleans_up() -> None:
    limits = Limits(cpu_seconds=1, wall_seconds=1.5, memory_mb=256, max_processes=8)
    with Sandbox(workers=1, limits=limits, namespaces=False) as box:
        assert box.report["missing"] and not any(box.report["namespaces"].values())
        cells = [
            "import os, subprocess, time\nx = os.getcwd()\nopen('f', 'w').write('1')\n"
            "helper = subprocess.Popen(['sleep', '60']).pid",
            "while True:\n    try:\n        time.sleep(10)\n    except BaseException:\n        pass",
        ]
        outcome = box.run(cells, ["x", "helper"])
        assert outcome.degraded and outcome.error == "timeout after 1.5 s"
        assert not os.path.exists(outcome.values["x"])  # the working directory was removed
        assert not running(outcome.values["helper"])  # killpg got the helper
        assert box.run(["y = 2"], ["y"]).values == {"y": 2}


def test_without_cgroups_the_grader_says_so_once_and_keeps_the_process_limits(caplog) -> None:
    from grader.sandbox import pool

    pool._WARNED.discard("memory cgroup disabled by option")
    limits = Limits(cpu_seconds=2, wall_seconds=5, memory_mb=128, max_processes=8)
    with caplog.at_level("WARNING", logger="grader.sandbox"):
        for _ in range(2):
            with Sandbox(workers=1, limits=limits, cgroups=False) as box:
                outcome = box.run(["x = 1", "hog = bytearray(1 << 30)", "y = 2"], ["x", "y"])
    said = [r.getMessage() for r in caplog.records if "cgroup" in r.getMessage()]
    assert said == ["sandbox protection missing: memory cgroup disabled by option"]  # once, not per sandbox
    assert outcome.peak_memory_mb is None and "memory cgroup disabled by option" in outcome.degraded
    assert outcome.error == "memory limit (128 MB) exceeded"  # RLIMIT_AS still holds
    assert outcome.values == {"x": 1, "y": 2}


def _tree(root, *dirs: str) -> None:
    for d in dirs:
        (root / d).mkdir(parents=True, exist_ok=True)


def test_visible_paths_keep_the_environment_and_hide_the_course(tmp_path) -> None:
    from grader.sandbox.jail import python_paths

    _tree(
        tmp_path,
        "repo/grader",
        "repo/exercises",
        "repo/solutions",
        "repo/data",
        "repo/.venv/bin",
        "repo/.venv/lib/site",
        "venv/bin",
        "venv/lib/site",
        "home/.local/site",
        "py",
    )
    (tmp_path / "repo" / "README.md").write_text("x")
    t = str(tmp_path)
    course = [t + "/repo/grader", t + "/repo", t + "/repo/exercises", t + "/repo/solutions", t + "/repo/data"]
    # a checkout with the interpreter outside it: the checkout on the path is dropped, the user site kept
    search = [t + "/venv/lib/site", t + "/repo", t + "/home/.local/site", ""]
    keep, hide = python_paths([t + "/venv", t + "/py"], search, t + "/venv/bin/python", course)
    assert keep == [t + "/home/.local/site", t + "/py", t + "/venv", t + "/venv/bin", t + "/venv/lib/site"]
    assert hide == []
    # a virtualenv inside the checkout stays readable (site-packages and all), the rest of the checkout does not exist
    venv = t + "/repo/.venv"
    keep, hide = python_paths([venv], [venv + "/lib/site", t + "/repo"], venv + "/bin/python", course)
    assert keep == [venv, venv + "/bin", venv + "/lib/site"] and hide == []
    # installed into site-packages: the package directory is hidden inside the visible tree
    site = t + "/venv/lib/site-packages"
    _tree(tmp_path, "venv/lib/site-packages/grader")
    keep, hide = python_paths([t + "/venv"], [site], t + "/venv/bin/python", [site + "/grader"])
    assert site in keep and hide == [site + "/grader"]
    # a PYTHONPATH above the checkout (which holds the venv): all of the checkout is covered but the venv
    keep, hide = python_paths([venv], [t, venv + "/lib/site"], venv + "/bin/python", course)
    assert t in keep and venv in keep
    assert hide == [f"{t}/repo/{name}" for name in ("README.md", "data", "exercises", "grader", "solutions")]


def test_extras_are_hints_bounded_in_size_and_never_asked_for_by_default(sandbox: Sandbox) -> None:
    from grader.sandbox.frames import EXTRA_ELEMENTS, MAX_EXTRAS, MAX_OUTPUT, MAX_OUTPUTS_TOTAL

    cells = [
        "import numpy as np, sys\nprint('x' * 10**6)",
        "print('shown')\nanswer = None\nanswer",
        "for i in range(200):\n    globals()[f'v{i}'] = [i] * 10\nhuge = list(range(10**5))",
        *[f"print('{c}' * 5000)" for c in "abcdefghij"],
        "sys.stdout.text = lambda: 42\nprint('broken')",
        "[4.0, 2.0, 1.0]",
        "display(np.array([0.5, 0.25]))\nx = 3",
    ]
    outcome = sandbox.run(cells, ["answer", "x"], extras=True)
    assert outcome.error is None, outcome.error
    assert outcome.outputs[0] == "x" * MAX_OUTPUT
    assert outcome.outputs[1] == "shown\n"  # the last line shows None: nothing, as in Jupyter
    assert all(len(text) <= MAX_OUTPUT for text in outcome.outputs.values())
    last = len(cells) - 1
    assert last - 2 not in outcome.outputs  # a notebook that broke its stdout loses its output, nothing else
    assert outcome.outputs[last - 1] == "[4.0, 2.0, 1.0]\n" and outcome.outputs[last] == "array([0.5 , 0.25])\n"
    assert len(outcome.extras) <= MAX_EXTRAS and "huge" not in outcome.extras
    assert all(value == [int(name[1:])] * 10 for name, value in outcome.extras.items() if name.startswith("v"))
    assert all(len(str(value)) <= 20 * EXTRA_ELEMENTS for value in outcome.extras.values())
    assert "answer" not in outcome.extras and "x" not in outcome.extras and outcome.values == {"answer": None, "x": 3}
    plain = sandbox.run(cells[:3], ["answer"])
    assert plain.outputs == {} and plain.extras == {}
    flood = sandbox.run([f"print('{i}' * 5000)" for i in range(60)], [], extras=True)
    assert sum(len(text) for text in flood.outputs.values()) <= MAX_OUTPUTS_TOTAL < 60 * MAX_OUTPUT


def test_learned_cells_are_compiled_once_per_forkserver_and_run_as_before() -> None:
    learned = "x = 1\ny = x + 1\ny"
    failing = "z = 2\nraise ValueError('boom')"
    count = "import sys\nknown = len(sys.modules['grader.sandbox.child']._known)"
    with Sandbox(workers=1, limits=LIMITS) as sandbox:
        before = sandbox.run([learned, count], ["y", "known"], extras=True)  # leaves a child parked, untaught
        sandbox.learn([learned, failing, learned])
        after = sandbox.run([learned, count], ["y", "known"], extras=True)
        assert after.values == {"y": 2, "known": 2} and before.values == {"y": 2, "known": 0}
        assert after.outputs == before.outputs
        assert sandbox.run([count, learned], ["y", "known"]).values == {"y": 2, "known": 2}  # as a later cell too
        taught, untaught = (sandbox.run([failing], ["z"], extras=True) for _ in range(2))
        plain = run_cells([failing], ["z"], limits=LIMITS)
        for outcome in (taught, untaught, plain):
            assert outcome.values == {"z": 2}
            assert [(e["cell"], e["ename"], e["evalue"]) for e in outcome.cell_errors] == [(0, "ValueError", "boom")]
        assert taught.cell_errors == plain.cell_errors


def test_the_forkservers_modules_are_compiled_by_the_grader_where_its_python_writes_them(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    from grader.sandbox import pool

    monkeypatch.setattr(sys, "pycache_prefix", str(tmp_path))
    monkeypatch.setattr(pool, "_compiled", [])
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    pool.compile_forkserver_modules()
    assert not any(tmp_path.rglob("*.pyc"))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    pool.compile_forkserver_modules()
    sources = [Path(pool.__file__).resolve().with_name(f"{name}.py") for name in pool.FORKSERVER_MODULES]
    assert all(Path(importlib.util.cache_from_source(str(source))).is_file() for source in sources)
