"""The system-call filter every notebook runs under (seccomp BPF, compiled by libseccomp).

A deny-list, not an allow-list, and on purpose: an allow-list has to follow
every system call glibc, CPython, numpy's BLAS and matplotlib make, across
their versions and this kernel's (a call missed there kills a correct
student's notebook), while the calls below are the kernel's attack surface
that a pure-Python notebook never needs.  What is denied fails with
``EPERM`` (``ENOSYS`` for ``clone3``), so a library that probes for a
feature sees "not permitted", not a crash.  System calls of any other
architecture (32-bit ``int 0x80`` on x86-64, x32) kill the process:
libseccomp's default for an architecture the filter does not name.

The filter is compiled once in the forkserver (:func:`compile_filter`) and
each child loads the ready program with one ``prctl`` (see
:func:`grader.sandbox.linux.load_seccomp_program`).
"""

from __future__ import annotations

import errno
import os
import socket

from grader.sandbox import linux

# name -> why a notebook never needs it
DENIED = {
    # namespaces: a user namespace gives every capability inside it (mounts, netfilter, ...)
    "unshare": "namespaces",
    "setns": "namespaces",
    # mounts and the root
    "mount": "mounts",
    "umount2": "mounts",
    "pivot_root": "mounts",
    "chroot": "mounts",
    "open_tree": "mounts",
    "move_mount": "mounts",
    "fsopen": "mounts",
    "fsconfig": "mounts",
    "fsmount": "mounts",
    "fspick": "mounts",
    "mount_setattr": "mounts",
    # reading or writing other processes
    "ptrace": "debugging",
    "process_vm_readv": "debugging",
    "process_vm_writev": "debugging",
    "pidfd_getfd": "debugging",
    "kcmp": "debugging",
    # kernel attack surface
    "bpf": "kernel programs",
    "perf_event_open": "kernel profiling",
    "userfaultfd": "page-fault handling (a common exploit primitive)",
    "io_uring_setup": "io_uring",
    "io_uring_enter": "io_uring",
    "io_uring_register": "io_uring",
    # kernel keyrings: shared with the grader and other notebooks
    "add_key": "keyrings",
    "request_key": "keyrings",
    "keyctl": "keyrings",
    # the machine itself
    "kexec_load": "kernel replacement",
    "kexec_file_load": "kernel replacement",
    "init_module": "kernel modules",
    "finit_module": "kernel modules",
    "delete_module": "kernel modules",
    "reboot": "machine",
    "swapon": "machine",
    "swapoff": "machine",
    "acct": "machine",
    "quotactl": "machine",
    "syslog": "kernel log",
    "settimeofday": "clock",
    "clock_settime": "clock",
    "clock_adjtime": "clock",
    "adjtimex": "clock",
    "sethostname": "machine",
    "setdomainname": "machine",
    "iopl": "hardware ports",
    "ioperm": "hardware ports",
    "open_by_handle_at": "file handles bypass the mount namespace",
    "name_to_handle_at": "file handles",
    "lookup_dcookie": "kernel profiling",
    "fanotify_init": "file-system monitoring",
    "vhangup": "terminals",
    "uselib": "obsolete",
    "nfsservctl": "obsolete",
    "personality": "execution domains (can re-enable legacy layouts)",
}

# Socket families a notebook may open (the network namespace has no network anyway):
# every other family (netlink, packet, vsock, ...) is kernel code a notebook never needs.
ALLOWED_FAMILIES = (socket.AF_UNIX, socket.AF_INET, socket.AF_INET6)
MAX_FAMILY = 64


def compile_filter() -> bytes:
    """The BPF program of the notebook filter for this machine's architecture.

    Raises :class:`ImportError` when libseccomp is not installed and
    :class:`OSError` when it refuses the rules.
    """
    import pyseccomp as seccomp

    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    deny = seccomp.ERRNO(errno.EPERM)
    for name in DENIED:
        rules.add_rule(deny, name)
    # clone3 passes its flags in a struct seccomp cannot read: make libc fall back to clone.
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    for flag in _bits(linux.CLONE_NAMESPACES):
        rules.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    refused = seccomp.ERRNO(errno.EAFNOSUPPORT)
    for family in range(MAX_FAMILY):
        if family not in ALLOWED_FAMILIES:
            rules.add_rule(refused, "socket", seccomp.Arg(0, seccomp.EQ, family))
    rules.add_rule(refused, "socket", seccomp.Arg(0, seccomp.GE, MAX_FAMILY))
    read_end, write_end = os.pipe()
    try:
        with os.fdopen(write_end, "wb") as sink:
            rules.export_bpf(sink)
        with os.fdopen(read_end, "rb") as source:
            return source.read()
    except BaseException:
        for fd in (read_end, write_end):
            try:
                os.close(fd)
            except OSError:
                pass
        raise


def _bits(mask: int) -> list[int]:
    return [1 << i for i in range(mask.bit_length()) if mask >> i & 1]
