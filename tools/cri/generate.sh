#!/usr/bin/env bash
# Regenerates Sources/BerthCRI from the CRI v1 API as the PyPI package
# container-runtime-interface-api carries it (cri_api.v1.api_pb2.DESCRIPTOR, written out as
# a FileDescriptorSet and given to protoc --descriptor_set_in). The output is committed;
# CI never runs this. Needs: protoc (apt-get install protobuf-compiler), python3 with the
# package (pip install container-runtime-interface-api protobuf), a Swift toolchain.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out="$repo/Sources/BerthCRI"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

command -v protoc >/dev/null || { echo "generate.sh: protoc missing (apt-get install protobuf-compiler)" >&2; exit 2; }
python3 - "$work/cri.pb" <<'PY'
import sys
from cri_api.v1 import api_pb2
from google.protobuf import descriptor_pb2
files = descriptor_pb2.FileDescriptorSet()
api_pb2.DESCRIPTOR.CopyToProto(files.file.add())
open(sys.argv[1], "wb").write(files.SerializeToString())
PY

# The plugins, built once into a scratch directory kept out of git.
scratch="$repo/.build-cri-plugins"
swift build -c release --package-path "$here/plugins" --scratch-path "$scratch" --product protoc-gen-swift
swift build -c release --package-path "$here/plugins" --scratch-path "$scratch" --product protoc-gen-grpc-swift-2
bin="$scratch/release"

mkdir -p "$out"
rm -f "$out"/*.swift
protoc --descriptor_set_in="$work/cri.pb" \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" --swift_out="$work" --swift_opt=Visibility=Public \
    --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" --grpc-swift-2_out="$work" \
    --grpc-swift-2_opt=Visibility=Public,Client=true,Server=true \
    v1/api.proto
cp "$work/v1/api.pb.swift" "$out/api.pb.swift"
cp "$work/v1/api.grpc.swift" "$out/api.grpc.swift"
echo "generated: $(wc -l < "$out/api.pb.swift") + $(wc -l < "$out/api.grpc.swift") lines in $out"

# berthctl's table of unset-field defaults (crictl prints unset fields; swift-protobuf omits them).
python3 "$here/field_defaults.py" "$repo/Sources/BerthCtl/CRIFieldDefaults+Table.swift"
echo "generated: $repo/Sources/BerthCtl/CRIFieldDefaults+Table.swift"
