import BerthAPI
import BerthImageSpec
import BerthImages
import GRPCCore

/// berthd's `berth.v1.PullProgressService`: the per-layer state of a pull in flight, which
/// the CRI's unary PullImage has no way to report (berthctl pull shows it).
public struct PullProgressService: Berth_V1_PullProgressService.SimpleServiceProtocol {
    let progress: PullProgress

    public init(progress: PullProgress) {
        self.progress = progress
    }

    public func watch(request: Berth_V1_WatchPullRequest, response: RPCWriter<Berth_V1_PullProgressUpdate>, context: ServerContext) async throws {
        let name: String
        do {
            name = try ImageReference(parsing: request.image).normalized
        } catch {
            throw RPCError(code: .invalidArgument, message: "Watch \(request.image): \(error.message)")
        }
        // Bounded, so a watcher can neither busy-poll nor wait forever.
        let interval = Duration.milliseconds(request.intervalMs > 0 ? min(max(Int64(request.intervalMs), 50), 10_000) : 200)
        let waitForStart = Duration.milliseconds(request.waitForStartMs > 0 ? min(Int64(request.waitForStartMs), 300_000) : 5000)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: waitForStart)
        var started = false
        while !Task.isCancelled {
            var update = Berth_V1_PullProgressUpdate()
            update.image = name
            if let layers = progress.snapshot(name) {
                started = true
                update.layers = layers.map(Self.message)
                try await response.write(update)
            } else if started {
                update.finished = true
                try await response.write(update)
                return
            } else if clock.now >= deadline {
                throw RPCError(code: .notFound, message: "Watch \(name): no pull of it is running")
            }
            try await Task.sleep(for: interval)
        }
    }

    static func message(_ layer: PullProgress.Layer) -> Berth_V1_LayerProgress {
        var message = Berth_V1_LayerProgress()
        message.digest = layer.digest
        message.doneBytes = layer.done
        message.totalBytes = layer.total
        message.phase = switch layer.phase {
        case .waiting: .waiting
        case .downloading: .downloading
        case .downloaded: .downloaded
        case .unpacking: .unpacking
        case .unpacked: .unpacked
        case .exists: .exists
        }
        return message
    }
}
