import BerthSystem
import Glibc

/// The uid, gid and additional groups a container's process runs as, resolved as the
/// kubelet and containerd do: the security context's `run_as_user`/`run_as_username`
/// over the image's `User`, names and a missing group looked up in the container's own
/// `/etc/passwd` and `/etc/group` (read inside the rootfs, never following a link out
/// of it), `run_as_group` over the primary group, and `supplemental_groups` added.
struct ContainerUser: Equatable {
    var uid: UInt32
    var gid: UInt32
    var additionalGids: [UInt32]

    struct Request {
        var runAsUser: Int64?
        var runAsUsername = ""
        var runAsGroup: Int64?
        var supplementalGroups: [Int64] = []
        /// The image config's `User`: `name`, `uid`, `name:group` or `uid:gid`.
        var imageUser = ""
    }

    /// `rootfs` is the container's mounted root; `what` names the container in errors.
    static func resolve(_ request: Request, rootfs: String, what: String) throws(ContainerUserError) -> ContainerUser {
        let passwd = Self.readInRoot(rootfs, "/etc/passwd").map(Self.parsePasswd) ?? []
        let groups = Self.readInRoot(rootfs, "/etc/group").map(Self.parseGroup) ?? []
        var userPart: String
        var groupPart: String?
        if let uid = request.runAsUser {
            guard (0...Int64(UInt32.max - 1)).contains(uid) else { throw ContainerUserError("\(what): run_as_user \(uid) is not a valid uid") }
            userPart = String(uid)
        } else if !request.runAsUsername.isEmpty {
            userPart = request.runAsUsername
        } else {
            let parts = request.imageUser.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            userPart = parts.first ?? ""
            groupPart = parts.count > 1 ? parts[1] : nil
        }
        if userPart.isEmpty { userPart = "0" }

        let entry: (name: String, uid: UInt32, gid: UInt32)?
        var user: ContainerUser
        if let uid = UInt32(userPart) {
            entry = passwd.first { $0.uid == uid }
            user = ContainerUser(uid: uid, gid: entry?.gid ?? 0, additionalGids: [])
        } else {
            guard let found = passwd.first(where: { $0.name == userPart }) else {
                throw ContainerUserError("\(what): user \"\(userPart)\" is not in the image's /etc/passwd; give a numeric uid (run_as_user)")
            }
            entry = found
            user = ContainerUser(uid: found.uid, gid: found.gid, additionalGids: [])
        }
        if let groupPart, !groupPart.isEmpty {
            if let gid = UInt32(groupPart) {
                user.gid = gid
            } else if let group = groups.first(where: { $0.name == groupPart }) {
                user.gid = group.gid
            } else {
                throw ContainerUserError("\(what): group \"\(groupPart)\" is not in the image's /etc/group")
            }
        }
        if let gid = request.runAsGroup {
            guard (0...Int64(UInt32.max - 1)).contains(gid) else { throw ContainerUserError("\(what): run_as_group \(gid) is not a valid gid") }
            user.gid = UInt32(gid)
        }
        // The groups /etc/group lists the user in, as login(1) would give them.
        var additional: [UInt32] = []
        if let name = entry?.name {
            for group in groups where group.members.contains(name) && group.gid != user.gid && !additional.contains(group.gid) {
                additional.append(group.gid)
            }
        }
        for gid in request.supplementalGroups {
            guard (0...Int64(UInt32.max - 1)).contains(gid) else { throw ContainerUserError("\(what): supplemental group \(gid) is not a valid gid") }
            if !additional.contains(UInt32(gid)) { additional.append(UInt32(gid)) }
        }
        user.additionalGids = additional
        return user
    }

    /// A file of the rootfs, resolved inside it; nil when missing or unreadable.
    static func readInRoot(_ rootfs: String, _ path: String) -> String? {
        guard let root = try? RootPath(rootfs), let pathDescriptor = try? root.open(path) else { return nil }
        defer { close(pathDescriptor) }
        // Reopened through the O_PATH descriptor: the same file the resolution found.
        let descriptor = open(RootPath.procPath(of: pathDescriptor), O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size < 4 << 20 else { return nil }
        guard let bytes = try? FileSystem.readAll(descriptor, path: path) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func parsePasswd(_ text: String) -> [(name: String, uid: UInt32, gid: UInt32)] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 4, let uid = UInt32(fields[2]), let gid = UInt32(fields[3]) else { return nil }
            return (String(fields[0]), uid, gid)
        }
    }

    static func parseGroup(_ text: String) -> [(name: String, gid: UInt32, members: [String])] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 3, let gid = UInt32(fields[2]) else { return nil }
            let members = fields.count > 3 ? fields[3].split(separator: ",").map(String.init) : []
            return (String(fields[0]), gid, members)
        }
    }
}

/// A user or group that cannot be resolved, naming the container and the input.
struct ContainerUserError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
