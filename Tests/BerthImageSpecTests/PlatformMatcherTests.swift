import BerthImageSpec
import Testing

/// An index whose entries have the given platforms (`os/arch[/variant]`, or nil for an
/// entry without one), each with a distinct digest.
private func index(_ platforms: [String?]) throws -> ImageIndex {
    let hexes = [Fixtures.amd64Hex, Fixtures.arm64Hex, Fixtures.armV7Hex, Fixtures.armV6Hex, Fixtures.ppcHex, Fixtures.layer1Hex]
    let entries = platforms.enumerated().map { offset, platform -> String in
        var entry = "{\"mediaType\":\"\(MediaTypes.ociManifest)\",\"digest\":\"sha256:\(hexes[offset])\",\"size\":500"
        if let platform {
            let parts = platform.split(separator: "/").map(String.init)
            entry += ",\"platform\":{\"os\":\"\(parts[0])\",\"architecture\":\"\(parts[1])\""
            if parts.count == 3 { entry += ",\"variant\":\"\(parts[2])\"" }
            entry += "}"
        }
        return entry + "}"
    }
    let text = "{\"schemaVersion\":2,\"mediaType\":\"\(MediaTypes.ociIndex)\",\"manifests\":[\(entries.joined(separator: ","))]}"
    return try ImageIndex.parse(text.bytes, source: "test")
}

/// The platform of the entry `matcher` chooses from `platforms`.
private func choice(_ target: Platform, _ platforms: [String?]) throws -> String? {
    let chosen = try PlatformMatcher(target: target).bestManifest(in: index(platforms), source: "test")
    return chosen.platform?.description
}

@Suite("the manifest for a platform is chosen as containerd's default matcher chooses it")
struct PlatformMatcherTests {
    let amd64 = Platform(os: "linux", architecture: "amd64")
    let arm64 = Platform(os: "linux", architecture: "arm64")

    @Test("linux/amd64 takes the amd64 entry from a multi-platform index")
    func amd64Choice() throws {
        let manifestIndex = try ImageIndex.parse(Fixtures.ociIndex.bytes, source: "app")
        let chosen = try PlatformMatcher(target: amd64).bestManifest(in: manifestIndex, source: "app")
        #expect(chosen.digest.encoded == Fixtures.amd64Hex)
        #expect(try choice(Platform(os: "linux", architecture: "x86_64"), ["linux/arm64", "linux/amd64"]) == "linux/amd64")
    }

    @Test("plain amd64 takes amd64/v1 but not v2, and amd64/v3 prefers v3, then v2, then the baseline")
    func amd64Levels() throws {
        #expect(try choice(amd64, ["linux/amd64/v2", "linux/amd64/v1"]) == "linux/amd64/v1")
        let v3 = Platform(os: "linux", architecture: "amd64", variant: "v3")
        #expect(try choice(v3, ["linux/amd64", "linux/amd64/v2", "linux/amd64/v4"]) == "linux/amd64/v2")
        #expect(try choice(v3, ["linux/amd64", "linux/amd64/v3", "linux/amd64/v2"]) == "linux/amd64/v3")
        #expect(try choice(v3, ["linux/amd64/v4", "linux/amd64"]) == "linux/amd64")
        let matcher = PlatformMatcher(target: Platform(os: "linux", architecture: "amd64", variant: "v4"))
        #expect(matcher.acceptedPlatforms.map(\.description) == ["linux/amd64/v4", "linux/amd64/v3", "linux/amd64/v2", "linux/amd64"])
    }

    @Test("arm64 takes an entry written with v8 or without a variant alike", arguments: ["linux/arm64", "linux/arm64/v8", "linux/aarch64"])
    func arm64Variants(_ written: String) throws {
        #expect(try choice(arm64, ["linux/amd64", written]) == written)
        #expect(try choice(Platform(os: "linux", architecture: "aarch64", variant: "v8"), [written]) == written)
    }

    @Test("arm64/v8.2 takes v8.1 before the baseline, and v9 falls back to v8")
    func arm64Minors() throws {
        let v82 = Platform(os: "linux", architecture: "arm64", variant: "v8.2")
        #expect(try choice(v82, ["linux/arm64", "linux/arm64/v8.1", "linux/arm64/v8.3"]) == "linux/arm64/v8.1")
        let v9 = Platform(os: "linux", architecture: "arm64", variant: "v9")
        #expect(try choice(v9, ["linux/arm64/v8", "linux/amd64"]) == "linux/arm64/v8")
        #expect(PlatformMatcher(target: v9).acceptedPlatforms.first?.variant == "v9")
        #expect(PlatformMatcher(target: v9).acceptedPlatforms.last?.variant == nil)
    }

    @Test("arm/v7 takes v7 first, then falls back to v6, then v5, never v8")
    func armFallback() throws {
        let armV7 = Platform(os: "linux", architecture: "arm", variant: "v7")
        #expect(try choice(armV7, ["linux/arm/v6", "linux/arm/v7"]) == "linux/arm/v7")
        #expect(try choice(armV7, ["linux/arm/v5", "linux/arm/v6", "linux/arm/v8"]) == "linux/arm/v6")
        #expect(try choice(armV7, ["linux/amd64", "linux/arm/v5"]) == "linux/arm/v5")
        let list = try ImageIndex.parse(Fixtures.dockerManifestList.bytes, source: "busybox")
        let chosen = try PlatformMatcher(target: armV7).bestManifest(in: list, source: "busybox")
        #expect(chosen.digest.encoded == Fixtures.armV6Hex)
        // arm without a variant is arm/v7.
        #expect(try choice(Platform(os: "linux", architecture: "arm"), ["linux/arm"]) == "linux/arm")
        #expect(PlatformMatcher(target: Platform(os: "linux", architecture: "armhf")).target == armV7)
    }

    @Test("the operating system must match: a Windows amd64 entry is not taken for linux/amd64")
    func operatingSystem() throws {
        #expect(throws: PlatformMatchError.self) { try choice(amd64, ["windows/amd64"]) }
    }

    @Test("no match lists the platforms the index offers, without attestations")
    func noMatch() throws {
        let manifestIndex = try ImageIndex.parse(Fixtures.ociIndex.bytes, source: "app")
        let ppc = Platform(os: "linux", architecture: "ppc64le")
        let expected = PlatformMatchError(
            source: "example.com/app:1",
            target: ppc,
            offered: [
                Platform(os: "linux", architecture: "amd64"),
                Platform(os: "linux", architecture: "arm64", variant: "v8"),
                Platform(os: "linux", architecture: "arm", variant: "v7"),
            ]
        )
        #expect(throws: expected) {
            try PlatformMatcher(target: ppc).bestManifest(in: manifestIndex, source: "example.com/app:1")
        }
        #expect(expected.message == "example.com/app:1: no manifest for linux/ppc64le: the index offers linux/amd64, linux/arm64/v8, linux/arm/v7")
        #expect(
            PlatformMatchError(source: "s", target: ppc, offered: []).message == "s: no manifest for linux/ppc64le: the index lists no platforms"
        )
    }

    @Test("an entry without a platform is taken only when no entry matches")
    func entriesWithoutPlatform() throws {
        #expect(try choice(amd64, [nil, "linux/amd64"]) == "linux/amd64")
        #expect(try choice(amd64, ["linux/arm64", nil]) == nil)
    }

    @Test("equal preferences keep index order")
    func tiesKeepOrder() throws {
        let chosen = try PlatformMatcher(target: amd64).bestManifest(in: index(["linux/amd64", "linux/amd64/v1"]), source: "t")
        #expect(chosen.digest.encoded == Fixtures.amd64Hex)
    }

    @Test(
        "uname machine names map to OCI platforms",
        arguments: [
            ("x86_64", "linux/amd64"), ("aarch64", "linux/arm64"), ("armv7l", "linux/arm/v7"), ("armv6l", "linux/arm/v6"),
            ("i686", "linux/386"), ("ppc64le", "linux/ppc64le"), ("s390x", "linux/s390x"), ("riscv64", "linux/riscv64"),
        ]
    )
    func machineNames(machine: String, platform: String) {
        #expect(Platform(machine: machine).description == platform)
    }

    @Test("the host platform is linux on a known architecture, and the default target")
    func hostPlatform() {
        let host = Platform.host
        #expect(host.os == "linux")
        #expect(!host.architecture.isEmpty && host.architecture != "unknown")
        #expect(PlatformMatcher().target == host.normalized)
    }

    @Test("normalisation writes platforms as containerd does")
    func normalisation() {
        #expect(Platform(os: "Linux", architecture: "x86_64", variant: "v1").normalized == amd64)
        #expect(Platform(os: "linux", architecture: "aarch64", variant: "8").normalized == arm64)
        #expect(Platform(os: "linux", architecture: "armel").normalized.description == "linux/arm/v6")
        #expect(Platform(os: "linux", architecture: "i386", variant: "x").normalized.description == "linux/386")
        #expect(Platform(os: "linux", architecture: "arm64", variant: "v9.0").normalized.description == "linux/arm64/v9")
    }
}
