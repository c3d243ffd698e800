#!/usr/bin/env bash
# The demo: the whole stack on this machine, without internet.
#   1. a registry of our own on 127.0.0.1 (Debian's docker-registry) with a busybox image
#      built here (Tests/tools/build_image.py: busybox-static, one layer);
#   2. berthd with its embedded defaults (its own root, state and socket under a temporary
#      directory; CNI config there too, where berthd writes its default bridge network);
#   3. berthctl: pull, run a pod with a container that prints a line, pods, ps, logs;
#   4. everything removed again: pod, container, network, daemon, registry, files.
# usage: scripts/demo.sh DEBUG_BIN_DIR RELEASE_BIN_DIR
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "the demo runs containers, pods and networks: run it as root" >&2; exit 1; }
debug=$(readlink -f "${1:-.build/debug}")
release=$(readlink -f "${2:-.build/release}")
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/berth-demo.XXXXXX)
socket="$work/berth.sock"
berthctl=("$debug/berthctl" --runtime-endpoint "unix://$socket" --timeout 30s)
daemon=""
registry=""
bridge_existed=0; ip link show berth0 >/dev/null 2>&1 && bridge_existed=1
ipam_existed=0; [ -e /var/lib/cni ] && ipam_existed=1

cleanup() {
  set +e
  if [ -n "$daemon" ]; then
    "${berthctl[@]}" rmp --force --all >/dev/null 2>&1
    kill -TERM "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null
  fi
  [ -n "$registry" ] && kill -KILL "$registry" 2>/dev/null
  [ "$bridge_existed" = 1 ] || ip link del berth0 2>/dev/null
  # The default network's portmap and host-local IPAM leave per-host state behind.
  "$here/Tests/tools/portmap_cleanup.sh"
  [ "$ipam_existed" = 1 ] || rm -rf /var/lib/cni
  grep -q " /run/netns " /proc/mounts && [ -z "$(ip netns list)" ] && umount /run/netns
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m+ %s\033[0m\n' "$*"; }

step "a local registry and a busybox image built here (no internet)"
python3 "$here/Tests/tools/registry.py" --dir "$work/registry" > "$work/registry.json" &
registry=$!   # the script execs docker-registry: this pid is the registry
disown "$registry"
for _ in $(seq 100); do [ -s "$work/registry.json" ] && break; sleep 0.1; done
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$work/registry.json")
python3 "$here/Tests/tools/build_image.py" --registry "127.0.0.1:$port" --name demo/busybox --tag v1 --recipe basic > /dev/null
image="127.0.0.1:$port/demo/busybox:v1"
echo "pushed $image"

step "berthd with its embedded defaults (state under $work)"
cat > "$work/berthd.toml" <<EOF
[runtime]
berth = "$release/berth"
shim = "$release/berth-shim"
pause = "$release/berth-pause"
[network]
config_dir = "$work/net.d"
EOF
"$debug/berthd" --config "$work/berthd.toml" --address "$socket" --root "$work/root" --state "$work/state" 2> "$work/berthd.log" &
daemon=$!
for _ in $(seq 100); do grep -q "serving CRI" "$work/berthd.log" 2>/dev/null && break; sleep 0.1; done
"${berthctl[@]}" version

step "berthctl pull $image"
"${berthctl[@]}" pull "$image"

cat > "$work/pod.json" <<EOF
{"metadata": {"name": "demo", "namespace": "default", "uid": "demo-uid"}, "hostname": "demo", "log_directory": "$work/logs"}
EOF
cat > "$work/container.json" <<EOF
{"metadata": {"name": "hello"}, "image": {"image": "$image"}, "log_path": "hello/0.log",
 "command": ["sh", "-c", "echo \"hello from \$(hostname), uid \$(id -u)\"; ip -4 addr show eth0 | grep inet; sleep 1"]}
EOF
step "berthctl runp pod.json; create and start a container in it"
pod=$("${berthctl[@]}" runp "$work/pod.json")
echo "pod $pod"
container=$("${berthctl[@]}" create "$pod" "$work/container.json" "$work/pod.json")
"${berthctl[@]}" start "$container"

step "berthctl pods"
"${berthctl[@]}" pods
step "berthctl ps -a"
"${berthctl[@]}" ps -a
for _ in $(seq 100); do [ "$("${berthctl[@]}" ps -q --state exited)" = "$container" ] && break; sleep 0.1; done
step "berthctl logs $container"
"${berthctl[@]}" logs "$container"

step "berthctl stopp / rmp"
"${berthctl[@]}" stopp "$pod"
"${berthctl[@]}" rmp "$pod"
echo
echo "demo done: the pod, its container and network are gone; berthd, the registry and $work go next."
