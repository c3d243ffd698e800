import BerthCgroups
import BerthRuntimeSpec
import BerthSystem
import CBerth
import Glibc

/// Builds the container's filesystem inside its new mount namespace, in the order runc
/// uses: propagation of "/", the rootfs bind, `mounts` in order, devices and /dev links;
/// then (after hooks, see `InitProcess`) pivot_root, and after it sysctls, read-only and
/// masked paths, and finally a read-only root.
struct RootfsSetup {
    let spec: Spec
    let rootfs: String
    let bundle: String
    let cgroupPaths: CgroupPaths
    /// Inside a user namespace the init may not mknod, and may mount sysfs only with a
    /// network namespace of its own: devices are bound from the host, /sys falls back to a
    /// recursive bind (as runc does).
    var inUserNamespace = false
    /// Bind mounts the parent prepared, by index in `mounts`: detached mount trees to
    /// attach in place of the bind (see `DetachedMounts`).
    var detachedMounts: [Int: Int32] = [:]

    /// Whether /dev is a fresh filesystem berth populates (not a bind of the host's /dev).
    var populatesDev: Bool {
        // As runc: unless /dev is a bind (the host's devices), berth creates the nodes,
        // into the image's own /dev when the config mounts nothing there.
        guard let mount = (spec.mounts ?? []).last(where: { RootPath.normalized($0.destination) == "/dev" }) else { return true }
        return !MountOptions.parse(mount.options ?? []).isBind && mount.type != "bind"
    }

    /// Step 1: propagation of the whole tree, then the rootfs as a mount point of its own.
    func prepare() throws(SystemError) {
        let propagation: UInt
        switch spec.linux?.rootfsPropagation ?? "" {
        case "": propagation = UInt(MS_SLAVE) | UInt(MS_REC)
        case let name:
            guard let flag = MountOptions.propagationTable[name] else {
                throw SystemError(stage: "linux.rootfsPropagation", subject: name, errno: EINVAL, detail: "expected private, rprivate, shared, rshared, slave, rslave, unbindable or runbindable")
            }
            propagation = flag
        }
        // A shared propagation is applied to the new root only at the end (`finish`):
        // while the rootfs is built, nothing mounted here may propagate back to the host,
        // and pivot_root refuses a new root whose parent mount is shared.
        let whileBuilding = propagation & UInt(MS_SHARED) != 0 ? UInt(MS_SLAVE) : propagation
        try Mount.setPropagation(whileBuilding | UInt(MS_REC), target: "/", display: "/ (rootfsPropagation)")
        try Mount.mount(source: rootfs, target: rootfs, type: nil, flags: UInt(MS_BIND) | UInt(MS_REC), data: nil, display: "\(rootfs) (rootfs bind)")
    }

    /// Step 2: every entry of `mounts`, in order.
    /// `beforeCgroupMount` runs before each `type: cgroup` mount: the container's cgroup
    /// directories, which those mounts bind, must exist first.
    func mountAll(root: borrowing RootPath, beforeCgroupMount: () throws(SystemError) -> Void) throws(SystemError) {
        for (index, mount) in (spec.mounts ?? []).enumerated() {
            do {
                if mount.type == "cgroup" { try beforeCgroupMount() }
                try mountOne(mount, index: index, root: root)
            } catch {
                throw SystemError(stage: "mounts[\(index)] \(mount.destination)", subject: nil, errno: error.errno, detail: error.description)
            }
        }
    }

    func mountOne(_ mount: Spec.Mount, index: Int, root: borrowing RootPath) throws(SystemError) {
        var options = MountOptions.parse(mount.options ?? [])
        let type = mount.type ?? (options.isBind ? "bind" : "")
        if type == "bind" && !options.isBind { options.flags |= UInt(MS_BIND) }
        let destination = mount.destination

        if type == "cgroup" { return try mountCgroup(mount, options: options, root: root) }

        if options.isBind {
            guard let rawSource = mount.source, !rawSource.isEmpty else {
                throw SystemError(stage: "bind mount", subject: destination, errno: EINVAL, detail: "source is required")
            }
            let source = rawSource.hasPrefix("/") ? rawSource : "\(bundle)/\(rawSource)"
            var info = stat()
            if let tree = detachedMounts[index] {
                guard fstat(tree, &info) == 0 else { throw SystemError.last("stat bind source", source) }
            } else {
                guard stat(source, &info) == 0 else { throw SystemError.last("stat bind source", source) }
            }
            let kind: RootPath.Kind = (info.st_mode & S_IFMT) == S_IFDIR ? .directory : .file
            let target = try root.openCreating(destination, kind: kind)
            defer { close(target) }
            if let tree = detachedMounts[index] {
                try DetachedMounts.attach(tree: tree, onto: target, display: destination)
            } else {
                try Mount.mount(source: source, target: RootPath.procPath(of: target), type: nil, flags: options.flags & (UInt(MS_BIND) | UInt(MS_REC)), data: nil, display: destination)
            }
            // Flags on a bind take a remount of the new mount; re-resolve so the descriptor
            // is the mount's root, not the directory under it.
            let remountFlags = options.flags & ~(UInt(MS_BIND) | UInt(MS_REC) | UInt(MS_REMOUNT))
            if remountFlags != 0 {
                let mounted = try reopenMounted(destination, sameAs: target, root: root)
                defer { close(mounted) }
                let path = RootPath.procPath(of: mounted)
                let keep = Mount.lockedFlags(of: path) & ~options.clearedFlags & ~UInt(MS_RDONLY)
                try Mount.mount(source: nil, target: path, type: nil, flags: UInt(MS_REMOUNT) | UInt(MS_BIND) | remountFlags | keep, data: nil, display: "\(destination) (remount)")
            }
        } else {
            let target = try root.openCreating(destination, kind: .directory)
            defer { close(target) }
            if type == "proc" || type == "sysfs" {
                // CVE-2019-19921 class: a symlinked /proc would put procfs somewhere the
                // masked paths do not cover.
                let expected = RootPath.normalized("\(root.rootPath)/\(destination)")
                if let actual = RootPath.currentPath(of: target), actual != expected {
                    throw SystemError(stage: "mount \(type)", subject: destination, errno: ELOOP, detail: "destination resolves to \(actual); \(type) must be mounted on a real directory, not through a symlink")
                }
            }
            do {
                var data = options.dataString
                // linux.mountLabel, where SELinux is on: the label of the filesystems berth makes.
                if ["tmpfs", "devpts", "mqueue"].contains(type), let context = SecurityModules.mountContext(spec.linux?.mountLabel) {
                    data = data.isEmpty ? context : "\(data),\(context)"
                }
                try Mount.mount(source: mount.source ?? type, target: RootPath.procPath(of: target), type: type, flags: options.flags & ~UInt(MS_REMOUNT), data: data, display: destination)
            } catch where type == "sysfs" && inUserNamespace && error.errno == EPERM {
                // The network namespace belongs to an outer user namespace.
                try Mount.mount(source: "/sys", target: RootPath.procPath(of: target), type: nil, flags: UInt(MS_BIND) | UInt(MS_REC), data: nil, display: "\(destination) (bind of /sys)")
                let mounted = try reopenMounted(destination, sameAs: target, root: root)
                defer { close(mounted) }
                let path = RootPath.procPath(of: mounted)
                let flags = options.flags & (UInt(MS_RDONLY) | UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_NOEXEC))
                try Mount.mount(source: nil, target: path, type: nil, flags: UInt(MS_REMOUNT) | UInt(MS_BIND) | flags | Mount.lockedFlags(of: path), data: nil, display: "\(destination) (bind of /sys)")
            }
        }
        if !options.propagation.isEmpty || options.recursiveSet != 0 || options.recursiveClear != 0 {
            let mounted = try root.open(destination)
            defer { close(mounted) }
            let path = RootPath.procPath(of: mounted)
            for flag in options.propagation { try Mount.setPropagation(flag, target: path, display: destination) }
            if options.recursiveSet != 0 || options.recursiveClear != 0 {
                try Mount.setRecursiveAttributes(target: path, set: options.recursiveSet, clear: options.recursiveClear, display: destination)
            }
        }
    }

    /// `type: cgroup`: a tmpfs with one directory per v1 hierarchy (or the unified
    /// hierarchy itself on a v2 host), each a read-only bind of the container's own cgroup
    /// directory, so the container never sees its siblings. With a cgroup namespace this
    /// is the same view a fresh cgroupfs mount would give, but it does not have to wait
    /// until the process is in its cgroup (see `SyncChannel`).
    func mountCgroup(_ mount: Spec.Mount, options: MountOptions, root: borrowing RootPath) throws(SystemError) {
        let destination = mount.destination
        let target = try root.openCreating(destination, kind: .directory)
        defer { close(target) }
        let flags = options.flags & ~(UInt(MS_BIND) | UInt(MS_REC) | UInt(MS_REMOUNT))
        let layout = cgroupPaths.directories
        if layout.count == 1, layout[0].hierarchy.version == .v2 {
            try bindReadOnly(source: layout[0].directory, target: target, flags: flags, destination: destination, root: root)
            return
        }
        try Mount.mount(source: "tmpfs", target: RootPath.procPath(of: target), type: "tmpfs", flags: flags & ~UInt(MS_RDONLY), data: "mode=755", display: destination)
        for (hierarchy, directory) in layout {
            let name = hierarchy.mountPoint.split(separator: "/").last.map(String.init) ?? hierarchy.controllers.joined(separator: ",")
            let subdirectory = try root.openCreating("\(destination)/\(name)", kind: .directory)
            defer { close(subdirectory) }
            try bindReadOnly(source: directory, target: subdirectory, flags: flags, destination: "\(destination)/\(name)", root: root)
        }
        if options.flags & UInt(MS_RDONLY) != 0 {
            let mounted = try root.open(destination)
            defer { close(mounted) }
            try Mount.mount(source: nil, target: RootPath.procPath(of: mounted), type: nil, flags: UInt(MS_REMOUNT) | flags, data: "mode=755", display: "\(destination) (read-only)")
        }
    }

    /// Opens the mount just made at `destination`: resolved again (a descriptor of the
    /// directory under a mount does not name the mount), and checked to be at the same
    /// place as `target`, so a symlink swapped in meanwhile (a volume shared with another
    /// container) cannot redirect the remount that follows.
    private func reopenMounted(_ destination: String, sameAs target: Int32, root: borrowing RootPath) throws(SystemError) -> Int32 {
        let mounted = try root.open(destination)
        if let now = RootPath.currentPath(of: mounted), let before = RootPath.currentPath(of: target), now != before {
            close(mounted)
            throw SystemError(stage: "remount", subject: destination, errno: EXDEV, detail: "the destination moved from \(before) to \(now) while it was being mounted")
        }
        return mounted
    }

    /// Binds `source` onto the directory `target` and remounts the new mount with `flags`
    /// (the remount must name the new mount, so the destination is resolved again).
    private func bindReadOnly(source: String, target: Int32, flags: UInt, destination: String, root: borrowing RootPath) throws(SystemError) {
        try Mount.mount(source: source, target: RootPath.procPath(of: target), type: nil, flags: UInt(MS_BIND), data: nil, display: destination)
        let mounted = try reopenMounted(destination, sameAs: target, root: root)
        defer { close(mounted) }
        let path = RootPath.procPath(of: mounted)
        try Mount.mount(source: nil, target: path, type: nil, flags: UInt(MS_REMOUNT) | UInt(MS_BIND) | flags | Mount.lockedFlags(of: path), data: nil, display: destination)
    }

    /// Step 3: device nodes (the defaults and `linux.devices`) and the /dev symlinks.
    func createDevices(root: borrowing RootPath) throws(SystemError) {
        // /dev is the host's (a bind mount): never mknod into it.
        guard populatesDev else { return }
        var devices = DefaultDevices.nodes
        for device in spec.linux?.devices ?? [] {
            devices.removeAll { $0.path == device.path }
            devices.append(device)
        }
        for device in devices { try createDevice(device, root: root) }
        let links: [(String, String)] = [
            ("/proc/self/fd", "fd"), ("/proc/self/fd/0", "stdin"), ("/proc/self/fd/1", "stdout"), ("/proc/self/fd/2", "stderr"),
        ] + (FileSystem.exists("/proc/kcore") ? [("/proc/kcore", "core")] : [])
            + ((spec.mounts ?? []).contains { RootPath.normalized($0.destination) == "/dev/pts" } ? [("pts/ptmx", "ptmx")] : [])
        let devDirectory = try root.openDirectory("/dev")
        defer { close(devDirectory) }
        for (target, name) in links {
            if name == "ptmx" { _ = unlinkat(devDirectory, name, 0) }
            if symlinkat(target, devDirectory, name) != 0 && errno != EEXIST {
                throw SystemError.last("symlink", "/dev/\(name) -> \(target)")
            }
        }
    }

    func createDevice(_ device: Spec.Device, root: borrowing RootPath) throws(SystemError) {
        let path = RootPath.normalized(device.path)
        let parentPath = String(path[..<path.lastIndex(of: "/")!])
        let name = String(path[path.index(after: path.lastIndex(of: "/")!)...])
        let parentHandle = try root.openCreating(parentPath.isEmpty ? "/" : parentPath, kind: .directory)
        // A real descriptor of the same directory (mknodat needs one), without resolving
        // the path a second time.
        let parent = openat(parentHandle, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC)
        close(parentHandle)
        if parent < 0 { throw SystemError.last("open", parentPath) }
        defer { close(parent) }
        let typeBits: mode_t
        switch device.type {
        case "b": typeBits = S_IFBLK
        case "p": typeBits = S_IFIFO
        default: typeBits = S_IFCHR
        }
        let permissions = mode_t(device.fileMode ?? 0o666) & 0o7777
        _ = unlinkat(parent, name, 0)
        if inUserNamespace { return try bindDevice(device, parent: parent, name: name) }
        let number = berth_makedev(UInt32(device.major ?? 0), UInt32(device.minor ?? 0))
        if mknodat(parent, name, typeBits | permissions, number) != 0 {
            throw SystemError.last("mknod", device.path)
        }
        // mknod applies the umask; set the mode exactly.
        if fchmodat(parent, name, permissions, 0) != 0 { throw SystemError.last("chmod", device.path) }
        if fchownat(parent, name, device.uid ?? 0, device.gid ?? 0, Int32(AT_SYMLINK_NOFOLLOW)) != 0 {
            throw SystemError.last("chown", device.path)
        }
    }

    /// In a user namespace: an empty file bound over by the host's node at the same path
    /// (the kernel refuses mknod there).
    private func bindDevice(_ device: Spec.Device, parent: Int32, name: String) throws(SystemError) {
        let placeholder = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0o000)
        if placeholder < 0 { throw SystemError.last("create device placeholder", device.path) }
        defer { close(placeholder) }
        var info = stat()
        guard stat(device.path, &info) == 0 else {
            throw SystemError.last("stat host device", device.path, detail: "in a user namespace devices are bound from the host's node at the same path")
        }
        try Mount.mount(source: device.path, target: RootPath.procPath(of: placeholder), type: nil, flags: UInt(MS_BIND), data: nil, display: "\(device.path) (device bind)")
    }

    /// Step 4: make the rootfs "/", and detach the old root so nothing of the host stays
    /// reachable. With --no-pivot (for ramfs roots), move the rootfs over "/" and chroot.
    static func enterRoot(_ rootfs: String, noPivot: Bool) throws(SystemError) {
        if noPivot {
            try retryingInterrupts("chdir", rootfs) { chdir(rootfs) }
            try Mount.mount(source: rootfs, target: "/", type: nil, flags: UInt(MS_MOVE), data: nil, display: "\(rootfs) (move to /)")
            try retryingInterrupts("chroot", rootfs) { chroot(".") }
            try retryingInterrupts("chdir", "/") { chdir("/") }
            return
        }
        let oldRoot = try retryingInterrupts("open", "/") { open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC) }
        defer { close(oldRoot) }
        let newRoot = try retryingInterrupts("open", rootfs) { open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC) }
        defer { close(newRoot) }
        try retryingInterrupts("fchdir", rootfs) { fchdir(newRoot) }
        // pivot_root(".", ".") stacks the old root on top of the new one at "/"; unmount it
        // from there. Making it a slave first keeps the unmount from propagating to the host.
        try retryingInterrupts("pivot_root", rootfs) { berth_pivot_root(".", ".") }
        try retryingInterrupts("fchdir", "old root") { fchdir(oldRoot) }
        try Mount.setPropagation(UInt(MS_SLAVE) | UInt(MS_REC), target: ".", display: "old root")
        try Mount.unmount(".", flags: Int32(MNT_DETACH))
        try retryingInterrupts("chdir", "/") { chdir("/") }
    }

    /// Step 5 (inside the new root): sysctls, read-only paths, masked paths, read-only root.
    /// Sysctls come before the read-only and masked paths, because /proc/sys is read-only
    /// after them.
    func finish() throws(SystemError) {
        for (key, value) in (spec.linux?.sysctl ?? [:]).sorted(by: { $0.key < $1.key }) {
            let path = "/proc/sys/" + key.replacingDots()
            do {
                try FileSystem.writeValue(path, value)
            } catch {
                throw SystemError(stage: "write sysctl", subject: "\(key)=\(value)", errno: error.errno, detail: path)
            }
        }
        let root = try RootPath("/")
        var devNull: Int32 = -1
        defer { if devNull >= 0 { close(devNull) } }
        for path in spec.linux?.readonlyPaths ?? [] {
            let fd = berth_openat2(root.rootDescriptor, RootPath.relativeName(path), UInt64(berth_o_path | O_CLOEXEC), 0, berth_resolve_in_root | berth_resolve_no_magiclinks)
            if fd < 0 {
                if errno == ENOENT { continue }
                throw SystemError.last("readonly path", path)
            }
            defer { close(fd) }
            let procPath = RootPath.procPath(of: fd)
            try Mount.mount(source: procPath, target: procPath, type: nil, flags: UInt(MS_BIND) | UInt(MS_REC), data: nil, display: "\(path) (readonly path)")
            let mounted = try root.open(path)
            defer { close(mounted) }
            let mountedPath = RootPath.procPath(of: mounted)
            try Mount.mount(source: nil, target: mountedPath, type: nil, flags: UInt(MS_BIND) | UInt(MS_REMOUNT) | UInt(MS_RDONLY) | UInt(MS_REC) | Mount.lockedFlags(of: mountedPath), data: nil, display: "\(path) (readonly path)")
        }
        for path in spec.linux?.maskedPaths ?? [] {
            let fd = berth_openat2(root.rootDescriptor, RootPath.relativeName(path), UInt64(berth_o_path | O_CLOEXEC), 0, berth_resolve_in_root | berth_resolve_no_magiclinks)
            if fd < 0 {
                if errno == ENOENT { continue }
                throw SystemError.last("masked path", path)
            }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw SystemError.last("stat masked path", path) }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                try Mount.mount(source: "tmpfs", target: RootPath.procPath(of: fd), type: "tmpfs", flags: UInt(MS_RDONLY), data: nil, display: "\(path) (masked path)")
            } else {
                if devNull < 0 { devNull = try Self.openDevNull(root: root) }
                try Mount.mount(source: RootPath.procPath(of: devNull), target: RootPath.procPath(of: fd), type: nil, flags: UInt(MS_BIND), data: nil, display: "\(path) (masked path)")
            }
        }
        if spec.root?.readonly == true {
            try Mount.mount(source: nil, target: "/", type: nil, flags: UInt(MS_BIND) | UInt(MS_REMOUNT) | UInt(MS_RDONLY) | Mount.lockedFlags(of: "/"), data: nil, display: "/ (root.readonly)")
        }
        if let name = spec.linux?.rootfsPropagation, let flag = MountOptions.propagationTable[name], flag & UInt(MS_SHARED) != 0 {
            try Mount.setPropagation(flag, target: "/", display: "/ (rootfsPropagation)")
        }
    }
}

extension RootfsSetup {
    /// The container's /dev/null, checked to be the real device (character 1:3): a masked
    /// file is covered with it, and an image's own "/dev/null" could be a symlink to, or a
    /// copy of, something else (the class of runc's CVE-2025-31133).
    static func openDevNull(root: borrowing RootPath) throws(SystemError) -> Int32 {
        let fd = try root.open("/dev/null")
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFCHR, berth_major(info.st_rdev) == 1, berth_minor(info.st_rdev) == 3 else {
            close(fd)
            throw SystemError(stage: "masked paths", subject: "/dev/null", errno: EINVAL, detail: "the container's /dev/null is not the null device (character 1:3)")
        }
        return fd
    }
}

extension String {
    func replacingDots() -> String { String(map { $0 == "." ? "/" : $0 }) }
}

/// The devices every container gets when berth populates its /dev, as in runc.
enum DefaultDevices {
    static let nodes: [Spec.Device] = [
        Spec.Device(type: "c", path: "/dev/null", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0),
        Spec.Device(type: "c", path: "/dev/zero", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0),
        Spec.Device(type: "c", path: "/dev/full", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0),
        Spec.Device(type: "c", path: "/dev/random", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0),
        Spec.Device(type: "c", path: "/dev/urandom", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0),
        Spec.Device(type: "c", path: "/dev/tty", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0),
    ]
}
