import BerthSystem
import Glibc
import Testing

// The MOUNT_ATTR_* values of <linux/mount.h>.
private let attrReadOnly: UInt64 = 0x1
private let attrNoSuid: UInt64 = 0x2
private let attrNoDev: UInt64 = 0x4

@Suite("MountOptions.parse")
struct MountOptionsTests {
    @Test("flag options set their MS_ flags")
    func setsFlags() {
        let options = MountOptions.parse(["nosuid", "nodev", "noexec", "ro", "relatime"])
        #expect(options.flags == UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_NOEXEC) | UInt(MS_RDONLY) | UInt(MS_RELATIME))
        #expect(options.clearedFlags == 0)
        #expect(options.data.isEmpty)
    }

    @Test("ro then rw leaves read-only cleared")
    func roThenRw() {
        let options = MountOptions.parse(["ro", "rw"])
        #expect(options.flags & UInt(MS_RDONLY) == 0)
        #expect(options.clearedFlags & UInt(MS_RDONLY) != 0)
    }

    @Test("rw then ro leaves read-only set and not cleared")
    func rwThenRo() {
        let options = MountOptions.parse(["rw", "ro"])
        #expect(options.flags & UInt(MS_RDONLY) != 0)
        #expect(options.clearedFlags & UInt(MS_RDONLY) == 0)
    }

    @Test("suid, dev and exec clear their no- flags")
    func clearingOptions() {
        let options = MountOptions.parse(["nosuid", "nodev", "noexec", "suid", "dev", "exec"])
        #expect(options.flags == 0)
        #expect(options.clearedFlags == UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_NOEXEC))
    }

    @Test("bind is a bind mount but not a recursive one")
    func bind() {
        let options = MountOptions.parse(["bind"])
        #expect(options.isBind)
        #expect(!options.isRecursiveBind)
    }

    @Test("rbind is a recursive bind mount")
    func rbind() {
        let options = MountOptions.parse(["rbind", "ro"])
        #expect(options.isBind)
        #expect(options.isRecursiveBind)
        #expect(options.flags & UInt(MS_RDONLY) != 0)
    }

    @Test("no bind option means no bind mount")
    func noBind() {
        #expect(!MountOptions.parse(["nosuid"]).isBind)
    }

    @Test("propagation options are kept as a list in order")
    func propagationOrder() {
        let options = MountOptions.parse(["rprivate", "nosuid", "shared", "rslave", "unbindable"])
        #expect(options.propagation == [UInt(MS_PRIVATE) | UInt(MS_REC), UInt(MS_SHARED), UInt(MS_SLAVE) | UInt(MS_REC), UInt(MS_UNBINDABLE)])
        #expect(options.flags == UInt(MS_NOSUID))
    }

    @Test("recursive options set mount_setattr attributes")
    func recursiveSet() {
        let options = MountOptions.parse(["rro", "rnosuid", "rnodev"])
        #expect(options.recursiveSet == attrReadOnly | attrNoSuid | attrNoDev)
        #expect(options.recursiveClear == 0)
        #expect(options.flags == 0)
    }

    @Test("a later recursive option undoes an earlier one")
    func recursiveClear() {
        let options = MountOptions.parse(["rro", "rnosuid", "rrw"])
        #expect(options.recursiveSet == attrNoSuid)
        #expect(options.recursiveClear == attrReadOnly)
    }

    @Test("unknown options go to the data string joined by commas")
    func dataString() {
        let options = MountOptions.parse(["nosuid", "size=64m", "mode=755", "newinstance"])
        #expect(options.data == ["size=64m", "mode=755", "newinstance"])
        #expect(options.dataString == "size=64m,mode=755,newinstance")
        #expect(options.flags == UInt(MS_NOSUID))
    }

    @Test("empty and defaults options change nothing")
    func emptyOptions() {
        #expect(MountOptions.parse(["", "defaults"]) == MountOptions())
        #expect(MountOptions.parse([]).dataString == "")
    }

    @Test("tmpcopyup is passed to the kernel rather than dropped")
    func tmpcopyup() {
        #expect(MountOptions.parse(["tmpcopyup"]).data == ["tmpcopyup"])
    }

    @Test("the known option list is sorted and covers every table")
    func knownOptions() {
        let known = MountOptions.knownOptions
        #expect(known == known.sorted())
        for name in ["ro", "rbind", "rprivate", "rro", "nosuid", "strictatime"] {
            #expect(known.contains(name))
        }
        #expect(!known.contains("size=64m"))
    }
}
