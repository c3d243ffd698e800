import CBerth
import Glibc

/// The mount options of an OCI `mounts` entry, split the way the kernel wants them: flags
/// for mount(2), propagation changes (each its own call), recursive attributes for
/// mount_setattr(2), and the rest as the filesystem's data string.
public struct MountOptions: Sendable, Equatable {
    /// MS_* flags for the mount call.
    public var flags: UInt = 0
    /// Flags an option cleared (`rw`, `suid`...), kept so a bind remount does not re-add them.
    public var clearedFlags: UInt = 0
    /// MS_PRIVATE, MS_SHARED... each applied after the mount, in order.
    public var propagation: [UInt] = []
    /// Recursive attributes to set and clear with mount_setattr(AT_RECURSIVE).
    public var recursiveSet: UInt64 = 0
    public var recursiveClear: UInt64 = 0
    /// Filesystem-specific options (`size=64m`, `mode=755`, `newinstance`), comma-joined.
    public var data: [String] = []
    /// `idmap` (this mount) or `ridmap` (and every mount below it): an idmapped mount.
    public var idmap: IDMapOption?

    public enum IDMapOption: Sendable, Equatable {
        case single, recursive
    }

    public init() {}

    public var isBind: Bool { flags & UInt(MS_BIND) != 0 }
    public var isRecursiveBind: Bool { isBind && flags & UInt(MS_REC) != 0 }
    public var dataString: String { data.joined(separator: ",") }

    // Option name -> (clear?, flag), as in mount(8) and runc's table.
    static let flagTable: [String: (clear: Bool, flag: UInt)] = [
        "async": (true, UInt(MS_SYNCHRONOUS)),
        "atime": (true, UInt(MS_NOATIME)),
        "bind": (false, UInt(MS_BIND)),
        "defaults": (false, 0),
        "dev": (true, UInt(MS_NODEV)),
        "diratime": (true, UInt(MS_NODIRATIME)),
        "dirsync": (false, UInt(MS_DIRSYNC)),
        "exec": (true, UInt(MS_NOEXEC)),
        "iversion": (false, UInt(MS_I_VERSION)),
        "lazytime": (false, UInt(MS_LAZYTIME)),
        "loud": (true, UInt(MS_SILENT)),
        "mand": (false, UInt(MS_MANDLOCK)),
        "noatime": (false, UInt(MS_NOATIME)),
        "nodev": (false, UInt(MS_NODEV)),
        "nodiratime": (false, UInt(MS_NODIRATIME)),
        "noexec": (false, UInt(MS_NOEXEC)),
        "noiversion": (true, UInt(MS_I_VERSION)),
        "nolazytime": (true, UInt(MS_LAZYTIME)),
        "nomand": (true, UInt(MS_MANDLOCK)),
        "norelatime": (true, UInt(MS_RELATIME)),
        "nostrictatime": (true, UInt(MS_STRICTATIME)),
        "nosuid": (false, UInt(MS_NOSUID)),
        "rbind": (false, UInt(MS_BIND) | UInt(MS_REC)),
        "relatime": (false, UInt(MS_RELATIME)),
        "remount": (false, UInt(MS_REMOUNT)),
        "ro": (false, UInt(MS_RDONLY)),
        "rw": (true, UInt(MS_RDONLY)),
        "silent": (false, UInt(MS_SILENT)),
        "strictatime": (false, UInt(MS_STRICTATIME)),
        "suid": (true, UInt(MS_NOSUID)),
        "sync": (false, UInt(MS_SYNCHRONOUS)),
    ]

    public static let propagationTable: [String: UInt] = [
        "private": UInt(MS_PRIVATE),
        "rprivate": UInt(MS_PRIVATE) | UInt(MS_REC),
        "shared": UInt(MS_SHARED),
        "rshared": UInt(MS_SHARED) | UInt(MS_REC),
        "slave": UInt(MS_SLAVE),
        "rslave": UInt(MS_SLAVE) | UInt(MS_REC),
        "unbindable": UInt(MS_UNBINDABLE),
        "runbindable": UInt(MS_UNBINDABLE) | UInt(MS_REC),
    ]

    // Recursive variants (runc 1.1+): attribute, and whether the option clears it.
    static let recursiveTable: [String: (clear: Bool, attribute: UInt64)] = [
        "rro": (false, berth_mount_attr_rdonly),
        "rrw": (true, berth_mount_attr_rdonly),
        "rnosuid": (false, berth_mount_attr_nosuid),
        "rsuid": (true, berth_mount_attr_nosuid),
        "rnodev": (false, berth_mount_attr_nodev),
        "rdev": (true, berth_mount_attr_nodev),
        "rnoexec": (false, berth_mount_attr_noexec),
        "rexec": (true, berth_mount_attr_noexec),
        "rnodiratime": (false, berth_mount_attr_nodiratime),
        "rdiratime": (true, berth_mount_attr_nodiratime),
        "rrelatime": (false, berth_mount_attr_relatime),
        "rnorelatime": (true, berth_mount_attr_relatime),
        "rnoatime": (false, berth_mount_attr_noatime),
        "ratime": (true, berth_mount_attr_noatime),
        "rstrictatime": (false, berth_mount_attr_strictatime),
        "rnostrictatime": (true, berth_mount_attr_strictatime),
    ]

    /// Every option name berth understands, for `berth features`.
    public static var knownOptions: [String] {
        (Array(flagTable.keys) + Array(propagationTable.keys) + Array(recursiveTable.keys) + ["idmap", "ridmap"]).sorted()
    }

    /// Splits OCI mount options. Unknown names go to the data string, as runc does, and the
    /// kernel judges them.
    public static func parse(_ options: [String]) -> MountOptions {
        var result = MountOptions()
        for option in options {
            if let entry = flagTable[option] {
                if entry.clear {
                    result.flags &= ~entry.flag
                    result.clearedFlags |= entry.flag
                } else {
                    result.flags |= entry.flag
                    result.clearedFlags &= ~entry.flag
                }
            } else if let flag = propagationTable[option] {
                result.propagation.append(flag)
            } else if let entry = recursiveTable[option] {
                if entry.clear {
                    result.recursiveClear |= entry.attribute
                    result.recursiveSet &= ~entry.attribute
                } else {
                    result.recursiveSet |= entry.attribute
                    result.recursiveClear &= ~entry.attribute
                }
            } else if option == "idmap" || option == "ridmap" {
                result.idmap = option == "idmap" ? .single : .recursive
            } else if !option.isEmpty {
                // runc's `tmpcopyup` is not supported: it reaches the kernel and fails
                // loudly rather than being ignored.
                result.data.append(option)
            }
        }
        return result
    }
}
