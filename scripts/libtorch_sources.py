#!/usr/bin/env python3
"""Which sources reach LibTorch's heavy headers: the build compiles only those with the
precompiled header.

Loading LibTorch's precompiled header (~450 MB) costs a translation unit about 6 s before its
first line, an empty one included; a source that includes no ATen or torch header compiles in
2-8 s without it and 7-16 s with it (g++ 12, -O3). CMakeLists.txt runs this at configure time and
compiles the sources it prints as "plain" in an object library of their own, without the header
and while it is being built. A source is "libtorch" when it, or a project header it includes
(followed through "mlspeed/...", "cli/..." and "testing/..."), includes <ATen/...> or
<torch/...>; c10's headers (c10/core/ScalarType.h, the dtype enum) are light and do not count.
Includes inside #if are counted as if taken: that guess costs speed at worst. A plain source must
include what it uses (c10/core/Device.h for c10::Device): nothing comes from the precompiled header.

Usage: libtorch_sources.py [--plain] SOURCE_ROOT FILE...
Prints "libtorch FILE" or "plain FILE" a line; with --plain, the plain files alone as a CMake list.
"""
import functools
import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.MULTILINE)
HEAVY = ("ATen/", "torch/")
PROJECT = ("mlspeed/", "cli/", "testing/")


def main(argv):
    plain_only = len(argv) > 1 and argv[1] == "--plain"
    args = argv[2:] if plain_only else argv[1:]
    if not args:
        sys.stderr.write(__doc__)
        return 2
    root = pathlib.Path(args[0])

    @functools.lru_cache(maxsize=None)
    def reaches_libtorch(path):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return False  # a generated or missing header: the compiler will say
        for _, name in INCLUDE.findall(text):
            if name.startswith(HEAVY):
                return True
            if name.startswith(PROJECT) and reaches_libtorch(root / name):
                return True
        return False

    sources = args[1:]
    if plain_only:
        print(";".join(s for s in sources if not reaches_libtorch(pathlib.Path(s))), end="")
        return 0
    for source in sources:
        print("libtorch" if reaches_libtorch(pathlib.Path(source)) else "plain", source)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
