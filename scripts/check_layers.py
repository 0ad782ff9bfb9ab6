#!/usr/bin/env python3
"""The house has no back-arrows: each folder of src/mlspeed includes only folders below it.

The layers, lowest first (a folder may include its own layer's folder and any lower layer's):

  0  core, compat        words, files, lists, precision; the LibTorch version shim
  1  text, io, device,   tokenisers; safetensors, GGUF; devices, timers, the profiler;
     quant               quantised weight blocks and their kernels
  2  fused               fused kernels of a decode step (they write quant's quantised input)
  3  data, models, train data sets; the models; the training step
  4  results             rows, fields, printers, the database (any row type)
  5  workloads           a model plus the job timed on it
  6  bench               the speed runner
  7  verify, generate    the numerical verifier; greedy generation as a row
  8  session             what every row-producing command shares
  9  compare             runs from anywhere (database, exported files, references) side by side
 10  report              HTML and markdown reports of runs

Nothing in src/mlspeed includes cli/ (the program) or testing/ (test helpers). Tests (*_test.cpp)
are leaves that nothing includes, so they may use any folder.
Exit status 1 with one line per back-arrow; run by ctest.
"""
import pathlib
import re
import sys

LAYERS = [["core", "compat"], ["text", "io", "device", "quant", "parallel"], ["fused"], ["data", "models", "train"], ["results"],
          ["workloads"], ["bench"], ["verify", "generate"], ["session"],
          ["compare"], ["report"]]
RANK = {folder: rank for rank, folders in enumerate(LAYERS) for folder in folders}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def back_arrows(root):
    problems = []
    for path in sorted((root / "src" / "mlspeed").rglob("*")):
        if path.suffix not in (".h", ".cpp") or path.parent.name == "mlspeed":
            continue
        folder, is_test = path.parent.name, path.name.endswith("_test.cpp")
        if folder not in RANK:
            problems.append(f"{path}: folder '{folder}' has no layer in scripts/check_layers.py")
            continue
        if is_test:
            continue
        for target in INCLUDE.findall(path.read_text(errors="replace")):
            parts = target.split("/")
            if parts[0] in ("cli", "testing"):
                problems.append(f"{path}: library code includes {target}")
            elif parts[0] == "mlspeed" and len(parts) > 2 and parts[1] != folder:
                if parts[1] not in RANK:
                    problems.append(f"{path}: includes {target}, a folder with no layer")
                elif RANK[parts[1]] >= RANK[folder]:
                    problems.append(f"{path}: {folder} (layer {RANK[folder]}) includes {target} "
                                    f"(layer {RANK[parts[1]]}): an arrow back up")
    return problems


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
    problems = back_arrows(root)
    for p in problems:
        print(p)
    print(f"check_layers: {len(problems)} back-arrows" if problems else "check_layers: no back-arrows")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
