import BerthJSON
import BerthShimProtocol
import BerthSystem
import Glibc

/// One berth-shim and the container it monitors (a pod's pause process or a container),
/// as berthd drives it: launch, state, signals, waiting, removal. The shim is the truth
/// about the container; when it is gone, its exit file is; when both are gone the shim
/// died unseen, and berthd kills the container and writes the exit itself (as containerd
/// does for a dead shim), so nothing keeps running that berthd reports exited.
/// Every call blocks (socket round trips, child processes): callers run them off the
/// cooperative pool (`Blocking.run`).
struct ShimHandle: Sendable {
    let id: String
    /// `<dir>/shim`: shim.sock, shim.pid, exit.json, runtime.log.
    let stateDirectory: String
    let runtimeBinary: String
    let runtimeRoot: String

    var socket: String { "\(stateDirectory)/shim.sock" }
    var exitFile: String { "\(stateDirectory)/exit.json" }

    /// Starts a shim that creates the container from `bundle` (the runtime's `create`);
    /// returns once the container exists, or throws the runtime's error.
    func launch(shimBinary: String, bundle: String, logPath: String) throws(ShimProtocolError) {
        let outcome: (status: Int32, output: String)
        do {
            _ = try FileSystem.makeDirectories(runtimeRoot, mode: 0o700)
            outcome = try HelperProcess.run([
                shimBinary, "--id", id, "--bundle", bundle, "--state-dir", stateDirectory, "--log-path", logPath, "--runtime", runtimeBinary, "--runtime-root", runtimeRoot,
            ])
        } catch {
            throw ShimProtocolError("\(error)")
        }
        guard outcome.status == 0 else {
            var message = outcome.output.trimmingSpacesAndNewlines
            if message.hasPrefix("berth-shim: ") { message = String(message.dropFirst(12)) }
            throw ShimProtocolError(message)
        }
    }

    func send(_ request: ShimRequest) throws(ShimProtocolError) -> ShimState {
        try ShimConnection.send(request, to: socket)
    }

    /// What berthd can know of the container.
    enum Observation {
        case known(ShimState)
        /// The shim lives but does not answer (busy or stuck): said, not guessed.
        case unknown(String)
        /// Nothing of it exists (never created, or removed).
        case gone
    }

    /// The container's state: from the shim, else from its exit file, else, when the shim
    /// is proven dead (its life lock is free), after killing what is left of the
    /// container: exit 255 with the reason. A shim that lives but does not answer, or
    /// whose life cannot be told, is unknown: never a reason to kill a container.
    func observe() -> Observation {
        if let state = try? send(.state) { return .known(state) }
        if let exited = exitRecord() { return .known(exited) }
        guard FileSystem.exists(stateDirectory) else { return .gone }
        switch life() {
        case .alive: return .unknown("berth-shim does not answer on \(socket)")
        case .undetermined(let reason): return .unknown(reason)
        case .dead:
            // Asked again: it may have exited and written its record in between.
            if let exited = exitRecord() { return .known(exited) }
            return .known(recordDeadShim())
        }
    }

    enum Life { case alive, dead, undetermined(String) }

    /// Whether the shim process lives: it holds `shim.lock` with flock for its whole life,
    /// so taking the lock proves it gone (the kernel drops it when the process ends).
    func life() -> Life {
        let descriptor = open("\(stateDirectory)/shim.lock", O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return .undetermined("\(stateDirectory)/shim.lock: \(SystemError.describe(errno: errno))") }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 {
            flock(descriptor, LOCK_UN)
            return .dead
        }
        return errno == EWOULDBLOCK ? .alive : .undetermined("\(stateDirectory)/shim.lock: \(SystemError.describe(errno: errno))")
    }

    /// The state when known.
    func state() -> ShimState? {
        if case .known(let state) = observe() { return state }
        return nil
    }

    /// The exit file's state, if the container exited (seen by the shim or by berthd).
    func exitRecord() -> ShimState? {
        guard let bytes = try? FileSystem.read(exitFile), let value = try? JSONParser.parse(bytes) else { return nil }
        return try? ShimState(value)
    }

    /// The shim's pid while it lives (its life lock held; the pid file then names it).
    func shimProcess() -> Int32? {
        guard case .alive = life(), let text = try? FileSystem.readText("\(stateDirectory)/shim.pid"), let pid = Int32(text.trimmingSpacesAndNewlines), pid > 0 else {
            return nil
        }
        return pid
    }

    /// The shim died without an exit file: the container (now nobody's child that berthd
    /// can watch) is killed and removed with the runtime's `delete --force`, and the exit
    /// is written as 255.
    func recordDeadShim() -> ShimState {
        _ = try? runtime(["delete", "--force", id])
        var exited = ShimState(id: id, status: .exited, pid: 0, logPath: "")
        exited.exitCode = 255
        exited.exitedAt = Clock.rfc3339(nanoseconds: Clock.nowNanoseconds())
        exited.message = "berth-shim exited unexpectedly; the container was killed"
        try? FileSystem.writeAtomically(exitFile, Array(exited.json.serialized().utf8))
        return exited
    }

    /// Waits until the container has exited, at most `seconds`; whether it did.
    func waitForExit(seconds: Double) -> Bool {
        let deadline = Clock.monotonicNanoseconds() + Int64(seconds * 1e9)
        while true {
            switch observe() {
            case .gone: return true
            case .known(let state) where state.status == .exited: return true
            default: break
            }
            if Clock.monotonicNanoseconds() >= deadline { return false }
            usleep(20_000)
        }
    }

    /// `signal`, then SIGKILL to every process of the container when it has not exited
    /// after `grace` seconds (the seed's §11.1). Whether it has exited.
    @discardableResult
    func stop(signal: Int32, grace: Double) -> Bool {
        var graceful = grace > 0
        switch observe() {
        case .gone: return true
        case .known(let current) where current.status == .exited: return true
        case .known(let current) where current.status == .created: graceful = false  // never started: nothing to be graceful to
        default: break
        }
        if graceful {
            _ = try? send(.kill(signal: signal, all: false))
            if waitForExit(seconds: grace) { return true }
        }
        _ = try? send(.kill(signal: SIGKILL, all: true))
        return waitForExit(seconds: 10)
    }

    /// The handler's runtime with this container's root: `<runtime> --root R <arguments>`.
    func runtime(_ arguments: [String]) throws(SystemError) -> (status: Int32, output: String) {
        try HelperProcess.run([runtimeBinary, "--root", runtimeRoot] + arguments, timeout: 30)
    }

    /// Whether the runtime still knows the container (its `state` answers).
    func runtimeHasContainer() -> Bool {
        ((try? runtime(["state", id]))?.status ?? 1) == 0
    }

    /// Ends the container and its shim for good: SIGKILL, the wait, the shim's delete; if
    /// the shim cannot (gone, or its delete failed), the shim is killed and the runtime's
    /// `delete --force` runs directly, so neither a container, its cgroup nor a shim is left.
    func remove() {
        _ = try? send(.kill(signal: SIGKILL, all: true))
        _ = waitForExit(seconds: 5)
        if (try? send(.delete)) != nil { return }
        if let pid = shimProcess() { kill(pid, SIGKILL) }
        _ = try? runtime(["delete", "--force", id])
    }
}
