import BerthJSON

/// A JSON document decoded into `Content`, with its exact bytes and its full JSON tree.
///
/// The typed value reads only what Berth acts on; the tree keeps every member in document
/// order (CRI ImageStatus shows the whole image config in its verbose info), and the bytes
/// are what the digest was computed over.
public struct DecodedDocument<Content: Decodable & Sendable>: Sendable {
    /// The typed view of the document.
    public let content: Content
    /// The whole document as parsed, unknown members included.
    public let json: JSONValue
    /// The document exactly as read.
    public let bytes: [UInt8]

    /// Parses and decodes `bytes`; errors name `source` (a reference or a digest) and the
    /// member at fault.
    public init(decoding bytes: [UInt8], source: String) throws(ImageSpecError) {
        (content, json) = try decodeImageDocument(bytes, as: Content.self, source: source)
        self.bytes = bytes
    }
}

/// Parses `bytes` as JSON and decodes `type` from it, turning both kinds of failure into an
/// `ImageSpecError` that names the source and the document kind.
func decodeImageDocument<Content: Decodable>(
    _ bytes: [UInt8], as type: Content.Type, source: String
) throws(ImageSpecError) -> (Content, JSONValue) {
    let json = try parseImageJSON(bytes, kind: documentKind(of: type), source: source)
    return (try decodeImageJSON(json, as: type, source: source), json)
}

/// Parses `bytes` as JSON; a syntax error names the source and the document kind.
func parseImageJSON(_ bytes: [UInt8], kind: String, source: String) throws(ImageSpecError) -> JSONValue {
    do {
        return try JSONParser.parse(bytes)
    } catch {
        throw ImageSpecError(.invalidDocument, "\(source): \(kind): \(error)")
    }
}

/// Decodes `type` from a parsed document; a mismatch names the source and the member path.
func decodeImageJSON<Content: Decodable>(_ json: JSONValue, as type: Content.Type, source: String) throws(ImageSpecError) -> Content {
    do {
        return try JSONValueDecoder.decode(type, from: json)
    } catch {
        throw ImageSpecError(.invalidDocument, "\(source): \(documentKind(of: type)): \(error)")
    }
}

/// The words for a document type in error messages.
func documentKind<Content>(of type: Content.Type) -> String {
    switch type {
    case is ImageManifest.Type: "image manifest"
    case is ImageIndex.Type: "image index"
    case is ImageConfiguration.Type: "image config"
    default: "document"
    }
}
