"""A notebook's resource limits: the grader's :class:`Limits`, and the rlimits the child sets from them.

The same numbers also size the notebook's memory and pids cgroup
(:mod:`grader.sandbox.cgroup`) where cgroups are available.
"""

from __future__ import annotations

import resource
from dataclasses import asdict, dataclass

# The memory cgroup allows this much above ``memory_mb``: room for the copies
# of preloaded pages a notebook writes to, page tables and kernel memory, so
# that a large Python allocation meets RLIMIT_AS first (a MemoryError the
# notebook survives) and the cgroup's OOM kill stays the backstop for the
# memory RLIMIT_AS does not see (memfd, shared memory, tmpfs, other processes).
CGROUP_HEADROOM_MB = 64


@dataclass(frozen=True)
class Limits:
    """Resource limits for one notebook."""

    cpu_seconds: float = 10  # RLIMIT_CPU for the notebook (cells and probes)
    wall_seconds: float = 30  # whole notebook, enforced from outside (SIGKILL)
    memory_mb: int = (
        1024  # memory cgroup (everything the notebook holds) and RLIMIT_AS on top of the preloaded interpreter
    )
    file_size_mb: int = 16  # RLIMIT_FSIZE; the child's tmpfs holds 2x this + 16 MB
    max_processes: int = 16  # pids cgroup and RLIMIT_NPROC for the child's own uid (threads count)
    probe_seconds: float = 2.0  # budget for each probe call

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
                raise ValueError(f"Limits.{name} must be a positive number, not {value!r}")


def cgroup_memory_bytes(limits: dict) -> int:
    """The memory cgroup limit for ``asdict(Limits)``: ``memory_mb`` + :data:`CGROUP_HEADROOM_MB`."""
    return (int(limits["memory_mb"]) + CGROUP_HEADROOM_MB) << 20


def apply_rlimits(limits: dict, vm_mb: int) -> None:
    """Set the child's rlimits from ``asdict(Limits)``.

    RLIMIT_AS is ``memory_mb`` on top of the address space inherited at fork
    (``vm_mb``), so one large allocation fails with ``MemoryError`` instead
    of waking the cgroup's OOM killer.
    """

    def both(which: int, value: int) -> None:
        resource.setrlimit(which, (value, value))

    cpu = max(1, int(-(-limits["cpu_seconds"] // 1)))
    both(resource.RLIMIT_CPU, cpu)
    both(resource.RLIMIT_AS, (vm_mb + int(limits["memory_mb"])) * 2**20)
    both(resource.RLIMIT_FSIZE, int(limits["file_size_mb"]) * 2**20)
    both(resource.RLIMIT_NPROC, int(limits["max_processes"]))
    both(resource.RLIMIT_CORE, 0)
    both(resource.RLIMIT_NOFILE, 256)
