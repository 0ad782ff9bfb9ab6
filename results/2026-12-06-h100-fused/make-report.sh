#!/bin/sh
# The report and comparison committed here, from fused.db (the twelve one-row runs of the call that
# timed each row on mlspeed's kernels and on LibTorch's alone): each kernel set's six rows are joined
# into one run (export, then the rows of the other five appended, then import), so that `report`
# sets the two kernel sets side by side; then a screenshot in headless Chromium.
#   results/2026-12-06-h100-fused/make-report.sh [path/to/mlspeed]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mlspeed=${1:-$here/../../build/mlspeed}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do "$mlspeed" export "$i" --db "$here/fused.db" --output "$tmp/$i.json" 2>/dev/null; done
python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
for first, label in ((1, "H100 mlspeed kernels"), (2, "H100 LibTorch kernels")):
    run = json.load(open(f"{tmp}/{first}.json"))
    for i in range(first + 2, 13, 2):
        run["rows"] += json.load(open(f"{tmp}/{i}.json"))["rows"]
    run["run"]["label"] = label
    json.dump(run, open(f"{tmp}/joined-{first}.json", "w"))
PY
export MLSPEED_DB="$tmp/joined.db"
"$mlspeed" import "$tmp/joined-1.json" > /dev/null
"$mlspeed" import "$tmp/joined-2.json" > /dev/null
"$mlspeed" report "label:H100 LibTorch kernels" "label:H100 mlspeed kernels" --output "$here/report.html"
profile=$(mktemp -d)
chromium --headless --no-sandbox --disable-gpu --user-data-dir="$profile" --host-resolver-rules='MAP * ~NOTFOUND' \
  --window-size=1280,4000 --virtual-time-budget=5000 --screenshot="$here/report.png" "file://$here/report.html" \
  2> /dev/null
rm -rf "$profile"
