#!/usr/bin/env bash
# Image pull benchmark: berthd vs containerd (ctr and its CRI plugin) vs `tar xzf`, on a
# ~200 MB, 5-layer image of random data in Debian's docker-registry on 127.0.0.1.
#
# usage: bench/run-pull.sh [-n ROUNDS] [-s SIZE_MB] [-l LAYERS] [-o RESULTS.json] [BIN_DIR]
#
#   BIN_DIR  where berthd and berthctl are (default <repo>/.build/release; `make bench`
#            builds them). Needs root, containerd, docker-registry, python3.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
rounds=5 size=200 layers=5 out=()
while getopts ":n:s:l:o:h" opt; do
    case $opt in
        n) rounds=$OPTARG ;;
        s) size=$OPTARG ;;
        l) layers=$OPTARG ;;
        o) out=(-o "$OPTARG") ;;
        *) sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
bin=${1:-$repo/.build/release}
for tool in "$bin/berthd" "$bin/berthctl" /usr/bin/containerd /usr/bin/ctr /usr/bin/docker-registry; do
    [ -x "$tool" ] || { echo "run-pull.sh: $tool is missing" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "run-pull.sh: run as root" >&2; exit 2; }
exec /usr/bin/python3 "$here/pull_bench.py" --berthd "$bin/berthd" --berthctl "$bin/berthctl" -n "$rounds" --size-mb "$size" --layers "$layers" "${out[@]}"
