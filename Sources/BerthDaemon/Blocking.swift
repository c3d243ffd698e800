import Dispatch

/// Runs blocking work (socket round trips to shims, child processes, waits for a grace
/// period) on Dispatch's threads instead of the cooperative pool: on two cores that pool
/// has two threads, and one StopContainer waiting 30 s on each would stall every other
/// call berthd serves.
enum Blocking {
    static func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Swift.Result { try body() })
            }
        }
    }
}
