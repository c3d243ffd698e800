import BerthJSON

/// The OCI container state, as `berth state` prints it and hooks receive it.
public struct ContainerState: Sendable, Equatable {
    public enum Status: String, Sendable { case creating, created, running, stopped, paused }

    public var ociVersion: String
    public var id: String
    public var status: Status
    public var pid: Int32
    public var bundle: String
    public var rootfs: String
    public var created: String
    public var annotations: [String: String]
    public var owner: String

    public init(ociVersion: String = Spec.currentVersion, id: String, status: Status, pid: Int32, bundle: String, rootfs: String, created: String, annotations: [String: String], owner: String = "") {
        self.ociVersion = ociVersion
        self.id = id
        self.status = status
        self.pid = pid
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.annotations = annotations
        self.owner = owner
    }

    /// runc's `state` and `list --format json` shape: ociVersion, id, pid, status, bundle,
    /// rootfs, created, annotations (when any), owner. A stopped container shows pid 0.
    public var json: JSONValue {
        var object = JSONObject()
        object["ociVersion"] = .string(ociVersion)
        object["id"] = .string(id)
        object["pid"] = .int(status == .stopped ? 0 : pid)
        object["status"] = .string(status.rawValue)
        object["bundle"] = .string(bundle)
        object["rootfs"] = .string(rootfs)
        object["created"] = .string(created)
        if !annotations.isEmpty { object["annotations"] = Self.sortedObject(annotations) }
        object["owner"] = .string(owner)
        return .object(object)
    }

    /// The state hooks get on stdin (the OCI runtime spec's shape): ociVersion, id, status,
    /// pid (absent once stopped), bundle, annotations.
    public func hookJSON(pid hookPid: Int32? = nil) -> JSONValue {
        var object = JSONObject()
        object["ociVersion"] = .string(ociVersion)
        object["id"] = .string(id)
        object["status"] = .string(status.rawValue)
        if status != .stopped { object["pid"] = .int(hookPid ?? pid) }
        object["bundle"] = .string(bundle)
        if !annotations.isEmpty { object["annotations"] = Self.sortedObject(annotations) }
        return .object(object)
    }

    static func sortedObject(_ values: [String: String]) -> JSONValue {
        .object(JSONObject(values.keys.sorted().map { (key: $0, value: .string(values[$0]!)) }))
    }
}
