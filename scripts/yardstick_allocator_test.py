#!/usr/bin/env python3
"""Checks scripts/yardstick/allocator.py: python3 scripts/yardstick_allocator_test.py

In a fresh process each: with the policy set, a 64 MiB block freed stays in the process's heap
(what mlspeed's cpu_setup.cpp does); with glibc's defaults it is mapped on its own and given back,
and the context says "defaults". Needs no torch. Linux and glibc only (skipped elsewhere).
"""
import os
import platform
import subprocess
import sys

from script_checks import check, failures

HERE = os.path.dirname(os.path.abspath(__file__))

CHILD = r"""
import ctypes, sys
sys.path.insert(0, sys.argv[1])
from yardstick import allocator
before = allocator.description()
if sys.argv[2] == "keep":
    allocator.keep_freed_cpu_memory()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
size = 64 << 20
block = libc.malloc(size)
ctypes.memset(block, 1, size)
libc.free(block)
heap = 0
for line in open("/proc/self/maps"):
    if line.rstrip().endswith("[heap]"):
        start, end = (int(x, 16) for x in line.split()[0].split("-"))
        heap += end - start
print(before, "|", allocator.description(), "|", heap >> 20)
"""


def child(mode):
    out = subprocess.run([sys.executable, "-c", CHILD, HERE, mode], capture_output=True, text=True)
    if out.returncode != 0:
        return None, out.stderr
    before, after, heap_mib = (part.strip() for part in out.stdout.split("|"))
    return (before, after, int(heap_mib)), out.stdout


if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
    print("skipped: the policy is glibc's (Linux)")
    sys.exit(0)

kept, detail = child("keep")
check("the policy set: runs", kept is not None, detail)
if kept:
    check("the policy set: the context says so", kept[1] == "glibc malloc, freed memory kept for reuse", detail)
    check("the policy set: a freed 64 MiB block stays in the heap", kept[2] >= 64, detail)
defaults, detail = child("defaults")
check("glibc's defaults: runs", defaults is not None, detail)
if defaults:
    check("glibc's defaults: the context says so", defaults[0] == defaults[1] == "glibc malloc, defaults", detail)
    check("glibc's defaults: the block was mapped on its own and given back", defaults[2] < 64, detail)

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
