import Foundation
import Testing

/// Real clients driving berth as their OCI runtime: podman (through conmon) and
/// containerd (through its runc v2 shim), each in a private setup that the scripts in
/// Tests/clients build and always tear down.
@Suite("podman and containerd use berth as their runtime", .serialized, .enabled(if: Binaries.available))
struct ClientTests {
    static let scripts = "\(Binaries.packageRoot)/Tests/clients"
    static let environment = ProcessInfo.processInfo.environment

    @Test("podman run, run -i, run -it, --memory/--cpus/--pids-limit, run -d, exec, exec -it, pause, unpause, top, stop and rm work with --runtime berth", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/podman")))
    func podman() throws {
        let output = try execute("\(Self.scripts)/podman-smoke.sh", [Binaries.berth], environment: Self.environment)
        #expect(output.status == 0, "\(output.stdout)\n\(output.stderr)")
        #expect(output.stdout.contains("RESULT: podman smoke PASSED"))
        #expect(!output.stdout.contains("FAIL:"), "\(output.stdout)")
    }

    @Test("ctr run (rootfs and image), run -d, task exec, task exec -t, task ps, pause, resume, kill and delete work with --runc-binary berth", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/containerd")))
    func containerd() throws {
        let output = try execute("\(Self.scripts)/containerd-smoke.sh", [Binaries.berth], environment: Self.environment)
        #expect(output.status == 0, "\(output.stdout)\n\(output.stderr)")
        #expect(output.stdout.contains("RESULT: containerd smoke PASSED"))
        #expect(!output.stdout.contains("FAIL:"), "\(output.stdout)")
    }
}
