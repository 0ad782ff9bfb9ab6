"""The CPU memory allocator's policy, the same in the yardstick's process as in mlspeed's.

mlspeed keeps freed memory for reuse (src/mlspeed/device/cpu_setup.cpp: glibc's mallopt with no
block mapped on its own and the heap never trimmed), so that a timed step does not pay the kernel
for pages it gave back after the step before. With glibc's defaults every tensor above 32 MiB
or so is mapped when allocated and unmapped when freed: on the project's 2-core VM that made the
small transformer's training step (b32, fp32) take 165 ms in PyTorch against 42 ms with freed
memory kept, the same ops. The yardstick sets the same policy before torch allocates anything,
unless --malloc-defaults, and records which one ran in pytorch-context.json ("cpu_memory"), with
the words mlspeed's context uses.

No torch here: the policy must be set before torch is imported.
"""
import ctypes
import platform

M_TRIM_THRESHOLD = -1  # glibc's malloc.h
M_MMAP_MAX = -4

KEPT = "glibc malloc, freed memory kept for reuse"
DEFAULTS = "glibc malloc, defaults"
OTHER = "the platform's malloc, defaults"

_description = DEFAULTS if platform.libc_ver()[0] == "glibc" else OTHER


def keep_freed_cpu_memory():
    """mallopt(M_MMAP_MAX, 0) and mallopt(M_TRIM_THRESHOLD, -1), as mlspeed does; returns the
    description the context records (DEFAULTS when glibc refuses either, OTHER off glibc)."""
    global _description
    if platform.libc_ver()[0] != "glibc":
        return _description
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return _description
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    no_mmap = mallopt(M_MMAP_MAX, 0) == 1
    no_trim = mallopt(M_TRIM_THRESHOLD, -1) == 1
    _description = KEPT if no_mmap and no_trim else DEFAULTS
    return _description


def description():
    """The policy in force, in mlspeed's words."""
    return _description
