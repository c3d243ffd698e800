import BerthJSON
import CBerth
import Glibc

/// berth-probe: a static program that runs inside test containers and reports, as one JSON
/// object on stdout, what the container sees. Integration tests assert on its output.
///
///     berth-probe [report]            the report (below)
///     berth-probe exit N              exit with status N
///     berth-probe sleep SECONDS       sleep (a long-running container)
///     berth-probe trap                print each signal received ("signal N"); exit 42 on SIGTERM
///     berth-probe open-write PATH     try to open PATH for writing; print "opened" or the errno text
///     berth-probe cat PATH            print a file

func text(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 8192)
    while true {
        let count = read(fd, &buffer, buffer.count)
        if count <= 0 { break }
        result.append(contentsOf: buffer[0..<count])
    }
    return String(decoding: result, as: UTF8.self)
}

func link(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink(path, &buffer, buffer.count - 1)
    guard count >= 0 else { return nil }
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

func statusField(_ name: String) -> String? {
    for line in (text("/proc/self/status") ?? "").split(separator: "\n") where line.hasPrefix(name + ":") {
        return line.dropFirst(name.count + 1).trimmingCharacters()
    }
    return nil
}

extension Substring {
    func trimmingCharacters() -> String {
        var value = self
        while let first = value.first, first == " " || first == "\t" { value.removeFirst() }
        while let last = value.last, last == " " || last == "\t" || last == "\n" { value.removeLast() }
        return String(value)
    }
}

func report() -> JSONValue {
    var object = JSONObject()
    object["pid"] = .int(getpid())
    object["ppid"] = .int(getppid())
    object["uid"] = .int(getuid())
    object["gid"] = .int(getgid())
    let count = getgroups(0, nil)
    var groups = [gid_t](repeating: 0, count: Int(max(count, 0)))
    _ = getgroups(count, &groups)
    object["groups"] = .array(groups.map { .int($0) })
    var names = utsname()
    uname(&names)
    object["hostname"] = .string(withUnsafeBytes(of: names.nodename) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) })
    object["domainname"] = .string(withUnsafeBytes(of: names.__domainname) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) })
    var cwd = [CChar](repeating: 0, count: 4096)
    object["cwd"] = .string(getcwd(&cwd, cwd.count) != nil ? String(cString: cwd) : "")
    let mask = umask(0)
    umask(mask)
    object["umask"] = .int(mask)
    var limit = rlimit()
    getrlimit(__rlimit_resource_t(7), &limit)
    object["nofile"] = ["soft": .int(limit.rlim_cur), "hard": .int(limit.rlim_max)]
    let fds = ((try? listDirectory("/proc/self/fd")) ?? []).compactMap { Int($0) }.sorted()
    object["fds"] = .array(fds.map { fd in ["fd": .int(fd), "target": .optional(link("/proc/self/fd/\(fd)"))] })
    var mounts: [JSONValue] = []
    for line in (text("/proc/self/mountinfo") ?? "").split(separator: "\n") {
        let fields = line.split(separator: " ").map(String.init)
        guard let dash = fields.firstIndex(of: "-"), fields.count > dash + 2 else { continue }
        mounts.append(["path": .string(fields[4]), "options": .string(fields[5]), "type": .string(fields[dash + 1]), "source": .string(fields[dash + 2])])
    }
    object["mounts"] = .array(mounts)
    object["noNewPrivs"] = .optional(statusField("NoNewPrivs"))
    object["seccomp"] = .optional(statusField("Seccomp"))
    object["capEff"] = .optional(statusField("CapEff"))
    object["capBnd"] = .optional(statusField("CapBnd"))
    object["capPrm"] = .optional(statusField("CapPrm"))
    object["capInh"] = .optional(statusField("CapInh"))
    object["capAmb"] = .optional(statusField("CapAmb"))
    object["uidMap"] = .optional(text("/proc/self/uid_map"))
    object["gidMap"] = .optional(text("/proc/self/gid_map"))
    object["setgroups"] = .optional(text("/proc/self/setgroups").map { Substring($0).trimmingCharacters() })
    object["tty"] = isatty(0) == 1 ? .optional(link("/proc/self/fd/0")) : .null
    var size = winsize()
    if isatty(1) == 1, ioctl(1, UInt(TIOCGWINSZ), &size) == 0 { object["terminalSize"] = ["rows": .int(size.ws_row), "columns": .int(size.ws_col)] }
    object["oomScoreAdj"] = .optional(text("/proc/self/oom_score_adj").map { Substring($0).trimmingCharacters() })
    object["cgroup"] = .optional(text("/proc/self/cgroup"))
    var namespaces = JSONObject()
    for name in ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"] { namespaces[name] = .optional(link("/proc/self/ns/\(name)")) }
    object["namespaces"] = .object(namespaces)
    object["env"] = .array(environmentList().map { .string($0) })
    object["exe"] = .optional(link("/proc/self/exe"))
    return .object(object)
}

func environmentList() -> [String] {
    var result: [String] = []
    var pointer = environ
    while let entry = pointer.pointee {
        result.append(String(cString: entry))
        pointer += 1
    }
    return result
}

/// Names in `path`, without the descriptor opendir itself holds while listing /proc/self/fd.
func listDirectory(_ path: String) throws -> [String] {
    guard let directory = opendir(path) else { return [] }
    defer { closedir(directory) }
    let own = String(dirfd(directory))
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
        if name != "." && name != ".." && name != own { names.append(name) }
    }
    return names
}

func say(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { write(1, $0, strlen($0)) }
}

let arguments = CommandLine.arguments
switch arguments.count > 1 ? arguments[1] : "report" {
case "report":
    say(report().serialized())
case "exit":
    exit(Int32(arguments.count > 2 ? arguments[2] : "0") ?? 0)
case "sleep":
    sleep(UInt32(arguments.count > 2 ? arguments[2] : "1000") ?? 1000)
case "trap":
    var set = sigset_t()
    sigfillset(&set)
    sigprocmask(SIG_BLOCK, &set, nil)
    say("ready")
    while true {
        var info = siginfo_t()
        let signal = sigwaitinfo(&set, &info)
        if signal < 0 { continue }
        say("signal \(signal)")
        if signal == SIGTERM { exit(42) }
    }
case "open-write":
    let fd = open(arguments[2], O_WRONLY | O_CLOEXEC)
    say(fd >= 0 ? "opened" : String(cString: strerror(errno)))
case "notify":
    // sd_notify: one datagram with arguments[2] to $NOTIFY_SOCKET.
    guard let path = environmentList().first(where: { $0.hasPrefix("NOTIFY_SOCKET=") }).map({ String($0.dropFirst(14)) }) else {
        say("no NOTIFY_SOCKET")
        exit(2)
    }
    let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
        for (index, byte) in path.utf8.enumerated() where index < buffer.count - 1 { buffer[index] = byte }
    }
    let message = Array(arguments[2].utf8)
    let sent = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
            message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, target, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
    say(sent < 0 ? "notify failed: \(String(cString: strerror(errno)))" : "notified")
    if arguments.count > 3 { sleep(UInt32(arguments[3]) ?? 0) }
case "cat":
    say(text(arguments[2]) ?? "missing")
default:
    say("unknown probe mode \(arguments[1])")
    exit(2)
}
