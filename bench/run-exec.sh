#!/usr/bin/env bash
# Exec latency benchmark: `berth exec` vs `crun exec` vs `runc exec` of /bin/true into a
# running container of each, interleaved. The harness is run-start.sh's (same bundle,
# private mount namespace, rotation, statistics, clean-up); see there and bench/README.md.
#
# usage: bench/run-exec.sh [-n ROUNDS] [-w WARMUP] [-o RESULTS.json] [BERTH_PATH]
BENCH_KIND=exec exec "$(dirname "${BASH_SOURCE[0]}")/run-start.sh" "$@"
