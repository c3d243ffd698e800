#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Platform {
    /// The platform of the machine Berth runs on, from `uname`: the default target when
    /// choosing a manifest from an index.
    ///
    /// No amd64 level (`v2`..`v4`) is guessed from the CPU, as containerd does not either:
    /// the host takes baseline amd64 images, and a caller that knows better says so.
    public static var host: Platform {
        var names = utsname()
        guard uname(&names) == 0 else { return Platform(os: hostOperatingSystem, architecture: "unknown") }
        let machine = withUnsafeBytes(of: &names.machine) { bytes in
            String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        var platform = Platform(machine: machine)
        platform.os = hostOperatingSystem
        return platform
    }

    /// The Linux platform for a `uname -m` machine name: `x86_64` is amd64, `aarch64` is
    /// arm64, `armv7l` is arm/v7; a name Berth does not know is kept as the architecture.
    public init(machine: String) {
        let architecture: String
        var variant: String?
        switch machine {
        case "x86_64", "amd64":
            architecture = "amd64"
        case "aarch64", "arm64", "aarch64_be":
            architecture = machine == "aarch64_be" ? "arm64be" : "arm64"
        case "i386", "i486", "i586", "i686":
            architecture = "386"
        case "ppc64le", "ppc64", "s390x", "riscv64", "mips64", "mips64el":
            architecture = machine == "mips64el" ? "mips64le" : machine
        case "loongarch64":
            architecture = "loong64"
        default:
            // 32-bit arm reports its architecture version: armv7l, armv6l, armv5tel.
            if machine.hasPrefix("armv"), let version = machine.dropFirst(4).first, version.isNumber {
                architecture = "arm"
                variant = "v\(version)"
            } else {
                architecture = machine
            }
        }
        self.init(os: "linux", architecture: architecture, variant: variant)
    }

    private static var hostOperatingSystem: String {
        #if os(Linux)
        "linux"
        #elseif os(macOS)
        "darwin"
        #else
        "unknown"
        #endif
    }
}
