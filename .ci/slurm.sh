#!/usr/bin/env bash
# Start, stop or inspect a real single-node SLURM cluster for CI and developers.
#
#   .ci/slurm.sh start    install Debian's packages if missing, start munged,
#                         mariadbd, slurmdbd, slurmctld and slurmd, wait until the
#                         node is idle and sacct answers
#   .ci/slurm.sh stop     cancel our jobs, stop the daemons started here (by PID)
#   .ci/slurm.sh status   show each daemon and the node; exit 0 only if all run
#   .ci/slurm.sh env      print the `export SLURM_CONF=...` line for this cluster
#
# Everything (configuration, PID files, sockets, logs, database, spool) lives in
# one directory, LAYERSCOPE_SLURM_DIR (default /tmp/layerscope-slurm); nothing
# is started by the packages themselves. Outside it, `start` only touches
# /etc/hosts (if the host name does not resolve) and links
# /etc/slurm/slurm.conf to our configuration when no such file exists, so that
# sbatch, sacct and Snakemake find the cluster without SLURM_CONF; `stop`
# removes that link again.
#
# Environment:
#   LAYERSCOPE_SLURM_DIR      state directory             [/tmp/layerscope-slurm]
#   LAYERSCOPE_SLURM_TIMEOUT  seconds to wait per daemon  [90]
#
# Cluster: ClusterName and account `layerscope`, one partition `debug` (Default)
# holding this host with the CPUs and memory that `slurmd -C` reports.
# Cgroup-free (proctrack/linuxproc, task/none), so it also runs in containers.
set -euo pipefail

DIR=${LAYERSCOPE_SLURM_DIR:-/tmp/layerscope-slurm}
TIMEOUT=${LAYERSCOPE_SLURM_TIMEOUT:-90}
CLUSTER=layerscope
ACCOUNT=layerscope
PARTITION=debug
DAEMONS=(slurmd slurmctld slurmdbd mariadbd munged)
PACKAGES=(munge mariadb-server slurmdbd slurmctld slurmd slurm-client)
SYSTEM_CONF=/etc/slurm/slurm.conf

CONF=$DIR/etc/slurm.conf
export SLURM_CONF=$CONF

log() { printf '[slurm.sh] %s\n' "$*" >&2; }

die() {
  log "ERROR: $*"
  exit 1
}

# Print the end of a daemon's logs, for error messages.
show_logs() {
  local name=$1 f lines
  # .log is the daemon's log file; .out its stdout and stderr (early errors).
  for f in "$DIR/log/$name.log" "$DIR/log/$name.out"; do
    [[ $f == *.log ]] && lines=20 || lines=8
    if [[ -s $f ]]; then
      log "---- last lines of $f ----"
      tail -n "$lines" "$f" >&2
    fi
  done
}

fail() {
  local name=$1
  shift
  show_logs "$name"
  die "$* (logs: $DIR/log/$name.*)"
}

# PID of a daemon we started, if it is still alive and still that daemon.
# A stale PID file (process gone, or PID reused by another program) gives "".
live_pid() {
  local name=$1 pidfile=$DIR/run/$1.pid pid
  [[ -s $pidfile ]] || return 0
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  [[ -r /proc/$pid/cmdline ]] || return 0
  # Our daemons carry the daemon name and our directory on their command line
  # or in their environment (SLURM_CONF), which a reused PID would not.
  if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$name" &&
    { tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$DIR" ||
      tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx -- "SLURM_CONF=$CONF"; }; then
    echo "$pid"
  fi
}

# Run a daemon in the foreground of its own session, detached from the caller
# (no shared stdin/stdout, so a calling `$(...)` or CI step does not hang), and
# record its PID; `exec` makes the recorded shell PID the daemon's PID, even
# where setsid has to fork.
spawn() {
  local name=$1
  shift
  rm -f "$DIR/run/$name.pid"
  # 9>&-: the daemon must not inherit (and so hold) our lock on $DIR/lock.
  # shellcheck disable=SC2016 # $$ and $@ are for the inner shell
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$DIR/run/$name.pid" "$@" \
    </dev/null >>"$DIR/log/$name.out" 2>&1 9>&- &
  local _
  for _ in $(seq 50); do
    [[ -s $DIR/run/$name.pid ]] && return 0
    sleep 0.1
  done
  fail "$name" "$name did not start"
}

# Poll a command until it succeeds, the daemon dies, or TIMEOUT passes.
wait_for() {
  local name=$1 what=$2
  shift 2
  local deadline=$((SECONDS + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    [[ -n $(live_pid "$name") ]] || fail "$name" "$name exited while waiting for: $what"
    ((SECONDS < deadline)) || fail "$name" "timed out after ${TIMEOUT}s waiting for: $what"
    sleep 0.5
  done
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Set variable $1 to the first port from $2 on that nobody listens on and that
# no earlier call took (no subshell, so TAKEN_PORTS persists between calls).
TAKEN_PORTS=" "
pick_port() {
  local port=$2
  while port_in_use "$port" || [[ $TAKEN_PORTS == *" $port "* ]]; do
    port=$((port + 1))
    ((port < $2 + 200)) || die "no free TCP port in $2-$((port - 1))"
  done
  TAKEN_PORTS+="$port "
  printf -v "$1" %s "$port"
}

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  ((EUID == 0)) || die "packages missing (${missing[*]}); install them as root: apt-get install ${missing[*]}"
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# slurmctld and slurmd look nodes up by host name.
ensure_hostname_resolves() {
  local host
  host=$(hostname)
  getent hosts "$host" >/dev/null && return 0
  ((EUID == 0)) || die "host name '$host' does not resolve; add '127.0.0.1 $host' to /etc/hosts"
  log "adding '127.0.0.1 $host' to /etc/hosts"
  printf '127.0.0.1 %s # added by layerscope .ci/slurm.sh\n' "$host" >>/etc/hosts
}

write_config() {
  local user host node db_pass ctld_port slurmd_port dbd_port db_port
  user=$(id -un)
  host=$(hostname)
  # The node line must match what slurmd detects, or the node is drained.
  node=$(slurmd -C | head -n 1)
  [[ $node == NodeName=* ]] || die "unexpected 'slurmd -C' output: $node"
  pick_port ctld_port 6817
  pick_port slurmd_port 6818
  pick_port dbd_port 6819
  pick_port db_port 3306
  if [[ -s $DIR/etc/db.pass ]]; then
    db_pass=$(<"$DIR/etc/db.pass")
  else
    db_pass=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    (umask 077 && echo "$db_pass" >"$DIR/etc/db.pass")
  fi
  echo "$db_port" >"$DIR/etc/db.port"

  cat >"$CONF" <<EOF
# Written by .ci/slurm.sh: a single-node test cluster. Edit the script, not this.
ClusterName=$CLUSTER
SlurmctldHost=$host(127.0.0.1)
SlurmUser=$user
SlurmdUser=$user
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$DIR/run/munge.socket
StateSaveLocation=$DIR/var/slurmctld
SlurmdSpoolDir=$DIR/var/slurmd
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
# No cgroups in containers: track processes through /proc instead.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$dbd_port
# Clients and slurmctld authenticate to slurmdbd through this munge socket,
# not through AuthInfo (SLURM's rule for the accounting connection).
AccountingStoragePass=socket=$DIR/run/munge.socket
# The Snakemake plugin puts the rule name into --comment; keep it for sacct.
AccountingStoreFlags=job_comment
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
SchedulerType=sched/backfill
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
InactiveLimit=0
KillWait=5
MinJobAge=300
SlurmdTimeout=60
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

  (
    umask 077
    cat >"$DIR/etc/slurmdbd.conf" <<EOF
# Written by .ci/slurm.sh.
AuthType=auth/munge
AuthInfo=socket=$DIR/run/munge.socket
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$dbd_port
SlurmUser=$user
LogFile=$DIR/log/slurmdbd.log
PidFile=$DIR/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$db_port
StorageUser=slurm
StoragePass=$db_pass
StorageLoc=slurm_acct_db
EOF
  )
}

sql() {
  mariadb --no-defaults --socket="$DIR/run/mysqld.sock" -u "$(id -un)" -e "$1"
}

start_munged() {
  if [[ ! -s $DIR/etc/munge.key ]]; then
    (umask 077 && head -c 1024 /dev/urandom >"$DIR/etc/munge.key")
  fi
  # --force: munged refuses sockets below a world-writable /tmp otherwise.
  spawn munged munged --foreground --force \
    --key-file="$DIR/etc/munge.key" --socket="$DIR/run/munge.socket" \
    --pid-file="$DIR/run/munged.daemon.pid" --log-file="$DIR/log/munged.log" \
    --seed-file="$DIR/var/munged.seed"
  wait_for munged "munge credentials" bash -c \
    "munge -n -S '$DIR/run/munge.socket' | unmunge -S '$DIR/run/munge.socket'"
}

start_mariadbd() {
  local user first_time=0
  user=$(id -un)
  if [[ ! -d $DIR/var/mysql/mysql ]]; then
    first_time=1
    rm -rf "$DIR/var/mysql"
    mariadb-install-db --no-defaults --datadir="$DIR/var/mysql" --user="$user" \
      --auth-root-authentication-method=socket --auth-root-socket-user="$user" \
      --skip-test-db --skip-name-resolve >"$DIR/log/mariadbd.out" 2>&1 ||
      fail mariadbd "mariadb-install-db failed"
  fi
  spawn mariadbd mariadbd --no-defaults --datadir="$DIR/var/mysql" --user="$user" \
    --socket="$DIR/run/mysqld.sock" --port="$(<"$DIR/etc/db.port")" \
    --bind-address=127.0.0.1 --skip-name-resolve \
    --pid-file="$DIR/run/mariadbd.daemon.pid" --log-error="$DIR/log/mariadbd.log" \
    --innodb-buffer-pool-size=64M --innodb-lock-wait-timeout=900
  wait_for mariadbd "mariadbd to accept connections" \
    mariadb-admin --no-defaults --socket="$DIR/run/mysqld.sock" -u "$user" ping
  # The password is rewritten on every start: it lives in slurmdbd.conf only.
  local pass
  pass=$(<"$DIR/etc/db.pass")
  sql "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
       ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
       GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';" ||
    fail mariadbd "could not create the database user for slurmdbd"
  ((first_time)) && log "initialised the accounting database in $DIR/var/mysql"
  return 0
}

# Cluster, account and user must exist in slurmdbd for jobs to be accounted.
register_accounting() {
  local user
  user=$(id -un)
  sacctmgr -n -P show cluster format=cluster | grep -qx "$CLUSTER" ||
    sacctmgr -i add cluster "$CLUSTER" >/dev/null
  sacctmgr -n -P show account format=account | grep -qx "$ACCOUNT" ||
    sacctmgr -i add account "$ACCOUNT" cluster="$CLUSTER" \
      description="LayerScope CI" organization=layerscope >/dev/null
  sacctmgr -n -P show assoc cluster="$CLUSTER" user="$user" format=account |
    grep -qx "$ACCOUNT" ||
    sacctmgr -i add user "$user" account="$ACCOUNT" cluster="$CLUSTER" \
      defaultaccount="$ACCOUNT" >/dev/null
}

node_state() {
  sinfo -h -N -p "$PARTITION" -o %T 2>/dev/null | head -n 1
}

node_is_idle() {
  [[ $(node_state) == idle ]]
}

# Idle, after resuming a node that the saved state of an earlier run had drained.
node_ready() {
  case $(node_state) in
    drain* | *drain) scontrol update nodename="$(hostname)" state=resume ;;
  esac
  node_is_idle
}

sacct_answers() {
  sacct -n -X -S now-1hour -o JobID >/dev/null
}

link_system_conf() {
  ((EUID == 0)) || return 0
  if [[ -L $SYSTEM_CONF && $(readlink "$SYSTEM_CONF") == "$CONF" ]]; then
    return 0
  fi
  if [[ -e $SYSTEM_CONF || -L $SYSTEM_CONF ]]; then
    log "$SYSTEM_CONF exists and is not ours; clients need: export SLURM_CONF=$CONF"
    return 0
  fi
  mkdir -p "$(dirname "$SYSTEM_CONF")"
  ln -s "$CONF" "$SYSTEM_CONF"
}

unlink_system_conf() {
  if [[ -L $SYSTEM_CONF && $(readlink "$SYSTEM_CONF") == "$CONF" ]]; then
    rm -f "$SYSTEM_CONF"
  fi
}

all_running() {
  local d
  for d in "${DAEMONS[@]}"; do
    [[ -n $(live_pid "$d") ]] || return 1
  done
}

cmd_start() {
  local t0=$SECONDS
  mkdir -p "$DIR"/{etc,run,log,var/slurmctld,var/slurmd}
  exec 9>"$DIR/lock"
  flock -w 300 9 || die "another .ci/slurm.sh holds $DIR/lock"

  if all_running && node_is_idle && sacct_answers; then
    link_system_conf
    log "already running (state in $DIR)"
    return 0
  fi
  # Half-started or stale: stop whatever of ours is left and start clean.
  stop_daemons
  rm -f "$DIR"/log/*
  # A failed start leaves no daemon behind; its logs stay in $DIR/log.
  trap 'log "start failed; stopping what was started"; stop_daemons' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  install_packages
  ensure_hostname_resolves
  write_config

  start_munged
  start_mariadbd
  spawn slurmdbd slurmdbd -D
  wait_for slurmdbd "slurmdbd to answer sacctmgr" sacctmgr -n show cluster
  register_accounting
  spawn slurmctld slurmctld -D -i -f "$CONF"
  wait_for slurmctld "slurmctld to answer scontrol ping" bash -c "scontrol ping | grep -q UP"
  spawn slurmd slurmd -D -f "$CONF"
  wait_for slurmd "node $(hostname) to be idle in partition $PARTITION" node_ready
  wait_for slurmdbd "sacct to answer" sacct_answers
  trap - EXIT INT TERM
  link_system_conf
  sinfo >&2
  log "started in $((SECONDS - t0)) s; state, logs and PID files in $DIR"
  [[ -L $SYSTEM_CONF ]] || log "clients need: export SLURM_CONF=$CONF"
}

# Stop daemons by their recorded PIDs, all at once, and wait until they are gone.
stop_group() {
  local name pid _
  local -A pids=()
  for name in "$@"; do
    pid=$(live_pid "$name")
    if [[ -z $pid ]]; then
      rm -f "$DIR/run/$name.pid"
      continue
    fi
    pids[$name]=$pid
    kill -TERM "$pid" 2>/dev/null || true
  done
  for _ in $(seq 100); do
    for name in "${!pids[@]}"; do
      if ! kill -0 "${pids[$name]}" 2>/dev/null; then
        rm -f "$DIR/run/$name.pid"
        log "stopped $name (pid ${pids[$name]})"
        unset "pids[$name]"
      fi
    done
    ((${#pids[@]})) || return 0
    sleep 0.2
  done
  for name in "${!pids[@]}"; do
    log "$name (pid ${pids[$name]}) ignored SIGTERM for 20 s; sending SIGKILL"
    kill -KILL "${pids[$name]}" 2>/dev/null || true
    while kill -0 "${pids[$name]}" 2>/dev/null; do sleep 0.2; done
    rm -f "$DIR/run/$name.pid"
  done
}

stop_daemons() {
  local jobs=() _
  # Jobs would outlive slurmd as orphaned slurmstepd processes: cancel them.
  if [[ -n $(live_pid slurmctld) ]]; then
    mapfile -t jobs < <(squeue -h -o %i 2>/dev/null || true)
    if ((${#jobs[@]})); then
      log "cancelling jobs: ${jobs[*]}"
      scancel "${jobs[@]}" 2>/dev/null || true
      for _ in $(seq 30); do
        [[ -z $(squeue -h -o %i 2>/dev/null) ]] && break
        sleep 0.5
      done
    fi
  fi
  # Each daemon still needs the ones after it to shut down cleanly (slurmctld
  # sends its last records to slurmdbd, which writes them to mariadbd; all
  # authenticate through munged).
  stop_group slurmd slurmctld
  stop_group slurmdbd
  stop_group mariadbd munged
  rm -f "$DIR"/run/*.daemon.pid "$DIR/run/munge.socket" "$DIR/run/munge.socket.lock" "$DIR/run/mysqld.sock"
}

cmd_stop() {
  local t0=$SECONDS
  [[ -d $DIR ]] || {
    log "nothing to stop ($DIR does not exist)"
    return 0
  }
  exec 9>"$DIR/lock"
  flock -w 300 9 || die "another .ci/slurm.sh holds $DIR/lock"
  stop_daemons
  unlink_system_conf
  log "stopped in $((SECONDS - t0)) s"
}

cmd_status() {
  local d pid ok=0
  for d in "${DAEMONS[@]}"; do
    pid=$(live_pid "$d")
    if [[ -n $pid ]]; then
      printf '%-10s running (pid %s)\n' "$d" "$pid"
    else
      printf '%-10s stopped\n' "$d"
      ok=1
    fi
  done
  if ((ok == 0)); then
    sinfo
    if sacct_answers; then
      echo "sacct: answers"
    else
      echo "sacct: no answer"
      ok=1
    fi
  fi
  return "$ok"
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *)
    echo "usage: $0 start|stop|status|env" >&2
    exit 2
    ;;
esac
