import Synchronization

/// Bytes done and total per layer of the pulls in flight, published from the moment a pull
/// knows its layers (berthctl's progress display and the CRI's pull progress read it).
public final class PullProgress: Sendable {
    public struct Layer: Sendable, Equatable {
        public let digest: String
        public var done: Int64
        public let total: Int64
    }

    private let layers = Mutex<[String: [Layer]]>([:])

    public init() {}

    func start(_ reference: String, layers list: [Layer]) {
        layers.withLock { $0[reference] = list }
    }

    func update(_ reference: String, digest: String, done: Int64) {
        layers.withLock { state in
            guard var list = state[reference], let index = list.firstIndex(where: { $0.digest == digest }) else { return }
            list[index].done = done
            state[reference] = list
        }
    }

    func finish(_ reference: String) {
        layers.withLock { $0[reference] = nil }
    }

    /// The layers of the pull of `reference`, while it runs.
    public func snapshot(_ reference: String) -> [Layer]? {
        layers.withLock { $0[reference] }
    }
}
