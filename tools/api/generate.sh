#!/usr/bin/env bash
# Regenerates Sources/BerthAPI from tools/api/berth/v1/*.proto (Berth's own gRPC services
# beside the CRI). The output is committed; CI never runs this. Needs protoc
# (apt-get install protobuf-compiler) and the plugins tools/cri/generate.sh builds into
# .build-cri-plugins (built here too when missing).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out="$repo/Sources/BerthAPI"
scratch="$repo/.build-cri-plugins"
bin="$scratch/release"
command -v protoc >/dev/null || { echo "generate.sh: protoc missing (apt-get install protobuf-compiler)" >&2; exit 2; }
for plugin in protoc-gen-swift protoc-gen-grpc-swift-2; do
    [ -x "$bin/$plugin" ] || swift build -c release --package-path "$repo/tools/cri/plugins" --scratch-path "$scratch" --product "$plugin"
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
rm -f "$out"/*.swift
protoc -I "$here" \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" --swift_out="$work" --swift_opt=Visibility=Public \
    --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" --grpc-swift-2_out="$work" \
    --grpc-swift-2_opt=Visibility=Public,Client=true,Server=true \
    berth/v1/pull_progress.proto
cp "$work/berth/v1/pull_progress.pb.swift" "$work/berth/v1/pull_progress.grpc.swift" "$out/"
echo "generated: $(cat "$out"/*.swift | wc -l) lines in $out"
