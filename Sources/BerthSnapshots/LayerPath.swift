/// An entry's name in a layer, made into components that stay inside the layer's
/// directory: "." and empty components are dropped; "..", an absolute name and an empty one
/// are refused (tar-slip), as is a NUL byte.
struct LayerPath: Equatable {
    let components: [String]

    init(_ name: String, layer: String) throws(LayerError) {
        if name.hasPrefix("/") {
            throw LayerError(layer: layer, entry: name, "absolute path: entries must be relative to the layer's root")
        }
        if name.utf8.contains(0) { throw LayerError(layer: layer, entry: name, "NUL byte in the name") }
        let parts = name.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
        if parts.contains("..") {
            throw LayerError(layer: layer, entry: name, "\"..\" would put it outside the layer's directory")
        }
        components = parts
    }

    var isRoot: Bool { components.isEmpty }
    var parent: [String] { Array(components.dropLast()) }
    var name: String { components.last ?? "" }
    var display: String { components.joined(separator: "/") }
}
