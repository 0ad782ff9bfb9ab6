#!/usr/bin/env python3
"""Names in anonymous namespaces must be unique within each target.

The unity build (CMakeLists.txt, MLSPEED_UNITY_BUILD) compiles a target's sources eight to a
file, so two files' anonymous namespaces become one: a helper `Column` in one file and
`mlspeed::Column` or another file's `Column` then clash, or an unqualified call turns ambiguous.
Which files share a batch changes whenever a file is added, so a clash would surface in some
later, unrelated change. This check finds them all now: a top-level name (function, type,
alias, constant) declared in an anonymous namespace of one file may not be declared in any
other file of the same target in the same namespace, or in one enclosing or enclosed by it
(where the helper would hide it or make a call ambiguous); library headers count for every
target. Usage: check_unity_names.py SOURCE_DIR
"""
import collections
import pathlib
import re
import sys

NAMESPACE_OPEN = re.compile(r"namespace\s*([\w:]*)\s*\{")
NAMESPACE_CLOSE = re.compile(r"\}\s*//\s*(?:anonymous\s+)?namespace")
TYPE = re.compile(r"(?:template\s*<[^>]*>\s*)?(?:struct|class|enum class|enum|union)\s+(\w+)\s*[:{;]")
ALIAS = re.compile(r"using\s+(\w+)\s*=")
# A declaration starting at column 0: a return type or a constant's type, then the name.
DECLARATION = re.compile(r"(?:template\s*<.*>\s*)?[\w:<>,*&\s]+?[\s*&](\w+)\s*(?:\(|=|\{|\[|;)")
SKIPPED_STARTS = (" ", "\t", "#", "//", "}", "TEST", "INSTANTIATE", "return", "namespace", "extern")


def declarations(path):
    """(enclosing namespace with anonymous levels dropped, name, is_anonymous) per top-level name."""
    found = []
    stack = []
    for line in path.read_text(encoding="utf-8").splitlines():
        opened = NAMESPACE_OPEN.match(line)
        if opened:
            stack.append(opened.group(1) or None)
            continue
        if NAMESPACE_CLOSE.match(line):
            if stack:
                stack.pop()
            continue
        if line.startswith(SKIPPED_STARTS) or not line.strip():
            continue
        match = TYPE.match(line) or ALIAS.match(line) or DECLARATION.match(line)
        if match and match.group(1) not in ("operator", "main"):
            named = "::".join(level for level in stack if level)
            found.append((named, match.group(1), None in stack))
    return found


def visible_from_one_another(a, b):
    """Whether a call in one namespace could find a name of the other: the same, or one inside the other."""
    a, b = a.split("::"), b.split("::")
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def clashes(src, files):
    """Each anonymous helper of `files` (relative to `src`) that another file declares within sight."""
    where = collections.defaultdict(list)
    for rel in files:
        for named, name, anonymous in declarations(src / rel):
            where[name].append((str(rel), named, anonymous))
    for name, places in sorted(where.items()):
        for path, named, anonymous in places:
            others = sorted({p for p, n, _ in places if p != path and visible_from_one_another(named, n)})
            if anonymous and others:
                yield f"{named}::{name}, a helper in an anonymous namespace of {path}, is also declared in {', '.join(others)}"


def targets(src):
    """The source files of each CMake target, as CMakeLists.txt globs them."""
    headers = sorted(src.glob("mlspeed/**/*.h"))
    library = [p for p in sorted(src.glob("mlspeed/**/*.cpp")) if not p.name.endswith("_test.cpp")]
    cli = [p for p in sorted(src.glob("cli/*.cpp")) if not p.name.endswith("_test.cpp")]
    support = sorted(src.glob("testing/*.cpp"))
    yield "mlspeed_core", library + headers
    yield "mlspeed_cli", cli + headers + sorted(src.glob("cli/*.h"))
    for label in ("unit", "cpu", "cli", "gpu"):
        tests = sorted(src.glob(f"**/*_{label}_test.cpp"))
        if tests:
            yield f"mlspeed_{label}_tests", tests + support + headers + sorted(src.glob("testing/*.h"))


def main():
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".") / "src"
    problems = []
    for target, files in targets(src):
        problems += [f"{target}: {c}" for c in clashes(src, [p.relative_to(src) for p in files])]
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} name(s) in anonymous namespaces clash under the unity build: rename the helper "
              "(a name that says what it does in its file), or move a shared one into a header", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
