#!/bin/sh
# Builds the test suites (setup.sh builds only mlspeed) and runs them, one test process a core.
# Extra arguments go to ctest: ./test.sh -L unit (a label: unit, cpu, cli, gpu), ./test.sh -R cpu:OpSuite.
# A CTest test is a GoogleTest suite, or for the unit label a source folder; one test alone:
# build/mlspeed_cli_tests --gtest_filter=Run.EveryOutputFormatReadsBack
set -eu
cd "$(dirname "$0")"

[ -f build/CMakeCache.txt ] || cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
exec ctest --test-dir build --output-on-failure -j "$jobs" "$@"
