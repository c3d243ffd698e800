import BerthJSON
import BerthRuntime
import BerthRuntimeSpec
import BerthSystem

/// `update`'s flags, as runc's, turned into `linux.resources`.
enum UpdateFlags {
    static let definitions: [FlagDefinition] = [
        .value("memory"), .value("memory-swap"), .value("memory-reservation"), .value("kernel-memory"), .value("kernel-memory-tcp"),
        .value("cpu-shares"), .value("cpu-quota"), .value("cpu-period"), .value("cpu-rt-runtime"), .value("cpu-rt-period"),
        .value("cpuset-cpus"), .value("cpuset-mems"), .value("pids-limit"), .value("blkio-weight"), .value("resources", "r"),
    ]

    static func resources(_ arguments: ParsedArguments) throws -> LinuxResources {
        if let file = arguments.value("resources") {
            let bytes = file == "-" ? try FileSystem.readAll(0, path: "stdin") : try FileSystem.read(file)
            do {
                return try JSONValueDecoder.decode(LinuxResources.self, from: bytes)
            } catch {
                throw UsageError("--resources \(file): \(error)")
            }
        }
        func bytes(_ name: String) throws -> Int64? {
            guard let text = arguments.value(name) else { return nil }
            guard let value = ByteSize.parse(text) else { throw UsageError("invalid value for --\(name): \"\(text)\"") }
            return value
        }
        func number<T: FixedWidthInteger>(_ name: String, _ type: T.Type) throws -> T? {
            guard let text = arguments.value(name) else { return nil }
            guard let value = T(text) else { throw UsageError("invalid value for --\(name): \"\(text)\"") }
            return value
        }
        var resources = LinuxResources()
        var memory = LinuxResources.Memory()
        memory.limit = try bytes("memory")
        memory.swap = try bytes("memory-swap")
        memory.reservation = try bytes("memory-reservation")
        if memory != LinuxResources.Memory() { resources.memory = memory }
        var cpu = LinuxResources.CPU()
        cpu.shares = try number("cpu-shares", UInt64.self)
        cpu.quota = try number("cpu-quota", Int64.self)
        cpu.period = try number("cpu-period", UInt64.self)
        cpu.realtimeRuntime = try number("cpu-rt-runtime", Int64.self)
        cpu.realtimePeriod = try number("cpu-rt-period", UInt64.self)
        cpu.cpus = arguments.value("cpuset-cpus")
        cpu.mems = arguments.value("cpuset-mems")
        if cpu != LinuxResources.CPU() { resources.cpu = cpu }
        if let limit = try number("pids-limit", Int64.self) { resources.pids = LinuxResources.Pids(limit: limit) }
        if let weight = try number("blkio-weight", UInt16.self) {
            var io = LinuxResources.BlockIO()
            io.weight = weight
            resources.blockIO = io
        }
        return resources
    }
}
