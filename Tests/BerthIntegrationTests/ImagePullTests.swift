import BerthTestSupport
import Foundation
import Testing

/// A helper script of Tests/tools started in the background, printing one JSON line when
/// it is ready; killed (SIGKILL) when the test ends.
final class BackgroundTool {
    let process: ChildProcess
    let ready: [String: Any]

    init(_ script: String, _ arguments: [String]) throws {
        let pipe = try makePipe()
        defer { close(pipe.read) }
        do {
            defer { close(pipe.write) }
            process = try ChildProcess("/usr/bin/python3", ["\(Binaries.packageRoot)/Tests/tools/\(script)"] + arguments, output: .descriptor(pipe.write))
        }
        let line = readLine(from: pipe.read, timeout: 60)
        guard let line, let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            process.killNow()
            throw ToolError.notReady(script)
        }
        ready = object
    }

    enum ToolError: Error { case notReady(String) }

    var port: Int { ready["port"] as? Int ?? 0 }

    deinit { process.killNow() }
}

/// A registry with an image built and pushed by Tests/tools/build_image.py.
struct PushedImage {
    let reference: String
    let manifestDigest: String
    let configDigest: String
    let indexDigest: String?

    let layers: [String]

    /// Pushed to the registry on `port`, or with `outputDirectory` written there for
    /// hostile_registry.py (which then serves it on a port of its own).
    init(registry port: Int? = nil, outputDirectory: String? = nil, name: String, recipe: String, extra: [String] = []) throws {
        let target = port.map { ["--registry", "127.0.0.1:\($0)"] } ?? ["--output-dir", outputDirectory ?? ""]
        let output = try execute("/usr/bin/python3", ["\(Binaries.packageRoot)/Tests/tools/build_image.py"] + target + ["--name", name, "--tag", "v1", "--recipe", recipe] + extra)
        let object = try #require(JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any], "build_image: \(output.stderr)")
        reference = try #require(object["reference"] as? String)
        manifestDigest = try #require(object["manifestDigest"] as? String)
        configDigest = try #require(object["configDigest"] as? String)
        indexDigest = object["indexDigest"] as? String
        layers = (object["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
    }
}

@Suite("berthd pulls images from a real registry (Debian's docker-registry)", .serialized, .enabled(if: Binaries.daemonAvailable))
struct ImagePullTests {
    @Test("PullImage, ListImages, ImageStatus and RemoveImage through the Python CRI client; layers unpacked with whiteouts; removal frees everything")
    func lifecycle() throws {
        let registryDirectory = try makeTemporaryDirectory(prefix: "berth-registry")
        defer { try? FileManager.default.removeItem(atPath: registryDirectory) }
        let registry = try BackgroundTool("registry.py", ["--dir", registryDirectory])
        let image = try PushedImage(registry: registry.port, name: "test/busybox", recipe: "multilayer")
        let daemon = try RunningDaemon()

        let pulled = try daemon.call("ImageService.PullImage", #"{"image": {"image": "\#(image.reference)"}}"#)
        #expect(pulled["imageRef"] as? String == image.configDigest, "\(pulled)")
        let list = try daemon.call("ImageService.ListImages")
        let images = list["images"] as? [[String: Any]] ?? []
        #expect(images.count == 1)
        let entry = try #require(images.first)
        #expect(entry["id"] as? String == image.configDigest)
        #expect(entry["repoTags"] as? [String] == [image.reference])
        #expect(entry["repoDigests"] as? [String] == ["127.0.0.1:\(registry.port)/test/busybox@\(image.manifestDigest)"])
        #expect(entry["username"] as? String == "app")
        #expect(Int(entry["size"] as? String ?? "0") ?? 0 > 0)

        let status = try daemon.call("ImageService.ImageStatus", #"{"image": {"image": "\#(image.reference)"}, "verbose": true}"#)
        #expect((status["image"] as? [String: Any])?["id"] as? String == image.configDigest)
        #expect(((status["info"] as? [String: String])?["info"] ?? "").contains("\"diff_ids\""))
        let byDigest = try daemon.call("ImageService.ImageStatus", #"{"image": {"image": "127.0.0.1:\#(registry.port)/test/busybox@\#(image.manifestDigest)"}}"#)
        #expect((byDigest["image"] as? [String: Any])?["id"] as? String == image.configDigest)
        let missing = try daemon.call("ImageService.ImageStatus", #"{"image": {"image": "127.0.0.1:\#(registry.port)/test/none:v1"}}"#)
        #expect(missing["image"] == nil, "an unknown image is an empty answer")

        // The top layer's whiteouts hide what the layers below had.
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: "\(daemon.directory)/root/snapshots")
        #expect(snapshots.count == 3, "\(snapshots)")
        var whiteouts = 0
        for snapshot in snapshots {
            var info = stat()
            if lstat("\(daemon.directory)/root/snapshots/\(snapshot)/fs/data/to-delete.txt", &info) == 0, info.st_mode & S_IFMT == S_IFCHR { whiteouts += 1 }
        }
        #expect(whiteouts == 1)

        let fsInfo = try daemon.call("ImageService.ImageFsInfo")
        let used = ((fsInfo["imageFilesystems"] as? [[String: Any]])?.first?["usedBytes"] as? [String: Any])?["value"] as? String
        #expect(Int(used ?? "0") ?? 0 > 0)

        _ = try daemon.call("ImageService.RemoveImage", #"{"image": {"image": "\#(image.reference)"}}"#)
        _ = try daemon.call("ImageService.RemoveImage", #"{"image": {"image": "\#(image.reference)"}}"#)
        #expect((try daemon.call("ImageService.ListImages")["images"] as? [Any] ?? []).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(daemon.directory)/root/content/blobs/sha256").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(daemon.directory)/root/snapshots").isEmpty)
    }

    @Test("an index: the host's platform is chosen; a short name is normalised as the kubelet does")
    func index() throws {
        let registryDirectory = try makeTemporaryDirectory(prefix: "berth-registry")
        defer { try? FileManager.default.removeItem(atPath: registryDirectory) }
        let registry = try BackgroundTool("registry.py", ["--dir", registryDirectory])
        let image = try PushedImage(registry: registry.port, name: "test/multi", recipe: "index")
        let daemon = try RunningDaemon()
        let pulled = try daemon.call("ImageService.PullImage", #"{"image": {"image": "\#(image.reference)"}}"#)
        let id = try #require(pulled["imageRef"] as? String, "\(pulled)")
        let status = try daemon.call("ImageService.ImageStatus", #"{"image": {"image": "\#(id)"}, "verbose": true}"#)
        let config = (status["info"] as? [String: String])?["info"] ?? ""
        #expect(config.contains("\"architecture\":\"amd64\"") || config.contains("\"architecture\": \"amd64\""), "\(config.prefix(300))")
        let entry = status["image"] as? [String: Any]
        #expect((entry?["repoDigests"] as? [String])?.first?.hasSuffix(image.indexDigest ?? "none") == true, "the digest name is the index's")
    }

    @Test("registry errors are clear: unknown image, basic auth without and with wrong credentials (the password never shown), then the right ones")
    func authentication() throws {
        let registryDirectory = try makeTemporaryDirectory(prefix: "berth-registry")
        defer { try? FileManager.default.removeItem(atPath: registryDirectory) }
        let registry = try BackgroundTool("registry.py", ["--dir", registryDirectory, "--auth", "htpasswd", "--user", "puller", "--password", "right-secret"])
        let image = try PushedImage(registry: registry.port, name: "private/busybox", recipe: "basic", extra: ["--user", "puller", "--password", "right-secret"])
        let daemon = try RunningDaemon()
        let anonymous = try daemon.call("ImageService.PullImage", #"{"image": {"image": "\#(image.reference)"}}"#)
        let anonymousError = try #require(anonymous["error"] as? [String: String], "\(anonymous)")
        #expect(anonymousError["code"] == "PERMISSION_DENIED")
        #expect(anonymousError["details"]?.contains("registry 127.0.0.1:\(registry.port)") == true, "\(anonymousError)")
        let wrong = try daemon.call("ImageService.PullImage", #"{"image": {"image": "\#(image.reference)"}, "auth": {"username": "puller", "password": "wrong-secret"}}"#)
        let wrongError = try #require(wrong["error"] as? [String: String], "\(wrong)")
        #expect(wrongError["details"]?.contains("the credentials of user \"puller\" were refused") == true, "\(wrongError)")
        #expect(wrongError["details"]?.contains("wrong-secret") == false)
        let right = try daemon.call("ImageService.PullImage", #"{"image": {"image": "\#(image.reference)"}, "auth": {"auth": "\#(Data("puller:right-secret".utf8).base64EncodedString())"}}"#)
        #expect(right["imageRef"] as? String == image.configDigest, "\(right)")
        let unknown = try daemon.call("ImageService.PullImage", #"{"image": {"image": "127.0.0.1:\#(registry.port)/private/none:v1"}, "auth": {"username": "puller", "password": "right-secret"}}"#)
        #expect((unknown["error"] as? [String: String])?["code"] == "NOT_FOUND", "\(unknown)")
        #expect((try daemon.call("ImageService.ListImages")["images"] as? [Any] ?? []).count == 1)
    }

    /// An image in a directory, served by hostile_registry.py with `flags`.
    func hostile(_ flags: (PushedImage) -> [String]) throws -> (BackgroundTool, PushedImage, String, String) {
        let directory = try makeTemporaryDirectory(prefix: "berth-hostile")
        let image = try PushedImage(outputDirectory: "\(directory)/image", name: "test/busybox", recipe: "multilayer")
        let log = "\(directory)/requests.log"
        let server = try BackgroundTool("hostile_registry.py", ["--dir", "\(directory)/image", "--log", log] + flags(image))
        return (server, image, directory, log)
    }

    func reference(_ image: PushedImage, port: Int) -> String {
        "127.0.0.1:\(port)/test/busybox:v1"
    }

    @Test("a blob whose digest lies stores nothing, names the expected and the received digest, and lists no image")
    func lyingDigest() throws {
        let (server, image, directory, _) = try hostile { ["--lie-digest", $0.layers[1], "--lie-mode", "garbage"] }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let daemon = try RunningDaemon()
        let result = try daemon.call("ImageService.PullImage", #"{"image": {"image": "\#(reference(image, port: server.port))"}}"#)
        let error = try #require(result["error"] as? [String: String], "\(result)")
        #expect(error["details"]?.contains("digest mismatch: expected \(image.layers[1]), got sha256:") == true, "\(error)")
        #expect((try daemon.call("ImageService.ListImages")["images"] as? [Any] ?? []).isEmpty)
        let blobs = try FileManager.default.contentsOfDirectory(atPath: "\(daemon.directory)/root/content/blobs/sha256")
        #expect(!blobs.contains(String(image.layers[1].dropFirst(7))), "the lying blob was not stored")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(daemon.directory)/root/content/ingest").isEmpty)
    }

    @Test("500 answers are retried, a truncated download resumes with Range, redirects to blob storage are followed")
    func recoverable() throws {
        for flags in [["--fail-first", "2"], ["--redirect"]] {
            let (server, image, directory, _) = try hostile { _ in flags }
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let daemon = try RunningDaemon()
            let result = try daemon.call("ImageService.PullImage", #"{"image": {"image": "\#(reference(image, port: server.port))"}}"#)
            #expect(result["imageRef"] as? String == image.configDigest, "\(flags): \(result)")
        }
        let (server, image, directory, log) = try hostile { ["--truncate", $0.layers[0]] }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let daemon = try RunningDaemon()
        let result = try daemon.call("ImageService.PullImage", #"{"image": {"image": "\#(reference(image, port: server.port))"}}"#)
        #expect(result["imageRef"] as? String == image.configDigest, "\(result)")
        let requests = try String(contentsOfFile: log, encoding: .utf8)
        let resumed = requests.split(separator: "\n").contains { $0.contains(image.layers[0]) && $0.contains("bytes=") && !$0.contains("bytes=0-") }
        #expect(resumed, "the second request for the cut blob asked for the rest with Range: \(requests)")
    }

    @Test("berthd killed with SIGKILL in the middle of a pull: the restart collects the orphaned blobs, the pull then resumes and succeeds, nothing corrupt is listed")
    func killedMidPull() throws {
        let (server, image, directory, _) = try hostile { _ in ["--throttle-kbps", "256"] }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let daemon = try RunningDaemon()
        let pull = try ChildProcess(
            Binaries.criPython,
            ["\(Binaries.packageRoot)/Tests/tools/cri_client.py", daemon.socket, "ImageService.PullImage", #"{"image": {"image": "\#(reference(image, port: server.port))"}}"#])
        // Wait until a layer download is under way, then kill berthd outright.
        try waitFor(seconds: 20) { ((try? FileManager.default.contentsOfDirectory(atPath: "\(daemon.directory)/root/content/ingest")) ?? []).isEmpty == false }
        daemon.process.killNow()
        try pull.waitOrKill(timeout: 90)
        unlink(daemon.socket)

        let storedAtKill = (try? FileManager.default.contentsOfDirectory(atPath: "\(daemon.directory)/root/content/blobs/sha256")) ?? []
        let restarted = try RunningDaemon(reusing: daemon.directory)
        #expect((try restarted.call("ImageService.ListImages")["images"] as? [Any] ?? []).isEmpty, "an interrupted pull lists nothing")
        // The manifest and config stored before the kill belong to no image: collected at start.
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(restarted.directory)/root/content/blobs/sha256").isEmpty)
        if !storedAtKill.isEmpty { #expect(restarted.log.contains("garbage collected"), "\(storedAtKill): \(restarted.log)") }
        let result = try restarted.call("ImageService.PullImage", #"{"image": {"image": "\#(reference(image, port: server.port))"}}"#)
        #expect(result["imageRef"] as? String == image.configDigest, "\(result)")
        let status = try restarted.call("ImageService.ImageStatus", #"{"image": {"image": "\#(image.configDigest)"}}"#)
        #expect((status["image"] as? [String: Any])?["id"] as? String == image.configDigest)
        let stored = Set(try FileManager.default.contentsOfDirectory(atPath: "\(restarted.directory)/root/content/blobs/sha256"))
        let expected = Set(([image.manifestDigest, image.configDigest] + image.layers).map { String($0.dropFirst(7)) })
        #expect(stored == expected, "no orphaned blob")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(restarted.directory)/root/content/ingest").isEmpty)
    }

    @Test("the bearer-token flow: the token server's challenge is answered with the pull secret's credentials; zstd layers unpack")
    func bearerToken() throws {
        let directory = try makeTemporaryDirectory(prefix: "berth-token")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tokens = try BackgroundTool("token_server.py", ["--dir", "\(directory)/keys", "--user", "carol", "--password", "token-secret", "--log", "\(directory)/tokens.log"])
        let realm = try #require(tokens.ready["realm"] as? String)
        let registry = try BackgroundTool("registry.py", [
            "--dir", "\(directory)/registry", "--auth", "token", "--realm", realm, "--issuer", try #require(tokens.ready["issuer"] as? String),
            "--service", try #require(tokens.ready["service"] as? String), "--rootcertbundle", try #require(tokens.ready["rootcertbundle"] as? String),
        ])
        let image = try PushedImage(registry: registry.port, name: "secure/busybox", recipe: "multilayer", extra: ["--user", "carol", "--password", "token-secret", "--compression", "zstd"])
        let daemon = try RunningDaemon()
        let refused = try daemon.call("ImageService.PullImage", #"{"image": {"image": "\#(image.reference)"}, "auth": {"username": "carol", "password": "wrong"}}"#)
        let refusal = try #require(refused["error"] as? [String: String], "\(refused)")
        #expect(refusal["details"]?.contains("refused the credentials of user \"carol\"") == true, "\(refusal)")
        #expect(refusal["details"]?.contains("wrong") == false)
        let pulled = try daemon.call("ImageService.PullImage", #"{"image": {"image": "\#(image.reference)"}, "auth": {"username": "carol", "password": "token-secret"}}"#)
        #expect(pulled["imageRef"] as? String == image.configDigest, "\(pulled)")
        let requests = try String(contentsOfFile: "\(directory)/tokens.log", encoding: .utf8)
        #expect(requests.contains("\"status\": 200") || requests.contains("\"status\":200"), "a token was issued: \(requests)")
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: "\(daemon.directory)/root/snapshots")
        #expect(snapshots.count == 3)
    }

    @Test("two pulls of one image at once share every download: each layer is fetched from the registry once")
    func sharedDownloads() throws {
        let (server, image, directory, log) = try hostile { _ in ["--throttle-kbps", "400"] }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let daemon = try RunningDaemon()
        let request = #"{"image": {"image": "\#(reference(image, port: server.port))"}}"#
        let pulls = try (0..<2).map { index in
            try ChildProcess(
                Binaries.criPython, ["\(Binaries.packageRoot)/Tests/tools/cri_client.py", daemon.socket, "ImageService.PullImage", request],
                output: .file("\(directory)/pull-\(index).json"))
        }
        for pull in pulls { #expect(try pull.waitOrKill(timeout: 120) == 0) }
        for index in 0..<2 {
            let answer = try String(contentsOfFile: "\(directory)/pull-\(index).json", encoding: .utf8)
            #expect(answer.contains(image.configDigest), "\(answer)")
        }
        // The server logs a request once its response has ended, a moment after the client
        // has the last byte: wait for every layer's line.
        func fetches(_ layer: String) -> [Substring] {
            let requests = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
            return requests.filter { $0.contains("\"GET\"") && $0.contains("/blobs/\(layer)") }
        }
        try waitFor { image.layers.allSatisfy { !fetches($0).isEmpty } }
        usleep(200_000)
        // They overlapped: the second pull had its manifest while the biggest layer was
        // still downloading (so it joined that download rather than finding the layer stored).
        let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let manifestTimes = lines.filter { ($0["path"] as? String)?.contains("/manifests/") == true && $0["method"] as? String == "GET" }.compactMap { $0["ts"] as? Double }
        let layerTimes = lines.filter { line in image.layers.contains { (line["path"] as? String)?.hasSuffix($0) == true } }.compactMap { $0["ts"] as? Double }
        #expect(manifestTimes.count >= 2 && (manifestTimes.max() ?? .infinity) < (layerTimes.max() ?? 0), "the pulls ran at once: \(manifestTimes) \(layerTimes)")
        for layer in image.layers {
            let fetches = fetches(layer)
            #expect(fetches.count == 1, "\(layer) fetched \(fetches.count) times: \(fetches)")
        }
    }

    @Test("an identity token (refresh token) and a registry token from the pull secret are used as the kubelet passes them; a token one secret earned never serves a forged one")
    func tokens() throws {
        let directory = try makeTemporaryDirectory(prefix: "berth-token")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tokens = try BackgroundTool("token_server.py", ["--dir", "\(directory)/keys", "--user", "dave", "--password", "pw-dave"])
        let realm = try #require(tokens.ready["realm"] as? String)
        let service = try #require(tokens.ready["service"] as? String)
        let registry = try BackgroundTool("registry.py", [
            "--dir", "\(directory)/registry", "--auth", "token", "--realm", realm, "--issuer", try #require(tokens.ready["issuer"] as? String),
            "--service", service, "--rootcertbundle", try #require(tokens.ready["rootcertbundle"] as? String),
        ])
        let image = try PushedImage(registry: registry.port, name: "secure/busybox", recipe: "basic", extra: ["--user", "dave", "--password", "pw-dave"])
        // What `docker login` keeps as an identity token, and a bearer token, both from the token server.
        let script = """
            import base64, json, sys, urllib.parse, urllib.request
            realm, service, scope = sys.argv[1:4]
            form = urllib.parse.urlencode({"grant_type": "password", "username": "dave", "password": "pw-dave", "service": service,
                                           "scope": scope, "client_id": "test", "access_type": "offline"}).encode()
            refresh = json.load(urllib.request.urlopen(urllib.request.Request(realm, data=form)))["refresh_token"]
            basic = urllib.request.Request(realm + "?" + urllib.parse.urlencode({"service": service, "scope": scope}),
                                           headers={"Authorization": "Basic " + base64.b64encode(b"dave:pw-dave").decode()})
            print(json.dumps({"identity": refresh, "registry": json.load(urllib.request.urlopen(basic))["token"]}))
            """
        let issued = try execute("/usr/bin/python3", ["-c", script, realm, service, "repository:secure/busybox:pull"])
        let values = try #require(JSONSerialization.jsonObject(with: Data(issued.stdout.utf8)) as? [String: String], "\(issued.stderr)")
        let daemon = try RunningDaemon()
        let identity = try daemon.call("ImageService.PullImage", #"{"image": {"image": "\#(image.reference)"}, "auth": {"identityToken": "\#(values["identity"] ?? "")"}}"#)
        #expect(identity["imageRef"] as? String == image.configDigest, "\(identity)")
        _ = try daemon.call("ImageService.RemoveImage", #"{"image": {"image": "\#(image.reference)"}}"#)
        let bearer = try daemon.call("ImageService.PullImage", #"{"image": {"image": "\#(image.reference)"}, "auth": {"registryToken": "\#(values["registry"] ?? "")"}}"#)
        #expect(bearer["imageRef"] as? String == image.configDigest, "\(bearer)")
        _ = try daemon.call("ImageService.RemoveImage", #"{"image": {"image": "\#(image.reference)"}}"#)
        let forged = try daemon.call("ImageService.PullImage", #"{"image": {"image": "\#(image.reference)"}, "auth": {"identityToken": "not-a-refresh-token"}}"#)
        #expect((forged["error"] as? [String: String])?["code"] == "PERMISSION_DENIED", "\(forged)")
    }

    @Test("a layer whose uncompressed content does not match the config's diff id is refused; nothing is listed or left unpacked")
    func wrongDiffID() throws {
        let registryDirectory = try makeTemporaryDirectory(prefix: "berth-registry")
        defer { try? FileManager.default.removeItem(atPath: registryDirectory) }
        let registry = try BackgroundTool("registry.py", ["--dir", registryDirectory])
        let image = try PushedImage(registry: registry.port, name: "test/lying", recipe: "multilayer", extra: ["--wrong-diff-id", "1"])
        let daemon = try RunningDaemon()
        let result = try daemon.call("ImageService.PullImage", #"{"image": {"image": "\#(image.reference)"}}"#)
        let error = try #require(result["error"] as? [String: String], "\(result)")
        #expect(error["details"]?.contains("layer \(image.layers[1]): uncompressed content does not match the config's diff id") == true, "\(error)")
        #expect((try daemon.call("ImageService.ListImages")["images"] as? [Any] ?? []).isEmpty)
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: "\(daemon.directory)/root/snapshots")
        #expect(snapshots.count == 1 && !snapshots.contains { $0.hasPrefix("tmp-") }, "only the verified layer below: \(snapshots)")
    }

    @Test("a tar-slip layer (an entry named ../../x) is refused naming the layer and the entry; nothing lands outside, nothing is listed or left")
    func tarSlip() throws {
        let registryDirectory = try makeTemporaryDirectory(prefix: "berth-registry")
        defer { try? FileManager.default.removeItem(atPath: registryDirectory) }
        let registry = try BackgroundTool("registry.py", ["--dir", registryDirectory])
        let image = try PushedImage(registry: registry.port, name: "test/slip", recipe: "tarslip")
        let daemon = try RunningDaemon()
        let result = try daemon.call("ImageService.PullImage", #"{"image": {"image": "\#(image.reference)"}}"#)
        let error = try #require(result["error"] as? [String: String], "\(result)")
        #expect(error["details"]?.contains(image.layers[1]) == true && error["details"]?.contains("../../berth-tarslip-pwned.txt") == true, "\(error)")
        #expect((try daemon.call("ImageService.ListImages")["images"] as? [Any] ?? []).isEmpty)
        for escaped in ["\(daemon.directory)/root/berth-tarslip-pwned.txt", "\(daemon.directory)/root/snapshots/berth-tarslip-pwned.txt", "\(daemon.directory)/berth-tarslip-pwned.txt"] {
            #expect(!FileManager.default.fileExists(atPath: escaped), "\(escaped)")
        }
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: "\(daemon.directory)/root/snapshots")
        #expect(!snapshots.contains { $0.hasPrefix("tmp-") }, "\(snapshots)")
    }
}
