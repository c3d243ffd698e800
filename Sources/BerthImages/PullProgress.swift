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
        /// Each pull in flight: its name and its layers in order. Two pulls of one name may
        /// run at once (and even with different layers, when the tag moved between them).
        var pulls: [Int: (name: String, digests: [String])] = [:]
        var nextPull = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Registers a pull; its token goes to `finish`.
    func start(_ reference: String, layers list: [Layer]) -> Int {
        state.withLock { state in
            for layer in list where state.blobs[layer.digest] == nil { state.blobs[layer.digest] = layer }
            state.nextPull += 1
            state.pulls[state.nextPull] = (reference, list.map(\.digest))
            return state.nextPull
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

    /// The pull ended: its blobs' state goes unless another pull in flight lists them.
    func finish(_ token: Int) {
        state.withLock { state in
            guard let pull = state.pulls.removeValue(forKey: token) else { return }
            let stillListed = Set(state.pulls.values.flatMap(\.digests))
            for digest in pull.digests where !stillListed.contains(digest) { state.blobs[digest] = nil }
        }
    }

    /// The layers of the latest pull of `reference` (normalised), bottom first, while it runs.
    public func snapshot(_ reference: String) -> [Layer]? {
        state.withLock { state in
            guard let latest = state.pulls.filter({ $0.value.name == reference }).max(by: { $0.key < $1.key }) else { return nil }
            return latest.value.digests.compactMap { state.blobs[$0] }
        }
    }
}
