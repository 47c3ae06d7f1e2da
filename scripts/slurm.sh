#!/usr/bin/env bash
# A real one-node Slurm cluster on this machine, for tests and trying out `launcher: slurm`:
#
#   scripts/slurm.sh start    install slurmctld, slurmd and munge with apt-get when missing, write a
#                             minimal slurm.conf for this host and start munged, slurmctld and slurmd
#   scripts/slurm.sh stop     stop the daemons this script started
#   scripts/slurm.sh status   say what runs; exit 0 only when the node accepts jobs
#
# The configuration is one node (this host's name, real CPU count and memory) in one partition
# `debug`, with proctrack/linuxproc, task/none, no accounting and no cgroups, so it runs in containers
# and on machines without systemd. It is written to /etc/slurm/slurm.conf only when that file is
# missing or was written by this script: a real cluster's configuration is never touched (start then
# exits 1). State, logs and pid files live under ${FERRY_SLURM_DIR:-/var/tmp/ferry-slurm}.
# Exits 1 with the reason when Slurm cannot run here, 2 on usage errors. Needs root.
set -euo pipefail

# Close every descriptor we inherited beyond stdio: the daemons started below would keep them open,
# and a caller waiting for the end of its pipe would wait for ever.
for fd in /proc/$$/fd/*; do
  fd=${fd##*/}
  case "$fd" in 0|1|2|255) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
done

usage() { echo "usage: scripts/slurm.sh start|stop|status" >&2; exit 2; }
fail() { echo "slurm.sh: $*" >&2; exit 1; }
say() { echo "slurm.sh: $*"; }

[ $# -eq 1 ] || usage
cmd=$1
case "$cmd" in start|stop|status) ;; *) usage ;; esac

D=${FERRY_SLURM_DIR:-/var/tmp/ferry-slurm}
CONF=/etc/slurm/slurm.conf
MARK="# written by ferry scripts/slurm.sh"
HOST=$(hostname -s)

pid_of() {
  # The pid in $D/$1.pid when that process still runs $1.
  local f="$D/$1.pid" pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$1" || return 1
  echo "$pid"
}

node_ready() {
  local state
  state=$(timeout 10 scontrol show node "$HOST" -o 2>/dev/null | sed -n 's/.*State=\([A-Z+_]*\).*/\1/p')
  case "$state" in IDLE*|MIXED*|ALLOCATED*) return 0 ;; *) return 1 ;; esac
}

do_status() {
  local ok=0 daemon
  for daemon in munged slurmctld slurmd; do
    if pid=$(pid_of "$daemon"); then say "$daemon runs (pid $pid)"; else say "$daemon is not running"; ok=1; fi
  done
  if [ $ok -eq 0 ] && node_ready; then say "node $HOST accepts jobs"; return 0; fi
  return 1
}

stop_daemon() {
  local pid
  pid=$(pid_of "$1") || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do [ -r "/proc/$pid/cmdline" ] || break; sleep 0.1; done
  if [ -r "/proc/$pid/cmdline" ]; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$D/$1.pid"
  say "stopped $1"
}

do_stop() {
  stop_daemon slurmd
  stop_daemon slurmctld
  stop_daemon munged
}

install_packages() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null \
    && command -v sbatch >/dev/null && return 0
  command -v apt-get >/dev/null || fail "slurmctld, slurmd or munge is missing and there is no apt-get to install them"
  say "installing slurmctld slurmd munge with apt-get (a few minutes)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y slurmctld slurmd munge slurm-client >"$D/apt.log" 2>&1 \
    || { apt-get update >>"$D/apt.log" 2>&1 && apt-get install -y slurmctld slurmd munge slurm-client >>"$D/apt.log" 2>&1; } \
    || fail "apt-get could not install slurmctld slurmd munge (see $D/apt.log)"
}

write_conf() {
  if [ -f "$CONF" ] && ! head -n 1 "$CONF" | grep -qF "$MARK"; then
    fail "$CONF exists and was not written by this script: this host already has a Slurm configuration; use that cluster"
  fi
  local cpus mem
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 ))
  mkdir -p /etc/slurm "$D/ctld" "$D/d" "$D/log"
  cat >"$CONF.tmp" <<EOF
$MARK: one node for tests; remove it to use your own.
ClusterName=ferry
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$D/ctld
SlurmdSpoolDir=$D/d
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MinJobAge=600
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$HOST CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
  mv "$CONF.tmp" "$CONF"
  # slurmd of Debian's package reads a cgroup.conf when present; none is needed with these plugins.
}

do_start() {
  [ "$(id -u)" -eq 0 ] || fail "needs root (it starts munged, slurmctld and slurmd)"
  mkdir -p "$D" || fail "cannot create $D"
  if do_status >/dev/null 2>&1; then say "already running"; return 0; fi
  install_packages
  write_conf
  if ! pid_of munged >/dev/null; then
    [ -s /etc/munge/munge.key ] || { mkdir -p /etc/munge; dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null; }
    chown root:root /etc/munge/munge.key 2>/dev/null || true
    chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge "$D/munge"
    munged --force --key-file=/etc/munge/munge.key --socket=/run/munge/munge.socket.2 \
      --pid-file="$D/munged.pid" --log-file="$D/log/munged.log" --seed-file="$D/munge/seed" \
      || fail "munged does not start (see $D/log/munged.log)"
  fi
  if ! pid_of slurmctld >/dev/null; then
    slurmctld -i >"$D/log/slurmctld.out" 2>&1 || fail "slurmctld does not start: $(tail -n 3 "$D/log/slurmctld.log" 2>/dev/null)"
  fi
  if ! pid_of slurmd >/dev/null; then
    slurmd -b >"$D/log/slurmd.out" 2>&1 || fail "slurmd does not start: $(tail -n 3 "$D/log/slurmd.log" 2>/dev/null)"
  fi
  for _ in $(seq 1 300); do
    if node_ready; then say "node $HOST accepts jobs (partition debug)"; return 0; fi
    scontrol update nodename="$HOST" state=resume >/dev/null 2>&1 || true
    sleep 0.2
  done
  fail "the node $HOST did not become ready within 60 s: $(scontrol show node "$HOST" -o 2>&1 | tr '\n' ' ' | cut -c1-300)"
}

case "$cmd" in
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
esac
