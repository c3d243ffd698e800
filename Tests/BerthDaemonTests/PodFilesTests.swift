import Foundation
import Testing

@testable import BerthDaemon

@Suite("a pod's files and cgroups")
struct PodFilesTests {
    @Test("a pod's cgroup goes with the empty cgroups a failed runtime left below it, in every hierarchy", .enabled(if: getuid() == 0 && FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids/cgroup.procs")))
    func cgroupTree() throws {
        let pod = "/berth-test-podfiles-\(getpid())"
        for hierarchy in ["pids", "memory"] {
            try FileManager.default.createDirectory(atPath: "/sys/fs/cgroup/\(hierarchy)\(pod)/container/leftover", withIntermediateDirectories: true)
        }
        PodFiles.removeCgroup(pod)
        for hierarchy in ["pids", "memory"] {
            #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/\(hierarchy)\(pod)"), "\(hierarchy)")
        }
    }
}
