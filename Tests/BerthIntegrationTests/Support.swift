import BerthTestSupport
import Foundation
import Testing

/// Where the binaries under test are: `make test` passes the release builds.
enum Binaries {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static let berth = ProcessInfo.processInfo.environment["BERTH_BINARY"] ?? "\(packageRoot)/.build/release/berth"
    static let probe = ProcessInfo.processInfo.environment["BERTH_PROBE"] ?? "\(packageRoot)/.build/release/berth-probe"
    /// Whether the integration tests can run: as root, with the binaries built. Under
    /// `make test` (which sets BERTH_BINARY) they always run, so a missing binary or
    /// busybox fails them loudly instead of skipping them.
    static var available: Bool {
        if ProcessInfo.processInfo.environment["BERTH_BINARY"] != nil { return true }
        return getuid() == 0 && FileManager.default.isExecutableFile(atPath: berth) && FileManager.default.isExecutableFile(atPath: probe)
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/busybox")
    }
}

/// The result of running a command.
typealias Output = CommandOutput

/// Runs a program to completion (BerthTestSupport's `runCommand`: output in files, killed
/// and reported after `timeout` seconds).
@discardableResult
func execute(_ path: String, _ arguments: [String], stdin: String? = nil, environment: [String: String]? = nil, workingDirectory: String? = nil, timeout: Double = 300) throws -> Output {
    try runCommand(path, arguments, stdin: stdin, environment: environment, workingDirectory: workingDirectory, timeout: timeout)
}

/// A private berth state root, a bundle with a busybox-static rootfs and berth-probe, and
/// cleanup that removes every container, cgroup and file the test made, even on failure.
final class Sandbox: @unchecked Sendable {
    let directory: String
    let root: String
    let bundle: String
    let rootfs: String
    private var ids: [String] = []
    private static let counter = Counter()

    init(tools: [String] = ["sh", "cat", "ls", "id", "hostname", "sleep", "true", "echo", "mkdir", "stat", "test", "touch", "readlink", "grep", "kill", "wc", "stty", "tty", "ps"]) throws {
        directory = try makeTemporaryDirectory(prefix: "berth-it")
        root = "\(directory)/state"
        bundle = "\(directory)/bundle"
        rootfs = "\(bundle)/rootfs"
        let fm = FileManager.default
        for sub in ["bin", "etc", "tmp", "proc", "sys", "dev"] {
            try fm.createDirectory(atPath: "\(rootfs)/\(sub)", withIntermediateDirectories: true)
        }
        try fm.copyItem(atPath: "/usr/bin/busybox", toPath: "\(rootfs)/bin/busybox")
        try fm.copyItem(atPath: Binaries.probe, toPath: "\(rootfs)/bin/probe")
        for tool in tools { try fm.createSymbolicLink(atPath: "\(rootfs)/bin/\(tool)", withDestinationPath: "busybox") }
        try writeFile("\(rootfs)/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n")
    }

    /// A unique container id for this test run.
    func newID(_ name: String = "c") -> String {
        let id = "bt-\(name)-\(getpid())-\(Sandbox.counter.next())"
        ids.append(id)
        return id
    }

    /// Runs berth with this sandbox's state root.
    @discardableResult
    func berth(_ arguments: [String], stdin: String? = nil, workingDirectory: String? = nil) throws -> Output {
        try execute(Binaries.berth, ["--root", root] + arguments, stdin: stdin, workingDirectory: workingDirectory)
    }

    /// Writes config.json: a base like `berth spec`'s with the given args, a cgroup path
    /// private to this container, then `edit` applied.
    func writeConfig(id: String, args: [String], edit: (inout [String: Any]) -> Void = { _ in }) throws {
        var config = Sandbox.baseConfig(args: args)
        var linux = config["linux"] as! [String: Any]
        linux["cgroupsPath"] = "/berth-test/\(id)"
        config["linux"] = linux
        edit(&config)
        let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
        try writeFile("\(bundle)/config.json", String(decoding: data, as: UTF8.self))
    }

    static func baseConfig(args: [String]) -> [String: Any] {
        [
            "ociVersion": "1.2.0",
            "process": [
                "terminal": false, "user": ["uid": 0, "gid": 0], "args": args,
                "env": ["PATH=/bin:/usr/bin", "TERM=xterm"], "cwd": "/",
                "rlimits": [["type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024]],
            ] as [String: Any],
            "root": ["path": "rootfs", "readonly": false] as [String: Any],
            "hostname": "berth-test",
            "mounts": [
                ["destination": "/proc", "type": "proc", "source": "proc"],
                ["destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]],
                ["destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]],
                ["destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]],
                ["destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]],
                ["destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]],
                ["destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]],
            ],
            "linux": [
                "namespaces": [["type": "pid"], ["type": "network"], ["type": "ipc"], ["type": "uts"], ["type": "mount"], ["type": "cgroup"]],
                "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware", "/proc/acpi"],
                "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
            ] as [String: Any],
        ]
    }

    /// The cgroup directories a container with `id` would have (the v1 hierarchies and the
    /// cgroup2 mount).
    static func cgroupDirectories(id: String) -> [String] {
        let hierarchies = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
        return hierarchies.map { "/sys/fs/cgroup/\($0)/berth-test/\(id)" }
    }

    /// Whether anything of container `id` is left: state, cgroups, processes.
    func leftovers(id: String) -> [String] {
        var found: [String] = []
        if FileManager.default.fileExists(atPath: "\(root)/\(id)") { found.append("state dir \(root)/\(id)") }
        for directory in Sandbox.cgroupDirectories(id: id) where FileManager.default.fileExists(atPath: directory) {
            found.append("cgroup \(directory)")
        }
        if let mounts = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8), mounts.contains(directory) {
            found.append("mount under \(directory)")
        }
        return found
    }

    deinit {
        for id in ids {
            _ = try? execute(Binaries.berth, ["--root", root, "delete", "--force", id])
            for directory in Sandbox.cgroupDirectories(id: id) { rmdir(directory) }
        }
        for hierarchy in Sandbox.cgroupDirectories(id: "").map({ String($0.dropLast()) }) { rmdir(hierarchy) }
        if let mounts = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) {
            for line in mounts.split(separator: "\n").reversed() {
                let fields = line.split(separator: " ")
                if fields.count > 4, fields[4].hasPrefix(directory) { umount2(String(fields[4]), 2) }
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

/// Writes `text` to `path` with plain POSIX calls. (Foundation's atomic writes, which
/// `createFile` and `write(toFile:atomically:)` use, now and then leave a
/// /tmp/TemporaryDirectory.* behind.)
func writeFile(_ path: String, _ text: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        offset += written
    }
}

func makeTemporaryDirectory(prefix: String) throws -> String {
    var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
    guard let result = mkdtemp(&template) else { throw POSIXError(.EIO) }
    return String(cString: result)
}

/// The probe's JSON report, parsed.
struct ProbeReport {
    let object: [String: Any]

    init(_ text: String) throws {
        let line = text.split(separator: "\n").first { $0.hasPrefix("{") } ?? ""
        object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    subscript(key: String) -> Any? { object[key] }
    var int: (String) -> Int? { { object[$0] as? Int } }
    var mounts: [[String: String]] { object["mounts"] as? [[String: String]] ?? [] }
    var fds: [Int] { (object["fds"] as? [[String: Any]] ?? []).compactMap { $0["fd"] as? Int } }
    func mount(at path: String) -> [String: String]? { mounts.last { $0["path"] == path } }
}
