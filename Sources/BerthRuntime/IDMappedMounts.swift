import BerthRuntimeSpec
import BerthSystem
import CBerth
import Glibc

/// Idmapped bind mounts (`uidMappings`/`gidMappings` on a mount, or the `idmap`/`ridmap`
/// options): the mount shows a file owned by `containerID` on disk as owned by `hostID`,
/// through a user namespace with those maps attached to the mount by mount_setattr. With
/// the container's own mappings, host files owned by root appear owned by the container's
/// root.
enum IDMappedMounts {
    struct Request {
        let uid: [Spec.IDMapping]
        let gid: [Spec.IDMapping]
        let recursive: Bool
        /// The bind source, resolved as the bind itself would be.
        let source: String
    }

    /// The idmapped mounts of `spec`, by index in `mounts`, checked before anything exists.
    static func requests(_ spec: Spec, bundle: String, rootless: Bool) throws(RuntimeError) -> [Int: Request] {
        var result: [Int: Request] = [:]
        for (index, mount) in (spec.mounts ?? []).enumerated() {
            let options = MountOptions.parse(mount.options ?? [])
            let hasMappings = !(mount.uidMappings ?? []).isEmpty || !(mount.gidMappings ?? []).isEmpty
            guard hasMappings || options.idmap != nil else { continue }
            let member = "mounts[\(index)] \(mount.destination)"
            guard options.isBind || mount.type == "bind" else {
                throw RuntimeError(.invalidConfig, "\(member): idmapped mounts must be bind mounts")
            }
            if rootless {
                throw RuntimeError(.invalidConfig, "\(member): an idmapped mount needs CAP_SYS_ADMIN on the host, which rootless berth does not have")
            }
            let uid = hasMappings ? (mount.uidMappings ?? []) : (spec.linux?.uidMappings ?? [])
            let gid = hasMappings ? (mount.gidMappings ?? []) : (spec.linux?.gidMappings ?? [])
            guard !uid.isEmpty, !gid.isEmpty else {
                throw RuntimeError(.invalidConfig, "\(member): an idmapped mount needs both uidMappings and gidMappings, on the mount or (for the idmap option alone) on the container's user namespace")
            }
            guard let rawSource = mount.source, !rawSource.isEmpty else {
                throw RuntimeError(.invalidConfig, "\(member): source is required")
            }
            let source = rawSource.hasPrefix("/") ? rawSource : "\(bundle)/\(rawSource)"
            result[index] = Request(uid: uid, gid: gid, recursive: options.idmap == .recursive || (options.idmap == nil && options.isRecursiveBind), source: source)
        }
        return result
    }

    /// A descriptor of a new user namespace with these maps. A short-lived child holds the
    /// namespace while the maps are written and the descriptor is opened, then exits.
    static func userNamespace(uid: [Spec.IDMapping], gid: [Spec.IDMapping]) throws(RuntimeError) -> Int32 {
        var pipe: [Int32] = [-1, -1]
        if berth_pipe2_cloexec(&pipe) != 0 { throw RuntimeError(.system, "\(SystemError.last("pipe", "idmapped mount"))") }
        let pid: Int32
        do {
            pid = try ChildClone.clone(flags: berth_clone_newuser, pidNamespace: -1, describing: "user namespace of an idmapped mount") {
                close(pipe[1])
                var byte: UInt8 = 0
                _ = read(pipe[0], &byte, 1)
                _exit(0)
            }
        } catch {
            close(pipe[0])
            close(pipe[1])
            throw error
        }
        close(pipe[0])
        defer {
            close(pipe[1])
            _ = ProcessWaiting.reap(child: pid)
        }
        try UserNamespace.writeMappings(pid: pid, uid: uid, gid: gid, denySetgroups: false)
        let fd = open("/proc/\(pid)/ns/user", O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw RuntimeError(.system, "\(SystemError.last("open", "/proc/\(pid)/ns/user"))") }
        return fd
    }

    /// In the parent, on the host (only there may the maps be set: that takes
    /// CAP_SYS_ADMIN over the source's filesystem): a detached copy of `source` carrying the
    /// maps. The container's init attaches it with `attach`.
    static func detachedTree(source: String, request: Request, member: String) throws(RuntimeError) -> Int32 {
        let userNamespace = try userNamespace(uid: request.uid, gid: request.gid)
        defer { close(userNamespace) }
        let tree = berth_open_tree_clone(source, request.recursive ? 1 : 0)
        if tree < 0 { throw RuntimeError(.invalidConfig, "\(member): \(SystemError.last("open_tree (idmapped mount)", source))") }
        if berth_mount_set_idmap(tree, userNamespace, request.recursive ? 1 : 0) != 0 {
            let error = SystemError.last("mount_setattr idmap", source, detail: errno == EINVAL ? "the filesystem may not support idmapped mounts" : nil)
            close(tree)
            throw RuntimeError(.invalidConfig, "\(member): \(error)")
        }
        return tree
    }

}
