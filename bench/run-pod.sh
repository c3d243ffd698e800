#!/usr/bin/env bash
# Pod start latency and monitor memory: berthd (berth, and runc as a RuntimeClass
# handler) against containerd 1.6's CRI (runc v2 shim) and podman's conmon, in one run.
#
# usage: bench/run-pod.sh [-n ROUNDS] [-w WARMUP] [-k PODS] [-o RESULTS.json] [BIN_DIR]
#
#   BIN_DIR  where berthd, berth, berth-shim and berth-pause are (default
#            <repo>/.build/release; `make bench` builds them). Needs root, containerd,
#            runc, podman, conmon, docker-registry, containernetworking-plugins and the
#            venv `make test` makes (.build/venv, with container-runtime-interface-api).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
rounds=20 warmup=2 pods=10 out=()
while getopts ":n:w:k:o:h" opt; do
    case $opt in
        n) rounds=$OPTARG ;;
        w) warmup=$OPTARG ;;
        k) pods=$OPTARG ;;
        o) out=(-o "$OPTARG") ;;
        *) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
bin=$(cd "${1:-$repo/.build/release}" && pwd)
python=$repo/.build/venv/bin/python
for tool in "$bin/berthd" "$bin/berth" "$bin/berth-shim" "$bin/berth-pause" "$python" /usr/bin/containerd /usr/sbin/runc /usr/bin/podman /usr/bin/docker-registry /usr/lib/cni/bridge; do
    [ -x "$tool" ] || { echo "run-pod.sh: $tool is missing" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "run-pod.sh: run as root" >&2; exit 2; }
exec "$python" "$here/pod_bench.py" --bin "$bin" -n "$rounds" -w "$warmup" -k "$pods" "${out[@]}"
