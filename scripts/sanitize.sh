#!/bin/sh
# What reads untrusted input, built with AddressSanitizer and UBSan (MLSPEED_SANITIZE) in
# build-asan/ and tested there: the unit label (the file readers, parsers, run files, the
# database, the command line's options, reports) and the cli suites that feed the program damaged
# and hostile files. Not the model suites (cpu): they run in the ordinary build, and under ASan
# they would take most of CI's time to find nothing that these suites and the fuzzers
# (scripts/fuzz.sh) do not. Not the cli suites of bad arguments either: the option parser is in
# the unit label and fuzzed. Any sanitizer report fails the run: ASan
# halts on its first error, UBSan is compiled not to recover (-fno-sanitize-recover) and told to
# halt as well. Extra arguments go to ctest in place of the selection (e.g. -R Safetensors).
set -eu
cd "$(dirname "$0")/.."

# -O1 -g1: a fraction of the optimiser's compile time, and line numbers in every report.
# NDEBUG is left out on purpose: assertions are checks too.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
      -DCMAKE_CXX_FLAGS="-fno-sanitize-recover=undefined" \
      -DMLSPEED_SANITIZE=ON
cmake --build build-asan --target mlspeed mlspeed_unit_tests mlspeed_cli_tests

# detect_leaks stays on: LibTorch's static registries are reachable at exit, which LeakSanitizer
# does not report; its one real leak that the suites reach is suppressed, with why, in
# lsan-suppressions.txt. allocator_may_return_null: an impossible allocation returns null as
# malloc does, so the tests of out-of-memory handling see what they would see in a real run
# (ASan's default is to abort the process). abort_on_error: an exit CTest reports as a failure.
root=$(pwd)
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:print_stacktrace=1:strict_string_checks=1:allocator_may_return_null=1"
export LSAN_OPTIONS="suppressions=$root/scripts/lsan-suppressions.txt:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
[ $# -gt 0 ] || set -- -R '^(unit:.*|cli:(BadInputFile|BadDatabase|HostileFiles|OutputSafety))$'
ctest --test-dir build-asan --output-on-failure -j "$(getconf _NPROCESSORS_ONLN)" "$@"
