import BerthSystem
import Glibc
import Testing

@Suite("FileSystem")
struct FileSystemTests {
    @Test("makeDirectories returns exactly the directories it created, outermost first")
    func makeDirectoriesReturnsCreated() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let created = try FileSystem.makeDirectories("\(temporary.path)/a/b/c")
        #expect(created == ["\(temporary.path)/a", "\(temporary.path)/a/b", "\(temporary.path)/a/b/c"])
        #expect(FileSystem.isDirectory("\(temporary.path)/a/b/c"))
    }

    @Test("makeDirectories does not report directories that already existed")
    func makeDirectoriesSkipsExisting() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        try FileSystem.makeDirectories("\(temporary.path)/a/b")
        #expect(try FileSystem.makeDirectories("\(temporary.path)/a/b/c/d") == ["\(temporary.path)/a/b/c", "\(temporary.path)/a/b/c/d"])
        #expect(try FileSystem.makeDirectories("\(temporary.path)/a/b/c/d").isEmpty)
    }

    @Test("makeDirectories ignores repeated and trailing slashes")
    func makeDirectoriesSlashes() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        #expect(try FileSystem.makeDirectories("\(temporary.path)//x///y/") == ["\(temporary.path)/x", "\(temporary.path)/x/y"])
    }

    @Test("makeDirectories refuses a file in the way")
    func makeDirectoriesFileInTheWay() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        try writeFile("\(temporary.path)/file", "x")
        do {
            try FileSystem.makeDirectories("\(temporary.path)/file/sub")
            Issue.record("created a directory under a file")
        } catch {
            #expect(error.errno == ENOTDIR)
            #expect(error.description.contains("\(temporary.path)/file"))
        }
    }

    @Test("makeDirectories leaves nothing behind when a deeper level fails")
    func makeDirectoriesCleansUpOnFailure() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let tooLong = String(repeating: "x", count: 300)
        #expect(throws: SystemError.self) { try FileSystem.makeDirectories("\(temporary.path)/new/\(tooLong)") }
        #expect(!FileSystem.exists("\(temporary.path)/new"), "the caller cannot know to remove it")
    }

    @Test("makeDirectories uses the mode it is given")
    func makeDirectoriesMode() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let previous = umask(0)
        defer { umask(previous) }
        try FileSystem.makeDirectories("\(temporary.path)/private", mode: 0o700)
        var info = stat()
        #expect(stat("\(temporary.path)/private", &info) == 0)
        #expect(info.st_mode & 0o777 == 0o700)
    }

    @Test("writeAtomically creates a file and then replaces its content")
    func writeAtomicallyReplaces() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let path = "\(temporary.path)/state.json"
        try FileSystem.writeAtomically(path, Array("first, longer content".utf8))
        #expect(try FileSystem.readText(path) == "first, longer content")
        try FileSystem.writeAtomically(path, Array("second".utf8))
        #expect(try FileSystem.readText(path) == "second")
        #expect(try FileSystem.listDirectory(temporary.path) == ["state.json"])
    }

    @Test("writeAtomically gives the file mode 0600 by default")
    func writeAtomicallyMode() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let path = "\(temporary.path)/f"
        try FileSystem.writeAtomically(path, [1, 2, 3])
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(try FileSystem.read(path) == [1, 2, 3])
    }

    @Test("writeAtomically into a missing directory fails and leaves nothing behind")
    func writeAtomicallyMissingDirectory() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        #expect(throws: SystemError.self) { try FileSystem.writeAtomically("\(temporary.path)/missing/f", [1]) }
        #expect(try FileSystem.listDirectory(temporary.path).isEmpty)
    }

    @Test("writeAtomically over a directory fails and removes its temporary file")
    func writeAtomicallyOverDirectory() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        try FileSystem.makeDirectories("\(temporary.path)/dir/inside")
        #expect(throws: SystemError.self) { try FileSystem.writeAtomically("\(temporary.path)/dir", [1]) }
        #expect(try FileSystem.listDirectory(temporary.path) == ["dir"])
    }

    @Test("reading a missing file fails with ENOENT and names the path")
    func readMissing() throws {
        do {
            _ = try FileSystem.read("/nonexistent/berth-unit")
            Issue.record("read a missing file")
        } catch {
            #expect(error.errno == ENOENT)
            #expect(error.description == "open /nonexistent/berth-unit: no such file or directory")
        }
    }

    @Test("reading a large file returns all of it")
    func readLarge() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        try FileSystem.writeAtomically("\(temporary.path)/big", bytes)
        #expect(try FileSystem.read("\(temporary.path)/big") == bytes)
    }

    @Test("removeTree removes nested content without following symlinks")
    func removeTree() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        try FileSystem.makeDirectories("\(temporary.path)/keep")
        try writeFile("\(temporary.path)/keep/precious", "x")
        try FileSystem.makeDirectories("\(temporary.path)/tree/a/b")
        try writeFile("\(temporary.path)/tree/a/b/f", "y")
        #expect(symlink("\(temporary.path)/keep", "\(temporary.path)/tree/link") == 0)
        try FileSystem.removeTree("\(temporary.path)/tree")
        #expect(!FileSystem.exists("\(temporary.path)/tree"))
        #expect(FileSystem.exists("\(temporary.path)/keep/precious"))
        try FileSystem.removeTree("\(temporary.path)/tree")
    }

    @Test("exists sees a dangling symlink but isDirectory does not follow it to a directory")
    func existsDangling() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        #expect(symlink("/nonexistent/berth-unit", "\(temporary.path)/dangling") == 0)
        #expect(FileSystem.exists("\(temporary.path)/dangling"))
        #expect(!FileSystem.isDirectory("\(temporary.path)/dangling"))
        #expect(!FileSystem.exists("\(temporary.path)/absent"))
    }

    @Test("absolutePath leaves absolute paths alone and anchors relative ones")
    func absolutePath() {
        #expect(FileSystem.absolutePath("/a/b") == "/a/b")
        #expect(FileSystem.absolutePath("rel") == FileSystem.currentDirectory() + "/rel")
    }

    @Test("system errors read like runc's")
    func systemErrorDescription() {
        #expect(SystemError(stage: "mount", subject: "/proc", errno: EPERM).description == "mount /proc: operation not permitted")
        #expect(SystemError(stage: "pivot_root", errno: 0, detail: "try --no-pivot").description == "pivot_root (try --no-pivot)")
    }
}
