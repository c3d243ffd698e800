import BerthJSON

extension Spec {
    /// The lowest and highest runtime-spec versions berth reads.
    public static let minimumVersion = "1.0.0"
    public static let maximumVersion = "1.3.0"
    /// The version berth writes in `spec` and state output.
    public static let currentVersion = "1.2.0"

    /// Parses config.json text; errors name the file and the member.
    public static func parse(_ bytes: [UInt8], source: String = "config.json") throws(SpecError) -> Spec {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw SpecError("\(source): \(error)")
        }
        let spec: Spec
        do {
            spec = try JSONValueDecoder.decode(Spec.self, from: value)
        } catch {
            throw SpecError("\(source): \(error)")
        }
        try spec.validate(source: source)
        return spec
    }

    /// Checks what decoding cannot: versions, required sections, absolute paths, and the
    /// features this berth does not have yet (each refused with a clear message).
    public func validate(source: String = "config.json") throws(SpecError) {
        guard Self.isSupported(version: ociVersion) else {
            throw SpecError("\(source): ociVersion \"\(ociVersion)\" is not supported (berth reads \(Self.minimumVersion) to 1.3.x)")
        }
        guard let process else { throw SpecError("\(source): process property must not be empty") }
        guard let args = process.args, !args.isEmpty else { throw SpecError("\(source): process.args must not be empty") }
        _ = args
        guard process.cwd.hasPrefix("/") else {
            throw SpecError("\(source): process.cwd \"\(process.cwd)\" must be an absolute path")
        }
        guard let root, !root.path.isEmpty else { throw SpecError("\(source): root.path must be set") }
        if let capabilities = process.capabilities {
            do {
                _ = try CapabilitySets.parse(capabilities)
            } catch {
                throw SpecError("\(source): \(error.message)")
            }
        }
        for (index, mount) in (mounts ?? []).enumerated() where !mount.destination.hasPrefix("/") {
            throw SpecError("\(source): mounts[\(index)].destination \"\(mount.destination)\" must be an absolute path")
        }
        var seen = Set<String>()
        for namespace in linux?.namespaces ?? [] {
            guard NamespaceKind(specName: namespace.type) != nil else {
                throw SpecError("\(source): linux.namespaces: unknown namespace type \"\(namespace.type)\"")
            }
            guard seen.insert(namespace.type).inserted else {
                throw SpecError("\(source): linux.namespaces: \"\(namespace.type)\" is listed twice")
            }
            if namespace.type == "mount", !(namespace.path ?? "").isEmpty {
                // The rootfs is built inside the mount namespace: joining an existing one
                // (the host's, say) would rebuild and pivot that namespace's root.
                throw SpecError("\(source): linux.namespaces: a mount namespace cannot be joined by path; berth builds the rootfs in a new one")
            }
        }
        try validateUserNamespace(source: source)
        if (hostname ?? "").isEmpty == false, !seen.contains("uts") {
            throw SpecError("\(source): hostname is set but there is no uts namespace; add {\"type\": \"uts\"} to linux.namespaces")
        }
        for hook in allHooks where !hook.hook.path.hasPrefix("/") {
            throw SpecError("\(source): hooks.\(hook.kind).path \"\(hook.hook.path)\" must be an absolute path")
        }
        for hook in allHooks where (hook.hook.timeout ?? 1) <= 0 {
            throw SpecError("\(source): hooks.\(hook.kind) timeout must be greater than zero")
        }
        for key in (linux?.sysctl ?? [:]).keys.sorted() {
            try Self.validateSysctl(key, namespaces: seen, source: source)
        }
        for device in linux?.devices ?? [] {
            guard ["c", "u", "b", "p"].contains(device.type) else {
                throw SpecError("\(source): linux.devices \(device.path): unknown type \"\(device.type)\"")
            }
            let components = device.path.split(separator: "/")
            guard device.path.hasPrefix("/dev/"), components.count >= 2, !components.contains(".."), !components.contains(".") else {
                throw SpecError("\(source): linux.devices \(device.path): path must be under /dev")
            }
        }
    }

    /// runc's rules for `linux.uidMappings`/`gidMappings`: a new user namespace needs both,
    /// one joined by path takes none, and there are none without a user namespace.
    func validateUserNamespace(source: String) throws(SpecError) {
        let user = linux?.namespaces?.first { $0.type == "user" }
        let hasMappings = !(linux?.uidMappings ?? []).isEmpty || !(linux?.gidMappings ?? []).isEmpty
        guard let user else {
            if hasMappings {
                throw SpecError("\(source): linux.uidMappings/gidMappings are set but there is no user namespace; add {\"type\": \"user\"} to linux.namespaces")
            }
            return
        }
        if let path = user.path, !path.isEmpty {
            if hasMappings {
                throw SpecError("\(source): linux.namespaces: the user namespace is joined by path (\(path)), so linux.uidMappings/gidMappings must be empty")
            }
            if linux?.namespaces?.contains(where: { $0.type == "pid" && ($0.path ?? "").isEmpty }) == true {
                throw SpecError("\(source): linux.namespaces: a new pid namespace inside a user namespace joined by path is not supported; join the pid namespace by path too")
            }
            return
        }
        for (member, list) in [("uidMappings", linux?.uidMappings ?? []), ("gidMappings", linux?.gidMappings ?? [])] {
            if list.isEmpty {
                throw SpecError("\(source): linux.\(member) must not be empty with a new user namespace (map at least the container's root)")
            }
            if list.count > 340 {
                throw SpecError("\(source): linux.\(member) has \(list.count) entries; the kernel takes at most 340")
            }
            for (index, mapping) in list.enumerated() where mapping.size == 0 {
                throw SpecError("\(source): linux.\(member)[\(index)].size must be greater than zero")
            }
        }
    }

    /// The namespace that isolates sysctl `key`, or nil when none does (writing it would
    /// change the host).
    public static func sysctlNamespace(_ key: String) -> NamespaceKind? {
        let ipcKeys: Set<String> = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]
        if ipcKeys.contains(key) || key.hasPrefix("fs.mqueue.") { return .ipc }
        if key.hasPrefix("net.") { return .network }
        if key == "kernel.hostname" || key == "kernel.domainname" { return .uts }
        return nil
    }

    /// Sysctls a container may set: only those its own namespaces isolate, as runc allows.
    static func validateSysctl(_ key: String, namespaces: Set<String>, source: String) throws(SpecError) {
        let components = key.split(separator: ".", omittingEmptySubsequences: false)
        guard !key.isEmpty, !components.contains(where: { $0.isEmpty || $0 == ".." || $0.contains("/") }) else {
            throw SpecError("\(source): linux.sysctl: invalid key \"\(key)\"")
        }
        guard let needed = sysctlNamespace(key) else {
            throw SpecError("\(source): linux.sysctl: \"\(key)\" is not isolated by any namespace, so setting it would change the host; it is refused")
        }
        guard namespaces.contains(needed.rawValue) else {
            throw SpecError("\(source): linux.sysctl: \"\(key)\" needs the container's own \(needed.rawValue) namespace")
        }
    }

    /// Every hook with the name of its list.
    public var allHooks: [(kind: String, hook: Hook)] {
        guard let hooks else { return [] }
        let lists: [(String, [Hook]?)] = [
            ("prestart", hooks.prestart), ("createRuntime", hooks.createRuntime), ("createContainer", hooks.createContainer),
            ("startContainer", hooks.startContainer), ("poststart", hooks.poststart), ("poststop", hooks.poststop),
        ]
        return lists.flatMap { kind, list in (list ?? []).map { (kind, $0) } }
    }

    /// Whether `version` is within 1.0.0 ... 1.3.x (pre-release suffixes such as
    /// "1.0.2-dev" count as their release).
    public static func isSupported(version: String) -> Bool {
        let core = version.split(separator: "-", maxSplits: 1).first.map(String.init) ?? version
        let parts = core.split(separator: ".").map { Int($0) }
        guard parts.count == 3, let major = parts[0], let minor = parts[1], parts[2] != nil else { return false }
        return major == 1 && (0...3).contains(minor)
    }
}
