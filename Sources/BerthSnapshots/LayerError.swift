/// A layer that cannot be applied: names the layer (its digest) and, where one is at fault,
/// the entry, and says why.
public struct LayerError: Error, Sendable, CustomStringConvertible, Equatable {
    public let layer: String
    public let entry: String?
    public let reason: String

    public init(layer: String, entry: String? = nil, _ reason: String) {
        self.layer = layer
        self.entry = entry
        self.reason = reason
    }

    public var description: String {
        if let entry { return "layer \(layer): entry \"\(entry)\": \(reason)" }
        return "layer \(layer): \(reason)"
    }
}
