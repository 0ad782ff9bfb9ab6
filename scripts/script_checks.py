"""The checks of the scripts' own tests (scripts/*_test.py, run by CTest): each check prints `ok` or
`FAIL` and what it checks (and, when it fails, the detail given), and the failures are kept in
`failures` for the test's exit status."""

import json
import os
import subprocess
import sys

failures = []


def write_jsonl(folder, name, rows, raw=None):
    """folder/name holding `rows` as JSON lines (or `raw`, for malformed input); its path."""
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write(raw if raw is not None else "".join(json.dumps(r) + "\n" for r in rows))
    return path


def run_script(tool, *args):
    """The script `tool` run with `args` by this Python: its CompletedProcess, output captured."""
    return subprocess.run([sys.executable, tool, *args], capture_output=True, text=True)


def check(what, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)
        if detail:
            print(detail)
