#!/bin/sh
# crun as a runtime on hosts with hybrid cgroups (v1 controllers plus a cgroup2 mount at
# /sys/fs/cgroup/unified), which crun 1.8 refuses ("cgroups in hybrid mode not
# supported"): every call runs in a private mount namespace where the cgroup2 mount is
# replaced by a small scratch tmpfs, so crun sees cgroup v1 only; what crun makes in the
# scratch tmpfs (it takes the directory for one more hierarchy) dies with the namespace,
# not as litter in the host's /sys/fs/cgroup tmpfs. The host's mounts are not touched.
# Used as a berthd RuntimeClass handler by the tests.
if ! grep -q ' /sys/fs/cgroup/unified cgroup2 ' /proc/self/mounts; then exec /usr/bin/crun "$@"; fi
exec unshare -m --propagation private -- /bin/sh -c \
  'umount /sys/fs/cgroup/unified && mount -t tmpfs -o size=64k,mode=0755 scratch /sys/fs/cgroup/unified && exec /usr/bin/crun "$@"' \
  crun "$@"
