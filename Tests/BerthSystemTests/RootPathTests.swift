import BerthSystem
import Glibc
import Testing

/// A rootfs in a temporary directory, with `etc` a symlink to `etcTarget`.
private func makeRootfs(_ temporary: borrowing TemporaryDirectory, etcTarget: String?) throws -> String {
    let rootfs = "\(temporary.path)/rootfs"
    try FileSystem.makeDirectories("\(rootfs)/a/b")
    if let etcTarget {
        #expect(symlink(etcTarget, "\(rootfs)/etc") == 0)
    }
    return rootfs
}

/// A file name no host already has in /etc.
private func escapeName() -> String { "berth-unit-escape-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }

@Suite("RootPath keeps resolution inside the rootfs")
struct RootPathTests {
    @Test("creating through an absolute symlink to /etc never touches the host's /etc", arguments: ["/etc", "../../../../etc"])
    func symlinkToHostEtc(target: String) throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let rootfs = try makeRootfs(temporary, etcTarget: target)
        let name = escapeName()
        let hostPath = "/etc/\(name)"
        #expect(!FileSystem.exists(hostPath))
        defer { if FileSystem.exists(hostPath) { unlink(hostPath) } }

        let root = try RootPath(rootfs)
        do {
            let fd = try root.openCreating("/etc/\(name)", kind: .file)
            defer { close(fd) }
            let current = try #require(RootPath.currentPath(of: fd))
            #expect(current.hasPrefix(rootfs + "/"))
        } catch let error as SystemError {
            // Failing (the symlink resolves to itself inside the root: ELOOP) is fine.
            #expect(error.errno != 0)
        }
        #expect(!FileSystem.exists(hostPath), "created \(hostPath) on the host")
    }

    @Test("creating through an absolute symlink lands inside the rootfs")
    func absoluteSymlinkResolvesInRoot() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let rootfs = try makeRootfs(temporary, etcTarget: "/real-etc")
        try FileSystem.makeDirectories("\(rootfs)/real-etc")
        let root = try RootPath(rootfs)
        let fd = try root.openCreating("/etc/escape", kind: .file)
        defer { close(fd) }
        #expect(RootPath.currentPath(of: fd) == "\(rootfs)/real-etc/escape")
        #expect(FileSystem.exists("\(rootfs)/real-etc/escape"))
        #expect(!FileSystem.isDirectory("\(rootfs)/real-etc/escape"))
    }

    @Test("creating through a relative symlink that climbs out lands inside the rootfs")
    func dotDotSymlinkResolvesInRoot() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let rootfs = try makeRootfs(temporary, etcTarget: "../../../../real-etc")
        try FileSystem.makeDirectories("\(rootfs)/real-etc")
        let root = try RootPath(rootfs)
        let fd = try root.openCreating("/etc/new/dir", kind: .directory)
        defer { close(fd) }
        #expect(RootPath.currentPath(of: fd) == "\(rootfs)/real-etc/new/dir")
        #expect(FileSystem.isDirectory("\(rootfs)/real-etc/new/dir"))
    }

    @Test("a dangling symlink at the final component is not followed out of the rootfs")
    func danglingFinalSymlink() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let rootfs = try makeRootfs(temporary, etcTarget: nil)
        let outside = "\(temporary.path)/outside"
        #expect(symlink(outside, "\(rootfs)/a/link") == 0)
        let root = try RootPath(rootfs)
        do {
            let fd = try root.openCreating("/a/link", kind: .file)
            defer { close(fd) }
            #expect(RootPath.currentPath(of: fd)?.hasPrefix(rootfs + "/") == true)
        } catch {
            #expect(error.errno != 0)
        }
        #expect(!FileSystem.exists(outside))
    }

    @Test("dot-dot past the root stays at the root")
    func dotDotStaysInside() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let rootfs = try makeRootfs(temporary, etcTarget: nil)
        let root = try RootPath(rootfs)
        let fd = try root.open("/a/../../..")
        defer { close(fd) }
        let current = try #require(RootPath.currentPath(of: fd))
        #expect(current.hasPrefix(rootfs))
        #expect(current == rootfs)
    }

    @Test("dot-dot inside a path resolves within the rootfs")
    func dotDotWithin() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let rootfs = try makeRootfs(temporary, etcTarget: nil)
        let root = try RootPath(rootfs)
        let fd = try root.open("/../../a/b/../b")
        defer { close(fd) }
        #expect(RootPath.currentPath(of: fd) == "\(rootfs)/a/b")
    }

    @Test("the root itself opens from an empty path or a slash")
    func openRoot() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let rootfs = try makeRootfs(temporary, etcTarget: nil)
        let root = try RootPath(rootfs)
        for path in ["", "/", "//"] {
            let fd = try root.open(path)
            #expect(RootPath.currentPath(of: fd) == rootfs)
            close(fd)
        }
    }

    @Test("opening a missing path fails with ENOENT and names it under the rootfs")
    func openMissing() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let rootfs = try makeRootfs(temporary, etcTarget: nil)
        let root = try RootPath(rootfs)
        do {
            let fd = try root.open("/missing/file")
            close(fd)
            Issue.record("opened a missing path")
        } catch {
            #expect(error.errno == ENOENT)
            #expect(error.description.contains("\(rootfs)/missing/file"))
        }
    }

    @Test("openCreating makes missing parents and reopens existing entries")
    func openCreatingNested() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let rootfs = try makeRootfs(temporary, etcTarget: nil)
        let root = try RootPath(rootfs)
        let first = try root.openCreating("/x/y/z", kind: .file)
        close(first)
        #expect(FileSystem.isDirectory("\(rootfs)/x/y"))
        #expect(FileSystem.exists("\(rootfs)/x/y/z") && !FileSystem.isDirectory("\(rootfs)/x/y/z"))
        let again = try root.openCreating("/x/y/z", kind: .file)
        defer { close(again) }
        #expect(RootPath.currentPath(of: again) == "\(rootfs)/x/y/z")
    }

    @Test("openCreating a directory under a file fails")
    func openCreatingUnderFile() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let rootfs = try makeRootfs(temporary, etcTarget: nil)
        try writeFile("\(rootfs)/file", "x")
        let root = try RootPath(rootfs)
        #expect(throws: SystemError.self) {
            let fd = try root.openCreating("/file/sub", kind: .directory)
            close(fd)
        }
    }

    @Test("openDirectory gives a real directory descriptor inside the rootfs")
    func openDirectory() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let rootfs = try makeRootfs(temporary, etcTarget: nil)
        let root = try RootPath(rootfs)
        let fd = try root.openDirectory("/a/../../a")
        defer { close(fd) }
        #expect(RootPath.currentPath(of: fd) == "\(rootfs)/a")
        #expect(mkdirat(fd, "made", 0o755) == 0)
        #expect(FileSystem.isDirectory("\(rootfs)/a/made"))
    }

    @Test("a magic link inside the rootfs is not followed")
    func magicLink() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let rootfs = try makeRootfs(temporary, etcTarget: nil)
        #expect(symlink("/proc/self/root", "\(rootfs)/a/host") == 0)
        try FileSystem.makeDirectories("\(rootfs)/proc/self")
        let root = try RootPath(rootfs)
        // /proc/self/root inside the root is a plain (missing) path, not the host's magic link.
        #expect(throws: SystemError.self) {
            let fd = try root.open("/a/host/etc")
            close(fd)
        }
    }

    @Test("paths normalize to an absolute form and relative names for openat2")
    func normalization() {
        #expect(RootPath.normalized("//a///b/") == "/a/b")
        #expect(RootPath.normalized("") == "/")
        #expect(RootPath.relativeName("/") == ".")
        #expect(RootPath.relativeName("/dev//pts/") == "dev/pts")
        #expect(RootPath.procPath(of: 7) == "/proc/self/fd/7")
    }

    @Test("opening a missing rootfs fails")
    func missingRootfs() {
        #expect(throws: SystemError.self) { _ = try RootPath("/nonexistent/berth-unit-rootfs") }
    }
}
