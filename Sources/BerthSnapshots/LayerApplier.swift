import BerthSystem
import CArchive
import Glibc

/// Unpacks one layer (tar, pax; uncompressed, gzip or zstd, as libarchive detects) into
/// the empty upper directory of an overlay snapshot. OCI whiteouts become overlay ones
/// (`.wh.name` a 0:0 character device, `.wh..wh..opq` the `trusted.overlay.opaque` xattr),
/// so the snapshot stacks with its parents as the image means.
///
/// Every entry is placed relative to a descriptor of the layer's directory, component by
/// component with O_NOFOLLOW: an entry whose name leaves the directory (`..`, an absolute
/// path), whose parent is a symlink, or a hard link to outside is refused with the layer
/// and the entry named, and nothing outside the directory is ever touched.
public struct LayerApplier {
    /// What was unpacked.
    public struct Result: Sendable, Equatable {
        public var entries = 0
        /// Bytes of file content written.
        public var bytes: Int64 = 0
    }

    let layer: String
    let root: Int32
    /// Directories whose times are set at the end (adding children changes them).
    private var directoryTimes: [(LayerPath, timespec)] = []
    private var result = Result()

    /// Applies the layer at `blob` into `directory`. `layer` names it in errors (its digest).
    /// `observe` sees every byte of the uncompressed tar stream, trailing padding included
    /// (the image's diff id is the digest of exactly that), in order.
    public static func apply(
        blob: String, into directory: String, layer: String, observe: ((UnsafeRawBufferPointer) -> Void)? = nil
    ) throws(LayerError) -> Result {
        let root = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if root < 0 { throw LayerError(layer: layer, "open \(directory): \(SystemError.describe(errno: errno))") }
        defer { close(root) }
        // Two stages: one archive handle only decompresses (format "raw"), the tar reader
        // takes its bytes through a callback that also shows them to `observe`. One pass
        // over the blob, one decompression.
        guard let decompressor = archive_read_new() else { throw LayerError(layer: layer, "libarchive: out of memory") }
        defer { archive_read_free(decompressor) }
        archive_read_support_filter_all(decompressor)
        archive_read_support_format_raw(decompressor)
        if archive_read_open_filename(decompressor, blob, 1 << 20) != berth_archive_ok() {
            throw LayerError(layer: layer, "open \(blob): \(String(cString: archive_error_string(decompressor)))")
        }
        var rawEntry: OpaquePointer?
        guard archive_read_next_header(decompressor, &rawEntry) == berth_archive_ok() else {
            throw LayerError(layer: layer, "read \(blob): \(String(cString: archive_error_string(decompressor)))")
        }
        let stream = UncompressedStream(source: decompressor, observe: observe)
        guard let archive = archive_read_new() else { throw LayerError(layer: layer, "libarchive: out of memory") }
        defer { archive_read_free(archive) }
        archive_read_support_format_tar(archive)
        archive_read_support_format_gnutar(archive)
        let opened = withExtendedLifetime(stream) {
            archive_read_open(archive, Unmanaged.passUnretained(stream).toOpaque(), nil, UncompressedStream.read, nil)
        }
        if opened != berth_archive_ok() {
            throw LayerError(layer: layer, "read \(blob): \(stream.failure ?? String(cString: archive_error_string(archive)))")
        }
        var applier = LayerApplier(layer: layer, root: root)
        do {
            try withExtendedLifetime(stream) { () throws(LayerError) in try applier.run(archive) }
        } catch {
            throw stream.failure.map { LayerError(layer: layer, "read \(blob): \($0)") } ?? error
        }
        // The tar reader stops at the end marker; what follows still counts for the digest.
        if observe != nil { try stream.drain(layer: layer) }
        return applier.result
    }

    private init(layer: String, root: Int32) {
        self.layer = layer
        self.root = root
    }

    private mutating func run(_ archive: OpaquePointer) throws(LayerError) {
        var entry: OpaquePointer?
        while true {
            let status = archive_read_next_header(archive, &entry)
            if status == berth_archive_eof() { break }
            guard status == berth_archive_ok() || status == berth_archive_warn(), let entry else {
                throw LayerError(layer: layer, "read: \(String(cString: archive_error_string(archive)))")
            }
            let name = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
            let path = try LayerPath(name, layer: layer)
            if path.isRoot { continue }
            try place(entry, path: path, archive: archive)
            result.entries += 1
        }
        // Through the same no-symlink walk: a later entry may have replaced a directory
        // with a link.
        for (path, time) in directoryTimes.reversed() {
            guard let parent = try? openParent(path, creating: false) else { continue }
            let times = [time, time]
            _ = utimensat(parent, path.name, times, Int32(AT_SYMLINK_NOFOLLOW))
            if parent != root { close(parent) }
        }
    }

    private mutating func place(_ entry: OpaquePointer, path: LayerPath, archive: OpaquePointer) throws(LayerError) {
        let parent = try openParent(path)
        defer { if parent != root { close(parent) } }
        let name = path.name

        // Whiteouts: the lower layers' file (or directory's content) is gone.
        if name == ".wh..wh..opq" {
            let value: [UInt8] = [UInt8(ascii: "y")]
            if value.withUnsafeBytes({ berth_fsetxattr(parent, "trusted.overlay.opaque", $0.baseAddress, 1) }) != 0 {
                throw failure(path, "mark the directory opaque (trusted.overlay.opaque)")
            }
            return
        }
        if name.hasPrefix(".wh.") {
            let hidden = String(name.dropFirst(4))
            guard !hidden.isEmpty, hidden != ".", hidden != ".." else { throw LayerError(layer: layer, entry: path.display, "whiteout of an invalid name") }
            removeExisting(parent, hidden)
            if mknodat(parent, hidden, S_IFCHR | 0o000, berth_archive_makedev(0, 0)) != 0 { throw failure(path, "create the whiteout for \(hidden)") }
            return
        }

        if let target = archive_entry_hardlink(entry).map({ String(cString: $0) }) {
            let targetPath = try LayerPath(target, layer: layer)
            guard !targetPath.isRoot else { throw LayerError(layer: layer, entry: path.display, "hard link to the layer's root") }
            let targetParent = try openParent(targetPath, creating: false)
            defer { if targetParent != root { close(targetParent) } }
            removeExisting(parent, name)
            if linkat(targetParent, targetPath.name, parent, name, 0) != 0 {
                throw failure(path, "hard link to \(targetPath.display)")
            }
            return
        }

        let mode = mode_t(archive_entry_perm(entry))
        let uid = uid_t(truncatingIfNeeded: archive_entry_uid(entry))
        let gid = gid_t(truncatingIfNeeded: archive_entry_gid(entry))
        let time = timespec(tv_sec: archive_entry_mtime(entry), tv_nsec: archive_entry_mtime_nsec(entry))
        let type = berth_archive_type(entry)

        switch type {
        case berth_archive_type_directory():
            var info = stat()
            if fstatat(parent, name, &info, Int32(AT_SYMLINK_NOFOLLOW)) == 0, (info.st_mode & S_IFMT) != S_IFDIR {
                removeExisting(parent, name)
            }
            if mkdirat(parent, name, 0o700) != 0 && errno != EEXIST { throw failure(path, "mkdir") }
            let directory = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if directory < 0 { throw failure(path, "open the directory") }
            defer { close(directory) }
            try finish(directory, path: path, entry: entry, uid: uid, gid: gid, mode: mode)
            directoryTimes.append((path, time))
        case berth_archive_type_regular():
            removeExisting(parent, name)
            let file = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if file < 0 { throw failure(path, "create") }
            defer { close(file) }
            try copyData(archive, to: file, path: path)
            try finish(file, path: path, entry: entry, uid: uid, gid: gid, mode: mode)
            var times = [time, time]
            _ = futimens(file, &times)
        case berth_archive_type_symlink():
            let target = archive_entry_symlink(entry).map { String(cString: $0) } ?? ""
            removeExisting(parent, name)
            // The link may point anywhere: it is only ever followed inside the container's
            // root, never by the applier (every later path is opened with O_NOFOLLOW).
            if symlinkat(target, parent, name) != 0 { throw failure(path, "symlink to \(target)") }
            if fchownat(parent, name, uid, gid, Int32(AT_SYMLINK_NOFOLLOW)) != 0 { throw failure(path, "chown") }
            let times = [time, time]
            _ = utimensat(parent, name, times, Int32(AT_SYMLINK_NOFOLLOW))
        case berth_archive_type_character(), berth_archive_type_block(), berth_archive_type_fifo():
            removeExisting(parent, name)
            let kind: mode_t = type == berth_archive_type_character() ? S_IFCHR : type == berth_archive_type_block() ? S_IFBLK : S_IFIFO
            let device = berth_archive_makedev(UInt32(archive_entry_rdevmajor(entry)), UInt32(archive_entry_rdevminor(entry)))
            if mknodat(parent, name, kind | (mode & 0o7777), device) != 0 { throw failure(path, "mknod") }
            if fchownat(parent, name, uid, gid, Int32(AT_SYMLINK_NOFOLLOW)) != 0 { throw failure(path, "chown") }
            if fchmodat(parent, name, mode & 0o7777, 0) != 0 { throw failure(path, "chmod") }
            let times = [time, time]
            _ = utimensat(parent, name, times, Int32(AT_SYMLINK_NOFOLLOW))
        default:
            throw LayerError(layer: layer, entry: path.display, "unsupported entry type \(String(type, radix: 8))")
        }
    }

    /// Owner first (chown clears set-id bits), then the mode, then the xattrs.
    private func finish(_ fd: Int32, path: LayerPath, entry: OpaquePointer, uid: uid_t, gid: gid_t, mode: mode_t) throws(LayerError) {
        if fchown(fd, uid, gid) != 0 { throw failure(path, "chown \(uid):\(gid)") }
        if fchmod(fd, mode & 0o7777) != 0 { throw failure(path, "chmod") }
        archive_entry_xattr_reset(entry)
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while archive_entry_xattr_next(entry, &name, &value, &size) == berth_archive_ok(), let name {
            if berth_fsetxattr(fd, name, value, size) != 0 && errno != ENOTSUP {
                throw failure(path, "set xattr \(String(cString: name))")
            }
        }
    }

    private mutating func copyData(_ archive: OpaquePointer, to fd: Int32, path: LayerPath) throws(LayerError) {
        var block: UnsafeRawPointer?
        var size = 0
        var offset: Int64 = 0
        while true {
            let status = archive_read_data_block(archive, &block, &size, &offset)
            if status == berth_archive_eof() { break }
            guard status == berth_archive_ok() || status == berth_archive_warn() else {
                throw LayerError(layer: layer, entry: path.display, "read data: \(String(cString: archive_error_string(archive)))")
            }
            guard let block, size > 0 else { continue }
            var written = 0
            while written < size {
                let count = pwrite(fd, block + written, size - written, off_t(offset) + off_t(written))
                if count < 0 {
                    if errno == EINTR { continue }
                    throw failure(path, "write")
                }
                written += count
            }
            result.bytes += Int64(size)
        }
    }

    /// The entry's parent directory, walked from the layer's root one component at a time
    /// without following symlinks; missing directories are made (0755, root-owned).
    private func openParent(_ path: LayerPath, creating: Bool = true) throws(LayerError) -> Int32 {
        var current = root
        for (index, component) in path.parent.enumerated() {
            var next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT && creating {
                if mkdirat(current, component, 0o755) != 0 && errno != EEXIST {
                    let error = failure(path, "create parent \(path.parent[...index].joined(separator: "/"))")
                    if current != root { close(current) }
                    throw error
                }
                next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            if next < 0 {
                let reason = errno == ELOOP || errno == ENOTDIR
                    ? "its parent \(path.parent[...index].joined(separator: "/")) is a symlink or not a directory (a link could lead outside the layer)"
                    : "open parent \(path.parent[...index].joined(separator: "/")): \(SystemError.describe(errno: errno))"
                if current != root { close(current) }
                throw LayerError(layer: layer, entry: path.display, reason)
            }
            if current != root { close(current) }
            current = next
        }
        return current
    }

    /// Removes what a lower entry of the same layer left at `name` (a file, a link, a
    /// directory tree), so that the new entry replaces it.
    private func removeExisting(_ parent: Int32, _ name: String) {
        if unlinkat(parent, name, 0) == 0 || errno == ENOENT { return }
        if errno == EISDIR || errno == EPERM {
            let child = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if child >= 0 {
                for entry in Self.names(in: child) {
                    removeExisting(child, entry)
                }
                close(child)
            }
            _ = unlinkat(parent, name, Int32(AT_REMOVEDIR))
        }
    }

    private static func names(in directory: Int32) -> [String] {
        let copy = dup(directory)
        guard copy >= 0, let listing = fdopendir(copy) else { return [] }
        defer { closedir(listing) }
        var names: [String] = []
        while let entry = readdir(listing) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    private func failure(_ path: LayerPath, _ action: String) -> LayerError {
        LayerError(layer: layer, entry: path.display, "\(action): \(SystemError.describe(errno: errno))")
    }
}

/// The decompressed bytes of a layer blob, handed to the tar reader block by block and
/// shown to an observer on the way.
private final class UncompressedStream {
    let source: OpaquePointer
    let observe: ((UnsafeRawBufferPointer) -> Void)?
    /// Handed to libarchive, which reads it after the callback returns: allocated once,
    /// not an array's temporary pointer.
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 17, alignment: 16)
    var failure: String?

    init(source: OpaquePointer, observe: ((UnsafeRawBufferPointer) -> Void)?) {
        self.source = source
        self.observe = observe
    }

    deinit {
        buffer.deallocate()
    }

    /// The next block: its size, 0 at the end, -1 on an error.
    func next(_ pointer: UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int {
        let count = archive_read_data(source, buffer.baseAddress, buffer.count)
        if count < 0 {
            failure = String(cString: archive_error_string(source))
            return -1
        }
        observe?(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        pointer?.pointee = UnsafeRawPointer(buffer.baseAddress)
        return count
    }

    func drain(layer: String) throws(LayerError) {
        while true {
            let count = next(nil)
            if count == 0 { return }
            if count < 0 { throw LayerError(layer: layer, "read: \(failure ?? "decompression failed")") }
        }
    }

    static let read: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int = { _, context, pointer in
        guard let context else { return -1 }
        return Unmanaged<UncompressedStream>.fromOpaque(context).takeUnretainedValue().next(pointer)
    }
}
