"""Linux system calls the sandbox needs that Python's ``os`` module lacks (ctypes on libc).

Every wrapper raises :class:`OSError` with the kernel's errno.  Used by the
forkserver (namespaces, the jail) and the child (keyring, seccomp, prctl).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import platform

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NAMESPACES = (
    CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
)
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MNT_DETACH = 0x2
PR_SET_PDEATHSIG = 1
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_MODE_FILTER = 2
KEYCTL_JOIN_SESSION_KEYRING = 1

# System calls glibc has no wrapper for, by machine.
_NUMBERS = {
    "x86_64": {"pivot_root": 155, "keyctl": 250},
    "aarch64": {"pivot_root": 41, "keyctl": 219},
    "riscv64": {"pivot_root": 41, "keyctl": 219},
    "ppc64le": {"pivot_root": 203, "keyctl": 280},
    "s390x": {"pivot_root": 217, "keyctl": 280},
}

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def _syscall(name: str, *args) -> int:
    number = _NUMBERS.get(platform.machine(), {}).get(name)
    if number is None:
        raise OSError(errno.ENOSYS, f"{name}: unknown system call number on {platform.machine()}")
    return _check(_libc.syscall(ctypes.c_long(number), *args), name)


def unshare(flags: int) -> None:
    """``unshare(2)``: move the calling process into new namespaces."""
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def setns(fd: int, nstype: int) -> None:
    """``setns(2)``: join the namespace referred to by ``fd``."""
    _check(_libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    """``mount(2)``; ``None`` arguments become NULL pointers."""

    def enc(text: str | None) -> bytes | None:
        return None if text is None else text.encode()

    result = _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))
    _check(result, f"mount {fstype or source or ''} on {target}")


def umount2(target: str, flags: int) -> None:
    """``umount2(2)``."""
    _check(_libc.umount2(target.encode(), ctypes.c_int(flags)), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    """``pivot_root(2)`` (glibc has no wrapper)."""
    _syscall("pivot_root", new_root.encode(), put_old.encode())


def prctl(option: int, value: int) -> None:
    """``prctl(2)`` with one argument."""
    zero = ctypes.c_ulong(0)
    _check(_libc.prctl(ctypes.c_int(option), ctypes.c_ulong(value), zero, zero, zero), "prctl")


def join_fresh_session_keyring() -> int:
    """``keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL)``: a new, empty, anonymous session keyring.

    The process leaves the session keyring it inherited (the grader's), so
    no key of the grader or of an earlier notebook is reachable through it.
    Returns the new keyring's serial number.
    """
    return _syscall("keyctl", ctypes.c_long(KEYCTL_JOIN_SESSION_KEYRING), ctypes.c_void_p(None))


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def load_seccomp_program(program: bytes) -> None:
    """Install a compiled seccomp BPF program (``struct sock_filter`` array) on this thread.

    Needs ``PR_SET_NO_NEW_PRIVS`` first (or ``CAP_SYS_ADMIN``).  The filter
    is inherited by every child and can never be removed.
    """
    if not program or len(program) % 8:
        raise ValueError("a seccomp program is a non-empty array of 8-byte instructions")
    fprog = _SockFprog(len(program) // 8, program)
    zero = ctypes.c_ulong(0)
    result = _libc.prctl(
        ctypes.c_int(PR_SET_SECCOMP),
        ctypes.c_ulong(SECCOMP_MODE_FILTER),
        ctypes.c_void_p(ctypes.addressof(fprog)),
        zero,
        zero,
    )
    _check(result, "seccomp")
