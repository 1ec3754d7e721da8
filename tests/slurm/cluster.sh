# shellcheck shell=bash
# A throwaway single-node SLURM cluster for tests (source this file; bash).
#
#   cluster_start DIR   installs slurmctld, slurmd, slurm-client and munge when missing (root
#                       only), writes DIR/slurm.conf, starts munged, slurmctld and slurmd with
#                       every state, spool, log, PID and socket file under DIR, exports
#                       SLURM_CONF and waits until the node is idle. Returns 77 when SLURM cannot
#                       be had here (message on stderr), 1 when it fails to start.
#   cluster_stop DIR    stops the three daemons by their PID files (TERM, then KILL after 10 s).
#
# Facts behind the settings: /work/shared/notes/slurm-on-one-machine.md (no systemd and no
# cgroups: proctrack/linuxproc, task/none; the node may declare more CPUs than the machine has).
# The daemons listen on free ports picked at start and munged on its own socket, so the cluster
# neither needs nor disturbs a system SLURM or munge.

CLUSTER_PACKAGES=(slurmctld slurmd slurm-client munge)

_cluster_log() { echo "cluster: $*" >&2; }

_cluster_have_slurm() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
    command -v sbatch >/dev/null && command -v munged >/dev/null && command -v mungekey >/dev/null
}

_cluster_install() {
  _cluster_have_slurm && return 0
  if [ "$(id -u)" != 0 ]; then
    _cluster_log "SKIP: SLURM is not installed and installing it needs root" \
      "(apt-get install ${CLUSTER_PACKAGES[*]})"
    return 77
  fi
  _cluster_log "installing ${CLUSTER_PACKAGES[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${CLUSTER_PACKAGES[@]}" >"$1/apt.log" 2>&1; then
    # The package lists may be missing or stale on a fresh machine.
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${CLUSTER_PACKAGES[@]}"; } >>"$1/apt.log" 2>&1; then
      _cluster_log "SKIP: apt-get cannot install ${CLUSTER_PACKAGES[*]} (see $1/apt.log)"
      return 77
    fi
  fi
  _cluster_have_slurm
}

_cluster_free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to $2 seconds (0.2 s steps) for the command $1 to succeed.
_cluster_poll() {
  local i
  for ((i = 0; i < $2 * 5; i++)); do
    eval "$1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

cluster_start() {
  local dir=$1 st
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # Daemons left by an earlier, interrupted start in the same directory.
  cluster_stop "$dir"
  rm -rf "${dir:?}"/{state,spool,log,munge,munge-socket}
  _cluster_install "$dir"
  st=$?
  [ $st = 0 ] || return $st
  if [ "$(id -u)" != 0 ]; then
    _cluster_log "SKIP: a throwaway cluster needs root (slurmd starts the job steps)"
    return 77
  fi
  local node memory ctld_port d_port sock
  node=$(hostname -s)
  memory=$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)
  ctld_port=$(_cluster_free_port)
  d_port=$(_cluster_free_port)
  mkdir -p "$dir"/{state,spool,log,munge,munge-socket}
  # munge: its own key (private directory) and socket (a directory everyone may search). A Unix
  # socket path has at most 107 bytes.
  sock=$dir/munge-socket/socket
  if [ ${#sock} -gt 100 ]; then
    sock=$(mktemp -d /tmp/cl-munge.XXXXXX)/socket
    echo "${sock%/socket}" >"$dir/munge-tmpdir"
  fi
  mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null 2>&1 || {
    _cluster_log "mungekey failed"
    return 1
  }
  chown -R munge:munge "$dir/munge" "$(dirname "$sock")"
  chmod 700 "$dir/munge"
  chmod 755 "$(dirname "$sock")"
  runuser -u munge -- /usr/sbin/munged --socket="$sock" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
    --seed-file="$dir/munge/munged.seed" || {
    _cluster_log "munged failed to start:"
    cat "$dir/munge/munged.log" >&2
    return 1
  }
  _cluster_poll "munge --socket='$sock' -n | unmunge --socket='$sock'" 10 || {
    _cluster_log "munged does not answer on $sock"
    return 1
  }

  cat >"$dir/slurm.conf" <<EOF
# Throwaway single-node cluster written by tests/slurm/cluster.sh
ClusterName=cltest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
MpiDefault=pmix
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
EnforcePartLimits=ALL
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerParameters=sched_interval=1
ReturnToService=2
MinJobAge=600
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$node NodeAddr=127.0.0.1 CPUs=64 RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF=$dir/slurm.conf
  slurmctld -f "$SLURM_CONF" || {
    _cluster_log "slurmctld failed to start:"
    tail -20 "$dir/log/slurmctld.log" >&2
    return 1
  }
  slurmd -f "$SLURM_CONF" || {
    _cluster_log "slurmd failed to start:"
    tail -20 "$dir/log/slurmd.log" >&2
    return 1
  }
  # shellcheck disable=SC2016 # expanded by _cluster_poll's eval
  _cluster_poll '[ "$(sinfo -h -o %t)" = idle ]' 30 || {
    _cluster_log "the node did not become idle: $(sinfo -h -o '%t %E' 2>&1)"
    tail -20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2
    return 1
  }
  _cluster_log "up: $(sinfo -h -o '%P %D %c %t') (SLURM_CONF=$SLURM_CONF)"
}

_cluster_kill_pidfile() {
  local f=$1 pid i
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  _cluster_log "$f: $pid ignores TERM; killing it"
  kill -KILL "$pid" 2>/dev/null
}

cluster_stop() {
  local dir=$1
  _cluster_kill_pidfile "$dir/slurmd.pid"
  _cluster_kill_pidfile "$dir/slurmctld.pid"
  _cluster_kill_pidfile "$dir/munge/munged.pid"
  if [ -s "$dir/munge-tmpdir" ]; then
    rm -rf "$(cat "$dir/munge-tmpdir")"
    rm -f "$dir/munge-tmpdir"
  fi
}
