/// A CRI server's address: a unix socket, written `unix:///path` (crictl's form) or as a
/// plain absolute path.
public struct CRIEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// The socket's path.
    public let path: String

    public init(parsing text: String) throws(CommandError) {
        if text.hasPrefix("unix://") {
            path = String(text.dropFirst("unix://".count))
        } else if text.hasPrefix("/") {
            path = text
        } else {
            throw CommandError("endpoint \"\(text)\": only unix sockets are supported (unix:///path or /path)")
        }
        guard path.hasPrefix("/"), path.count > 1 else {
            throw CommandError("endpoint \"\(text)\": the socket path must be absolute (unix:///run/berth/berth.sock)")
        }
    }

    public var description: String { "unix://\(path)" }
}
