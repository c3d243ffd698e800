import CBerth
import Glibc

/// Resolves paths inside a container's root filesystem the way the kernel would after
/// chroot: every symlink, absolute or `..`, stays inside the root (openat2 with
/// RESOLVE_IN_ROOT). A rootfs whose `/etc` points at the host's `/etc` therefore resolves to
/// its own `/etc` (or fails), never to the host's.
///
/// Results are O_PATH descriptors; callers mount onto `/proc/self/fd/N`, so the path is
/// never walked again between the check and the use.
public struct RootPath: ~Copyable {
    /// O_PATH descriptor of the root directory.
    public let rootDescriptor: Int32
    /// The host path of the root, for messages.
    public let rootPath: String

    private static let resolve = berth_resolve_in_root | berth_resolve_no_magiclinks

    public init(_ rootPath: String) throws(SystemError) {
        self.rootPath = rootPath
        rootDescriptor = try retryingInterrupts("open rootfs", rootPath) {
            Glibc.open(rootPath, berth_o_path | O_DIRECTORY | O_CLOEXEC)
        }
    }

    deinit { close(rootDescriptor) }

    /// The kind of file to create at a missing final component.
    public enum Kind: Sendable { case directory, file }

    /// Opens `path` (relative to the root; a leading "/" is allowed) as an O_PATH descriptor.
    public func open(_ path: String) throws(SystemError) -> Int32 {
        let relative = Self.relative(path)
        return try retryingInterrupts("resolve in rootfs", display(path)) {
            Int32(berth_openat2(rootDescriptor, relative.isEmpty ? "." : relative, UInt64(berth_o_path | O_CLOEXEC), 0, Self.resolve))
        }
    }

    /// Opens `path`, creating it and any missing parent directories inside the root first.
    /// Returns an O_PATH descriptor of the final file or directory.
    public func openCreating(_ path: String, kind: Kind, mode: mode_t = 0o755) throws(SystemError) -> Int32 {
        let components = Self.relative(path).split(separator: "/").map(String.init)
        var current = try retryingInterrupts("open rootfs", rootPath) { dup(rootDescriptor) }
        var walked = ""
        for (index, component) in components.enumerated() {
            let isLast = index == components.count - 1
            let parentPath = walked
            walked += "/" + component
            // Each prefix is resolved from the root as a whole, so a symlink met on the way
            // is followed inside the root and never out of it.
            let resolved = berth_openat2(rootDescriptor, String(walked.dropFirst()), UInt64(berth_o_path | O_CLOEXEC), 0, Self.resolve)
            if resolved >= 0 {
                close(current)
                current = Int32(resolved)
                continue
            }
            let openErrno = Glibc.errno
            guard openErrno == ENOENT else {
                close(current)
                throw SystemError(stage: "resolve in rootfs", subject: display(walked), errno: openErrno)
            }
            // Create the missing entry through a real (not O_PATH) descriptor of its parent.
            let parent = berth_openat2(rootDescriptor, parentPath.isEmpty ? "." : String(parentPath.dropFirst()), UInt64(O_DIRECTORY | O_RDONLY | O_CLOEXEC), 0, Self.resolve)
            guard parent >= 0 else {
                let error = SystemError.last("open parent in rootfs", display(parentPath.isEmpty ? "/" : parentPath))
                close(current)
                throw error
            }
            let made: Int32
            if isLast && kind == .file {
                let fd = openat(parent, component, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0o644)
                if fd >= 0 { close(fd); made = 0 } else { made = -1 }
            } else {
                made = mkdirat(parent, component, mode)
            }
            let makeErrno = Glibc.errno
            close(parent)
            if made != 0 && makeErrno != EEXIST {
                close(current)
                throw SystemError(stage: isLast && kind == .file ? "create file in rootfs" : "mkdir in rootfs", subject: display(walked), errno: makeErrno)
            }
            let reopened = berth_openat2(rootDescriptor, String(walked.dropFirst()), UInt64(berth_o_path | O_CLOEXEC), 0, Self.resolve)
            guard reopened >= 0 else {
                let error = SystemError.last("resolve in rootfs", display(walked))
                close(current)
                throw error
            }
            close(current)
            current = Int32(reopened)
        }
        return current
    }

    /// The host path a descriptor from this root refers to right now (for messages and
    /// for checks such as "is this a symlink"), read from /proc/self/fd.
    public static func currentPath(of fd: Int32) -> String? {
        FileSystem.readLink("/proc/self/fd/\(fd)")
    }

    /// The magic-link path through which a mount can target `fd`.
    public static func procPath(of fd: Int32) -> String { "/proc/self/fd/\(fd)" }

    /// Opens `path` inside the root as a real (not O_PATH) directory descriptor, for the
    /// *at() calls (mknodat, symlinkat) that need one.
    public func openDirectory(_ path: String) throws(SystemError) -> Int32 {
        try retryingInterrupts("open directory in rootfs", display(path)) {
            Int32(berth_openat2(rootDescriptor, Self.relativeName(path), UInt64(O_DIRECTORY | O_RDONLY | O_CLOEXEC), 0, Self.resolve))
        }
    }

    /// `path` without leading slashes, "." for the root itself: the form openat2 takes.
    public static func relativeName(_ path: String) -> String {
        let relative = relative(path)
        return relative.isEmpty ? "." : relative
    }

    /// `path` with duplicate and trailing slashes removed, always absolute.
    public static func normalized(_ path: String) -> String {
        "/" + relative(path)
    }

    static func relative(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
    }

    private func display(_ path: String) -> String {
        "\(rootPath)/\(Self.relative(path))"
    }
}
