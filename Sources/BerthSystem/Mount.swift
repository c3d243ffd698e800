import CBerth
import Glibc

/// mount(2), umount2(2) and friends, with errors that name the target.
public enum Mount {
    /// Mounts with `target` given for messages as `display` (the container path), since the
    /// real target is usually a /proc/self/fd magic link.
    public static func mount(source: String?, target: String, type: String?, flags: UInt, data: String?, display: String) throws(SystemError) {
        let result: Int32
        if let data, !data.isEmpty {
            result = Glibc.mount(source, target, type, flags, data)
        } else {
            result = Glibc.mount(source, target, type, flags, nil)
        }
        if result != 0 {
            var what = display
            if let type { what += " (type \(type))" }
            throw SystemError.last("mount", what)
        }
    }

    /// Changes propagation (MS_PRIVATE, MS_SLAVE|MS_REC...) of the mount at `target`.
    public static func setPropagation(_ flag: UInt, target: String, display: String) throws(SystemError) {
        if Glibc.mount(nil, target, nil, flag, nil) != 0 {
            throw SystemError.last("set mount propagation", display)
        }
    }

    /// Sets recursive attributes with mount_setattr(2) on the mount at `target`.
    public static func setRecursiveAttributes(target: String, set: UInt64, clear: UInt64, display: String) throws(SystemError) {
        var clearMask = clear
        // Changing any atime mode needs the whole atime field cleared first.
        if (set | clear) & (berth_mount_attr_relatime | berth_mount_attr_noatime | berth_mount_attr_strictatime) != 0 {
            clearMask |= berth_mount_attr_atime_mask
        }
        if berth_mount_setattr(AT_FDCWD, target, UInt32(berth_at_recursive), set, clearMask, 0) != 0 {
            throw SystemError.last("mount_setattr", display)
        }
    }

    /// The MS_* flags of the mount holding `path` that a bind remount must keep (a remount
    /// may not clear nosuid/nodev/noexec/atime flags locked on the source).
    public static func lockedFlags(of path: String) -> UInt {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return 0 }
        // ST_* values from <sys/statvfs.h>, which Swift does not import.
        let mapping: [(UInt, UInt)] = [
            (2, UInt(MS_NOSUID)), (4, UInt(MS_NODEV)), (8, UInt(MS_NOEXEC)),
            (1024, UInt(MS_NOATIME)), (2048, UInt(MS_NODIRATIME)), (4096, UInt(MS_RELATIME)), (1, UInt(MS_RDONLY)),
        ]
        var flags: UInt = 0
        for (statFlag, mountFlag) in mapping where info.f_flag & statFlag != 0 { flags |= mountFlag }
        return flags
    }

    public static func unmount(_ target: String, flags: Int32 = Int32(MNT_DETACH)) throws(SystemError) {
        if umount2(target, flags) != 0 { throw SystemError.last("unmount", target) }
    }
}
