import BerthJSON

extension ImageManifest {
    /// Decodes an image manifest; errors name `source` and the member at fault, and a
    /// Docker schema 1 manifest is refused with `ImageSpecError.Code.schema1Manifest`.
    public static func parse(_ bytes: [UInt8], source: String) throws(ImageSpecError) -> ImageManifest {
        let json = try parseImageJSON(bytes, kind: "image manifest", source: source)
        try checkSchemaVersion(of: json, kind: "image manifest", source: source)
        return try decodeImageJSON(json, as: ImageManifest.self, source: source)
    }
}

extension ImageIndex {
    /// Decodes an image index or manifest list; errors name `source` and the member at fault.
    public static func parse(_ bytes: [UInt8], source: String) throws(ImageSpecError) -> ImageIndex {
        let json = try parseImageJSON(bytes, kind: "image index", source: source)
        try checkSchemaVersion(of: json, kind: "image index", source: source)
        return try decodeImageJSON(json, as: ImageIndex.self, source: source)
    }
}

extension ImageConfiguration {
    /// Decodes an image config; use `DecodedDocument<ImageConfiguration>` to keep its JSON.
    public static func parse(_ bytes: [UInt8], source: String) throws(ImageSpecError) -> ImageConfiguration {
        try decodeImageDocument(bytes, as: ImageConfiguration.self, source: source).0
    }
}

/// Manifests and indexes are schema version 2 in both the OCI and the Docker formats;
/// version 1 is Docker's deprecated schema, refused with its own code. Checked on the JSON
/// tree before decoding, because a schema 1 document lacks the members decoding requires
/// and would otherwise be reported as a missing `config`.
func checkSchemaVersion(of json: JSONValue, kind: String, source: String) throws(ImageSpecError) {
    guard json.objectValue != nil else {
        throw ImageSpecError(.invalidDocument, "\(source): \(kind): expected a json object")
    }
    guard let version = json["schemaVersion"]?.int64Value else {
        throw ImageSpecError(.invalidDocument, "\(source): \(kind): schemaVersion is missing or not a number")
    }
    if version == 1 {
        throw ImageSpecError(.schema1Manifest, schema1Refusal(source: source, mediaType: json["mediaType"]?.stringValue))
    }
    guard version == 2 else {
        throw ImageSpecError(.invalidDocument, "\(source): \(kind): schemaVersion is \(version), expected 2")
    }
}

/// The message for a Docker schema 1 manifest, which Berth does not pull.
func schema1Refusal(source: String, mediaType: String?) -> String {
    let type = mediaType.map { " (\($0))" } ?? ""
    return "\(source): the registry returned a docker image manifest schema 1\(type), which berth does not support;"
        + " push the image again with a current client to get a schema 2 or oci manifest"
}
