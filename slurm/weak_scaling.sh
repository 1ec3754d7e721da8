#!/bin/bash
# Weak scaling of condlif: the network grows with the rank count. At P ranks every growing
# population gets size * P / P0 neurons (rounded; size from the config, P0 = --base-ranks) through
# condlif's --set populations.<name>.size=..., so N per rank stays fixed. Projections with a
# fixed in-degree (rule fixed_indegree) keep each neuron's input the same; with pairwise
# Bernoulli the in-degree would grow with N (scale p yourself with --set). One SLURM job per run
# (or mpirun runs one after another without SLURM); the timers go into one CSV for
# analysis/scaling.py.
#
#   slurm/weak_scaling.sh [options] net.cfg [-- condlif options]
#
# e.g. slurm/weak_scaling.sh -r "1 2 4 8 16" --grow "exc inh" --plot config/bench/coba_alpha_4000.cfg
set -uo pipefail
SCALING_KIND=weak
# shellcheck source=slurm/scaling_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/scaling_lib.sh"

GROW="" BASE_RANKS=1

scaling_usage() {
  echo "Usage: $0 [options] net.cfg [-- condlif options]"
  echo "Grows the populations with the rank count at fixed N per rank (weak scaling)."
  echo "  -g, --grow \"NAMES\"     populations that grow (default: every population)"
  echo "      --base-ranks P0    rank count for which the config's sizes are meant (default 1)"
  scaling_common_usage
}

scaling_extra_option() {
  case $1 in
    -g | --grow) GROW=${2:?--grow needs population names}; return 2 ;;
    --base-ranks) BASE_RANKS=${2:?--base-ranks needs a rank count}; return 2 ;;
  esac
  return 0
}

declare -A BASE_SIZE=()
GROW_NAMES=()

# Reads the base sizes once (called by scaling_main after the options are parsed).
scaling_prepare() {
  [[ $BASE_RANKS =~ ^[1-9][0-9]*$ ]] || scaling_die "--base-ranks: '$BASE_RANKS' is not a rank count"
  local sizes name size i
  sizes=$("$SCALING_PYTHON" "$SCALING_IO" config-sizes "$SC_CONFIG") ||
    scaling_die "cannot read the population sizes of $SC_CONFIG"
  while read -r name size _; do
    if [ -z "$GROW" ] || [[ " $GROW " == *" $name "* ]]; then
      BASE_SIZE[$name]=$size
      GROW_NAMES+=("$name")
    fi
  done <<<"$sizes"
  for i in $GROW; do
    [ -n "${BASE_SIZE[$i]:-}" ] || scaling_die "--grow: no population $i in $SC_CONFIG"
  done
  ((${#GROW_NAMES[@]})) || scaling_die "no population to grow"
  for name in "${GROW_NAMES[@]}"; do
    scaling_log "$name: ${BASE_SIZE[$name]} neurons at $BASE_RANKS rank(s)"
  done
}

# The --set options of the run at $1 ranks, one word per line.
scaling_run_options() {
  local p=$1 name
  for name in "${GROW_NAMES[@]}"; do
    echo --set
    echo "populations.$name.size=$(((BASE_SIZE[$name] * p + BASE_RANKS / 2) / BASE_RANKS))"
  done
}

scaling_main "$@"
