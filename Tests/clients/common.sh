# Shared by podman-smoke.sh and containerd-smoke.sh: reporting, and the cleanup helpers
# that find what a client left behind (processes, mounts, cgroups) by the script's temp
# dir $T and cgroup parent $CG. The including script sets T, CG, FAILED and START.

now() { date +%s.%N; }
el() { awk -v a="$(now)" -v b="$1" 'BEGIN{printf "%.2fs", a-b}'; }
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILED=1; }
info() { echo "....  $*"; }

cgroup_mounts() { awk '$3=="cgroup"||$3=="cgroup2"{print $2}' /proc/self/mounts; }

# pids of processes whose command line mentions our temp dir (conmon, podman cleanup, wrapper)
pids_mentioning_T() {
  local p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = "$$" ] && continue
    { tr '\0' ' ' < /proc/$p/cmdline; } 2>/dev/null | grep -qF "$T/" && echo "$p"
  done
}

kill_cgroup_tree() {
  local m d
  for m in $(cgroup_mounts); do
    [ -d "$m$CG" ] || continue
    for d in $(find "$m$CG" -type d 2>/dev/null); do
      [ -f "$d/freezer.state" ] && echo THAWED > "$d/freezer.state" 2>/dev/null
      [ -f "$d/cgroup.freeze" ] && echo 0 > "$d/cgroup.freeze" 2>/dev/null
      xargs -r kill -9 < "$d/cgroup.procs" 2>/dev/null
    done
  done
}

remove_cgroups() {
  local m i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    local left=0
    for m in $(cgroup_mounts); do
      [ -d "$m$CG" ] || continue
      find "$m$CG" -depth -type d -exec rmdir {} \; 2>/dev/null
      [ -d "$m$CG" ] && left=1
    done
    [ $left = 0 ] && return 0
    kill_cgroup_tree; sleep 0.2
  done
  echo "WARN: could not remove cgroup $CG in some hierarchies" >&2
}

umount_under_T() {
  local mp i
  for i in 1 2 3; do
    # mountinfo field 5 = mount point; deepest first
    for mp in $(awk -v t="$T/" 'index($5, t)==1 {print $5}' /proc/self/mountinfo | sort -r); do
      umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null
    done
  done
}
