#!/usr/bin/env bash
# Builds condlif and runs the default network (config/coba_alpha.cfg: COBA-alpha, 4000
# neurons, 1 s) on 2 ranks; prints the run summary and leaves spikes.h5 and raster.png in a
# new run directory under runs/. The README's first quick-start command.
#   bash scripts/run_default.sh [extra condlif options]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
. scripts/env.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
run="runs/coba_alpha-$(date +%Y%m%d-%H%M%S)"
mpirun -n 2 build/condlif -o "$run" "$@" config/coba_alpha.cfg
/usr/bin/python3 analysis/raster.py "$run/spikes.h5" -o "$run/raster.png"
echo "run directory: $run (spikes.h5, raster.png)"
