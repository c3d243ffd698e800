import Synchronization

/// Snapshots a CreateContainer in flight is building on, counted: between checking an
/// image's layers and writing the container's row (which then holds them), removing the
/// image must not delete them. The check and the delete happen under one lock, so a
/// reservation either comes first (the layer stays) or finds the layer gone.
public final class SnapshotReservations: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    public init() {}

    public func reserve(_ snapshots: [String]) {
        counts.withLock { counts in for snapshot in snapshots { counts[snapshot, default: 0] += 1 } }
    }

    public func release(_ snapshots: [String]) {
        counts.withLock { counts in
            for snapshot in snapshots {
                let left = (counts[snapshot] ?? 1) - 1
                counts[snapshot] = left > 0 ? left : nil
            }
        }
    }

    /// Runs `remove` unless `snapshot` is reserved, holding the lock throughout.
    public func unlessReserved(_ snapshot: String, _ remove: () -> Void) {
        counts.withLock { counts in if counts[snapshot] == nil { remove() } }
    }
}
