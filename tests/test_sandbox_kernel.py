"""Attacks on what the kernel shares: namespaces, mounts, keyrings, memory outside the address space, the channel.

Each test is a notebook written as an attacker would write it (ctypes straight
to the system calls), then the assertion that the attack failed.  They need
root, cgroups and seccomp, as the grader has on these machines and in CI;
where a protection is missing the test says which and is skipped.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from pathlib import Path

import pytest

from grader.sandbox import Limits, Sandbox, linux

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or platform.machine() != "x86_64", reason="system-call numbers below are x86-64's"
)

LIMITS = Limits(cpu_seconds=5, wall_seconds=15, memory_mb=192, file_size_mb=64, max_processes=8, probe_seconds=1)
LIBC = "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.syscall.restype = ctypes.c_long\n"
ERRNO = "def err(result):\n    return 'succeeded' if result >= 0 else os.strerror(ctypes.get_errno())\n"


def protected(box: Sandbox, *needs: str) -> None:
    report = box.report
    missing = [n for n in needs if not report.get(n)]
    if missing or not report.get("privileges_dropped"):
        pytest.skip(f"needs root with {', '.join(missing) or 'privileges dropped'}: {report['missing']}")


# ---------------------------------------------------------------------------
# Namespaces, mounts, the kernel's debugging and fast paths (seccomp)
# ---------------------------------------------------------------------------
def test_user_namespace_cannot_be_entered_to_gain_capabilities(sandbox: Sandbox) -> None:
    protected(sandbox, "seccomp")
    cells = [
        LIBC + ERRNO + "NEWUSER, NEWNS, NEWNET, SIGCHLD = 0x10000000, 0x20000, 0x40000000, 17\ntried = {}",
        # unshare into a user namespace, become root there, mount a tmpfs, talk to netfilter
        "tried['unshare'] = err(libc.unshare(NEWUSER | NEWNS | NEWNET))\n"
        "os.makedirs('/tmp/mnt', exist_ok=True)\n"
        "tried['mount'] = err(libc.mount(b'none', b'/tmp/mnt', b'tmpfs', 0, None))\n"
        "import socket\ntry:\n    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12).close()\n    tried['netlink'] = 'succeeded'\n"
        "except OSError as exc:\n    tried['netlink'] = exc.strerror",
        # a raw clone with namespace flags (stack 0: the child runs on a copy, like fork)
        "pid = libc.syscall(56, NEWUSER | NEWNET | SIGCHLD, 0, 0, 0, 0)\nif pid == 0:\n    os._exit(0)\n"
        "tried['clone'] = err(pid)\nif pid > 0:\n    os.waitpid(pid, 0)",
        # clone3 keeps its flags in a struct seccomp cannot read
        "args = (ctypes.c_uint64 * 11)(NEWUSER, 0, 0, 0, SIGCHLD)\n"
        "pid = libc.syscall(435, ctypes.byref(args), ctypes.sizeof(args))\nif pid == 0:\n    os._exit(0)\n"
        "tried['clone3'] = err(pid)\nif pid > 0:\n    os.waitpid(pid, 0)",
        "ns = os.open('/proc/1/ns/net', os.O_RDONLY)\ntried['setns'] = err(libc.setns(ns, 0))",
        "pid = os.fork()\nif pid == 0:\n    os._exit(0)\nos.waitpid(pid, 0)\ntried['fork'] = 'succeeded'",
    ]
    outcome = sandbox.run(cells, ["tried"])
    assert outcome.error is None, outcome
    assert outcome.values["tried"] == {
        "unshare": "Operation not permitted",
        "mount": "Operation not permitted",
        "netlink": "Address family not supported by protocol",
        "clone": "Operation not permitted",
        "clone3": "Function not implemented",  # so libc falls back to clone, whose flags are filtered
        "setns": "Operation not permitted",
        "fork": "succeeded",  # plain processes and threads still work
    }


def test_kernel_debugging_and_fast_paths_are_closed(sandbox: Sandbox) -> None:
    protected(sandbox, "seccomp")
    calls = {
        "ptrace": "libc.syscall(101, 0, 0, 0, 0)",  # PTRACE_TRACEME
        "bpf": "libc.syscall(321, 0, ctypes.byref((ctypes.c_uint32 * 32)(2, 4, 8, 16)), 128)",
        "perf_event_open": "libc.syscall(298, ctypes.byref((ctypes.c_uint32 * 32)(1, 128)), 0, -1, -1, 0)",
        "userfaultfd": "libc.syscall(323, 1)",  # UFFD_USER_MODE_ONLY
        "io_uring_setup": "libc.syscall(425, 4, ctypes.byref((ctypes.c_uint32 * 30)()))",
        "keyctl": "libc.syscall(250, 0, -3, 1)",  # KEYCTL_GET_KEYRING_ID of @s
        "personality": "libc.syscall(135, 0x0040000)",  # ADDR_NO_RANDOMIZE
        "init_module": "libc.syscall(175, None, 0, b'')",
        "process_vm_readv": "libc.syscall(310, os.getpid(), None, 0, None, 0, 0)",
    }
    cells = [LIBC + ERRNO + "tried = {}"] + [f"tried[{name!r}] = err({call})" for name, call in calls.items()]
    outcome = sandbox.run(cells, ["tried"])
    assert outcome.error is None, outcome
    assert outcome.values["tried"] == dict.fromkeys(calls, "Operation not permitted")


def test_32_bit_and_x32_system_calls_do_not_bypass_the_filter(sandbox: Sandbox) -> None:
    protected(sandbox, "seccomp")
    cells = [
        LIBC + "before = 'ran'",
        # x32 ABI number of unshare: same call, another table
        "after_x32 = libc.syscall(0x40000000 | 272, 0x10000000)",
    ]
    outcome = sandbox.run(cells, ["before", "after_x32"])
    assert outcome.values.get("before") == "ran"
    assert "after_x32" not in outcome.values  # the process was killed at the call
    assert outcome.error == "killed by signal SIGSYS"


# ---------------------------------------------------------------------------
# Kernel keyrings
# ---------------------------------------------------------------------------
KEYCTL = 250
ADD_KEY = 248
KEY_SPEC_SESSION_KEYRING = -3
KEYCTL_READ, KEYCTL_SEARCH = 11, 10


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _read_key(serial: int) -> bytes:
    libc = _libc()
    buffer = ctypes.create_string_buffer(256)
    size = libc.syscall(KEYCTL, KEYCTL_READ, serial, buffer, 256)
    assert size >= 0, os.strerror(ctypes.get_errno())
    return buffer.raw[:size]


def test_the_graders_session_keyring_is_out_of_reach() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    libc = _libc()
    linux.join_fresh_session_keyring()  # this test's own keyring, inherited by the sandbox started below
    secret = b"db-password-" + os.urandom(6).hex().encode()
    serial = libc.syscall(ADD_KEY, b"user", b"grader:secret", secret, len(secret), KEY_SPEC_SESSION_KEYRING)
    assert serial > 0, os.strerror(ctypes.get_errno())
    steal = [
        LIBC + ERRNO + "found = libc.syscall(250, 10, -3, b'user', b'grader:secret', 0)\nread = err(found)\n"
        "buf = ctypes.create_string_buffer(256)\nif found > 0:\n    n = libc.syscall(250, 11, found, buf, 256)\n"
        "    read = buf.raw[:n].decode()\n"
        # then try to destroy it for everyone: unlink, revoke, invalidate
        "ruined = [err(libc.syscall(250, op, found, -3)) for op in (9, 3, 21)] if found > 0 else []\n"
        "planted = err(libc.syscall(248, b'user', b'left:behind', b'hello', 5, -3))",
        # /proc/keys lists every key the process may view, without a system call seccomp sees
        "try:\n    listed = open('/proc/keys').read()\nexcept OSError as exc:\n    listed = exc.strerror",
    ]
    with Sandbox(workers=1, limits=LIMITS) as box:
        protected(box, "seccomp")
        outcome = box.run(steal, ["read", "ruined", "planted", "listed"])
    assert outcome.error is None, outcome
    assert secret.decode() not in repr(outcome.values)
    assert "grader:secret" not in outcome.values.pop("listed")  # a fresh session keyring: not even its name
    assert outcome.values == {"read": "Operation not permitted", "ruined": [], "planted": "Operation not permitted"}
    assert _read_key(serial) == secret  # the grader's key is untouched
    found = libc.syscall(KEYCTL, KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, b"user", b"left:behind", 0)
    assert found < 0  # nothing was added to the grader's keyring


def test_a_key_left_behind_never_reaches_the_next_notebook(sandbox: Sandbox) -> None:
    protected(sandbox, "seccomp")
    leave = [
        LIBC
        + ERRNO
        + "left = {}\nfor ring, name in ((-3, 'session'), (-4, 'user'), (-5, 'user-session'), (-1, 'thread')):\n"
        "    left[name] = err(libc.syscall(248, b'user', b'note:for:next', b'answers: 4 2 1', 14, ring))"
    ]
    find = [
        LIBC + ERRNO + "found = {}\nfor ring, name in ((-3, 'session'), (-4, 'user'), (-5, 'user-session')):\n"
        "    found[name] = err(libc.syscall(250, 10, ring, b'user', b'note:for:next', 0))"
    ]
    first = sandbox.run(leave, ["left"])
    later = [sandbox.run(find, ["found"]) for _ in range(3)]  # on both workers
    assert set(first.values["left"].values()) == {"Operation not permitted"}
    for outcome in later:
        assert set(outcome.values["found"].values()) == {"Operation not permitted"}


# ---------------------------------------------------------------------------
# Memory the address-space limit never sees
# ---------------------------------------------------------------------------
def test_memfd_files_cannot_hold_memory_beyond_the_limit(sandbox: Sandbox) -> None:
    protected(sandbox, "cgroup")
    cells = [
        "import os\nearly = 'kept'\nheld_mb = 0\nfiles = []",
        # 32 MB memfd files, each under the file-size limit, far past the memory limit in total
        "chunk = b'x' * (32 << 20)\nfor i in range(16):\n    fd = os.memfd_create(f'hoard{i}')\n    os.write(fd, chunk)\n"
        "    files.append(fd)\n    held_mb += 32",
    ]
    outcome = sandbox.run(cells, ["early", "held_mb"])
    assert outcome.error == f"memory limit ({LIMITS.memory_mb} MB) exceeded"
    assert outcome.values == {"early": "kept", "held_mb": 0}
    # the true peak: the cgroup's high-water mark, not the process's resident memory
    assert LIMITS.memory_mb <= outcome.peak_memory_mb <= LIMITS.memory_mb + 64
    assert outcome.peak_rss_mb < outcome.peak_memory_mb


def test_sysv_shared_memory_is_held_to_a_small_quota(sandbox: Sandbox) -> None:
    protected(sandbox, "cgroup")
    cells = [
        LIBC + "libc.shmat.restype = ctypes.c_void_p\nheld_mb, refused = 0, None\n"
        # attached, touched, detached: the segments outlive the mapping
        "for size_mb in [64] * 8 + [8] * 32:\n"
        "    shm = libc.shmget(0, size_mb << 20, 0o1600)\n"
        "    if shm < 0:\n        refused = refused or os.strerror(ctypes.get_errno())\n        continue\n"
        "    address = libc.shmat(shm, None, 0)\n    ctypes.memset(address, 1, size_mb << 20)\n    libc.shmdt(ctypes.c_void_p(address))\n"
        "    held_mb += size_mb"
    ]
    outcome = sandbox.run(cells, ["held_mb", "refused"])
    assert outcome.error is None, outcome
    assert outcome.values["held_mb"] <= 16
    assert outcome.values["refused"] == "Invalid argument"  # larger than the namespace's shmmax


def test_the_peak_reported_counts_shared_memory(sandbox: Sandbox) -> None:
    protected(sandbox, "cgroup")
    cells = [
        "import os\nmb = b'y' * (1 << 20)\nfiles = [os.memfd_create(f'cache{i}') for i in range(3)]\n"
        "for fd in files:\n    for _ in range(40):\n        os.write(fd, mb)\nx = 1"
    ]
    outcome = sandbox.run(cells, ["x"])
    assert outcome.error is None and outcome.values == {"x": 1}
    assert outcome.peak_memory_mb >= 120  # the 120 MB file, which no process maps
    assert outcome.peak_rss_mb < 120


def test_cgroups_are_removed_after_each_notebook_and_at_the_end() -> None:
    with Sandbox(workers=2, limits=LIMITS) as box:
        protected(box, "cgroup")
        pids = [w.proc.pid for w in box._workers]
        for _ in range(6):
            box.run(["import os\nfd = os.memfd_create('x')\nos.write(fd, b'x' * (1 << 20))\nx = 1"], ["x"])
        groups = {pid: list(Path("/sys/fs/cgroup").glob(f"*/**/optgrader-{pid}/nb-*")) for pid in pids}
        # per hierarchy, only the group of the child forked ahead for the next notebook
        assert all(len({p.name for p in found}) <= 1 for found in groups.values()), groups
    assert [p for pid in pids for p in Path("/sys/fs/cgroup").glob(f"*/**/optgrader-{pid}")] == []


# ---------------------------------------------------------------------------
# The result channel: frame sizes are the grader's to decide
# ---------------------------------------------------------------------------
FORGE = (
    "import os\n"
    "def link(fd):\n    try:\n        return os.readlink(f'/proc/self/fd/{fd}')\n    except OSError:\n        return ''\n"
    "channel = next(int(fd) for fd in os.listdir('/proc/self/fd') if link(fd).startswith('socket:'))\n"
    "def send(frame):\n    pieces = [frame[i:i + 65000] for i in range(0, len(frame), 65000)]\n"
    "    for i, piece in enumerate(pieces):\n"
    "        tag = b'S' if len(pieces) == 1 else b'B' if i == 0 else b'E' if i == len(pieces) - 1 else b'M'\n"
    "        os.write(channel, tag + piece)\n"
)


def _peak_memory_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.parametrize(
    "payload",
    [
        "b'[' + b'{},' * 630000 + b'{}]'",  # 1.9 MB that parses into 630 000 dicts
        "b'[' + b'[],' * 300000 + b'[]]'",  # under a megabyte, 300 000 lists
        "b'[' * 40 + b']' * 40",  # deeper than any value may be
    ],
    ids=["huge", "many-values", "deep"],
)
def test_huge_frames_are_refused_before_the_grader_builds_them(sandbox: Sandbox, payload: str) -> None:
    names = [f"answer_{i}" for i in range(16)]
    cells = [
        FORGE + "answer_0 = 'early answer'",
        f"payload = {payload}\n"
        "for name in "
        + repr(names)
        + ':\n    send(b\'{"t":"val","n":"\' + name.encode() + b\'","v":\' + payload + b\'}\')\n'
        "late = 'never'",
        "answer_1 = 'after'",
    ]
    Path("/proc/self/clear_refs").write_text("5")  # restart this process's peak-memory count
    before = _peak_memory_mb()
    outcome = sandbox.run(cells, names)
    grown = _peak_memory_mb() - before
    assert outcome.error.startswith("result channel: the notebook sent a frame")
    assert outcome.values == {"answer_0": "early answer"}  # its earlier answers still count
    assert grown < 48, f"the grader grew by {grown:.0f} MB"


def test_values_in_many_names_cannot_add_up_past_the_run_budget(sandbox: Sandbox) -> None:
    names = [f"answer_{i}" for i in range(16)]
    cells = [
        FORGE + "answer_0 = 'early answer'",
        "payload = b'[' + b'0,' * 99990 + b'0]'\n"  # each within the per-value limit
        "for name in "
        + repr(names)
        + ':\n    send(b\'{"t":"val","n":"\' + name.encode() + b\'","v":\' + payload + b\'}\')',
    ]
    outcome = sandbox.run(cells, names)
    assert outcome.error.startswith("result channel: the notebook sent values of more than")
    assert outcome.values == {"answer_0": "early answer"}


def test_an_honest_notebook_with_large_values_is_refused_politely(sandbox: Sandbox) -> None:
    """The child keeps to the same budgets: too much becomes value_errors, never a dropped notebook."""
    names = [f"answer_{i}" for i in range(6)]
    cells = ["import numpy as np\n" + "\n".join(f"{n} = np.arange(90000)" for n in names)]
    outcome = sandbox.run(cells, names)
    assert outcome.error is None
    assert len(outcome.values) == 2  # two of 90 000 fit in the run's 200 000 values
    assert set(outcome.value_errors.values()) == {"too large (the requested values together exceed 200000 elements)"}


# ---------------------------------------------------------------------------
# What must keep working under the filter and the cgroup
# ---------------------------------------------------------------------------
def test_numpy_matplotlib_threads_and_processes_still_work(sandbox: Sandbox) -> None:
    protected(sandbox, "seccomp", "cgroup")
    cells = [
        "%matplotlib inline\nimport numpy as np\nimport matplotlib.pyplot as plt",
        "rng = np.random.default_rng(0)\nA = rng.normal(size=(200, 200))\nsolved = float(np.linalg.solve(A, A @ np.ones(200)).sum())\n"
        "spectrum = float(np.abs(np.fft.fft(np.ones(64))).max())",
        "fig, ax = plt.subplots()\nax.plot(np.arange(10), np.arange(10) ** 2)\nfig.savefig('plot.png')\nfig.savefig('plot.pdf')\n"
        "import os\nsaved = sorted(os.listdir('.'))",
        "from concurrent.futures import ThreadPoolExecutor\nwith ThreadPoolExecutor(2) as pool:\n"
        "    squares = list(pool.map(lambda v: v * v, range(5)))",
        "import multiprocessing as mp\nwith mp.get_context('fork').Pool(2) as pool:\n    cubes = pool.map(abs, [-1, -2, 3])",
        "import subprocess\nechoed = subprocess.run(['echo', 'hi'], capture_output=True, text=True).stdout",
    ]
    outcome = sandbox.run(cells, ["solved", "spectrum", "saved", "squares", "cubes", "echoed"])
    assert outcome.error is None and outcome.cell_errors == [], outcome
    assert outcome.values["solved"] == pytest.approx(200)
    assert outcome.values["spectrum"] == 64
    assert outcome.values["saved"] == ["plot.pdf", "plot.png"]
    assert outcome.values["squares"] == [0, 1, 4, 9, 16] and outcome.values["cubes"] == [1, 2, 3]
    assert outcome.values["echoed"] == "hi\n"
