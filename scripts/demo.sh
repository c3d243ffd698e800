#!/usr/bin/env bash
# The demo: a busybox-static bundle, run by berth in the foreground. The container prints
# its hostname, pid and uid from inside; everything is removed afterwards.
set -euo pipefail
berth=$(readlink -f "${1:-.build/release/berth}")
work=$(mktemp -d /tmp/berth-demo.XXXXXX)
root="$work/state"
cleanup() {
  "$berth" --root "$root" delete --force demo >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/bundle/rootfs/bin"
cp /usr/bin/busybox "$work/bundle/rootfs/bin/busybox"
for tool in sh hostname id cat; do ln -s busybox "$work/bundle/rootfs/bin/$tool"; done
cd "$work/bundle"
"$berth" spec
# The default spec runs "sh"; make it print what the container sees.
sed -i 's|"sh"|"sh", "-c", "echo \\"hello from $(hostname): pid $$, uid $(id -u)\\""|' config.json

echo "+ berth run demo   (bundle $work/bundle)"
"$berth" --root "$root" run demo
echo "+ exit code $?; the container and its state are gone:"
"$berth" --root "$root" list
