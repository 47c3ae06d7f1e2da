#!/usr/bin/env bash
# A real network share on one machine, for tests and benchmarks:
#
#   scripts/share.sh start DIR    export DIR/export over sftp from a private sshd on 127.0.0.1 and
#                                 mount it twice with sshfs (default caching) at DIR/a and DIR/b
#   scripts/share.sh stop DIR     unmount both and stop that sshd
#   scripts/share.sh status DIR   say what is running; exit 0 only when both mounts work
#
# Everything lives under DIR/.share (sshd config, throwaway host and user keys, known_hosts, pid,
# port, logs): the system's sshd configuration and ~/.ssh are not touched. Missing packages
# (openssh-server, sshfs) are installed with apt-get. Exits 1 with the reason when FUSE or sshd
# cannot work here (no /dev/fuse, no permission to mount, sshd refusing to start), 2 on usage errors.
#
# sshfs's default caching keeps directory listings and attributes for 20 s: a new file written
# through DIR/a is found by name through DIR/b at once, but a listing through DIR/b shows it only
# after up to 20 s — the behaviour of NFS and SMB clients that ferry must cope with.
set -euo pipefail

# Close every descriptor we inherited beyond stdio: the daemons started below (sshd, sshfs) would keep
# them open, and a caller that waits for its end of a pipe or socket (Foundation's Process does) would
# then wait for ever.
for fd in /proc/$$/fd/*; do
  fd=${fd##*/}
  case "$fd" in 0|1|2|255) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
done

usage() { echo "usage: scripts/share.sh start|stop|status DIR" >&2; exit 2; }
fail() { echo "share.sh: $*" >&2; exit 1; }
say() { echo "share.sh: $*"; }

[ $# -eq 2 ] || usage
cmd=$1
case "$cmd" in start|stop|status) ;; *) usage ;; esac
mkdir -p "$2" 2>/dev/null || fail "cannot create $2"
DIR=$(cd "$2" && pwd -P)
S="$DIR/.share"
SSHD=/usr/sbin/sshd

is_mounted() { grep -qs " $1 fuse.sshfs " /proc/self/mounts; }

sshd_pid() {
  # The pid of the sshd this script started for DIR, if it still runs.
  [ -f "$S/sshd.pid" ] || return 1
  local pid
  pid=$(cat "$S/sshd.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$S/sshd_config" || return 1
  echo "$pid"
}

unmount() {
  local m=$1
  is_mounted "$m" || return 0
  fusermount3 -u "$m" 2>/dev/null || fusermount -u "$m" 2>/dev/null || umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  if is_mounted "$m"; then fail "cannot unmount $m"; fi
  say "unmounted $m"
}

do_stop() {
  unmount "$DIR/a"
  unmount "$DIR/b"
  local pid
  if pid=$(sshd_pid); then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    say "stopped sshd (pid $pid)"
  fi
  rm -f "$S/sshd.pid"
}

do_status() {
  local ok=0 pid
  if pid=$(sshd_pid); then say "sshd running (pid $pid, 127.0.0.1:$(cat "$S/port" 2>/dev/null))"; else say "sshd not running"; ok=1; fi
  for m in a b; do
    if is_mounted "$DIR/$m" && stat "$DIR/$m/." >/dev/null 2>&1; then say "mounted $DIR/$m"; else say "not mounted: $DIR/$m"; ok=1; fi
  done
  return $ok
}

install_missing() {
  local need=()
  [ -x "$SSHD" ] || need+=(openssh-server)
  command -v sshfs >/dev/null 2>&1 || need+=(sshfs)
  command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
  [ ${#need[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || fail "missing ${need[*]} and no apt-get to install them; install them by hand"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || fail "missing ${need[*]}; install them as root: apt-get install -y ${need[*]}"
    sudo="sudo -n"
  fi
  say "installing ${need[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  # Another apt-get may hold the dpkg lock (parallel test runs): wait for it rather than fail.
  $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null || fail "apt-get update failed"
  $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || fail "apt-get install ${need[*]} failed"
}

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' && return 0
  fi
  echo $(( 20000 + RANDOM % 20000 ))
}

do_start() {
  if do_status >/dev/null 2>&1; then say "already running:"; do_status; return 0; fi
  do_stop >/dev/null 2>&1 || true
  [ -e /dev/fuse ] || fail "FUSE is not available here (/dev/fuse is missing); run the container with --device /dev/fuse --cap-add SYS_ADMIN"
  [ -r /dev/fuse ] && [ -w /dev/fuse ] || fail "FUSE is not usable: no read/write access to /dev/fuse"
  install_missing
  mkdir -p "$S" "$DIR/export" "$DIR/a" "$DIR/b"
  chmod 700 "$S"
  [ -f "$S/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C ferry-share-host -f "$S/host_ed25519" >/dev/null
  [ -f "$S/user_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C ferry-share-user -f "$S/user_ed25519" >/dev/null
  cp "$S/user_ed25519.pub" "$S/authorized_keys"
  chmod 600 "$S/authorized_keys"
  # sshd's privilege separation needs this folder; it is what a system sshd would create too.
  [ "$(id -u)" -ne 0 ] || mkdir -p /run/sshd
  local user port pid
  user=$(id -un)
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    cat >"$S/sshd_config" <<EOF
# Private sshd for scripts/share.sh; not the system's.
ListenAddress 127.0.0.1
Port $port
HostKey $S/host_ed25519
PidFile $S/sshd.pid
AuthorizedKeysFile $S/authorized_keys
AllowUsers $user
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
Subsystem sftp internal-sftp
EOF
    rm -f "$S/sshd.pid"
    if ! "$SSHD" -t -f "$S/sshd_config" 2>"$S/sshd.log"; then fail "sshd rejects its configuration: $(cat "$S/sshd.log")"; fi
    # Daemons get no stdio of ours: a caller reading our output to its end must not wait for them.
    "$SSHD" -f "$S/sshd_config" -E "$S/sshd.log" </dev/null >/dev/null 2>&1 || fail "sshd cannot start: $(tail -n 5 "$S/sshd.log")"
    for _ in $(seq 50); do pid=$(sshd_pid) && break; sleep 0.1; done
    if pid=$(sshd_pid); then break; fi
    grep -q "Address already in use" "$S/sshd.log" 2>/dev/null || fail "sshd did not start: $(tail -n 5 "$S/sshd.log")"
  done
  pid=$(sshd_pid) || fail "sshd did not start: $(tail -n 5 "$S/sshd.log")"
  echo "$port" >"$S/port"
  echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$S/host_ed25519.pub")" >"$S/known_hosts"
  say "sshd running (pid $pid) on 127.0.0.1:$port, exporting $DIR/export"
  local m
  for m in a b; do
    if ! sshfs -p "$port" \
         -o "IdentityFile=$S/user_ed25519,UserKnownHostsFile=$S/known_hosts,StrictHostKeyChecking=yes,GlobalKnownHostsFile=/dev/null" \
         -o BatchMode=yes,IdentitiesOnly=yes,ServerAliveInterval=15 \
         "$user@127.0.0.1:$DIR/export" "$DIR/$m" </dev/null >"$S/sshfs-$m.log" 2>&1; then
      local why
      why=$(cat "$S/sshfs-$m.log")
      do_stop >/dev/null 2>&1 || true
      fail "sshfs cannot mount $DIR/$m (FUSE or sshd not usable here): $why"
    fi
    say "mounted $DIR/export at $DIR/$m (sshfs, default caching)"
  done
  # Both mounts must show the same folder.
  local probe=".share-probe-$$"
  echo ok >"$DIR/a/$probe"
  if [ "$(cat "$DIR/b/$probe" 2>/dev/null)" != ok ]; then rm -f "$DIR/a/$probe"; do_stop >/dev/null 2>&1 || true; fail "mounts do not show the same folder"; fi
  rm -f "$DIR/a/$probe"
}

case "$cmd" in
  start) do_start ;;
  stop) do_stop; say "stopped share at $DIR" ;;
  status) do_status ;;
esac
