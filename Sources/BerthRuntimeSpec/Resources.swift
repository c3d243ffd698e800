/// `linux.resources` of config.json (and of `berth update -r`): what the cgroup
/// controllers enforce. Every member is optional; an absent one leaves the kernel's value.
public struct LinuxResources: Decodable, Sendable, Equatable {
    public var devices: [DeviceRule]?
    public var memory: Memory?
    public var cpu: CPU?
    public var pids: Pids?
    public var blockIO: BlockIO?
    public var hugepageLimits: [HugepageLimit]?
    public var network: Network?
    public var rdma: [String: RdmaLimit]?
    public var unified: [String: String]?

    public init() {}

    /// Whether anything but the device list is asked for (devices are a cgroup matter too,
    /// but a rootless container without cgroups cannot reach host devices anyway).
    public var hasLimits: Bool {
        memory != nil || cpu != nil || pids != nil || blockIO != nil || !(hugepageLimits ?? []).isEmpty || network != nil
            || !(rdma ?? [:]).isEmpty || !(unified ?? [:]).isEmpty
    }

    public struct DeviceRule: Decodable, Sendable, Equatable {
        public var allow: Bool
        public var type: String?
        public var major: Int64?
        public var minor: Int64?
        public var access: String?

        public init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil, access: String? = nil) {
            self.allow = allow
            self.type = type
            self.major = major
            self.minor = minor
            self.access = access
        }
    }

    public struct Memory: Decodable, Sendable, Equatable {
        public var limit: Int64?
        public var reservation: Int64?
        public var swap: Int64?
        public var kernel: Int64?
        public var kernelTCP: Int64?
        public var swappiness: UInt64?
        public var disableOOMKiller: Bool?
        public var useHierarchy: Bool?
        public var checkBeforeUpdate: Bool?
        public init() {}
    }

    public struct CPU: Decodable, Sendable, Equatable {
        public var shares: UInt64?
        public var quota: Int64?
        public var burst: UInt64?
        public var period: UInt64?
        public var realtimeRuntime: Int64?
        public var realtimePeriod: UInt64?
        public var cpus: String?
        public var mems: String?
        public var idle: Int64?
        public init() {}
    }

    public struct Pids: Decodable, Sendable, Equatable {
        public var limit: Int64
        public init(limit: Int64) { self.limit = limit }
    }

    public struct BlockIO: Decodable, Sendable, Equatable {
        public var weight: UInt16?
        public var leafWeight: UInt16?
        public var weightDevice: [WeightDevice]?
        public var throttleReadBpsDevice: [ThrottleDevice]?
        public var throttleWriteBpsDevice: [ThrottleDevice]?
        public var throttleReadIOPSDevice: [ThrottleDevice]?
        public var throttleWriteIOPSDevice: [ThrottleDevice]?
        public init() {}
    }

    public struct WeightDevice: Decodable, Sendable, Equatable {
        public var major: Int64
        public var minor: Int64
        public var weight: UInt16?
        public var leafWeight: UInt16?
    }

    public struct ThrottleDevice: Decodable, Sendable, Equatable {
        public var major: Int64
        public var minor: Int64
        public var rate: UInt64
    }

    public struct HugepageLimit: Decodable, Sendable, Equatable {
        public var pageSize: String
        public var limit: UInt64
    }

    public struct Network: Decodable, Sendable, Equatable {
        public var classID: UInt32?
        public var priorities: [InterfacePriority]?
    }

    public struct InterfacePriority: Decodable, Sendable, Equatable {
        public var name: String
        public var priority: UInt32
    }

    public struct RdmaLimit: Decodable, Sendable, Equatable {
        public var hcaHandles: UInt32?
        public var hcaObjects: UInt32?

        public init(hcaHandles: UInt32?, hcaObjects: UInt32?) {
            self.hcaHandles = hcaHandles
            self.hcaObjects = hcaObjects
        }
    }
}
