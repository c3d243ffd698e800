#!/usr/bin/env bash
# Container start-time benchmark: `berth run` vs `crun run` vs `runc run`
# of the same /bin/true bundle; with BENCH_KIND=exec (bench/run-exec.sh), exec
# latency: `exec /bin/true` into a running container of each.  See bench/README.md.
#
# usage: bench/run-start.sh [-n ROUNDS] [-w WARMUP] [-o RESULTS.json] [BERTH_PATH]
#        bench/run-exec.sh  [-n ROUNDS] [-w WARMUP] [-o RESULTS.json] [BERTH_PATH]
#
#   -n ROUNDS   measured rounds (default 200); one round = one run (or exec) per runtime
#   -w WARMUP   warm-up rounds, discarded (default 5)
#   -o FILE     also write the results (stats + raw samples) as JSON to FILE
#   BERTH_PATH  berth binary (default: <repo root>/.build/release/berth);
#               if it is missing the benchmark still runs crun and runc and
#               says berth was skipped.
#
# Needs root and, from Debian: runc, crun, busybox-static (/usr/bin/busybox),
# util-linux (unshare, umount), python3 >= 3.8.  Optional: time (GNU time,
# /usr/bin/time, used only as a cross-check of the peak RSS figures); a
# Makefile target should do `apt-get install -y runc crun busybox-static time`
# before calling this script.
#
# All three runtimes run inside ONE private mount namespace in which the
# cgroup2 mount at /sys/fs/cgroup/unified is unmounted: crun 1.8.1 refuses the
# hybrid v1+v2 layout otherwise ("cgroups in hybrid mode not supported"), and
# giving all three the same view keeps the comparison fair.  State roots,
# bundle and logs live in one temp dir removed by the EXIT trap; leftover
# containers/cgroups are cleaned up even on Ctrl-C / SIGTERM.
set -euo pipefail

# What is timed: `start` (a whole foreground run) or `exec` (driver exec_bench.py, which
# keeps one long-running `sleep` container per runtime, not timed).
kind=${BENCH_KIND:-start}
case $kind in
    start) name=run-start.sh; driver=start_bench.py; tag_prefix=bsb ;;
    exec) name=run-exec.sh; driver=exec_bench.py; tag_prefix=bxb ;;
    *) echo "run-start.sh: BENCH_KIND must be start or exec" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

rounds=200
warmup=5
out=""
usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts ":n:w:o:h" opt; do
    case $opt in
        n) rounds=$OPTARG ;;
        w) warmup=$OPTARG ;;
        o) out=$OPTARG ;;
        h) usage ;;
        *) echo "$name: bad option -$OPTARG" >&2; usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "$name: -n wants a positive integer" >&2; exit 2; }
[[ $warmup =~ ^[0-9]+$ ]] || { echo "$name: -w wants an integer >= 0" >&2; exit 2; }

berth=${1:-$repo/.build/release/berth}
case $berth in /*) ;; *) berth=$PWD/$berth ;; esac
if [ -n "$out" ]; then
    case $out in /*) ;; *) out=$PWD/$out ;; esac
fi

die() { echo "$name: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (container runtimes + unshare -m)"
for tool in runc crun unshare umount python3; do
    command -v "$tool" >/dev/null || die "$tool not found in PATH"
done
[ -x /usr/bin/busybox ] || die "/usr/bin/busybox missing (apt-get install -y busybox-static)"
# The rootfs has no libraries, so busybox must be the static build.
if ldd /usr/bin/busybox >/dev/null 2>&1; then
    die "/usr/bin/busybox is dynamically linked; install busybox-static"
fi

# Unique tag: used for container ids and cgroup paths so leftovers are
# attributable to this run (and only this run).
tag="$tag_prefix$$x$(date +%s)"
args=()
work=$(mktemp -d "${TMPDIR:-/tmp}/berth-$kind-bench.XXXXXX")
child=""

# Kill processes in and remove any cgroup directory this run created
# (there should be none: the runtimes delete their cgroups themselves).
# Returns 1 if it found any.  Runs in the host mount namespace, so it also
# sees /sys/fs/cgroup/unified, which is hidden from the runtimes.
sweep_cgroups() {
    local d found=0
    shopt -s nullglob
    for d in /sys/fs/cgroup/*/"$tag"-* /sys/fs/cgroup/*/*/"$tag"-*; do
        [ -d "$d" ] || continue
        found=1
        echo "$name: removing leftover cgroup $d" >&2
        if [ -f "$d/cgroup.procs" ]; then
            xargs -r kill -KILL <"$d/cgroup.procs" 2>/dev/null || true
        fi
        rmdir "$d" 2>/dev/null || { sleep 0.2; rmdir "$d" 2>/dev/null; } ||
            echo "$name: could not remove $d" >&2
    done
    shopt -u nullglob
    return $found
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
        kill -TERM "$child" 2>/dev/null || true
        wait "$child" 2>/dev/null || true
    fi
    # The driver deletes its containers itself (inside its namespace).  This
    # is the backstop for a driver that died hard (SIGKILL, crash): if any
    # container state is left, let an in-flight runtime finish, then run the
    # driver's cleanup in a fresh namespace with the same cgroup view (crun
    # can't even `delete` in the host's hybrid layout).
    if [ ${#args[@]} -gt 0 ] && compgen -G "$work/state/*/*" >/dev/null; then
        local i
        for i in $(seq 50); do
            pgrep -f -- "$tag-" >/dev/null || break
            sleep 0.2
        done
        echo "$name: container state left in $work/state; cleaning up" >&2
        unshare -m --propagation private -- python3 "$here/$driver" \
            "${args[@]}" --cleanup-only || true
        [ "$rc" != 0 ] || rc=1
    fi
    if ! sweep_cgroups && [ "$rc" = 0 ]; then
        echo "$name: FAIL: cgroups were left behind" >&2
        rc=1
    fi
    if grep -q " $work" /proc/self/mountinfo; then
        echo "$name: FAIL: mounts left under $work:" >&2
        grep " $work" /proc/self/mountinfo >&2
        rc=1
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- throwaway bundle ------------------------------------------------------
bundle=$work/bundle
mkdir -p "$bundle/rootfs/bin" "$work/state" "$work/logs"
cp /usr/bin/busybox "$bundle/rootfs/bin/busybox"
ln -s busybox "$bundle/rootfs/bin/true"
ln -s busybox "$bundle/rootfs/bin/sleep"
(cd "$bundle" && runc spec)
mv "$bundle/config.json" "$bundle/config.runc-spec.json"

if [ -x "$berth" ] && [ -f "$berth" ]; then
    berth_arg=(--berth "$berth")
else
    echo "$name: berth not found at $berth -- berth SKIPPED, timing crun and runc only" >&2
    berth_arg=(--berth-skipped "$berth")
fi

# --- run -------------------------------------------------------------------
# unshare execs the driver directly, so $child is the driver's pid.  It is
# started in the background so that our INT/TERM traps run promptly and
# forward the signal; the driver finishes/cleans its containers before exit.
args=(--work "$work" --bundle "$bundle" --tag "$tag"
      --outer-mntns "$(readlink /proc/$$/ns/mnt)"
      --rounds "$rounds" --warmup "$warmup" "${berth_arg[@]}")
[ -n "$out" ] && args+=(--json "$out")
unshare -m --propagation private -- python3 "$here/$driver" "${args[@]}" &
child=$!
rc=0
wait "$child" || rc=$?
child=""
exit "$rc"
