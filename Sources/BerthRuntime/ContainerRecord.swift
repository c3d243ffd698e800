import BerthJSON
import BerthRuntimeSpec
import BerthSystem

/// What berth keeps about one container in `<root>/<id>/state.json`: enough to answer
/// `state`, to signal the right process (pid and start time, so a reused pid is never
/// mistaken for the container), and to undo everything at `delete`.
public struct ContainerRecord: Decodable, Sendable {
    public var id: String
    public var pid: Int32
    /// /proc/<pid>/stat start time of the init process.
    public var startTime: UInt64
    public var bundle: String
    public var rootfs: String
    public var created: String
    public var ociVersion: String
    public var annotations: [String: String]?
    /// Every cgroup directory of the container, one per hierarchy.
    public var cgroupDirectories: [String]
    /// The cgroup directories berth made (and so removes).
    public var cgroupCreated: [String]
    /// Whether the container has its own pid namespace (if not, `kill --all` and
    /// `delete --force` must signal every process in its cgroup).
    public var ownPidNamespace: Bool
    /// Hooks run after create: poststart by `start`, poststop by `delete`.
    public var poststart: [Spec.Hook]?
    public var poststop: [Spec.Hook]?

    public init(id: String, pid: Int32, startTime: UInt64, bundle: String, rootfs: String, created: String, ociVersion: String, annotations: [String: String]?, cgroupDirectories: [String], cgroupCreated: [String], ownPidNamespace: Bool, poststart: [Spec.Hook]?, poststop: [Spec.Hook]?) {
        self.id = id
        self.pid = pid
        self.startTime = startTime
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.ociVersion = ociVersion
        self.annotations = annotations
        self.cgroupDirectories = cgroupDirectories
        self.cgroupCreated = cgroupCreated
        self.ownPidNamespace = ownPidNamespace
        self.poststart = poststart
        self.poststop = poststop
    }

    public var json: JSONValue {
        func hooks(_ list: [Spec.Hook]?) -> JSONValue {
            guard let list else { return .null }
            return .array(list.map { hook in
                var object = JSONObject()
                object["path"] = .string(hook.path)
                if let args = hook.args { object["args"] = .array(args.map { .string($0) }) }
                if let env = hook.env { object["env"] = .array(env.map { .string($0) }) }
                if let timeout = hook.timeout { object["timeout"] = .int(timeout) }
                return .object(object)
            })
        }
        var object = JSONObject()
        object["id"] = .string(id)
        object["pid"] = .int(pid)
        object["startTime"] = .int(startTime)
        object["bundle"] = .string(bundle)
        object["rootfs"] = .string(rootfs)
        object["created"] = .string(created)
        object["ociVersion"] = .string(ociVersion)
        object["annotations"] = .object(JSONObject((annotations ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        object["cgroupDirectories"] = .array(cgroupDirectories.map { .string($0) })
        object["cgroupCreated"] = .array(cgroupCreated.map { .string($0) })
        object["ownPidNamespace"] = .bool(ownPidNamespace)
        object["poststart"] = hooks(poststart)
        object["poststop"] = hooks(poststop)
        return .object(object)
    }
}
