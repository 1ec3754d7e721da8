# shellcheck shell=bash
# Shared by slurm/strong_scaling.sh and slurm/weak_scaling.sh (sourced, bash): option parsing,
# running one series of condlif runs through slurm/condlif.sbatch (as SLURM jobs, or with
# mpirun when there is no SLURM), waiting for the jobs and collecting their timers into a CSV
# with analysis/condlif_io.py. The caller sets SCALING_KIND (strong|weak) and defines
#   scaling_usage            prints the help
#   scaling_extra_option O V handles its own option O (value V): returns the number of words
#                            used (1 or 2), 0 for an unknown option
#   scaling_prepare          runs once after the options are parsed (SC_* set)
#   scaling_run_options P    prints the extra condlif options of the run at P ranks, one word
#                            per line

SCALING_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCALING_PYTHON=${CONDLIF_PYTHON:-/usr/bin/python3}
SCALING_IO=$SCALING_REPO/analysis/condlif_io.py

scaling_die() {
  echo "${SCALING_KIND}_scaling.sh: $*" >&2
  exit 2
}

scaling_log() { echo "${SCALING_KIND}_scaling.sh: $*" >&2; }

scaling_common_usage() {
  cat <<EOF
Options:
  -r, --ranks "LIST"     rank counts, e.g. "1 2 4 8" (default "1 2 4")
  -d, --dir DIR          series directory: one run directory p<P>[-<k>] per run, job logs and
                         the CSV (default: scaling/${SCALING_KIND}-<config name>-<date>)
  -c, --csv FILE         the CSV (default: DIR/${SCALING_KIND}.csv)
      --repeats K        runs per rank count (default 1); scaling.py takes the median
      --slurm            submit with sbatch (default when a SLURM controller answers)
      --no-slurm         run one after another with mpirun (a laptop, or inside an allocation)
      --sbatch-args "A"  extra sbatch options, e.g. "-p compute -t 30:00 --exclusive"
      --tasks-per-node N pass --ntasks-per-node N to sbatch (spread the ranks over nodes)
      --parallel         let the jobs run at the same time (default: one after another via
                         --dependency=singleton, so that they do not disturb each other's timing)
      --timeout S        give up waiting for the jobs after S seconds (default: wait forever)
      --no-wait          submit and exit; collect later with --collect
      --collect          only collect the finished runs in DIR into the CSV
      --force            pass --force to condlif (reuse run directories of an earlier series)
      --plot             plot the CSV with analysis/scaling.py at the end (DIR/${SCALING_KIND}.png)
  -h, --help             this help
Everything after -- is passed to condlif (e.g. -- --set simulation.t_stop=500).
The binary is \$CONDLIF, else condlif on PATH, else build/condlif ($SCALING_REPO).
EOF
}

# Parses the common options into SC_* variables; unknown options go to the caller's handler
# scaling_extra_option NAME VALUE (returns how many arguments it used: 1 or 2; 0 = unknown).
scaling_parse() {
  SC_RANKS="1 2 4" SC_DIR="" SC_CSV="" SC_REPEATS=1 SC_MODE=auto SC_SBATCH_ARGS=""
  SC_TPN="" SC_PARALLEL=0 SC_TIMEOUT=0 SC_WAIT=1 SC_COLLECT_ONLY=0 SC_FORCE=0 SC_PLOT=0
  SC_CONFIG="" SC_CONDLIF_OPTS=()
  while [ $# -gt 0 ]; do
    case $1 in
      -r | --ranks) SC_RANKS=${2:?--ranks needs a list}; shift 2 ;;
      -d | --dir) SC_DIR=${2:?--dir needs a directory}; shift 2 ;;
      -c | --csv) SC_CSV=${2:?--csv needs a file}; shift 2 ;;
      --repeats) SC_REPEATS=${2:?--repeats needs a number}; shift 2 ;;
      --slurm) SC_MODE=slurm; shift ;;
      --no-slurm) SC_MODE=local; shift ;;
      --sbatch-args) SC_SBATCH_ARGS=${2?--sbatch-args needs a string}; shift 2 ;;
      --tasks-per-node) SC_TPN=${2:?--tasks-per-node needs a number}; shift 2 ;;
      --parallel) SC_PARALLEL=1; shift ;;
      --timeout) SC_TIMEOUT=${2:?--timeout needs seconds}; shift 2 ;;
      --no-wait) SC_WAIT=0; shift ;;
      --collect) SC_COLLECT_ONLY=1; shift ;;
      --force) SC_FORCE=1; shift ;;
      --plot) SC_PLOT=1; shift ;;
      -h | --help) scaling_usage; exit 0 ;;
      --) shift; SC_CONDLIF_OPTS=("$@"); break ;;
      -*)
        local used
        scaling_extra_option "$1" "${2-}"
        used=$?
        ((used > 0)) || scaling_die "unknown option $1 (see --help)"
        shift "$used"
        ;;
      *)
        [ -z "$SC_CONFIG" ] || scaling_die "one config file only ($SC_CONFIG, $1)"
        SC_CONFIG=$1
        shift
        ;;
    esac
  done
  if ((SC_COLLECT_ONLY)); then
    [ -n "$SC_DIR" ] || scaling_die "--collect needs --dir DIR"
  else
    [ -n "$SC_CONFIG" ] || { scaling_usage >&2; exit 2; }
    [ -f "$SC_CONFIG" ] || scaling_die "no config file $SC_CONFIG"
  fi
  local p
  for p in $SC_RANKS; do
    [[ $p =~ ^[1-9][0-9]*$ ]] || scaling_die "--ranks: '$p' is not a positive integer"
  done
  [[ $SC_REPEATS =~ ^[1-9][0-9]*$ ]] || scaling_die "--repeats: '$SC_REPEATS' is not a positive integer"
  [[ $SC_TIMEOUT =~ ^[0-9]+$ ]] || scaling_die "--timeout: '$SC_TIMEOUT' is not a number of seconds"
  if [ -z "$SC_DIR" ]; then
    local stem
    stem=$(basename "${SC_CONFIG%.*}")
    SC_DIR=scaling/$SCALING_KIND-$stem-$(date +%Y%m%d-%H%M%S)
  fi
  SC_CSV=${SC_CSV:-$SC_DIR/$SCALING_KIND.csv}
  if [ "$SC_MODE" = auto ]; then
    if command -v sbatch >/dev/null && timeout 20 sinfo -h -o %P >/dev/null 2>&1; then
      SC_MODE=slurm
    else
      SC_MODE=local
      scaling_log "no SLURM controller answers: running with mpirun here (--slurm to insist)"
    fi
  fi
}

# The condlif binary, as an absolute path (jobs may start elsewhere).
scaling_binary() {
  local bin=${CONDLIF:-}
  if [ -z "$bin" ]; then
    if command -v condlif >/dev/null; then
      bin=$(command -v condlif)
    elif [ -x "$SCALING_REPO/build/condlif" ]; then
      bin=$SCALING_REPO/build/condlif
    else
      scaling_die "cannot find condlif: set CONDLIF, put it on PATH or build it in" \
        "$SCALING_REPO/build"
    fi
  fi
  [ -x "$bin" ] || scaling_die "$bin is not executable"
  (cd "$(dirname "$bin")" && echo "$(pwd)/$(basename "$bin")")
}

# Waits until every job id in the arguments has left the queue (polling scontrol; a job that
# scontrol no longer knows has ended). Returns 1 after SC_TIMEOUT seconds (0: never).
scaling_wait_jobs() {
  local start=$SECONDS left id line state
  while :; do
    left=()
    for id in "$@"; do
      line=$(scontrol show job -o "$id" 2>/dev/null) || continue
      state=$(sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' <<<"$line")
      case $state in
        PENDING | CONFIGURING | RUNNING | COMPLETING | SUSPENDED | REQUEUED | RESIZING) left+=("$id") ;;
      esac
    done
    ((${#left[@]} == 0)) && return 0
    if ((SC_TIMEOUT > 0 && SECONDS - start >= SC_TIMEOUT)); then
      scaling_log "jobs ${left[*]} still queued or running after $SC_TIMEOUT s"
      return 1
    fi
    sleep 1
  done
}

# Prints the final "JobState ExitCode" of a job ("UNKNOWN" when scontrol forgot it).
scaling_job_result() {
  local line
  line=$(scontrol show job -o "$1" 2>/dev/null) || { echo UNKNOWN; return; }
  echo "$(sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' <<<"$line") $(sed -n 's/.* ExitCode=\([0-9:]*\).*/\1/p' <<<"$line")"
}

scaling_collect() {
  local dirs=() d
  for d in "$SC_DIR"/p*/; do
    [ -f "$d/spikes.h5" ] && dirs+=("${d%/}")
  done
  ((${#dirs[@]})) || { scaling_log "no finished runs in $SC_DIR"; return 1; }
  mkdir -p "$(dirname "$SC_CSV")"
  "$SCALING_PYTHON" "$SCALING_IO" scaling-csv -o "$SC_CSV" "${dirs[@]}" || return 1
  scaling_log "wrote $SC_CSV (${#dirs[@]} runs)"
  if ((SC_PLOT)); then
    "$SCALING_PYTHON" "$SCALING_REPO/analysis/scaling.py" "$SC_CSV" --kind "$SCALING_KIND" \
      -o "${SC_CSV%.csv}.png" || return 1
  fi
}

scaling_main() {
  scaling_parse "$@"
  if ((SC_COLLECT_ONLY)); then
    scaling_collect
    exit $?
  fi
  scaling_prepare
  local bin
  bin=$(scaling_binary) || exit 2
  mkdir -p "$SC_DIR" || scaling_die "cannot create $SC_DIR"
  SC_DIR=$(cd "$SC_DIR" && pwd)
  local sbatch_file=$SCALING_REPO/slurm/condlif.sbatch
  local config
  config=$(cd "$(dirname "$SC_CONFIG")" && pwd)/$(basename "$SC_CONFIG")
  local force=()
  ((SC_FORCE)) && force=(--force)
  local jobname="condlif-$SCALING_KIND-$$"
  local jobs=() failed=0 p k rundir tag extra sb
  read -r -a sb <<<"$SC_SBATCH_ARGS"
  for p in $SC_RANKS; do
    mapfile -t extra < <(scaling_run_options "$p")
    for ((k = 1; k <= SC_REPEATS; k++)); do
      tag=p$p
      ((SC_REPEATS > 1)) && tag=p$p-$k
      rundir=$SC_DIR/$tag
      if [ -e "$rundir" ] && ((!SC_FORCE)); then
        scaling_die "$rundir exists (use --force, or another --dir)"
      fi
      if [ "$SC_MODE" = slurm ]; then
        local dep=()
        ((SC_PARALLEL)) || dep=(--dependency=singleton)
        local tpn=()
        [ -n "$SC_TPN" ] && tpn=(--ntasks-per-node="$SC_TPN")
        local id
        id=$(CONDLIF=$bin CONDLIF_REPO=$SCALING_REPO sbatch --parsable --job-name="$jobname" \
          --ntasks="$p" "${tpn[@]}" "${dep[@]}" --output="$SC_DIR/$tag.out" "${sb[@]}" \
          "$sbatch_file" "$config" -o "$rundir" "${force[@]}" "${extra[@]}" \
          "${SC_CONDLIF_OPTS[@]}") || scaling_die "sbatch failed for $p ranks"
        id=${id%%;*}
        jobs+=("$id")
        echo "$id $tag" >>"$SC_DIR/jobs.txt"
        scaling_log "submitted job $id: $p ranks -> $rundir"
      else
        scaling_log "running $p ranks -> $rundir"
        if ! CONDLIF=$bin CONDLIF_REPO=$SCALING_REPO CONDLIF_NTASKS=$p CONDLIF_LAUNCHER=mpirun \
          bash "$sbatch_file" "$config" -o "$rundir" "${force[@]}" "${extra[@]}" \
          "${SC_CONDLIF_OPTS[@]}" >"$SC_DIR/$tag.out" 2>&1; then
          scaling_log "run at $p ranks failed: see $SC_DIR/$tag.out"
          failed=1
        fi
      fi
    done
  done
  if [ "$SC_MODE" = slurm ]; then
    if ((!SC_WAIT)); then
      scaling_log "not waiting; when the jobs are done: $0 --collect --dir $SC_DIR" \
        "${SC_CSV:+--csv $SC_CSV}"
      exit 0
    fi
    scaling_wait_jobs "${jobs[@]}" || exit 1
    local id result
    for id in "${jobs[@]}"; do
      result=$(scaling_job_result "$id")
      if [ "$result" != "COMPLETED 0:0" ]; then
        scaling_log "job $id ended $result: see $SC_DIR/$(awk -v id="$id" '$1 == id { print $2 }' \
          "$SC_DIR/jobs.txt").out"
        failed=1
      fi
    done
  fi
  scaling_collect || failed=1
  exit "$failed"
}
