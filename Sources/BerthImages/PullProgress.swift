import Synchronization

/// The layers of the pulls in flight, published from the moment a pull knows its layers
/// (berthctl's progress display reads them through berthd's PullProgressService).
///
/// State is kept per blob, not per pull: two pulls that share one download (or one layer)
/// both see it move. A blob's state lives while some pull lists it.
public final class PullProgress: Sendable {
    /// Where a layer of a pull is.
    public enum Phase: Sendable, Equatable {
        /// Waiting for a download slot.
        case waiting
        case downloading
        /// Stored and verified; waiting for the layers below it to be unpacked.
        case downloaded
        case unpacking
        case unpacked
        /// Stored before this pull began.
        case exists
    }

    public struct Layer: Sendable, Equatable {
        public let digest: String
        public var done: Int64
        public let total: Int64
        public var phase: Phase
    }

    private struct State {
        var blobs: [String: Layer] = [:]
        /// Each pull's layers in order (a name may be pulled twice at once: counted).
        var pulls: [String: (digests: [String], count: Int)] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    func start(_ reference: String, layers list: [Layer]) {
        state.withLock { state in
            for layer in list where state.blobs[layer.digest] == nil { state.blobs[layer.digest] = layer }
            let count = state.pulls[reference]?.count ?? 0
            state.pulls[reference] = (list.map(\.digest), count + 1)
        }
    }

    func update(_ digest: String, done: Int64) {
        state.withLock { state in
            guard var layer = state.blobs[digest] else { return }
            layer.done = max(layer.done, min(done, layer.total))
            if layer.phase == .waiting { layer.phase = .downloading }
            state.blobs[digest] = layer
        }
    }

    func set(_ digest: String, _ phase: Phase) {
        state.withLock { state in
            guard var layer = state.blobs[digest] else { return }
            // A layer found stored stays `exists`; only unpacking moves it on.
            if layer.phase == .exists && phase == .downloaded { return }
            layer.phase = phase
            if phase != .waiting && phase != .downloading { layer.done = layer.total }
            state.blobs[digest] = layer
        }
    }

    func finish(_ reference: String) {
        state.withLock { state in
            guard let pull = state.pulls[reference] else { return }
            if pull.count > 1 {
                state.pulls[reference] = (pull.digests, pull.count - 1)
                return
            }
            state.pulls[reference] = nil
            let stillListed = Set(state.pulls.values.flatMap(\.digests))
            for digest in pull.digests where !stillListed.contains(digest) { state.blobs[digest] = nil }
        }
    }

    /// The layers of the pull of `reference` (normalised), bottom first, while it runs.
    public func snapshot(_ reference: String) -> [Layer]? {
        state.withLock { state in
            state.pulls[reference].map { pull in pull.digests.compactMap { state.blobs[$0] } }
        }
    }
}
