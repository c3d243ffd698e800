import Glibc
import Synchronization
import class Foundation.Thread

/// Runs blocking work (socket round trips to shims, child processes, waits for a grace
/// period) on a thread of its own instead of the cooperative pool: on two cores that pool
/// has two threads, and one StopContainer waiting 30 s on each would stall every other
/// call berthd serves. Not Dispatch's global queue either: on Linux it adds threads for
/// blocked work only slowly. CRI calls are few; a thread each costs microseconds.
enum Blocking {
    static func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Swift.Result { try body() })
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }
}

/// Locks by name ("pod:<id>", "container:<id>") for calls that must not interleave on
/// the same object: a CreateContainer and a RemovePodSandbox of its pod, a Start and a
/// Remove of one container. Held only on `Blocking` threads, so waiting may block.
final class KeyedLocks: Sendable {
    private let held = Mutex<Set<String>>([])

    func with<Result>(_ key: String, _ body: () throws -> Result) rethrows -> Result {
        while !held.withLock({ $0.insert(key).inserted }) { usleep(5_000) }
        defer { _ = held.withLock { $0.remove(key) } }
        return try body()
    }
}
