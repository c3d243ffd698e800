#!/bin/bash
# containerd-smoke.sh RUNTIME
#
# Starts a private containerd 1.6.x (Debian 12) with its own root/state/socket, drives it
# with `ctr` using the OCI runtime binary RUNTIME through the io.containerd.runc.v2 shim
# (ctr --runc-binary / --runc-root), checks the results, stops containerd and always
# cleans up (shims, container processes, mounts, cgroups, temp dir).
#
# Needs: root, containerd, ctr, containerd-shim-runc-v2, busybox-static, tar, sha256sum.
# Env knobs:
#   SMOKE_DIRECT=1    pass RUNTIME itself as --runc-binary (default: a tiny wrapper with the
#                     same basename that logs each argv to $T/runtime-argv.log, then execs it)
#   SMOKE_CGROUPS=disabled  run containers with `ctr run --cgroup ""` (no cgroupsPath)
#   SMOKE_EXEC=0      skip `ctr task exec`
#   SMOKE_CGROUP_COMMANDS=0  skip `ctr task ps`, `pause` and `resume`
#   SMOKE_KEEP=1      keep the temp dir (everything else is still cleaned up)
#   SMOKE_TIMEOUT=60  per-command timeout in seconds
# Exit status: 0 = all checks passed, 1 = a check failed, 2 = usage/setup error.
set -u

RT_IN=${1:-}
if [ -z "$RT_IN" ]; then echo "usage: $0 /path/to/oci-runtime" >&2; exit 2; fi
RT=$(readlink -f "$RT_IN" 2>/dev/null || true)
if [ -z "$RT" ] || [ ! -x "$RT" ]; then echo "runtime '$RT_IN' is not an executable file" >&2; exit 2; fi
if [ "$(id -u)" != 0 ]; then echo "must run as root" >&2; exit 2; fi
for b in containerd ctr containerd-shim-runc-v2 tar sha256sum timeout; do
  command -v "$b" >/dev/null || { echo "missing $b" >&2; exit 2; }
done
BUSYBOX=${BUSYBOX:-/usr/bin/busybox}
[ -x "$BUSYBOX" ] || { echo "missing $BUSYBOX (apt-get install busybox-static)" >&2; exit 2; }

RTNAME=$(basename "$RT_IN")
TMO=${SMOKE_TIMEOUT:-60}
T=$(mktemp -d /tmp/containerd-smoke.XXXXXX) || exit 2
TAG=$(basename "$T" | tr -cd 'A-Za-z0-9')
CG=/ctrd_smoke_$TAG          # cgroup parent; each container gets $CG/<id>
NS=smoke                     # containerd namespace
IDS="c1 c2 c3 c4 c5"         # container ids used below
SOCK=$T/containerd.sock
FAILED=0
START=$(date +%s.%N)
CTRD_PID=
# containerd 1.6 hard-codes the shim socket dir /run/containerd/s (not configurable)
RUNCTRD_EXISTED=0; [ -e /run/containerd ] && RUNCTRD_EXISTED=1
RUNCTRD_S_EXISTED=0; [ -e /run/containerd/s ] && RUNCTRD_S_EXISTED=1

. "$(dirname "$0")/common.sh"

ctrd_alive() { [ -n "$CTRD_PID" ] && kill -0 "$CTRD_PID" 2>/dev/null; }

stop_containerd() {   # SIGTERM, wait up to 10 s, then SIGKILL
  ctrd_alive || return 0
  kill -TERM "$CTRD_PID" 2>/dev/null
  for i in $(seq 100); do ctrd_alive || break; sleep 0.1; done
  ctrd_alive && kill -9 "$CTRD_PID" 2>/dev/null
  wait "$CTRD_PID" 2>/dev/null
  CTRD_PID=
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  echo "---- cleanup"
  if ctrd_alive; then
    for id in $(timeout 10 ctr --address "$SOCK" -n $NS task ls -q 2>/dev/null); do
      timeout 10 ctr --address "$SOCK" -n $NS task kill -a -s KILL "$id" >/dev/null 2>&1
    done
    sleep 0.3
    for id in $(timeout 10 ctr --address "$SOCK" -n $NS container ls -q 2>/dev/null); do
      timeout 10 ctr --address "$SOCK" -n $NS task delete -f "$id" >/dev/null 2>&1
      timeout 10 ctr --address "$SOCK" -n $NS container delete "$id" >/dev/null 2>&1
    done
  fi
  stop_containerd
  kill_cgroup_tree
  for p in $(pids_mentioning_T); do kill -9 "$p" 2>/dev/null; done   # shims
  sleep 0.2
  umount_under_T
  remove_cgroups
  # a shim that was SIGKILLed leaves its socket: /run/containerd/s/sha256("<grpc address>/<ns>/<id>")
  for id in $IDS; do
    rm -f "/run/containerd/s/$(printf '%s' "$SOCK/$NS/$id" | sha256sum | cut -c1-64)"
  done
  if [ "${SMOKE_KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
  [ $RUNCTRD_S_EXISTED = 0 ] && rmdir /run/containerd/s 2>/dev/null
  [ $RUNCTRD_EXISTED = 0 ] && rmdir /run/containerd 2>/dev/null
  echo "total time $(el "$START")"
  if [ $rc = 0 ] && [ $FAILED = 0 ]; then echo "RESULT: containerd smoke PASSED with $RT_IN"; exit 0; fi
  echo "RESULT: containerd smoke FAILED with $RT_IN"
  [ $rc = 0 ] && rc=1
  exit $rc
}
trap cleanup EXIT
trap 'echo "interrupted"; FAILED=1; exit 1' INT TERM

echo "runtime: $RT_IN -> $RT   tmp: $T   cgroup parent: $CG"
mkdir -p "$T"/{root,state,tmp,fifo,runc-root,bin,rootfs,oci/blobs/sha256}

if [ "${SMOKE_DIRECT:-0}" = 1 ]; then
  RUNTIME_PATH=$RT_IN
else
  RUNTIME_PATH=$T/bin/$RTNAME
  cat > "$RUNTIME_PATH" <<EOF
#!/bin/sh
{ printf '%s' "\$(date +%T.%N) ppid=\$PPID:"; for a in "\$@"; do printf ' %s' "\$a"; done; echo; } >> "$T/runtime-argv.log"
exec "$RT" "\$@"
EOF
  chmod 755 "$RUNTIME_PATH"
fi

# --- containerd config ---------------------------------------------------------------------
cat > "$T/config.toml" <<EOF
version = 2
root = "$T/root"
state = "$T/state"
oom_score = 0

# cri: not needed for ctr (and would want CNI); opt: would create /opt/containerd.
# NOT disabled: io.containerd.runtime.v1.linux - in 1.6 the tasks service fails to load
# without it ("no plugins registered for io.containerd.runtime.v1").
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = "$SOCK"

[ttrpc]
  address = "$SOCK.ttrpc"

[debug]
  level = "info"

[plugins."io.containerd.monitor.v1.cgroups"]
  no_prometheus = true
EOF

t=$(now)
# TMPDIR is inherited by the shims (they write the exec process.json there)
TMPDIR=$T/tmp containerd --config "$T/config.toml" > "$T/containerd.log" 2>&1 &
CTRD_PID=$!
ready=0
for i in $(seq 200); do
  ctrd_alive || break
  if [ -S "$SOCK" ] && timeout 5 ctr --address "$SOCK" version >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.1
done
if [ $ready = 1 ]; then pass "containerd up, pid $CTRD_PID ($(el "$t"))"
else fail "containerd did not come up: $(tail -5 "$T/containerd.log")"; exit 1; fi
bad=$(timeout 10 ctr --address "$SOCK" plugins ls 2>/dev/null | awk 'NR>1 && $NF!="ok" && $NF!="skip"{print $2}' | tr '\n' ' ')
[ -z "$bad" ] || info "plugins not ok: $bad"

CTR=(timeout "$TMO" ctr --address "$SOCK" --namespace $NS)
# Inside a pty made by script(1), plain `timeout` puts ctr into a process group of its own,
# a background group of that terminal: ctr's tcsetattr (raw mode) stops it with SIGTTOU and
# the step hangs. Whether that happened depended on $SHELL (bash execs the command as the
# session leader, where setpgid fails; /bin/sh does not), which CI leaves unset.
# --foreground keeps ctr in the terminal's foreground group; the outer `timeout` around
# script(1) bounds the whole step.
CTRTTY=(timeout --foreground "$TMO" ctr --address "$SOCK" --namespace $NS)
SCRIPT=(timeout -k 5 "$((TMO + 10))" script -qec)
RUNF=(--runc-binary "$RUNTIME_PATH" --runc-root "$T/runc-root" --fifo-dir "$T/fifo")
cgflag() { if [ "${SMOKE_CGROUPS:-enabled}" = disabled ]; then echo "--cgroup="; else echo "--cgroup=$CG/$1"; fi; }

# --- rootfs dir + single-layer OCI image archive from busybox-static ---------------------------
mkdir -p "$T"/rootfs/{bin,etc,proc,sys,dev,tmp,root,run}
cp "$BUSYBOX" "$T/rootfs/bin/busybox"
for a in sh echo hostname id cat sleep true false ls env tty stty; do ln -s busybox "$T/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$T/rootfs/etc/passwd"
echo 'root:x:0:' > "$T/rootfs/etc/group"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
B=$T/oci/blobs/sha256
ld=$(sha256sum "$T/rootfs.tar" | cut -d' ' -f1); cp "$T/rootfs.tar" "$B/$ld"
printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$ld" > "$T/cfg"
cd_=$(sha256sum "$T/cfg" | cut -d' ' -f1); mv "$T/cfg" "$B/$cd_"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}' \
  "$cd_" "$(stat -c %s "$B/$cd_")" "$ld" "$(stat -c %s "$B/$ld")" > "$T/man"
md=$(sha256sum "$T/man" | cut -d' ' -f1); msize=$(stat -c %s "$T/man"); mv "$T/man" "$B/$md"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"docker.io/library/smoke-busybox:latest","org.opencontainers.image.ref.name":"latest"}}]}' \
  "$md" "$msize" > "$T/oci/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$T/oci/oci-layout"
tar -C "$T/oci" -cf "$T/image.tar" oci-layout index.json blobs
IMG=docker.io/library/smoke-busybox:latest

# --- 1. ctr run --rm --rootfs: output and exit code 0 -------------------------------------------
t=$(now)
out=$("${CTR[@]}" run --rm "${RUNF[@]}" "$(cgflag c1)" --rootfs "$T/rootfs" c1 /bin/sh -c 'echo hello; hostname; id -u' 2>"$T/err"); rc=$?
l1=$(echo "$out" | sed -n 1p); l2=$(echo "$out" | sed -n 2p); l3=$(echo "$out" | sed -n 3p)
# ctr's default spec has a UTS namespace but no hostname -> the host's name is inherited
if [ $rc = 0 ] && [ "$l1" = hello ] && [ "$l2" = "$(hostname)" ] && [ "$l3" = 0 ]; then
  pass "run --rm --rootfs echo/hostname/id: rc=0 out=[$(echo $out)] ($(el "$t"))"
else
  fail "run --rm --rootfs echo/hostname/id: rc=$rc out=[$out] err=[$(cat "$T/err")]"
fi

# --- 2. non-zero exit code propagates -------------------------------------------------------
t=$(now)
"${CTR[@]}" run --rm "${RUNF[@]}" "$(cgflag c2)" --rootfs "$T/rootfs" c2 /bin/sh -c 'exit 42' >/dev/null 2>"$T/err"; rc=$?
[ $rc = 42 ] && pass "run --rm 'exit 42' -> rc=42 ($(el "$t"))" || fail "run --rm 'exit 42' -> rc=$rc err=[$(cat "$T/err")]"

# --- 3. stdin/stdout/stderr (ctr never closes the container's stdin: read one line only) ------
t=$(now)
out=$(echo piped-in | "${CTR[@]}" run --rm "${RUNF[@]}" "$(cgflag c3)" --rootfs "$T/rootfs" c3 /bin/sh -c 'read l; echo "$l"; echo to-stderr >&2' 2>"$T/err"); rc=$?
if [ $rc = 0 ] && [ "$out" = piped-in ] && grep -qx to-stderr "$T/err"; then pass "stdin->stdout, stderr separate ($(el "$t"))"
else fail "stdio: rc=$rc out=[$out] err=[$(cat "$T/err")]"; fi

# --- 4. image import + run from the overlayfs snapshot (config.json root.path = "rootfs") -----
t=$(now)
if "${CTR[@]}" images import "$T/image.tar" >/dev/null 2>"$T/err"; then
  pass "images import ($(el "$t"))"
  t=$(now)
  out=$("${CTR[@]}" run --rm "${RUNF[@]}" "$(cgflag c4)" "$IMG" c4 /bin/sh -c 'echo hello-image; echo $PATH; exit 7' 2>"$T/err"); rc=$?
  if [ $rc = 7 ] && [ "$(echo "$out" | sed -n 1p)" = hello-image ] && [ "$(echo "$out" | sed -n 2p)" = /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ]; then
    pass "run --rm image: output + env from image, rc=7 ($(el "$t"))"
  else
    fail "run --rm image: rc=$rc out=[$out] err=[$(cat "$T/err")]"
  fi
else
  fail "images import: $(cat "$T/err")"
fi

# --- 5. detached lifecycle: run -d, task ls/ps/exec/pause/resume/kill/delete ---------------------
t=$(now)
if "${CTR[@]}" run -d "${RUNF[@]}" "$(cgflag c5)" --rootfs "$T/rootfs" c5 \
     /bin/sh -c 'trap "exit 3" TERM; while :; do sleep 0.1; done' >/dev/null 2>"$T/err"; then
  st=$("${CTR[@]}" task ls 2>/dev/null | awk '$1=="c5"{print $3}')
  [ "$st" = RUNNING ] && pass "run -d: RUNNING ($(el "$t"))" || fail "run -d: status=[$st]"
  # SMOKE_EXEC=0 / SMOKE_CGROUP_COMMANDS=0 skip what a runtime does not have yet (berth:
  # exec, ps, pause and resume land with later issues).
  if [ "${SMOKE_EXEC:-1}" = 1 ]; then
    t=$(now)
    out=$("${CTR[@]}" task exec --fifo-dir "$T/fifo" --exec-id e1 c5 /bin/sh -c 'echo exec-ok; exit 6' 2>"$T/err"); rc=$?
    [ $rc = 6 ] && [ "$out" = exec-ok ] && pass "task exec: out=exec-ok rc=6 ($(el "$t"))" || fail "task exec: rc=$rc out=[$out] err=[$(cat "$T/err")]"
    # exec -t: the shim's console socket gets the pty; ctr needs a terminal of its own.
    t=$(now)
    out=$(printf 'tty; exit 4\n' | "${SCRIPT[@]}" "${CTRTTY[*]} task exec -t --exec-id e2 c5 /bin/sh" /dev/null 2>"$T/err"); rc=$?
    if [ $rc = 4 ] && echo "$out" | grep -q '^/dev/pts/'; then pass "task exec -t: a terminal, rc=4 ($(el "$t"))"
    else fail "task exec -t: rc=$rc out=[$out] err=[$(cat "$T/err")]"; fi
  else
    info "task exec skipped (SMOKE_EXEC=0)"
  fi
  if [ "${SMOKE_CGROUP_COMMANDS:-1}" = 1 ]; then
    n=$("${CTR[@]}" task ps c5 2>"$T/err" | awk 'NR>1' | wc -l)
    [ "$n" -ge 1 ] && pass "task ps: $n pids" || fail "task ps: [$(cat "$T/err")]"
    "${CTR[@]}" task pause c5 2>"$T/err"
    st=$("${CTR[@]}" task ls 2>/dev/null | awk '$1=="c5"{print $3}')
    "${CTR[@]}" task resume c5 2>>"$T/err"
    st2=$("${CTR[@]}" task ls 2>/dev/null | awk '$1=="c5"{print $3}')
    [ "$st" = PAUSED ] && [ "$st2" = RUNNING ] && pass "task pause/resume" || fail "pause/resume: [$st] [$st2] [$(cat "$T/err")]"
  else
    info "task ps, pause and resume skipped (SMOKE_CGROUP_COMMANDS=0)"
  fi
  t=$(now)
  "${CTR[@]}" task kill c5 2>"$T/err"      # SIGTERM
  for i in $(seq 50); do
    st=$("${CTR[@]}" task ls 2>/dev/null | awk '$1=="c5"{print $3}'); [ "$st" = STOPPED ] && break; sleep 0.1
  done
  [ "$st" = STOPPED ] && pass "task kill (SIGTERM): STOPPED ($(el "$t"))" || fail "task kill: status=[$st] [$(cat "$T/err")]"
  "${CTR[@]}" task delete c5 >/dev/null 2>"$T/err" || fail "task delete: $(cat "$T/err")"
  # ctr 1.6 reports a non-zero exit status only as a warning on task delete
  grep -q 'exit code 3' "$T/err" && pass "exit status 3 from the TERM trap reported" || fail "task delete: expected 'exit code 3' in [$(cat "$T/err")]"
  "${CTR[@]}" container delete c5 2>"$T/err" || fail "container delete: $(cat "$T/err")"
else
  fail "run -d: $(cat "$T/err")"
fi

# --- 6. nothing left behind --------------------------------------------------------------------
sleep 0.3
[ -z "$("${CTR[@]}" container ls -q 2>/dev/null)" ] && pass "no containers left" || fail "containers left: $("${CTR[@]}" container ls -q)"
"${CTR[@]}" images rm "$IMG" >/dev/null 2>&1
t=$(now)
stop_containerd
info "containerd stopped ($(el "$t"))"
sleep 0.2
pl=$(pids_mentioning_T)
[ -z "$pl" ] && pass "no containerd/shim/container processes left" || fail "processes left: $(for p in $pl; do { tr '\0' ' ' < /proc/$p/cmdline; } 2>/dev/null; echo; done)"
m=$(awk -v t="$T/" 'index($5, t)==1 {print $5}' /proc/self/mountinfo)
[ -z "$m" ] && pass "no mounts left under $T" || fail "mounts left: $m"
leftcg=$(for m in $(cgroup_mounts); do [ -d "$m$CG" ] && find "$m$CG" -mindepth 1 -type d; done)
[ -z "$leftcg" ] && pass "runtime removed the container cgroups" || fail "container cgroups left: $leftcg"
left=$(find "$T/runc-root" -mindepth 2 2>/dev/null)
[ -z "$left" ] && pass "runtime state root is empty" || fail "runtime state left: $left"

if [ $FAILED != 0 ]; then
  [ -s "$T/runtime-argv.log" ] && { echo "---- runtime invocations:"; cat "$T/runtime-argv.log"; }
  echo "---- containerd log (warnings/errors):"; grep -E 'level=(warn|error|fatal)' "$T/containerd.log" | tail -20
fi
exit $FAILED
