import BerthAPI

/// The live per-layer display of `berthctl pull` on a terminal: one line per layer,
/// redrawn in place (cursor up, clear), erased when the pull ends.
struct PullProgressDisplay {
    let console: Console
    private var linesShown = 0

    init(console: Console) {
        self.console = console
    }

    mutating func show(_ update: Berth_V1_PullProgressUpdate) {
        var text = erase()
        for layer in update.layers { text += Self.line(layer) + "\n" }
        linesShown = update.layers.count
        console.out(text)
    }

    mutating func clear() {
        console.out(erase())
        linesShown = 0
    }

    private func erase() -> String {
        linesShown > 0 ? "\u{1B}[\(linesShown)A\u{1B}[J" : ""
    }

    static func line(_ layer: Berth_V1_LayerProgress) -> String {
        var digest = Substring(layer.digest)
        if let colon = digest.firstIndex(of: ":") { digest = digest[digest.index(after: colon)...] }
        let phase: String = switch layer.phase {
        case .waiting: "waiting"
        case .downloading: "downloading"
        case .downloaded: "downloaded"
        case .unpacking: "unpacking"
        case .unpacked: "done"
        case .exists: "already exists"
        case .UNRECOGNIZED: "?"
        }
        let width = 24
        let filled = layer.totalBytes > 0 ? Int(min(layer.doneBytes, layer.totalBytes) * Int64(width) / layer.totalBytes) : width
        let bar = "[" + String(repeating: "=", count: filled) + (filled < width ? ">" + String(repeating: " ", count: width - filled - 1) : "") + "]"
        let bytes = "\(ByteSize.human(Double(layer.doneBytes)))/\(ByteSize.human(Double(layer.totalBytes)))"
        return "\(digest.prefix(12))  \(phase.padding(14))\(bar) \(bytes)"
    }
}
