import BerthTestSupport
import Foundation
import Testing

extension Binaries {
    /// berthctl: the debug build `swift test` makes, unless BERTHCTL_BINARY names another.
    static let berthctl = ProcessInfo.processInfo.environment["BERTHCTL_BINARY"] ?? "\(packageRoot)/.build/debug/berthctl"
}

extension RunningDaemon {
    /// berthctl on this daemon's socket, with no crictl.yaml of the host's.
    func berthctl(_ arguments: [String], stdin: String? = nil) throws -> Output {
        try execute(Binaries.berthctl, ["--config", "\(directory)/crictl.yaml", "-r", "unix://\(socket)"] + arguments, stdin: stdin, environment: berthctlEnvironment)
    }

    var berthctlEnvironment: [String: String] {
        ["PATH": "/usr/bin:/bin", "HOME": directory]
    }
}

@Suite("berthctl: crictl's commands against berthd and containerd", .serialized, .enabled(if: Binaries.daemonAvailable))
struct BerthctlTests {
    func daemon(_ extra: [String] = [], config: String? = nil) throws -> RunningDaemon {
        let daemon = try RunningDaemon(extraArguments: extra, config: config ?? "")
        try writeFile("\(daemon.directory)/crictl.yaml", "timeout: 20\n")
        return daemon
    }

    @Test("version, pull, images (table, -q, --digests, --no-trunc, json, yaml), inspecti, imagefsinfo, info and rmi against berthd")
    func lifecycle() throws {
        let registryDirectory = try makeTemporaryDirectory(prefix: "berth-registry")
        defer { try? FileManager.default.removeItem(atPath: registryDirectory) }
        let registry = try BackgroundTool("registry.py", ["--dir", registryDirectory])
        let image = try PushedImage(registry: registry.port, name: "test/busybox", recipe: "multilayer")
        let daemon = try daemon()

        let version = try daemon.berthctl(["version"])
        #expect(version.stdout == "Version:  0.1.0\nRuntimeName:  berth\nRuntimeVersion:  0.1.0\nRuntimeApiVersion:  v1\n", "\(version.stderr)")
        let pull = try daemon.berthctl(["pull", image.reference])
        #expect(pull.status == 0 && pull.stdout == "Image is up to date for \(image.configDigest)\n", "\(pull.stdout) \(pull.stderr)")

        let shortID = String(image.configDigest.dropFirst(7).prefix(13))
        let repository = "127.0.0.1:\(registry.port)/test/busybox"
        let table = try daemon.berthctl(["images"]).stdout
        let lines = table.split(separator: "\n")
        #expect(lines.first?.hasPrefix("IMAGE") == true && lines.first?.contains("IMAGE ID") == true, "\(table)")
        #expect(lines.count == 2 && lines[1].hasPrefix(repository) && lines[1].contains(" v1 ") && lines[1].contains(shortID) && lines[1].hasSuffix("MB"), "\(table)")
        #expect(try daemon.berthctl(["images", "-q"]).stdout == "\(image.configDigest)\n")
        let digests = try daemon.berthctl(["images", "--digests", "--no-trunc"]).stdout
        #expect(digests.contains("DIGEST") && digests.contains(image.manifestDigest) && digests.contains(image.configDigest), "\(digests)")
        let filtered = try daemon.berthctl(["images", "127.0.0.1:\(registry.port)/test/other:v1"]).stdout
        #expect(filtered.split(separator: "\n").count == 1, "a name no image has lists none: \(filtered)")

        let json = try daemon.berthctl(["images", "-o", "json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let entry = try #require((object?["images"] as? [[String: Any]])?.first, "\(json.stdout)")
        #expect(entry["id"] as? String == image.configDigest)
        #expect(entry["repoTags"] as? [String] == [image.reference])
        #expect(entry["pinned"] as? Bool == false && entry["username"] as? String == "app")
        #expect(json.stdout.hasPrefix("{\n  \"images\": [\n    {\n      \"id\": "), "crictl's indentation and field order: \(json.stdout.prefix(80))")
        let yaml = try daemon.berthctl(["images", "-o", "yaml"]).stdout
        #expect(yaml.hasPrefix("images:\n- id: \(image.configDigest)\n  pinned: false\n"), "\(yaml)")

        let inspect = try daemon.berthctl(["inspecti", image.reference])
        let inspected = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any]
        #expect((inspected?["status"] as? [String: Any])?["id"] as? String == image.configDigest, "\(inspect.stdout)")
        #expect(((inspected?["info"] as? [String: Any])?["rootfs"] as? [String: Any])?["type"] as? String == "layers", "the image config, parsed")
        let missing = try daemon.berthctl(["inspecti", "\(repository):none"])
        #expect(missing.status == 1 && missing.stderr == "berthctl: no such image \"\(repository):none\" present\n", "\(missing.stderr)")

        let fsInfo = try daemon.berthctl(["imagefsinfo"])
        let usage = ((try JSONSerialization.jsonObject(with: Data(fsInfo.stdout.utf8)) as? [String: Any])?["status"] as? [String: Any])?["imageFilesystems"] as? [[String: Any]]
        #expect(Int(((usage?.first?["usedBytes"] as? [String: Any])?["value"] as? String) ?? "0") ?? 0 > 1_000_000, "\(fsInfo.stdout)")
        #expect(try daemon.berthctl(["imagefsinfo", "-o", "table"]).stdout.contains("Image Filesystem \nTimeStamp[0]: "))
        let info = try daemon.berthctl(["info"]).stdout
        #expect(info.contains("\"type\": \"RuntimeReady\"") && info.contains("\"config\": {"), "\(info)")

        let removed = try daemon.berthctl(["rmi", image.reference])
        #expect(removed.status == 0 && removed.stdout == "Deleted: \(image.reference)\n", "\(removed.stdout) \(removed.stderr)")
        let again = try daemon.berthctl(["rmi", image.reference])
        #expect(again.status == 1 && again.stderr == "berthctl: no such image \(image.reference)\n", "\(again.stderr)")
        #expect(try daemon.berthctl(["images", "-q"]).stdout.isEmpty)
    }

    @Test("pull credentials: --creds, --auth and --username (password on stdin); wrong ones are refused without showing them")
    func credentials() throws {
        let registryDirectory = try makeTemporaryDirectory(prefix: "berth-registry")
        defer { try? FileManager.default.removeItem(atPath: registryDirectory) }
        let registry = try BackgroundTool("registry.py", ["--dir", registryDirectory, "--auth", "htpasswd", "--user", "puller", "--password", "s3cret:x"])
        let image = try PushedImage(registry: registry.port, name: "private/busybox", recipe: "basic", extra: ["--user", "puller", "--password", "s3cret:x"])
        let daemon = try daemon()
        let wrong = try daemon.berthctl(["pull", "--creds", "puller:nope", image.reference])
        #expect(wrong.status == 1 && wrong.stderr.contains("PERMISSION_DENIED") && !wrong.stderr.contains("nope"), "\(wrong.stderr)")
        #expect(try daemon.berthctl(["pull", "--creds", "puller:s3cret:x", image.reference]).status == 0, "the password may hold colons")
        #expect(try daemon.berthctl(["rmi", image.reference]).status == 0)
        let encoded = Data("puller:s3cret:x".utf8).base64EncodedString()
        #expect(try daemon.berthctl(["pull", "--auth", encoded, image.reference]).status == 0)
        #expect(try daemon.berthctl(["rmi", "-a"]).status == 0)
        let prompted = try daemon.berthctl(["pull", "-u", "puller", image.reference], stdin: "s3cret:x\n")
        #expect(prompted.status == 0, "\(prompted.stderr)")
        let both = try daemon.berthctl(["pull", "--creds", "a:b", "--auth", encoded, image.reference])
        #expect(both.status == 1 && both.stderr.contains("both `--creds` and `--auth` are specified"))
    }

    @Test("a pull on a terminal shows each layer's progress live, then crictl's line")
    func progress() throws {
        let directory = try makeTemporaryDirectory(prefix: "berth-progress")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let image = try PushedImage(outputDirectory: "\(directory)/image", name: "test/busybox", recipe: "multilayer")
        let server = try BackgroundTool("hostile_registry.py", ["--dir", "\(directory)/image", "--throttle-kbps", "300"])
        let daemon = try daemon()
        let command = "\(Binaries.berthctl) --config \(daemon.directory)/crictl.yaml -r unix://\(daemon.socket) pull 127.0.0.1:\(server.port)/test/busybox:v1"
        // util-linux script gives berthctl a terminal and records what it drew.
        let output = try execute("/usr/bin/script", ["-qfec", command, "\(directory)/typescript"], environment: daemon.berthctlEnvironment, timeout: 120)
        #expect(output.status == 0, "\(output.stdout)")
        let screen = try String(contentsOfFile: "\(directory)/typescript", encoding: .utf8)
        let firstLayer = String(image.layers[0].dropFirst(7).prefix(12))
        #expect(screen.contains("\(firstLayer)  downloading") || screen.contains("\(firstLayer)  waiting"), "per-layer lines while it runs: \(screen.prefix(600))")
        #expect(screen.contains("\u{1B}[J"), "redrawn in place")
        #expect(screen.contains("Image is up to date for \(image.configDigest)"))
    }

    @Test("berthd --config: pinned images survive rmi --prune (not --all); a registry mirror serves a host's images")
    func configuration() throws {
        let registryDirectory = try makeTemporaryDirectory(prefix: "berth-registry")
        defer { try? FileManager.default.removeItem(atPath: registryDirectory) }
        let registry = try BackgroundTool("registry.py", ["--dir", registryDirectory])
        let kept = try PushedImage(registry: registry.port, name: "test/kept", recipe: "basic")
        let pruned = try PushedImage(registry: registry.port, name: "test/pruned", recipe: "multilayer")
        let daemon = try daemon(config: """
            # berthd settings for this test
            log_level = "debug"

            [images]
            concurrent_downloads = 2
            pinned = ["\(kept.reference)"]

            [registry.hosts."mirrored.invalid:5000"]
            mirrors = ["http://127.0.0.1:\(registry.port)"]
            """)
        #expect(daemon.log.contains("config=\(daemon.directory)/berthd.toml"), "the file named in the start line: \(daemon.log)")
        for image in [kept, pruned] { #expect(try daemon.berthctl(["pull", image.reference]).status == 0) }
        let pinned = try daemon.berthctl(["images", "--pinned"]).stdout
        #expect(pinned.split(separator: "\n").contains { $0.contains("test/kept") && $0.hasSuffix("true") }, "\(pinned)")
        let prune = try daemon.berthctl(["rmi", "--prune"])
        #expect(prune.status == 0 && prune.stdout == "Deleted: \(pruned.reference)\n", "\(prune.stdout) \(prune.stderr)")
        #expect(try daemon.berthctl(["images", "-q"]).stdout == "\(kept.configDigest)\n")

        // The host does not exist; its mirror (the test registry) has the repository.
        let mirrored = try daemon.berthctl(["pull", "mirrored.invalid:5000/test/pruned:v1"])
        #expect(mirrored.status == 0 && mirrored.stdout.contains(pruned.configDigest), "\(mirrored.stdout) \(mirrored.stderr)")
        let all = try daemon.berthctl(["rmi", "--all"])
        #expect(all.status == 0 && all.stdout.contains("Deleted: \(kept.reference)"), "\(all.stdout)")
        #expect(try daemon.berthctl(["images", "-q"]).stdout.isEmpty)
    }

    @Test("an HTTPS registry with a self-signed certificate: refused naming the TLS failure, pulled once its host is skip_verify")
    func selfSignedRegistry() throws {
        let directory = try makeTemporaryDirectory(prefix: "berth-tls")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificate = try execute("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", "\(directory)/key.pem", "-out", "\(directory)/cert.pem",
        ])
        try #require(certificate.status == 0, "\(certificate.stderr)")
        // Pushed through a plain-HTTP registry (the image builder speaks HTTP), which then
        // stops; an HTTPS one serves the same storage.
        let image = try {
            let plain = try BackgroundTool("registry.py", ["--dir", "\(directory)/registry"])
            defer { plain.process.killNow() }
            return try PushedImage(registry: plain.port, name: "test/tls", recipe: "basic")
        }()
        let registry = try BackgroundTool("registry.py", ["--dir", "\(directory)/registry", "--tls-cert", "\(directory)/cert.pem", "--tls-key", "\(directory)/key.pem"])
        let host = "127.0.0.1:\(registry.port)"
        let checked = try daemon(config: "[registry.hosts.\"\(host)\"]\nplain_http = false\n")
        let refused = try checked.berthctl(["pull", "\(host)/test/tls:v1"])
        #expect(refused.status == 1 && refused.stderr.contains("registry \(host)") && refused.stderr.contains("is not trusted"), "\(refused.stderr)")
        #expect(refused.stderr.contains("skip_verify = true"), "says what to do: \(refused.stderr)")
        let trusting = try daemon(config: "[registry.hosts.\"\(host)\"]\nplain_http = false\nskip_verify = true\n")
        let pulled = try trusting.berthctl(["pull", "\(host)/test/tls:v1"])
        #expect(pulled.status == 0 && pulled.stdout.contains(image.configDigest), "\(pulled.stdout) \(pulled.stderr)")
    }

    @Test("the same commands against containerd's CRI (Debian's containerd 1.6, private root, state and socket)")
    func containerd() throws {
        let registryDirectory = try makeTemporaryDirectory(prefix: "berth-registry")
        defer { try? FileManager.default.removeItem(atPath: registryDirectory) }
        let registry = try BackgroundTool("registry.py", ["--dir", registryDirectory])
        let image = try PushedImage(registry: registry.port, name: "test/busybox", recipe: "multilayer")
        let containerd = try PrivateContainerd(registryPort: registry.port)
        let run = { (arguments: [String]) throws -> Output in
            try execute(Binaries.berthctl, ["--config", "\(containerd.directory)/crictl.yaml", "-r", "unix://\(containerd.socket)", "-t", "20s"] + arguments, environment: ["PATH": "/usr/bin:/bin"])
        }
        let version = try run(["version"])
        #expect(version.stdout.contains("RuntimeName:  containerd\n") && version.stdout.contains("RuntimeApiVersion:  v1"), "\(version.stdout) \(version.stderr)")
        let pull = try run(["pull", image.reference])
        #expect(pull.status == 0 && pull.stdout == "Image is up to date for \(image.configDigest)\n", "\(pull.stdout) \(pull.stderr) \(containerd.log.suffix(800))")
        #expect(try run(["images", "-q"]).stdout.contains(image.configDigest))
        let table = try run(["images"]).stdout
        #expect(table.contains("127.0.0.1:\(registry.port)/test/busybox   v1"), "\(table)")
        let json = try run(["images", "-o", "json"]).stdout
        #expect(json.contains("\"repoTags\": [\n        \"\(image.reference)\""), "\(json)")
        let inspect = try run(["inspecti", image.reference])
        #expect(inspect.status == 0 && inspect.stdout.contains("\"id\": \"\(image.configDigest)\""), "\(inspect.stdout) \(inspect.stderr)")
        #expect(try run(["imagefsinfo"]).stdout.contains("imageFilesystems"))
        let removed = try run(["rmi", image.reference])
        #expect(removed.status == 0 && removed.stdout.contains("Deleted: \(image.reference)"), "\(removed.stdout) \(removed.stderr)")
        #expect(try run(["images", "-q"]).stdout.contains(image.configDigest) == false)
    }

    @Test("bad input: an unknown setting in berthd's TOML, a missing socket, an unknown command or flag, a broken crictl.yaml")
    func refusals() throws {
        let directory = try makeTemporaryDirectory(prefix: "berthctl-bad")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try writeFile("\(directory)/berthd.toml", "[images]\nconcurent_downloads = 2\n")
        let badConfig = try execute(Binaries.berthd, ["--config", "\(directory)/berthd.toml", "--address", "\(directory)/b.sock", "--root", "\(directory)/root"])
        #expect(badConfig.status == 1 && badConfig.stderr.contains("config \(directory)/berthd.toml: images.concurent_downloads: unknown key"), "\(badConfig.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/root"), "nothing made")
        try writeFile("\(directory)/syntax.toml", "root = /var/lib/x\n")
        let syntax = try execute(Binaries.berthd, ["--config", "\(directory)/syntax.toml"])
        #expect(syntax.status == 1 && syntax.stderr.contains("line 1"), "\(syntax.stderr)")

        let environment = ["PATH": "/usr/bin:/bin"]
        let noSocket = try execute(Binaries.berthctl, ["--config", "\(directory)/none.yaml", "-r", "unix://\(directory)/none.sock", "images"], environment: environment)
        #expect(noSocket.status == 1, "\(noSocket.stderr)")
        try writeFile("\(directory)/crictl.yaml", "runtime-endpoint: unix://\(directory)/none.sock\n")
        let viaFile = try execute(Binaries.berthctl, ["--config", "\(directory)/crictl.yaml", "images"], environment: environment)
        #expect(viaFile.status == 1 && viaFile.stderr.contains("connect to unix://\(directory)/none.sock: No such file or directory"), "\(viaFile.stderr)")
        let unknown = try execute(Binaries.berthctl, ["frobnicate"], environment: environment)
        #expect(unknown.status == 3 && unknown.stderr.contains("no command \"frobnicate\""))
        let flag = try execute(Binaries.berthctl, ["-c", "\(directory)/crictl.yaml", "images", "--frob"], environment: environment)
        #expect(flag.status == 1 && flag.stderr.contains("unknown flag --frob"), "\(flag.stderr)")
        try writeFile("\(directory)/broken.yaml", "runtime-endpoint unix:///x\n")
        let broken = try execute(Binaries.berthctl, ["--config", "\(directory)/broken.yaml", "version"], environment: environment)
        #expect(broken.status == 1 && broken.stderr.contains("broken.yaml line 1"), "\(broken.stderr)")
    }
}

/// containerd with only its CRI plugin's image side in use: private root, state and socket,
/// a plain-HTTP mirror entry for the test registry; stopped and removed at the end.
final class PrivateContainerd {
    let directory: String
    let socket: String
    let process: ChildProcess

    init(registryPort: Int) throws {
        directory = try makeTemporaryDirectory(prefix: "berth-containerd")
        socket = "\(directory)/containerd.sock"
        try FileManager.default.createDirectory(atPath: "\(directory)/cni", withIntermediateDirectories: true)
        try writeFile("\(directory)/crictl.yaml", "")
        let template = try String(contentsOfFile: "\(Binaries.packageRoot)/Tests/tools/containerd-cri.toml", encoding: .utf8)
        try writeFile(
            "\(directory)/config.toml",
            template.replacingOccurrences(of: "@DIR@", with: directory).replacingOccurrences(of: "@REGISTRY@", with: "127.0.0.1:\(registryPort)"))
        process = try ChildProcess("/usr/bin/containerd", ["--config", "\(directory)/config.toml"], output: .file("\(directory)/containerd.log"), error: .file("\(directory)/containerd.err"))
        try waitFor(seconds: 30) {
            guard process.isRunning else { return true }
            return (try? execute(Binaries.berthctl, ["--config", "\(directory)/crictl.yaml", "-r", "unix://\(socket)", "version"], timeout: 10).status) == 0
        }
    }

    var log: String { (try? String(contentsOfFile: "\(directory)/containerd.err", encoding: .utf8)) ?? "" }

    deinit {
        process.stop(grace: 10)
        // containerd leaves its overlay snapshots unmounted, but remove nothing mounted.
        let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
        for line in mounts.split(separator: "\n") where line.contains(directory) {
            let target = line.split(separator: " ")[1]
            _ = try? execute("/bin/umount", ["-l", String(target)], timeout: 30)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
