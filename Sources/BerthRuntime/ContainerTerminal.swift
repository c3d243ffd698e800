import BerthJSON
import BerthRuntimeSpec
import BerthSystem
import CBerth
import Glibc

/// The container side of `process.terminal`: a pty from the container's own devpts, its
/// master handed to the parent (which passes it to the console socket or proxies it), its
/// peer made the controlling terminal and stdio of the process.
enum ContainerTerminal {
    /// `process.consoleSize` as (rows, columns), if given.
    static func size(of process: Spec.Process) -> (UInt16, UInt16)? {
        guard let size = process.consoleSize, size != .null else { return nil }
        let rows = size["height"]?.int64Value ?? 0
        let columns = size["width"]?.int64Value ?? 0
        guard rows > 0 || columns > 0 else { return nil }
        return (UInt16(clamping: rows), UInt16(clamping: columns))
    }

    /// A process whose pty berth itself proxies to a caller on a terminal (foreground
    /// `run`/`exec -t`, no console socket) starts at the caller's window size: set on the
    /// pty before the program runs, so it never sees a size change (and SIGWINCH) that
    /// only catches up with the size it should have had from the start.
    static func sizedForCaller(_ process: Spec.Process, consoleSocket: String?) -> Spec.Process {
        guard process.terminal == true, consoleSocket == nil, isatty(0) == 1 else { return process }
        var rows: UInt16 = 0
        var columns: UInt16 = 0
        guard berth_get_window_size(0, &rows, &columns) == 0, rows > 0 || columns > 0 else { return process }
        var sized = process
        sized.consoleSize = ["height": .int(rows), "width": .int(columns)]
        return sized
    }

    /// Opens the pty in the current mount namespace (so the peer is /dev/pts/N of the
    /// container), sends the master, then: new session, controlling terminal, stdio.
    static func attach(sendingMasterOver channel: SyncChannel, size: (UInt16, UInt16)?) throws(SystemError) {
        var master: Int32 = -1
        var peer: Int32 = -1
        if berth_open_pty(&master, &peer) != 0 {
            throw SystemError.last("open terminal", "/dev/ptmx", detail: "the container needs a devpts mount at /dev/pts and /dev/ptmx")
        }
        if let (rows, columns) = size, berth_set_window_size(master, rows, columns) != 0 {
            let error = SystemError.last("set terminal size", "\(columns)x\(rows)")
            close(master)
            close(peer)
            throw error
        }
        do {
            try channel.send(.terminal(master))
        } catch {
            close(master)
            close(peer)
            throw SystemError(stage: "send terminal", errno: EIO, detail: error.message)
        }
        close(master)
        if setsid() < 0 { throw SystemError.last("setsid") }
        if berth_set_controlling_terminal(peer) != 0 { throw SystemError.last("set controlling terminal") }
        for target in Int32(0)...2 where dup2(peer, target) < 0 { throw SystemError.last("dup terminal to stdio") }
        if peer > 2 { close(peer) }
    }
}
