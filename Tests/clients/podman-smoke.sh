#!/bin/bash
# podman-smoke.sh RUNTIME
#
# Drives podman 4.3.x (Debian 12) with the OCI runtime binary RUNTIME in a
# private, throw-away setup (own graphroot/runroot/tmpdir/config files, own
# cgroup parent, own runtime state root), checks the results and always cleans up.
#
# Needs: root, podman, conmon, busybox-static (/usr/bin/busybox), tar.
# Env knobs:
#   SMOKE_EXEC=0            skip the `podman exec` step
#   SMOKE_CGROUP_COMMANDS=0 skip the resource limits, pause/unpause and top
#   SMOKE_DIRECT=1          pass RUNTIME to podman as is (no wrapper). The runtime then
#                           uses its own default --root (e.g. /run/runc) and no argv log.
#   SMOKE_STORAGE_DRIVER=.. overlay (default) or vfs
#   SMOKE_KEEP=1            do not delete the temp dir (mounts/cgroups/processes are
#                           still cleaned up)
#   SMOKE_TIMEOUT=60        per-command timeout in seconds
#   SMOKE_CGROUPS=disabled  run containers with --cgroups=disabled
# Exit status: 0 = all checks passed, 1 = a check failed, 2 = usage/setup error.
set -u

RT_IN=${1:-}
if [ -z "$RT_IN" ]; then echo "usage: $0 /path/to/oci-runtime" >&2; exit 2; fi
RT=$(readlink -f "$RT_IN" 2>/dev/null || true)
if [ -z "$RT" ] || [ ! -x "$RT" ]; then echo "runtime '$RT_IN' is not an executable file" >&2; exit 2; fi
if [ "$(id -u)" != 0 ]; then echo "must run as root" >&2; exit 2; fi
for b in podman conmon tar timeout; do
  command -v "$b" >/dev/null || { echo "missing $b" >&2; exit 2; }
done
BUSYBOX=${BUSYBOX:-/usr/bin/busybox}
[ -x "$BUSYBOX" ] || { echo "missing $BUSYBOX (apt-get install busybox-static)" >&2; exit 2; }

# The name podman derives from the runtime path (its basename). It must be listed in
# runtime_supports_json, otherwise conmon does not pass --log-format=json --log <file>.
RTNAME=$(basename "$RT_IN")
TMO=${SMOKE_TIMEOUT:-60}
DRIVER=${SMOKE_STORAGE_DRIVER:-overlay}

T=$(mktemp -d /tmp/podman-smoke.XXXXXX) || exit 2
TAG=$(basename "$T" | tr -cd 'A-Za-z0-9')
CG=/podman_smoke_$TAG                 # cgroup parent for conmon + containers
FAILED=0
START=$(date +%s.%N)

# podman (as root) always writes its blob-info cache to /var/lib/containers/cache
# (no config knob in 4.3); remember whether it existed so we remove only what we made.
VLC_EXISTED=0; [ -e /var/lib/containers ] && VLC_EXISTED=1

. "$(dirname "$0")/common.sh"

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  echo "---- cleanup"
  if [ -n "${P_READY:-}" ]; then
    timeout 30 "${P[@]}" rm -a -f -t 0 >/dev/null 2>&1
    timeout 30 "${P[@]}" system reset -f >/dev/null 2>&1
  fi
  kill_cgroup_tree
  for p in $(pids_mentioning_T); do kill -9 "$p" 2>/dev/null; done
  sleep 0.1
  umount_under_T
  remove_cgroups
  if [ "${SMOKE_KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
  if [ $VLC_EXISTED = 0 ] && [ -d /var/lib/containers ]; then
    rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
    rmdir /var/lib/containers/cache /var/lib/containers 2>/dev/null
  fi
  echo "total time $(el "$START")"
  if [ $rc = 0 ] && [ $FAILED = 0 ]; then echo "RESULT: podman smoke PASSED with $RT_IN"; exit 0; fi
  echo "RESULT: podman smoke FAILED with $RT_IN"
  [ $rc = 0 ] && rc=1
  exit $rc
}
trap cleanup EXIT
trap 'echo "interrupted"; FAILED=1; exit 1' INT TERM

echo "runtime: $RT_IN -> $RT   tmp: $T   cgroup parent: $CG   storage: $DRIVER"
mkdir -p "$T"/{etc,root,runroot,tmp,netconf,bin,rootfs,runtime-root}

# --- runtime as podman sees it ------------------------------------------------------
if [ "${SMOKE_DIRECT:-0}" = 1 ]; then
  RUNTIME_PATH=$RT_IN
else
  # Same basename as the real binary; injects a private --root (podman cannot pass
  # --runtime-flag to its `container cleanup` child, so --runtime-flag root=... leaks
  # state into the runtime's default root) and logs every argv.
  RUNTIME_PATH=$T/bin/$RTNAME
  cat > "$RUNTIME_PATH" <<EOF
#!/bin/sh
{ printf '%s' "\$(date +%T.%N) ppid=\$PPID:"; for a in "\$@"; do printf ' %s' "\$a"; done; echo; } >> "$T/runtime-argv.log"
exec "$RT" --root "$T/runtime-root" "\$@"
EOF
  chmod 755 "$RUNTIME_PATH"
fi

# --- config files (passed via env vars; nothing in /etc is needed) -----------------------
cat > "$T/etc/containers.conf" <<EOF
[containers]
log_driver = "k8s-file"
# hard RLIMIT_NOFILE is 20000 here and cannot be raised; podman's default for root is
# 1048576 for both nofile and nproc, which the runtime then fails to set.
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"

[network]
# cni: nothing is created outside network_config_dir (netavark would create
# /run/containers/networks even with --network none).
network_backend = "cni"
network_config_dir = "$T/netconf"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/tmp/events.log"
tmp_dir = "$T/tmp"
# default "shm" would create /dev/shm/libpod_lock, shared by all root podmans
lock_type = "file"
image_copy_tmp_dir = "$T/tmp"
runtime_supports_json = ["$RTNAME", "crun", "runc"]
runtime_supports_nocgroup = ["$RTNAME", "crun"]
EOF
cat > "$T/etc/storage.conf" <<EOF
[storage]
driver = "$DRIVER"
graphroot = "$T/root"
runroot = "$T/runroot"
EOF
cat > "$T/etc/registries.conf" <<EOF
unqualified-search-registries = []
short-name-mode = "disabled"
EOF
export CONTAINERS_CONF=$T/etc/containers.conf
export CONTAINERS_STORAGE_CONF=$T/etc/storage.conf
export CONTAINERS_REGISTRIES_CONF=$T/etc/registries.conf
export TMPDIR=$T/tmp

PODMAN=(podman --root "$T/root" --runroot "$T/runroot" --tmpdir "$T/tmp"
   --storage-driver "$DRIVER" --cgroup-manager cgroupfs --events-backend file
   --network-config-dir "$T/netconf" --runtime "$RUNTIME_PATH")
P=(timeout "$TMO" "${PODMAN[@]}")
# Inside a pty made by script(1), plain `timeout` puts podman into a process group of its
# own, which is then a background group of that terminal: podman's tcsetattr (raw mode)
# stops it with SIGTTOU and the step hangs. Whether that happens depended on $SHELL (bash
# execs the command as the session leader, where setpgid fails; /bin/sh did not), which CI
# leaves unset. --foreground keeps podman in the terminal's foreground group; the outer
# `timeout` around script(1) bounds the whole step.
PTTY=(timeout --foreground "$TMO" "${PODMAN[@]}")
SCRIPT=(timeout -k 5 "$((TMO + 10))" script -qec)
RUNOPTS=(--network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
# SMOKE_CGROUPS=disabled: podman --cgroups=disabled (no cgroupsPath/resources in config.json;
# conmon is not moved either; --cgroup-parent is then refused). Only for runtimes listed in
# runtime_supports_nocgroup.
if [ "${SMOKE_CGROUPS:-enabled}" = disabled ]; then RUNOPTS+=(--cgroups=disabled); else RUNOPTS+=(--cgroup-parent "$CG"); fi
P_READY=1

# --- image from a busybox-static rootfs ------------------------------------------------
t=$(now)
mkdir -p "$T"/rootfs/{bin,etc,proc,sys,dev,tmp,root,run}
cp "$BUSYBOX" "$T/rootfs/bin/busybox"
for a in sh echo hostname id cat sleep true false ls env stty tty; do ln -s busybox "$T/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$T/rootfs/etc/passwd"
echo 'root:x:0:' > "$T/rootfs/etc/group"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
if out=$("${P[@]}" import --change 'CMD ["/bin/sh"]' "$T/rootfs.tar" localhost/smoke-busybox:latest 2>&1); then
  pass "podman import ($(el "$t"))"
else
  fail "podman import: $out"; exit 1
fi

# --- 1. run --rm: output and exit code 0 ----------------------------------------------
t=$(now)
out=$("${P[@]}" run --rm "${RUNOPTS[@]}" localhost/smoke-busybox /bin/sh -c 'echo hello; hostname; id -u' 2>"$T/err"); rc=$?
l1=$(echo "$out" | sed -n 1p); l2=$(echo "$out" | sed -n 2p); l3=$(echo "$out" | sed -n 3p)
if [ $rc = 0 ] && [ "$l1" = hello ] && echo "$l2" | grep -qE '^[0-9a-f]{12}$' && [ "$l3" = 0 ]; then
  pass "run --rm echo/hostname/id: rc=0 out=[$(echo $out)] ($(el "$t"))"
else
  fail "run --rm echo/hostname/id: rc=$rc out=[$out] err=[$(cat "$T/err")]"
fi

# --- 2. non-zero exit code propagates --------------------------------------------------
t=$(now)
"${P[@]}" run --rm "${RUNOPTS[@]}" localhost/smoke-busybox /bin/sh -c 'exit 42' >/dev/null 2>"$T/err"; rc=$?
if [ $rc = 42 ]; then pass "run --rm 'exit 42' -> rc=42 ($(el "$t"))"
else fail "run --rm 'exit 42' -> rc=$rc err=[$(cat "$T/err")]"; fi

# --- 3. stdout/stderr separation and stdin ----------------------------------------------
t=$(now)
out=$(echo piped-in | "${P[@]}" run --rm -i "${RUNOPTS[@]}" localhost/smoke-busybox /bin/sh -c 'cat; echo to-stderr >&2' 2>"$T/err"); rc=$?
if [ $rc = 0 ] && [ "$out" = piped-in ] && grep -qx to-stderr "$T/err"; then
  pass "run -i: stdin->stdout and stderr separate ($(el "$t"))"
else
  fail "run -i: rc=$rc out=[$out] err=[$(cat "$T/err")]"
fi

# --- 3a. run -it: the container's pty reaches podman through conmon's console socket -----
t=$(now)
out=$(printf 'stty size; tty; exit 3\n' | "${SCRIPT[@]}" "stty rows 33 cols 111; ${PTTY[*]} run --rm -it ${RUNOPTS[*]} localhost/smoke-busybox /bin/sh" /dev/null 2>"$T/err"); rc=$?
if [ $rc = 3 ] && echo "$out" | grep -q '^33 111' && echo "$out" | grep -q '^/dev/pts/0'; then
  pass "run -it: pty with the caller's size, rc=3 ($(el "$t"))"
else
  fail "run -it: rc=$rc out=[$out] err=[$(cat "$T/err")]"
fi

# --- 3b. resource limits reach the container's cgroups -----------------------------------
if [ "${SMOKE_CGROUP_COMMANDS:-1}" = 1 ]; then
  t=$(now)
  out=$("${P[@]}" run --rm "${RUNOPTS[@]}" --memory 64m --cpus 0.5 --pids-limit 33 localhost/smoke-busybox \
        /bin/sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us' 2>"$T/err"); rc=$?
  if [ $rc = 0 ] && [ "$(echo $out)" = "67108864 33 50000" ]; then pass "run --memory --cpus --pids-limit: limits seen inside ($(el "$t"))"
  else fail "run --memory --cpus --pids-limit: rc=$rc out=[$(echo $out)] err=[$(cat "$T/err")]"; fi
fi

# --- 4. detached lifecycle: run -d, exec, stop (SIGTERM), rm ------------------------------
t=$(now)
cid=$("${P[@]}" run -d --name smoke-life "${RUNOPTS[@]}" localhost/smoke-busybox \
      /bin/sh -c 'trap "echo got-term; exit 0" TERM; echo ready; while :; do sleep 0.1; done' 2>"$T/err"); rc=$?
if [ $rc = 0 ]; then
  for i in $(seq 50); do "${P[@]}" logs smoke-life 2>/dev/null | grep -q ready && break; sleep 0.1; done
  st=$("${P[@]}" inspect smoke-life --format '{{.State.Status}}' 2>&1)
  [ "$st" = running ] && pass "run -d: status running ($(el "$t"))" || fail "run -d: status=[$st]"
  # SMOKE_EXEC=0 skips exec, for runtimes without `exec` (berth until its exec lands).
  if [ "${SMOKE_EXEC:-1}" = 1 ]; then
    t=$(now)
    out=$("${P[@]}" exec smoke-life /bin/sh -c 'echo exec-ok; exit 5' 2>"$T/err"); rc=$?
    if [ $rc = 5 ] && [ "$out" = exec-ok ]; then pass "exec: out=exec-ok rc=5 ($(el "$t"))"
    else fail "exec: rc=$rc out=[$out] err=[$(cat "$T/err")]"; fi
  else
    info "exec skipped (SMOKE_EXEC=0)"
  fi
  # exec -t through conmon's console socket, driven from a pty made by script(1).
  if [ "${SMOKE_EXEC:-1}" = 1 ]; then
    t=$(now)
    out=$(printf 'tty; exit 4\n' | "${SCRIPT[@]}" "${PTTY[*]} exec -it smoke-life /bin/sh" /dev/null 2>"$T/err"); rc=$?
    if [ $rc = 4 ] && echo "$out" | grep -q '^/dev/pts/'; then pass "exec -it: a terminal, rc=4 ($(el "$t"))"
    else fail "exec -it: rc=$rc out=[$out] err=[$(cat "$T/err")]"; fi
  fi
  # SMOKE_CGROUP_COMMANDS=0 skips pause/unpause and top (runtimes without them).
  if [ "${SMOKE_CGROUP_COMMANDS:-1}" = 1 ]; then
    t=$(now)
    "${P[@]}" pause smoke-life >/dev/null 2>"$T/err"
    st=$("${P[@]}" inspect smoke-life --format '{{.State.Status}}' 2>&1)
    "${P[@]}" unpause smoke-life >/dev/null 2>>"$T/err"
    st2=$("${P[@]}" inspect smoke-life --format '{{.State.Status}}' 2>&1)
    [ "$st" = paused ] && [ "$st2" = running ] && pass "pause/unpause ($(el "$t"))" || fail "pause/unpause: [$st] [$st2] err=[$(cat "$T/err")]"
    out=$("${P[@]}" top smoke-life 2>"$T/err")
    echo "$out" | grep -q sleep && pass "top lists the container's processes" || fail "top: out=[$out] err=[$(cat "$T/err")]"
  else
    info "pause/unpause and top skipped (SMOKE_CGROUP_COMMANDS=0)"
  fi
  t=$(now)
  "${P[@]}" stop -t 10 smoke-life >/dev/null 2>"$T/err"; rc=$?
  ec=$("${P[@]}" inspect smoke-life --format '{{.State.ExitCode}}' 2>&1)
  if [ $rc = 0 ] && [ "$ec" = 0 ] && "${P[@]}" logs smoke-life 2>/dev/null | grep -q got-term; then
    pass "stop: SIGTERM delivered, exit code 0 ($(el "$t"))"
  else
    fail "stop: rc=$rc exitcode=[$ec] logs=[$("${P[@]}" logs smoke-life 2>&1 | tr '\n' ' ')] err=[$(cat "$T/err")]"
  fi
  "${P[@]}" rm smoke-life >/dev/null 2>"$T/err" || fail "rm: $(cat "$T/err")"
else
  fail "run -d: rc=$rc err=[$(cat "$T/err")]"
fi

# --- 5. nothing left behind by podman/conmon/runtime -------------------------------------
sleep 0.3
n=$("${P[@]}" ps -a -q 2>/dev/null | wc -l)
[ "$n" = 0 ] && pass "ps -a: no containers left" || fail "ps -a: $n containers left"
t=$(now)
"${P[@]}" rmi -a -f >/dev/null 2>"$T/err" || fail "rmi: $(cat "$T/err")"
"${P[@]}" system reset -f >/dev/null 2>"$T/err" || fail "system reset: $(cat "$T/err")"
unset P_READY
info "rmi + system reset ($(el "$t"))"
m=$(awk -v t="$T/" 'index($5, t)==1 {print $5}' /proc/self/mountinfo)
[ -z "$m" ] && pass "no mounts left under $T" || fail "mounts left: $m"
pl=$(pids_mentioning_T)
[ -z "$pl" ] && pass "no conmon/podman/runtime processes left" || fail "processes left: $(for p in $pl; do { tr '\0' ' ' < /proc/$p/cmdline; } 2>/dev/null; echo; done)"
leftcg=$(for m in $(cgroup_mounts); do [ -d "$m$CG" ] && find "$m$CG" -mindepth 1 -type d -name 'libpod-*'; done)
[ -z "$leftcg" ] && pass "runtime removed the container cgroups" || fail "container cgroups left: $leftcg"
if [ "${SMOKE_DIRECT:-0}" != 1 ]; then
  [ -z "$(ls -A "$T/runtime-root")" ] && pass "runtime state root is empty" || fail "runtime state left: $(ls -A "$T/runtime-root")"
fi

if [ $FAILED != 0 ] && [ -s "$T/runtime-argv.log" ]; then
  echo "---- runtime invocations:"; cat "$T/runtime-argv.log"
fi
exit $FAILED
