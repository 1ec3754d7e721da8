#!/usr/bin/env bash
# Builds condlif twice (optimised with -Werror, then with ASan + UBSan) and runs the whole test
# suite on each. The README's test command and CI's (.ci/run) entry point.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
. scripts/env.sh
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCONDLIF_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
(cd build && ctest --output-on-failure -j "$jobs" --timeout 600)

cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DCONDLIF_WERROR=ON \
      -DCONDLIF_SANITIZE=ON -DCMAKE_C_FLAGS_DEBUG="-O1 -g" >/dev/null
cmake --build build-sanitize -j "$jobs"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
# Under the sanitizers, everything but the SLURM cluster, the per-file CLI error tests (their
# parsing runs under ASan in test_config) and the long 20 s run. The unit and engine tests also
# check for leaks; that needs full stack unwinding (fast_unwind_on_malloc=0) so that leaks
# inside Open MPI match tests/lsan.supp, which makes every allocation slow, so the other tests
# run without it.
(cd build-sanitize &&
   ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0 \
     ctest --output-on-failure -j "$jobs" --timeout 900 -L 'unit|engine' -LE long &&
   ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
     ctest --output-on-failure -j "$jobs" --timeout 900 -LE 'unit|engine|slurm|cli|long')
