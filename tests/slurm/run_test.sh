#!/bin/bash
# Tests of slurm/ (CTest label slurm): run_test.sh CASE WORKDIR [CONDLIF_BINARY]
#
#   cluster   a throwaway cluster (tests/slurm/cluster.sh) runs MPI batch jobs (mpirun and
#             srun --mpi=pmix), reports a failing job's exit code, accepts condlif.sbatch's
#             #SBATCH lines
#   fake      condlif.sbatch at 2 ranks (srun) and 4 ranks (mpirun) and strong_scaling.sh
#             through SLURM, with tests/slurm/fake_condlif.py standing in for condlif
#   local     strong_scaling.sh and weak_scaling.sh without SLURM (mpirun), --collect, errors
#   condlif   the real binary: condlif.sbatch on tests/slurm/small.cfg at 2 and 4 ranks (the
#             spikes must be identical), weak_scaling.sh through SLURM, a job stopped by
#             scancel --signal=USR1, then continued by a second job (--continue)
#
# The cluster cases start the cluster, run the case under `timeout`, stop the daemons by their
# PID files and check that they are gone. Exit 77 (CTest SKIP_RETURN_CODE) when SLURM cannot
# be installed here.
# The case functions are called through "case_$CASE":
# shellcheck disable=SC2317
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CASE=${1:?usage: run_test.sh CASE WORKDIR [CONDLIF]}
WORK=${2:?usage: run_test.sh CASE WORKDIR [CONDLIF]}
LIMIT=${CL_SLURM_TEST_LIMIT:-300}
PY=/usr/bin/python3
CFG=$HERE/small.cfg
# shellcheck source=tests/slurm/cluster.sh
. "$HERE/cluster.sh"
# scaling_wait_jobs and scaling_job_result poll scontrol for the jobs' ends.
SCALING_KIND="slurm-test"
# shellcheck source=slurm/scaling_lib.sh
. "$REPO/slurm/scaling_lib.sh"

if [ "${CL_SLURM_INNER:-}" != 1 ]; then
  rm -rf "$WORK"
  mkdir -p "$WORK"
  WORK=$(cd "$WORK" && pwd)
  case $CASE in
    local)
      CL_SLURM_INNER=1 timeout -k 10 "$LIMIT" bash "$0" "$CASE" "$WORK" "${@:3}"
      exit $?
      ;;
    cluster | fake | condlif) ;;
    *) echo "unknown case $CASE" >&2; exit 2 ;;
  esac
  cluster_start "$WORK/cluster"
  status=$?
  if [ $status != 0 ]; then
    cluster_stop "$WORK/cluster"
    exit $status
  fi
  pids=$(cat "$WORK"/cluster/{slurmctld.pid,slurmd.pid,munge/munged.pid})
  CL_SLURM_INNER=1 timeout -k 10 "$LIMIT" bash "$0" "$CASE" "$WORK" "${@:3}"
  status=$?
  [ $status = 124 ] && echo "FAIL: the case did not finish within $LIMIT s"
  cluster_stop "$WORK/cluster"
  for pid in $pids; do
    if kill -0 "$pid" 2>/dev/null; then
      echo "FAIL: daemon $pid still runs after cluster_stop"
      status=1
    fi
  done
  echo "cluster stopped"
  exit $status
fi

# --- Inside: the case itself --------------------------------------------------------------------
cd "$WORK" || exit 1
failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}
# expect STATUS COMMAND...: runs the command, fails unless it exits with STATUS.
expect() {
  local want=$1 got
  shift
  "$@" >"$WORK/last.out" 2>&1
  got=$?
  if [ "$got" != "$want" ]; then
    fail "exit status $got, expected $want: $*"
    cat "$WORK/last.out"
  fi
}
# expect_job ID "STATE EXIT": waits for the job (at most 120 s), checks how it ended.
expect_job() {
  local res=TIMEOUT
  SC_TIMEOUT=120 scaling_wait_jobs "$1" && res=$(scaling_job_result "$1")
  if [ "$res" != "$2" ]; then
    fail "job $1 ended '$res', expected '$2'"
    cat "$WORK"/*-"$1".out 2>/dev/null
  fi
}

case_cluster() {
  cat >job.sh <<'EOF'
#!/bin/bash
set -e
export OMPI_MCA_mpi_yield_when_idle=1
[ "$(id -u)" != 0 ] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun hostname
srun --mpi=pmix hostname
EOF
  local id
  id=$(sbatch --parsable -n 2 -o "hostname-%j.out" job.sh) || fail "sbatch"
  expect_job "$id" "COMPLETED 0:0"
  local n
  n=$(grep -cx "$(hostname)" "hostname-$id.out")
  [ "$n" = 4 ] || fail "expected 4 lines '$(hostname)' (2 ranks each of mpirun and srun), got $n"
  printf '#!/bin/bash\nexit 3\n' >fail.sh
  id=$(sbatch --parsable -n 1 -o "fail-%j.out" fail.sh) || fail "sbatch"
  expect_job "$id" "FAILED 3:0"
  # The batch template's #SBATCH lines and options are accepted by the controller.
  expect 0 sbatch --test-only -n 2 "$REPO/slurm/condlif.sbatch" "$CFG"
  expect 1 sbatch --test-only -n 1000 "$REPO/slurm/condlif.sbatch" "$CFG"
}

# Submits condlif.sbatch for a run at $1 ranks into run directory $2 (more condlif options
# after); prints the job id.
submit_run() {
  local n=$1 dir=$2
  shift 2
  sbatch --parsable -n "$n" -o "$(basename "$dir")-%j.out" "$REPO/slurm/condlif.sbatch" "$CFG" \
    -o "$dir" "$@"
}

case_fake() {
  export CONDLIF=$HERE/fake_condlif.py
  local id2 id4 id
  id2=$(submit_run 2 "$WORK/fake2") || fail "sbatch"
  id4=$(CONDLIF_LAUNCHER=mpirun submit_run 4 "$WORK/fake4") || fail "sbatch"
  expect_job "$id2" "COMPLETED 0:0"
  expect_job "$id4" "COMPLETED 0:0"
  expect 0 "$PY" "$HERE/check_run.py" "$WORK/fake2" --ranks 2 --job-id "$id2"
  expect 0 "$PY" "$HERE/check_run.py" "$WORK/fake4" --ranks 4 --job-id "$id4"
  grep -q '^launcher=srun --mpi=pmix' fake2/slurm-job.txt || fail "2-rank run used srun"
  grep -q '^launcher=mpirun' fake4/slurm-job.txt || fail "4-rank run used mpirun"
  # Without -o the run directory is the config's simulation.output, relative to the submit dir.
  mkdir -p default
  id=$(cd default && sbatch --parsable -n 1 -o "default-%j.out" "$REPO/slurm/condlif.sbatch" \
    "$CFG") || fail "sbatch"
  expect_job "$id" "COMPLETED 0:0"
  expect 0 "$PY" "$HERE/check_run.py" "$WORK/default/small_run" --ranks 1 --job-id "$id"
  # A missing config fails the job with condlif.sbatch's status 2.
  id=$(sbatch --parsable -n 1 -o "missing-%j.out" "$REPO/slurm/condlif.sbatch" nosuch.cfg) ||
    fail "sbatch"
  expect_job "$id" "FAILED 2:0"
  # A series through SLURM.
  expect 0 "$REPO/slurm/strong_scaling.sh" --slurm -r "1 2" -d "$WORK/strong" --timeout 200 \
    "$CFG" -- --quiet
  expect 0 "$PY" "$HERE/check_run.py" --csv "$WORK/strong/strong.csv" --rows "1:220 2:220" \
    --job-ids
}

case_local() {
  export CONDLIF=$HERE/fake_condlif.py
  expect 0 "$REPO/slurm/strong_scaling.sh" --no-slurm -r "1 2" -d "$WORK/strong" "$CFG"
  expect 0 "$PY" "$HERE/check_run.py" --csv "$WORK/strong/strong.csv" --rows "1:220 2:220"
  expect 0 "$PY" "$HERE/check_run.py" "$WORK/strong/p2" --ranks 2
  expect 0 "$REPO/slurm/weak_scaling.sh" --no-slurm -r "1 2 3" --grow "exc inh" --plot \
    -d "$WORK/weak" "$CFG" -- --set simulation.t_stop=300
  expect 0 "$PY" "$HERE/check_run.py" --csv "$WORK/weak/weak.csv" --rows "1:220 2:420 3:620"
  grep -q 'populations.exc.size=480 --set populations.inh.size=120' weak/p3/fake-args.txt ||
    fail "weak scaling passes the grown sizes: $(cat weak/p3/fake-args.txt)"
  grep -q 'simulation.t_stop=300' weak/p3/fake-args.txt || fail "options after -- reach condlif"
  [ -s weak/weak.png ] || fail "--plot writes weak.png"
  # --collect rebuilds the CSV from the run directories.
  rm weak/weak.csv
  expect 0 "$REPO/slurm/weak_scaling.sh" --collect -d "$WORK/weak"
  expect 0 "$PY" "$HERE/check_run.py" --csv "$WORK/weak/weak.csv" --rows "1:220 2:420 3:620"
  # Repeats, and the base rank count.
  expect 0 "$REPO/slurm/weak_scaling.sh" --no-slurm -r "2 4" --base-ranks 2 --repeats 2 \
    --grow exc -d "$WORK/rep" "$CFG"
  expect 0 "$PY" "$HERE/check_run.py" --csv "$WORK/rep/weak.csv" --rows "2:220 2:220 4:380 4:380"
  # Errors.
  expect 2 "$REPO/slurm/strong_scaling.sh" --no-slurm -r "1 2" -d "$WORK/strong" "$CFG"
  expect 0 "$REPO/slurm/strong_scaling.sh" --no-slurm -r 1 --force -d "$WORK/strong" "$CFG"
  expect 2 "$REPO/slurm/strong_scaling.sh" --no-slurm -r "1 x" "$CFG"
  expect 2 "$REPO/slurm/weak_scaling.sh" --no-slurm --grow nosuch -d "$WORK/x" "$CFG"
  expect 2 "$REPO/slurm/weak_scaling.sh" --bogus "$CFG"
  expect 2 "$REPO/slurm/strong_scaling.sh" --no-slurm nosuch.cfg
  CONDLIF=/nonexistent expect 2 "$REPO/slurm/strong_scaling.sh" --no-slurm -d "$WORK/y" "$CFG"
  local s
  for s in strong_scaling.sh weak_scaling.sh condlif.sbatch; do
    expect 0 bash "$REPO/slurm/$s" --help
    grep -q 'condlif' "$WORK/last.out" || fail "$s --help prints its usage"
    bash -n "$REPO/slurm/$s" || fail "bash -n $s"
  done
}

case_condlif() {
  export CONDLIF=${1:?case condlif needs the binary}
  local id2 id4
  id2=$(submit_run 2 "$WORK/run2") || fail "sbatch"
  id4=$(CONDLIF_LAUNCHER=mpirun submit_run 4 "$WORK/run4") || fail "sbatch"
  expect_job "$id2" "COMPLETED 0:0"
  expect_job "$id4" "COMPLETED 0:0"
  expect 0 "$PY" "$HERE/check_run.py" "$WORK/run2" --ranks 2 --job-id "$id2"
  expect 0 "$PY" "$HERE/check_run.py" "$WORK/run4" --ranks 4 --job-id "$id4" \
    --same-spikes "$WORK/run2"
  expect 0 "$REPO/slurm/weak_scaling.sh" --slurm -r "1 2" --grow "exc inh" -d "$WORK/weak" \
    --timeout 200 --plot "$CFG"
  expect 0 "$PY" "$HERE/check_run.py" --csv "$WORK/weak/weak.csv" --rows "1:220 2:420" --job-ids
  # A job told to stop (scancel --signal=USR1 signals the job step's tasks, as SLURM's
  # --signal=USR1@T does before a time limit): condlif writes its output up to the stop and the
  # job fails with condlif's status 3.
  local stop=$REPO/tests/engine/stop.cfg ids t
  ids=$(sbatch --parsable -n 2 -o "stop-%j.out" "$REPO/slurm/condlif.sbatch" "$stop" \
    -o "$WORK/stop") || fail "sbatch"
  for t in $(seq 600); do
    [ -e "$WORK/stop/spikes.h5" ] && break
    sleep 0.1
  done
  sleep 1
  expect 0 scancel --signal=USR1 "$ids"
  expect_job "$ids" "FAILED 3:0"
  grep -qx "exit_status=3" "$WORK/stop/slurm-job.txt" || fail "stop: slurm-job.txt lacks exit_status=3"
  grep -q "condlif: stopped by SIGUSR1 at t = " "stop-$ids.out" || fail "stop: no message in stop-$ids.out"
  expect 0 "$PY" -c "import h5py, sys; a = h5py.File(sys.argv[1])['condlif'].attrs
sys.exit(0 if 'completed' not in a and 0 < a['t_stop_ms'] < 1e6 and a['n_ranks'] == 2 else 1)" \
    "$WORK/stop/spikes.h5"
  # The next job continues the run from the checkpoint the stop left, 50 ms beyond it.
  local t_stop id_cont
  t_stop=$("$PY" -c "import h5py, sys; print(h5py.File(sys.argv[1]).attrs['t_ms'] + 50)" \
    "$WORK/stop/checkpoint.h5") || fail "stop: no checkpoint"
  id_cont=$(sbatch --parsable -n 2 -o "cont-%j.out" "$REPO/slurm/condlif.sbatch" \
    --continue "$WORK/stop" --set "simulation.t_stop=$t_stop ms") || fail "sbatch"
  expect_job "$id_cont" "COMPLETED 0:0"
  grep -qx "=== continued ===" "$WORK/stop/slurm-job.txt" &&
    [ "$(grep -c '^exit_status=' "$WORK/stop/slurm-job.txt")" = 2 ] &&
    [ "$(grep '^exit_status=' "$WORK/stop/slurm-job.txt" | tail -1)" = exit_status=0 ] ||
    fail "continue: slurm-job.txt lacks the continuation's record"
  expect 0 "$PY" -c "import h5py, sys; a = h5py.File(sys.argv[1])['condlif'].attrs
t = float(sys.argv[2])
sys.exit(0 if 'completed' in a and abs(a['t_stop_ms'] - t) < 1e-6 and
         abs(a['continued_from_ms'] - (t - 50)) < 1e-6 else 1)" "$WORK/stop/spikes.h5" "$t_stop"
}

"case_$CASE" "${@:3}"
[ $failed = 0 ] && echo "$CASE: ok" || echo "$CASE: FAILED"
exit $failed
