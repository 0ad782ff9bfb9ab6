"""The checks of the scripts' own tests (scripts/*_test.py, run by CTest): each check prints `ok` or
`FAIL` and what it checks (and, when it fails, the detail given), and the failures are kept in
`failures` for the test's exit status."""

failures = []


def check(what, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)
        if detail:
            print(detail)
