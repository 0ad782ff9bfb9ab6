#!/bin/bash
# Sourced by the call scripts of this folder, which set OUT: a call brings back at most 8 files, so
# on exit every log goes into $OUT/logs.tar.gz and only the summaries stay beside it.
pack() {
  (cd "$OUT" && tar -czf /tmp/logs.tar.gz . && find . -mindepth 1 \( -type f -o -type d \) \
    ! -path ./env.txt ! -path ./ab-rows.md ! -path ./bn-rows.md ! -path ./verify-quick.md ! -path './*profile.md' -delete
   mv /tmp/logs.tar.gz "$OUT/")
}
trap pack EXIT
