#!/bin/sh
# Installs what mlspeed needs on Debian/Ubuntu (only what is missing), builds it, and runs the
# default quick suite on every device. Extra arguments go to `mlspeed run`. Only the program is
# built here; ./test.sh builds and runs the tests.
set -eu
cd "$(dirname "$0")"

# OpenBLAS matters: without it LibTorch's CPU matrix products fall back to the reference BLAS,
# about 50x slower. Chart.js (libjs-chart.js) is built into `mlspeed report`'s HTML pages. The
# tests use GoogleTest, SentencePiece (the reference the GGUF tokenizer is checked against) and Gloo
# (LibTorch's ProcessGroupGloo needs its headers: the data-parallel reducer's test).
packages="cmake ninja-build g++ libtorch-dev libopenblas0-pthread libsqlite3-dev libcli11-dev
          nlohmann-json3-dev libgtest-dev python3 python3-sentencepiece libjs-chart.js libgloo-dev"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing:$missing"
  $sudo apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build --target mlspeed
# With no arguments, the quick suite: the workloads whose full size takes seconds to a minute a
# configuration on a laptop CPU (the whole catalogue, `./setup.sh -w all`, takes hours on a CPU and
# minutes on a GPU). Arguments go to `mlspeed run` as they are.
[ $# -gt 0 ] || set -- -w nanogpt-shakespeare-char,bert-base-infer,resnet50-cifar100,small-transformer-imdb,gpt2-generate
build/mlspeed run "$@"
