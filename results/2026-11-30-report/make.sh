#!/bin/sh
# The report committed here: today's H200 runs (imported from their exports), the recorded H100
# run of 2026-11-23 and H200 run of 2026-11-30 (bundled reference sets), a CPU run on this 2-core
# VM, and the published BERT T4 figures; then a screenshot in headless Chromium.
#   results/2026-11-30-report/make.sh [path/to/mlspeed]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mlspeed=${1:-$here/../../build/mlspeed}
h200=$here/../2026-11-30-h200-issue12/calls-1-2
db=$(mktemp -d)/report.db
trap 'rm -rf "$(dirname "$db")"' EXIT
export MLSPEED_DB=$db
"$mlspeed" import "$h200/export-h200-a.json"
gunzip -c "$h200/export-h200-verify.json.gz" > "$(dirname "$db")/verify.json"
"$mlspeed" import "$(dirname "$db")/verify.json"
"$mlspeed" run -d cpu -w bert-base-infer,resnet50-cifar100 -b 4,32 -s 128 --min-time 1 \
  --label "2-core VM" > "$here/cpu-run.md"
"$mlspeed" report ref:mlspeed-h100-2026-11-23 ref:mlspeed-h200-2026-11-30 "label:h200 a" "label:h200 verify" \
  "label:2-core VM" ref:bert-t4 -o "$here/report.html"
"$mlspeed" report ref:mlspeed-h100-2026-11-23 ref:mlspeed-h200-2026-11-30 "label:h200 a" "label:h200 verify" \
  "label:2-core VM" ref:bert-t4 -o "$here/summary.md"
profile=$(mktemp -d)
chromium --headless --no-sandbox --disable-gpu --user-data-dir="$profile" --host-resolver-rules='MAP * ~NOTFOUND' \
  --window-size=1280,4000 --virtual-time-budget=5000 --screenshot="$here/report.png" "file://$here/report.html"
rm -rf "$profile"
