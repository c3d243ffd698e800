import BerthTestSupport
import BerthSnapshots
import CArchive
import Foundation
import Testing

/// A layer built by Tests/tools/make_layer.py in a temporary directory, applied into an
/// empty upper directory there; everything is removed at the end.
final class LayerFixture {
    let directory: String
    let upper: String

    init() throws {
        var template = Array("/tmp/berth-layer.XXXXXX".utf8CString)
        directory = String(cString: try #require(mkdtemp(&template)))
        upper = "\(directory)/upper"
        try FileManager.default.createDirectory(atPath: upper, withIntermediateDirectories: true)
    }

    /// Writes the layer and applies it.
    func apply(_ entries: [[String: Any]], compression: String = "none", layer: String = "sha256:test") throws -> LayerApplier.Result {
        let blob = "\(directory)/layer-\(UUID().uuidString)"
        let json = String(decoding: try JSONSerialization.data(withJSONObject: entries), as: UTF8.self)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path
        let maker = try runCommand("/usr/bin/python3", ["\(root)/tools/make_layer.py", blob, compression, json], timeout: 60)
        try #require(maker.status == 0, "\(maker.stderr)")
        return try LayerApplier.apply(blob: blob, into: upper, layer: layer)
    }

    func stat(_ path: String) -> stat? {
        var info = Glibc.stat()
        return lstat("\(upper)/\(path)", &info) == 0 ? info : nil
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }
}

@Suite("the layer applier", .enabled(if: getuid() == 0))
struct LayerApplierTests {
    @Test("files, directories, symlinks, hard links, devices, ownership, modes and xattrs land as the layer says", arguments: ["none", "gzip", "zstd"])
    func entries(compression: String) throws {
        let fixture = try LayerFixture()
        let result = try fixture.apply([
            ["name": "etc/", "type": "dir", "mode": 0o755],
            ["name": "etc/hostname", "content": "layer\n", "mode": 0o640, "uid": 1000, "gid": 1001],
            ["name": "bin/tool", "content": "#!/bin/sh\n", "mode": 0o4755],
            ["name": "bin/alias", "type": "hardlink", "target": "bin/tool"],
            ["name": "lib", "type": "symlink", "target": "/usr/lib"],
            ["name": "dev/null", "type": "char", "major": 1, "minor": 3, "mode": 0o666],
            ["name": "run/pipe", "type": "fifo", "mode": 0o600],
            ["name": "data/tagged", "content": "x", "xattrs": ["user.berth": "yes"]],
        ], compression: compression)
        #expect(result.entries == 8)
        #expect(try String(contentsOfFile: "\(fixture.upper)/etc/hostname", encoding: .utf8) == "layer\n")
        let hostname = try #require(fixture.stat("etc/hostname"))
        #expect(hostname.st_mode & 0o7777 == 0o640 && hostname.st_uid == 1000 && hostname.st_gid == 1001)
        #expect(fixture.stat("bin/tool")!.st_mode & 0o7777 == 0o4755, "set-id bits survive (mode after chown)")
        #expect(fixture.stat("bin/alias")!.st_ino == fixture.stat("bin/tool")!.st_ino)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(fixture.upper)/lib") == "/usr/lib")
        let null = try #require(fixture.stat("dev/null"))
        #expect(null.st_mode & S_IFMT == S_IFCHR && null.st_rdev == berth_archive_makedev(1, 3))
        #expect(fixture.stat("run/pipe")!.st_mode & S_IFMT == S_IFIFO)
        var value = [UInt8](repeating: 0, count: 16)
        #expect(berth_lgetxattr("\(fixture.upper)/data/tagged", "user.berth", &value, 16) == 3)
        #expect(fixture.stat("etc")!.st_mtim.tv_sec == 1_700_000_000, "directory times are set after their children")
    }

    @Test("OCI whiteouts become overlay whiteouts: a 0:0 device and the opaque xattr")
    func whiteouts() throws {
        let fixture = try LayerFixture()
        _ = try fixture.apply([
            ["name": "etc/.wh.passwd"],
            ["name": "var/cache/", "type": "dir"],
            ["name": "var/cache/.wh..wh..opq"],
        ])
        let whiteout = try #require(fixture.stat("etc/passwd"))
        #expect(whiteout.st_mode & S_IFMT == S_IFCHR && whiteout.st_rdev == berth_archive_makedev(0, 0))
        var value = [UInt8](repeating: 0, count: 4)
        #expect(berth_lgetxattr("\(fixture.upper)/var/cache", "trusted.overlay.opaque", &value, 4) == 1 && value[0] == UInt8(ascii: "y"))
        #expect(fixture.stat("etc/.wh.passwd") == nil)
    }

    @Test("entries that would land outside the layer are refused, naming the layer and the entry", arguments: [
        (#"[{"name": "../escape", "content": "x"}]"#, "../escape", "outside the layer"),
        (#"[{"name": "/etc/passwd", "content": "x"}]"#, "/etc/passwd", "absolute path"),
        (#"[{"name": "link", "type": "symlink", "target": "/tmp"}, {"name": "link/escape", "content": "x"}]"#, "link/escape", "is a symlink"),
        (#"[{"name": "stolen", "type": "hardlink", "target": "../../etc/shadow"}]"#, "../../etc/shadow", "outside the layer"),
        (#"[{"name": "a/b/../../../c", "content": "x"}]"#, "a/b/../../../c", "outside the layer"),
    ])
    func escapes(json: String, entry: String, reason: String) throws {
        let entries = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        let fixture = try LayerFixture()
        let outside = "\(fixture.directory)/escape"
        do {
            _ = try fixture.apply(entries, layer: "sha256:hostile")
            Issue.record("the layer was applied")
        } catch let error as LayerError {
            #expect(error.layer == "sha256:hostile")
            #expect(error.description.contains(reason), "\(error)")
            #expect(error.description.contains("layer sha256:hostile"), "\(error)")
            #expect(error.description.contains(entry) || (error.entry ?? "").contains("link"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: outside))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/escape"))
    }

    @Test("a later entry replaces an earlier one of the same name, even a directory with a file")
    func replacement() throws {
        let fixture = try LayerFixture()
        _ = try fixture.apply([
            ["name": "thing/", "type": "dir"],
            ["name": "thing/inner", "content": "x"],
            ["name": "thing", "content": "now a file"],
        ])
        #expect(try String(contentsOfFile: "\(fixture.upper)/thing", encoding: .utf8) == "now a file")
    }
}
