import BerthTestSupport
import BerthSnapshots
import Foundation
import Testing

@Suite("the overlay snapshotter")
struct OverlaySnapshotterTests {
    @Test("prepare makes fs and work and returns overlay options over the parents, nearest first; it mounts nothing")
    func prepare() throws {
        let fixture = try LayerFixture()
        let snapshotter = try OverlaySnapshotter(root: "\(fixture.directory)/snapshots")
        _ = try snapshotter.prepare("1", parents: [])
        _ = try snapshotter.prepare("2", parents: ["1"])
        let mounts = try snapshotter.prepare("3", parents: ["2", "1"])
        #expect(mounts.count == 1 && mounts[0].type == "overlay")
        let options = mounts[0].options
        #expect(options.contains("lowerdir=\(snapshotter.directory("2")):\(snapshotter.directory("1"))"))
        #expect(options.contains("upperdir=\(snapshotter.directory("3"))"))
        #expect(options.contains("workdir=\(fixture.directory)/snapshots/3/work"))
        #expect(FileManager.default.fileExists(atPath: "\(fixture.directory)/snapshots/3/work"))
        #expect(!(try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)).contains(fixture.directory))
        #expect(try snapshotter.mounts("1", parents: [], readOnly: false) == [.init(type: "bind", source: snapshotter.directory("1"), options: ["rw", "rbind"])])
        #expect(try snapshotter.mounts("view", parents: ["1"], readOnly: true)[0].options == ["ro", "rbind"])
        #expect(snapshotter.list() == ["1", "2", "3"])
    }

    @Test("ids that could break a path or an overlay option are refused; a taken id is refused")
    func ids() throws {
        let fixture = try LayerFixture()
        let snapshotter = try OverlaySnapshotter(root: "\(fixture.directory)/snapshots")
        for bad in ["", "../x", "a/b", "a,b", "a:b"] {
            #expect(throws: OverlaySnapshotter.SnapshotError.self) { try snapshotter.prepare(bad, parents: []) }
        }
        _ = try snapshotter.prepare("one", parents: [])
        #expect(throws: OverlaySnapshotter.SnapshotError.self) { try snapshotter.prepare("one", parents: []) }
        try snapshotter.remove("one")
        try snapshotter.remove("one")
        #expect(snapshotter.list().isEmpty)
    }

    @Test("applied layers stack through a real overlay mount, whiteouts included", .enabled(if: getuid() == 0))
    func stacked() throws {
        let fixture = try LayerFixture()
        let snapshotter = try OverlaySnapshotter(root: "\(fixture.directory)/snapshots")
        _ = try snapshotter.prepare("base", parents: [])
        let base = "\(fixture.directory)/base.tar"
        try Self.layer(base, [["name": "etc/passwd", "content": "root"], ["name": "etc/motd", "content": "hi"], ["name": "var/cache/a", "content": "a"]])
        _ = try LayerApplier.apply(blob: base, into: snapshotter.directory("base"), layer: "base")
        _ = try snapshotter.prepare("top", parents: ["base"])
        let top = "\(fixture.directory)/top.tar"
        try Self.layer(top, [["name": "etc/.wh.motd"], ["name": "var/cache/.wh..wh..opq"], ["name": "var/cache/b", "content": "b"]])
        _ = try LayerApplier.apply(blob: top, into: snapshotter.directory("top"), layer: "top")
        let view = try snapshotter.mounts("check", parents: ["top", "base"], readOnly: true)[0]
        let target = "\(fixture.directory)/merged"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        // In a private mount namespace of a child, so the host never sees the mount.
        let script = "mount -t overlay overlay -o \(view.options.joined(separator: ",")) \(target) && ls \(target)/etc \(target)/var/cache"
        let output = try runCommand("/usr/bin/unshare", ["-m", "--propagation", "private", "/bin/sh", "-c", script], timeout: 60)
        let listing = output.stdout
        #expect(output.status == 0, "\(output.stderr)")
        #expect(listing.contains("passwd") && !listing.contains("motd"), "\(listing)")
        #expect(listing.contains("b") && !listing.split(separator: "\n").contains("a"), "\(listing)")
    }

    static func layer(_ path: String, _ entries: [[String: Any]]) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path
        let maker = try runCommand("/usr/bin/python3", ["\(root)/tools/make_layer.py", path, "none", String(decoding: try JSONSerialization.data(withJSONObject: entries), as: UTF8.self)], timeout: 60)
        try #require(maker.status == 0, "\(maker.stderr)")
    }
}
