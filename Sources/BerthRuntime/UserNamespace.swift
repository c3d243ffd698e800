import BerthRuntimeSpec
import BerthSystem
import CBerth
import Glibc

/// The parent's part of a new user namespace: the uid and gid maps of the child, which
/// the child cannot write itself (it has no rights over the ids outside). Root may map any
/// range; an unprivileged user only its own uid and gid, after `setgroups` is denied.
enum UserNamespace {
    /// "containerID hostID size" lines, as /proc/<pid>/uid_map takes them (in one write).
    static func mapText(_ mappings: [Spec.IDMapping]) -> String {
        mappings.map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
    }

    /// Whether container id `id` falls in one of `mappings`.
    static func maps(_ id: UInt32, in mappings: [Spec.IDMapping]) -> Bool {
        mappings.contains { UInt64(id) >= UInt64($0.containerID) && UInt64(id) < UInt64($0.containerID) + UInt64($0.size) }
    }

    /// The host id that container id `id` maps to, if any.
    static func hostID(_ id: UInt32, in mappings: [Spec.IDMapping]) -> UInt32? {
        guard let mapping = mappings.first(where: { UInt64(id) >= UInt64($0.containerID) && UInt64(id) < UInt64($0.containerID) + UInt64($0.size) }) else { return nil }
        return mapping.hostID + (id - mapping.containerID)
    }

    /// Writes the maps of process `pid`: setgroups first when it must be denied (an
    /// unprivileged writer of gid_map must), then uid_map, then gid_map.
    static func writeMappings(pid: Int32, uid: [Spec.IDMapping], gid: [Spec.IDMapping], denySetgroups: Bool) throws(RuntimeError) {
        if denySetgroups {
            do {
                try FileSystem.writeValue("/proc/\(pid)/setgroups", "deny")
            } catch {
                throw RuntimeError(.system, "user namespace: write /proc/\(pid)/setgroups: \(error)")
            }
        }
        for (name, mappings) in [("uid", uid), ("gid", gid)] {
            let path = "/proc/\(pid)/\(name)_map"
            do {
                try FileSystem.writeValue(path, mapText(mappings))
            } catch {
                let hint = geteuid() == 0
                    ? "the ranges must not overlap and the kernel takes at most 340 lines"
                    : "without privileges only your own \(name) (\(name == "uid" ? geteuid() : getegid())) can be mapped, with size 1"
                throw RuntimeError(.invalidConfig, "linux.\(name)Mappings: write \(path): \(SystemError.describe(errno: error.errno)) (\(hint))")
            }
        }
    }

    /// Checks what an unprivileged user can map, before anything is made.
    static func validateRootless(uid: [Spec.IDMapping], gid: [Spec.IDMapping]) throws(RuntimeError) {
        let own: [(String, [Spec.IDMapping], UInt32)] = [("uid", uid, geteuid()), ("gid", gid, getegid())]
        for (name, mappings, id) in own where mappings.count != 1 || mappings[0].hostID != id || mappings[0].size != 1 {
            throw RuntimeError(.invalidConfig, "rootless: linux.\(name)Mappings must map exactly your own \(name) \(id) with size 1 (berth does not use newuidmap/newgidmap); `berth spec --rootless` writes such a config")
        }
    }
}

/// Joining namespaces by descriptor, in an order that works from outside and inside: each
/// namespace is tried before the user namespace (joined first, it would take away the
/// rights over namespaces owned by an outer one, such as a pod's network namespace), and
/// those refused for lack of rights (an unprivileged user joining its own container's
/// mount namespace) again once inside it.
enum NamespaceJoining {
    static func join(_ namespaces: [(NamespaceKind, Int32)]) throws(SystemError) {
        var retry: [(NamespaceKind, Int32)] = []
        for (kind, descriptor) in namespaces where kind != .user {
            if berth_setns(descriptor, 0) != 0 {
                guard errno == EPERM else { throw SystemError.last("join \(kind.rawValue) namespace", "setns") }
                retry.append((kind, descriptor))
            }
        }
        for (kind, descriptor) in namespaces where kind == .user {
            if berth_setns(descriptor, 0) != 0 { throw SystemError.last("join user namespace", "setns") }
        }
        for (kind, descriptor) in retry where berth_setns(descriptor, 0) != 0 {
            throw SystemError.last("join \(kind.rawValue) namespace", "setns")
        }
    }
}
