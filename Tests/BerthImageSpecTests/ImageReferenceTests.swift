import BerthImageSpec
import Testing

/// A reference that parses, and what it must normalise to.
struct NormalisationCase: Sendable, CustomTestStringConvertible {
    let input: String
    let registry: String
    let repository: String
    let tag: String?
    let digest: String?
    let normalized: String
    var testDescription: String { input }
}

/// A reference that must be refused, and the rule it breaks.
struct RefusalCase: Sendable, CustomTestStringConvertible {
    let input: String
    let reason: ImageReferenceError.Reason
    var testDescription: String { input.isEmpty ? "(empty)" : input }
}

private let amd64Digest = "sha256:\(Fixtures.amd64Hex)"
private let sha512Digest = "sha512:\(Fixtures.sha512Hex)"

@Suite("image references normalise as containerd and the kubelet do")
struct ImageReferenceTests {
    static let normalisations: [NormalisationCase] = [
        .init(input: "busybox", registry: "docker.io", repository: "library/busybox", tag: "latest", digest: nil,
              normalized: "docker.io/library/busybox:latest"),
        .init(input: "user/app", registry: "docker.io", repository: "user/app", tag: "latest", digest: nil,
              normalized: "docker.io/user/app:latest"),
        .init(input: "busybox:1.36.1", registry: "docker.io", repository: "library/busybox", tag: "1.36.1", digest: nil,
              normalized: "docker.io/library/busybox:1.36.1"),
        .init(input: "docker.io/busybox", registry: "docker.io", repository: "library/busybox", tag: "latest", digest: nil,
              normalized: "docker.io/library/busybox:latest"),
        .init(input: "docker.io/library/busybox:latest", registry: "docker.io", repository: "library/busybox", tag: "latest",
              digest: nil, normalized: "docker.io/library/busybox:latest"),
        .init(input: "index.docker.io/user/app:v2", registry: "docker.io", repository: "user/app", tag: "v2", digest: nil,
              normalized: "docker.io/user/app:v2"),
        .init(input: "localhost:5000/app:v1", registry: "localhost:5000", repository: "app", tag: "v1", digest: nil,
              normalized: "localhost:5000/app:v1"),
        .init(input: "localhost/app", registry: "localhost", repository: "app", tag: "latest", digest: nil,
              normalized: "localhost/app:latest"),
        .init(input: "127.0.0.1:5000/a/b@\(amd64Digest)", registry: "127.0.0.1:5000", repository: "a/b", tag: nil,
              digest: amd64Digest, normalized: "127.0.0.1:5000/a/b@\(amd64Digest)"),
        .init(input: "registry.example.com/ns/app:tag@\(amd64Digest)", registry: "registry.example.com", repository: "ns/app",
              tag: "tag", digest: amd64Digest, normalized: "registry.example.com/ns/app:tag@\(amd64Digest)"),
        .init(input: "busybox@\(amd64Digest)", registry: "docker.io", repository: "library/busybox", tag: nil,
              digest: amd64Digest, normalized: "docker.io/library/busybox@\(amd64Digest)"),
        .init(input: "ghcr.io/org/app@\(sha512Digest)", registry: "ghcr.io", repository: "org/app", tag: nil,
              digest: sha512Digest, normalized: "ghcr.io/org/app@\(sha512Digest)"),
        .init(input: "registry.k8s.io/pause:3.10", registry: "registry.k8s.io", repository: "pause", tag: "3.10", digest: nil,
              normalized: "registry.k8s.io/pause:3.10"),
        .init(input: "quay.io/prometheus/node-exporter:v1.8.1", registry: "quay.io", repository: "prometheus/node-exporter",
              tag: "v1.8.1", digest: nil, normalized: "quay.io/prometheus/node-exporter:v1.8.1"),
        .init(input: "my-registry.local:443/team/sub/app_name__x:1.0.0-rc.1", registry: "my-registry.local:443",
              repository: "team/sub/app_name__x", tag: "1.0.0-rc.1", digest: nil,
              normalized: "my-registry.local:443/team/sub/app_name__x:1.0.0-rc.1"),
        .init(input: "a-b--c/d.e_f__g", registry: "docker.io", repository: "a-b--c/d.e_f__g", tag: "latest", digest: nil,
              normalized: "docker.io/a-b--c/d.e_f__g:latest"),
        .init(input: "[::1]:5000/app:dev", registry: "[::1]:5000", repository: "app", tag: "dev", digest: nil,
              normalized: "[::1]:5000/app:dev"),
        // Without a slash, a colon is a tag: this is library/localhost at tag 5000.
        .init(input: "localhost:5000", registry: "docker.io", repository: "library/localhost", tag: "5000", digest: nil,
              normalized: "docker.io/library/localhost:5000"),
        // An uppercase first element cannot be a Docker Hub namespace, so it is a host.
        .init(input: "Example/app", registry: "Example", repository: "app", tag: "latest", digest: nil,
              normalized: "Example/app:latest"),
        .init(input: "app:_Build.7-x", registry: "docker.io", repository: "library/app", tag: "_Build.7-x", digest: nil,
              normalized: "docker.io/library/app:_Build.7-x"),
        .init(input: "app:" + String(repeating: "t", count: 128), registry: "docker.io", repository: "library/app",
              tag: String(repeating: "t", count: 128), digest: nil,
              normalized: "docker.io/library/app:" + String(repeating: "t", count: 128)),
    ]

    @Test("a valid reference normalises to registry, repository, tag and digest", arguments: normalisations)
    func normalises(_ example: NormalisationCase) throws {
        let reference = try ImageReference(parsing: example.input)
        #expect(reference.registry == example.registry)
        #expect(reference.repository == example.repository)
        #expect(reference.tag == example.tag)
        #expect(reference.digest?.description == example.digest)
        #expect(reference.normalized == example.normalized)
        #expect(reference.description == example.normalized)
    }

    @Test("a normalised reference parses back to itself", arguments: normalisations)
    func normalisationIsStable(_ example: NormalisationCase) throws {
        let once = try ImageReference(parsing: example.input)
        let twice = try ImageReference(parsing: once.normalized)
        #expect(twice == once)
    }

    static let refusals: [RefusalCase] = [
        .init(input: "", reason: .empty),
        .init(input: "Busybox", reason: .uppercase),
        .init(input: "docker.io/Library/busybox", reason: .uppercase),
        .init(input: "user/App:1", reason: .uppercase),
        .init(input: "busybox:", reason: .invalidTag),
        .init(input: "busybox:-rc1", reason: .invalidTag),
        .init(input: "busybox:tag!", reason: .invalidTag),
        .init(input: "busybox:" + String(repeating: "t", count: 129), reason: .invalidTag),
        .init(input: "busybox@sha256:abc", reason: .invalidDigest),
        .init(input: "busybox@sha256:" + Fixtures.amd64Hex.uppercased(), reason: .invalidDigest),
        .init(input: "busybox@md5:d41d8cd98f00b204e9800998ecf8427e", reason: .invalidDigest),
        .init(input: "busybox@", reason: .invalidDigest),
        .init(input: "busybox@\(amd64Digest)@\(amd64Digest)", reason: .invalidDigest),
        .init(input: Fixtures.amd64Hex, reason: .imageIdentifier),
        .init(input: "a..b", reason: .invalidRepository),
        .init(input: "a___b", reason: .invalidRepository),
        .init(input: "-app", reason: .invalidRepository),
        .init(input: "app-", reason: .invalidRepository),
        .init(input: "a//b", reason: .invalidRepository),
        .init(input: "/busybox", reason: .invalidRepository),
        .init(input: "busybox/", reason: .invalidRepository),
        .init(input: ":latest", reason: .invalidRepository),
        .init(input: "ns/app with space", reason: .invalidRepository),
        .init(input: "example.com:port/app", reason: .invalidRegistry),
        .init(input: "example.com:/app", reason: .invalidRegistry),
        .init(input: "-bad.example.com/app", reason: .invalidRegistry),
        .init(input: "bad_host.example.com/app", reason: .invalidRegistry),
        .init(input: "[::1/app", reason: .invalidRegistry),
        .init(input: "example.com/" + String(repeating: "a", count: 244), reason: .nameTooLong),
    ]

    @Test("an invalid reference is refused for the rule it breaks", arguments: refusals)
    func refuses(_ example: RefusalCase) {
        #expect {
            try ImageReference(parsing: example.input)
        } throws: { error in
            guard let error = error as? ImageReferenceError else { return false }
            return error.reason == example.reason && error.reference == example.input
        }
    }

    @Test("the longest name allowed is 255 characters")
    func longestName() throws {
        let name = "example.com/" + String(repeating: "a", count: 243)
        #expect(name.count == 255)
        #expect(try ImageReference(parsing: name).name == name)
    }

    @Test("error messages quote the reference and say what is wrong, in lowercase")
    func messages() {
        func message(_ text: String) -> String? {
            do {
                _ = try ImageReference(parsing: text)
                return nil
            } catch {
                return error.message
            }
        }
        #expect(message("Busybox") == "invalid image reference \"Busybox\": the repository name \"Busybox\" must be lowercase")
        #expect(message("") == "invalid image reference \"\": the reference is empty")
        #expect(message("busybox:") == "invalid image reference \"busybox:\": the tag after \":\" is empty")
        #expect(
            message("busybox@sha256:abc")
                == "invalid image reference \"busybox@sha256:abc\": invalid digest \"sha256:abc\": sha256 needs 64 hexadecimal digits, found 3"
        )
        #expect(message("a..b")?.contains("the separator \"..\"") == true)
        #expect(message("example.com:port/app")?.contains("the port \"port\", which is not a number") == true)
    }

    @Test("a pull asks for the digest when there is one, else the tag")
    func manifestReference() throws {
        #expect(try ImageReference(parsing: "busybox").manifestReference == "latest")
        #expect(try ImageReference(parsing: "busybox:1.36").manifestReference == "1.36")
        #expect(try ImageReference(parsing: "busybox:1.36@\(amd64Digest)").manifestReference == amd64Digest)
    }

    @Test("pinning to a digest keeps the name and drops the tag, as CRI repo digests read")
    func pinning() throws {
        let reference = try ImageReference(parsing: "busybox:1.36")
        let digest = try Digest(parsing: amd64Digest)
        let pinned = reference.pinned(to: digest)
        #expect(pinned.normalized == "docker.io/library/busybox@\(amd64Digest)")
        #expect(pinned.tag == nil)
        #expect(pinned.name == reference.name)
        #expect(reference.isDockerHub)
        #expect(try !ImageReference(parsing: "quay.io/a/b").isDockerHub)
    }
}
