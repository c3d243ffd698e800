import BerthJSON

/// The OCI runtime configuration (config.json), versions 1.0.0 through 1.3.x.
///
/// Only what berth acts on is typed; unknown members are ignored, as the spec requires.
/// Sections a later berth version acts on (capabilities, seccomp, resources) are kept as
/// raw JSON so that nothing in a valid config is rejected.
public struct Spec: Decodable, Sendable {
    public var ociVersion: String
    public var process: Process?
    public var root: Root?
    public var hostname: String?
    public var domainname: String?
    public var mounts: [Mount]?
    public var hooks: Hooks?
    public var annotations: [String: String]?
    public var linux: Linux?

    public struct Process: Decodable, Sendable {
        public var terminal: Bool?
        public var consoleSize: JSONValue?
        public var user: User
        public var args: [String]?
        public var commandLine: String?
        public var env: [String]?
        public var cwd: String
        public var capabilities: JSONValue?
        public var rlimits: [Rlimit]?
        public var noNewPrivileges: Bool?
        public var apparmorProfile: String?
        public var oomScoreAdj: Int?
        public var selinuxLabel: String?
        public var ioPriority: JSONValue?
        public var scheduler: JSONValue?
        public var execCPUAffinity: JSONValue?
    }

    public struct User: Decodable, Sendable {
        public var uid: UInt32
        public var gid: UInt32
        public var umask: UInt32?
        public var additionalGids: [UInt32]?
        public var username: String?
    }

    public struct Rlimit: Decodable, Sendable {
        public var type: String
        public var soft: UInt64
        public var hard: UInt64
    }

    public struct Root: Decodable, Sendable {
        public var path: String
        public var readonly: Bool?
    }

    public struct Mount: Decodable, Sendable {
        public var destination: String
        public var type: String?
        public var source: String?
        public var options: [String]?
        public var uidMappings: [IDMapping]?
        public var gidMappings: [IDMapping]?

        public init(destination: String, type: String? = nil, source: String? = nil, options: [String]? = nil) {
            self.destination = destination
            self.type = type
            self.source = source
            self.options = options
        }
    }

    public struct IDMapping: Decodable, Sendable {
        public var containerID: UInt32
        public var hostID: UInt32
        public var size: UInt32
    }

    public struct Hooks: Decodable, Sendable {
        public var prestart: [Hook]?
        public var createRuntime: [Hook]?
        public var createContainer: [Hook]?
        public var startContainer: [Hook]?
        public var poststart: [Hook]?
        public var poststop: [Hook]?
    }

    public struct Hook: Decodable, Sendable, Equatable {
        public var path: String
        public var args: [String]?
        public var env: [String]?
        public var timeout: Int?

        public init(path: String, args: [String]? = nil, env: [String]? = nil, timeout: Int? = nil) {
            self.path = path
            self.args = args
            self.env = env
            self.timeout = timeout
        }
    }

    public struct Linux: Decodable, Sendable {
        public var namespaces: [Namespace]?
        public var uidMappings: [IDMapping]?
        public var gidMappings: [IDMapping]?
        public var timeOffsets: [String: TimeOffset]?
        public var devices: [Device]?
        public var cgroupsPath: String?
        public var resources: LinuxResources?
        public var rootfsPropagation: String?
        public var seccomp: JSONValue?
        public var sysctl: [String: String]?
        public var maskedPaths: [String]?
        public var readonlyPaths: [String]?
        public var mountLabel: String?
        public var personality: JSONValue?
        public var intelRdt: JSONValue?
    }

    public struct Namespace: Decodable, Sendable {
        public var type: String
        public var path: String?
    }

    public struct TimeOffset: Decodable, Sendable {
        public var secs: Int64?
        public var nanosecs: UInt32?
    }

    public struct Device: Decodable, Sendable {
        public var type: String
        public var path: String
        public var major: Int64?
        public var minor: Int64?
        public var fileMode: UInt32?
        public var uid: UInt32?
        public var gid: UInt32?

        public init(type: String, path: String, major: Int64? = nil, minor: Int64? = nil, fileMode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil) {
            self.type = type
            self.path = path
            self.major = major
            self.minor = minor
            self.fileMode = fileMode
            self.uid = uid
            self.gid = gid
        }
    }
}
