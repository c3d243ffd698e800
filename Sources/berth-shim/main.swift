import BerthShim
import BerthSystem
import CBerth
import Glibc

// berth-shim: one container's monitor (see BerthShim.Shim). berthd runs
//
//   berth-shim --id ID --bundle DIR --state-dir DIR --log-path FILE --runtime PATH [--runtime-root DIR]
//
// which creates the container and exits 0, printing the init's pid, once the container is
// created (or 1 with the runtime's error); the shim itself goes on in its own session,
// detached from berthd, so it outlives berthd's restarts. Requests reach it on
// <state dir>/shim.sock.

func fail(_ message: String) -> Never {
    let line = "berth-shim: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(1)
}

// Nothing berthd had open stays open in the shim (it lives long; a pipe end it kept would
// keep berthd's reader waiting).
_ = berth_close_range(3, UInt32.max)

let usage = "usage: berth-shim --id ID --bundle DIR --state-dir DIR --log-path FILE --runtime PATH [--runtime-root DIR]"
var values: [String: String] = [:]
var words = Array(CommandLine.arguments.dropFirst())
while !words.isEmpty {
    let flag = words.removeFirst()
    guard ["--id", "--bundle", "--state-dir", "--log-path", "--runtime", "--runtime-root"].contains(flag), !words.isEmpty else {
        fail(flag == "--help" || flag == "-h" ? usage : "unknown flag or missing value: \(flag)\n\(usage)")
    }
    values[flag] = words.removeFirst()
}
for required in ["--id", "--bundle", "--state-dir", "--log-path", "--runtime"] where values[required] == nil {
    fail("\(required) is required\n\(usage)")
}
let stateDirectory = values["--state-dir"]!
let options = Shim.Options(
    id: values["--id"]!, bundle: values["--bundle"]!, stateDirectory: stateDirectory, logPath: values["--log-path"]!,
    runtime: RuntimeCommand(path: values["--runtime"]!, root: values["--runtime-root"], logPath: "\(stateDirectory)/runtime.log"))

// The shim reports through this pipe: "ok <pid>" once the container is created, or the error.
var report: [Int32] = [-1, -1]
guard berth_pipe2_cloexec(&report) == 0 else { fail("pipe: \(String(cString: strerror(errno)))") }
let child = fork()
if child < 0 { fail("fork: \(String(cString: strerror(errno)))") }
if child > 0 {
    close(report[1])
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = read(report[0], &buffer, buffer.count)
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { break }
        bytes += buffer[0..<count]
    }
    let message = String(decoding: bytes, as: UTF8.self)
    if message.hasPrefix("ok ") {
        print(message.dropFirst(3))
        exit(0)
    }
    fail(message.isEmpty ? "the shim ended before the container was created" : message)
}

// The shim: its own session, no controlling terminal, stdio on /dev/null once it reports.
close(report[0])
setsid()
_ = berth_set_name("berth-shim")
let reportWriter = report[1]
func tell(_ text: String) {
    _ = text.withCString { write(reportWriter, $0, strlen($0)) }
    close(reportWriter)
}
// Held for the shim's whole life (close-on-exec: no child inherits it): berthd tells a
// dead shim from a live one by whether it can take this lock, which pid reuse and a
// renamed binary cannot fool. Taken before the container exists, so a shim that made a
// container always holds it.
_ = try? FileSystem.makeDirectories(stateDirectory, mode: 0o700)
let lifeLock = open("\(stateDirectory)/shim.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
guard lifeLock >= 0, flock(lifeLock, LOCK_EX | LOCK_NB) == 0 else {
    tell("\(stateDirectory)/shim.lock: \(String(cString: strerror(errno))) (is another shim running for this container?)")
    exit(1)
}
let shim: Shim
do {
    shim = try Shim(options)
} catch {
    tell("\(error)")
    exit(1)
}
// berthd (and the tests) find the shim's own pid here.
try? FileSystem.writeAtomically("\(stateDirectory)/shim.pid", Array("\(getpid())\n".utf8), mode: 0o600)
tell("ok \(shim.state.pid)")
let null = open("/dev/null", O_RDWR)
for descriptor: Int32 in [0, 1, 2] { dup2(null, descriptor) }
close(null)
shim.run()
exit(0)
