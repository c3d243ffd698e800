import BerthRuntimeSpec
import BerthSystem
import CBerth
import Glibc

/// Bind mounts the parent prepares on the host as detached mount trees (open_tree), which
/// the init attaches in the container (move_mount), by descriptor on both sides:
/// - idmapped mounts, whose maps only the host may set (see `IDMappedMounts`);
/// - in a user namespace, every bind: its source is then resolved with the host's rights,
///   not the mapped root's (which could not pass a 0700 directory such as berth's state
///   root, where the NOTIFY_SOCKET directory lives, or container storage).
/// An unprivileged berth cannot clone mount trees, and binds as before.
enum DetachedMounts {
    /// Detached trees by index in `mounts`, taken into `descriptors`.
    static func prepare(_ spec: Spec, bundle: String, rootless: Bool, inUserNamespace: Bool, descriptors: inout ParentDescriptors) throws(RuntimeError) -> [Int: Int32] {
        var trees: [Int: Int32] = [:]
        for (index, request) in try IDMappedMounts.requests(spec, bundle: bundle, rootless: rootless) {
            let member = "mounts[\(index)] \(spec.mounts![index].destination)"
            trees[index] = try descriptors.take(try IDMappedMounts.detachedTree(source: request.source, request: request, member: member), "open", member)
        }
        guard inUserNamespace && geteuid() == 0 else { return trees }
        for (index, mount) in (spec.mounts ?? []).enumerated() where trees[index] == nil && mount.type != "cgroup" {
            let options = MountOptions.parse(mount.options ?? [])
            guard options.isBind || mount.type == "bind", let rawSource = mount.source, !rawSource.isEmpty else { continue }
            let source = rawSource.hasPrefix("/") ? rawSource : "\(bundle)/\(rawSource)"
            let member = "mounts[\(index)] \(mount.destination)"
            let tree = berth_open_tree_clone(source, options.isRecursiveBind ? 1 : 0)
            if tree < 0 { throw RuntimeError(.invalidConfig, "\(member): \(SystemError.last("open bind source", source))") }
            trees[index] = try descriptors.take(tree, "open", member)
        }
        return trees
    }

    /// In the container's mount namespace: attaches `tree` onto the directory or file
    /// `target` (a descriptor inside the rootfs).
    static func attach(tree: Int32, onto target: Int32, display: String) throws(SystemError) {
        if berth_move_mount_onto(tree, target) != 0 { throw SystemError.last("move_mount", display) }
    }
}
