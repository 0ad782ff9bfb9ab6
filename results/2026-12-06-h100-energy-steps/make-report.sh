#!/bin/sh
# The report committed here, from energy.db: the quick suite (energy-1), the training rows and
# Llama-2-7B's decoding in bf16 and from the Q4_0 file, then a screenshot in headless Chromium.
#   results/2026-12-06-h100-energy-steps/make-report.sh [path/to/mlspeed]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mlspeed=${1:-$here/../../build/mlspeed}
"$mlspeed" report label:energy-1 label:energy-train label:energy-llama-bf16 label:energy-llama-q4_0 \
  --db "$here/energy.db" --output "$here/report.html"
profile=$(mktemp -d)
chromium --headless --no-sandbox --disable-gpu --user-data-dir="$profile" --host-resolver-rules='MAP * ~NOTFOUND' \
  --window-size=1280,4000 --virtual-time-budget=5000 --screenshot="$here/report.png" "file://$here/report.html" \
  2> /dev/null
rm -rf "$profile"
