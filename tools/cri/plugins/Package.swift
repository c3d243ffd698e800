// swift-tools-version: 6.0
// Builds the two protoc plugins that turn the CRI descriptor into Swift: protoc-gen-swift
// (messages) and protoc-gen-grpc-swift-2 (services). Used only by tools/cri/generate.sh;
// the generated code is committed and CI never builds this.
import PackageDescription

let package = Package(
    name: "CRIPlugins",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
    ],
    targets: [
        // SwiftPM builds dependency products only for a target of the package itself.
        .executableTarget(
            name: "Placeholder",
            dependencies: [
                .product(name: "protoc-gen-swift", package: "swift-protobuf"),
                .product(name: "protoc-gen-grpc-swift-2", package: "grpc-swift-protobuf"),
            ],
            path: "Sources"),
    ]
)
