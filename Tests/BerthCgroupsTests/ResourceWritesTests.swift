import BerthCgroups
import BerthRuntimeSpec
import Testing

@Suite("linux.resources as cgroup writes")
struct ResourceWritesTests {
    @Test("the seed's conversions: shares from milli-CPU, weight from shares, cpu.max, io.weight")
    func conversions() {
        #expect(ResourceWrites.cpuShares(milliCPU: 500) == 512)
        #expect(ResourceWrites.cpuShares(milliCPU: 1) == 2)
        #expect(ResourceWrites.cpuWeight(shares: 2) == 1)
        #expect(ResourceWrites.cpuWeight(shares: 1024) == 39)
        #expect(ResourceWrites.cpuWeight(shares: 262144) == 10000)
        #expect(ResourceWrites.cpuMax(quota: 50000, period: 100000) == "50000 100000")
        #expect(ResourceWrites.cpuMax(quota: -1, period: 100000) == "max 100000")
        #expect(ResourceWrites.ioWeight(blkioWeight: 10) == 1)
        #expect(ResourceWrites.ioWeight(blkioWeight: 1000) == 10000)
    }

    func resources(_ edit: (inout LinuxResources) -> Void) -> LinuxResources {
        var resources = LinuxResources()
        edit(&resources)
        return resources
    }

    @Test("v1: cpu, memory (memsw before the limit), pids, blkio, devices after the config's rules")
    func v1() throws {
        let writes = try ResourceWrites.v1(resources { r in
            var cpu = LinuxResources.CPU()
            cpu.shares = 512
            cpu.quota = 50000
            cpu.period = 100000
            cpu.cpus = "0"
            r.cpu = cpu
            var memory = LinuxResources.Memory()
            memory.limit = 1 << 26
            memory.swap = 1 << 27
            r.memory = memory
            r.pids = LinuxResources.Pids(limit: 0)
            r.devices = [LinuxResources.DeviceRule(allow: false, access: "rwm")]
        }, allowedDevices: ["c 1:3 rwm"])
        let lines = writes.map { "\($0.controller) \($0.file)=\($0.value)" }
        #expect(lines == [
            "cpu cpu.shares=512", "cpu cpu.cfs_period_us=100000", "cpu cpu.cfs_quota_us=50000", "cpuset cpuset.cpus=0",
            "memory memory.memsw.limit_in_bytes=134217728", "memory memory.limit_in_bytes=67108864", "pids pids.max=max",
            "devices devices.deny=a", "devices devices.allow=c 1:3 rwm",
        ])
        #expect(writes.first?.field == "linux.resources.cpu.shares")
    }

    @Test("v2: weight, cpu.max, memory.max, swap.max as swap minus limit, -1 as max, unified keys")
    func v2() throws {
        let writes = try ResourceWrites.v2(resources { r in
            var cpu = LinuxResources.CPU()
            cpu.shares = 1024
            cpu.quota = 20000
            cpu.period = 100000
            r.cpu = cpu
            var memory = LinuxResources.Memory()
            memory.limit = 100
            memory.swap = 300
            r.memory = memory
            r.pids = LinuxResources.Pids(limit: -1)
            r.unified = ["memory.high": "50"]
        })
        #expect(writes.map { "\($0.file)=\($0.value)" } == ["cpu.weight=39", "cpu.max=20000 100000", "memory.max=100", "memory.swap.max=200", "pids.max=max", "memory.high=50"])
    }

    @Test("rdma limits are one rdma.max line per device, in both versions")
    func rdma() throws {
        var resources = LinuxResources()
        resources.rdma = ["mlx5_1": LinuxResources.RdmaLimit(hcaHandles: 3, hcaObjects: nil), "mlx4_0": LinuxResources.RdmaLimit(hcaHandles: 2, hcaObjects: 2000)]
        let v1 = try ResourceWrites.v1(resources).map { "\($0.controller) \($0.file)=\($0.value)" }
        #expect(v1 == ["rdma rdma.max=mlx4_0 hca_handle=2 hca_object=2000", "rdma rdma.max=mlx5_1 hca_handle=3"])
        #expect(try ResourceWrites.v2(resources).map(\.file) == ["rdma.max", "rdma.max"])
    }

    @Test("what a version cannot do is refused with the member named")
    func refusals() {
        var unified = LinuxResources()
        unified.unified = ["memory.high": "1"]
        #expect(throws: CgroupError.self) { try ResourceWrites.v1(unified) }
        var swap = LinuxResources()
        var memory = LinuxResources.Memory()
        memory.limit = 300
        memory.swap = 100
        swap.memory = memory
        do {
            _ = try ResourceWrites.v2(swap)
            Issue.record("swap below the limit was accepted")
        } catch {
            #expect(error.message.contains("memory.swap"))
        }
        var bad = LinuxResources()
        bad.unified = ["../escape": "1"]
        #expect(throws: CgroupError.self) { try ResourceWrites.v2(bad) }
    }
}
