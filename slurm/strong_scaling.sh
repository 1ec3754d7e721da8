#!/bin/bash
# Strong scaling of condlif: the same network (fixed N) at several rank counts, one SLURM job
# per run (or mpirun runs one after another without SLURM); the runs' timers go into one CSV
# (ranks, N, wall, build, update, deliver, exchange, write, rtf, ...) for analysis/scaling.py.
#
#   slurm/strong_scaling.sh [options] net.cfg [-- condlif options]
#
# e.g. slurm/strong_scaling.sh -r "1 2 4 8 16 32" --sbatch-args "-p compute -t 20:00" --plot \
#          config/bench/coba_alpha_40000.cfg -- --set simulation.t_stop=1000
set -uo pipefail
SCALING_KIND=strong
# shellcheck source=slurm/scaling_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/scaling_lib.sh"

scaling_usage() {
  echo "Usage: $0 [options] net.cfg [-- condlif options]"
  echo "Runs net.cfg unchanged at each rank count (strong scaling)."
  scaling_common_usage
}
scaling_extra_option() { return 0; }
scaling_prepare() { :; }
scaling_run_options() { :; }

scaling_main "$@"
