/// How a layer blob is compressed, as its media type says.
public enum LayerCompression: Sendable, Equatable {
    /// A plain tar archive.
    case uncompressed
    /// A tar archive in a gzip stream.
    case gzip
    /// A tar archive in a zstd stream.
    case zstd
}
