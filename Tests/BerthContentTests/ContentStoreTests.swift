import BerthContent
import BerthImageSpec
import Foundation
import Testing

/// A content store in a temporary directory, removed at the end.
final class StoreFixture {
    let directory: String
    let store: ContentStore

    init() throws {
        var template = Array("/tmp/berth-content.XXXXXX".utf8CString)
        directory = String(cString: try #require(mkdtemp(&template)))
        store = try ContentStore(root: directory)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }
}

@Suite("the content store")
struct ContentStoreTests {
    let hello = Array("hello, berth\n".utf8)

    @Test("sha256 digests are computed as the registry computes them")
    func digests() throws {
        #expect(Digest.sha256(of: []).description == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.sha256(of: Array("abc".utf8)).description == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("a blob whose size and digest match is filed under its digest; the ingest is gone")
    func commit() throws {
        let fixture = try StoreFixture()
        let digest = Digest.sha256(of: hello)
        try fixture.store.write(hello, expecting: digest)
        #expect(try fixture.store.read(digest) == hello)
        #expect(try fixture.store.size(of: digest) == Int64(hello.count))
        #expect(fixture.store.list() == [digest])
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(fixture.directory)/ingest").isEmpty)
    }

    @Test("a digest that lies stores nothing and says which digest was expected and which arrived")
    func mismatch() throws {
        let fixture = try StoreFixture()
        let claimed = Digest.sha256(of: Array("something else".utf8))
        do {
            try fixture.store.write(hello, expecting: claimed)
            Issue.record("a lying blob was stored")
        } catch {
            #expect(error.code == .digestMismatch)
            #expect(error.message.contains("expected \(claimed)") && error.message.contains("got \(Digest.sha256(of: hello))"), "\(error)")
        }
        #expect(!fixture.store.contains(claimed))
        #expect(fixture.store.list().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(fixture.directory)/ingest").isEmpty)
    }

    @Test("a truncated blob and one longer than its descriptor are refused")
    func sizes() throws {
        let fixture = try StoreFixture()
        let digest = Digest.sha256(of: hello)
        let short = try Ingest(store: fixture.store, key: digest.encoded, expected: digest, expectedSize: Int64(hello.count))
        try short.append(Array(hello.prefix(5)))
        #expect(throws: ContentError.self) { try short.commit() }
        let long = try Ingest(store: fixture.store, key: digest.encoded, expected: digest, expectedSize: 3)
        #expect(throws: ContentError.self) { try long.append(hello) }
        #expect(fixture.store.list().isEmpty)
    }

    @Test("an interrupted ingest resumes where it stopped (the offset for an HTTP Range) and commits whole")
    func resume() throws {
        let fixture = try StoreFixture()
        let digest = Digest.sha256(of: hello)
        do {
            let first = try Ingest(store: fixture.store, key: digest.encoded, expected: digest, expectedSize: Int64(hello.count))
            try first.append(Array(hello.prefix(6)))
            // The process dies here: no commit, no discard.
        }
        let second = try Ingest(store: fixture.store, key: digest.encoded, expected: digest, expectedSize: Int64(hello.count))
        #expect(second.offset == 6)
        try second.append(Array(hello.dropFirst(6)))
        try second.commit()
        #expect(try fixture.store.read(digest) == hello)
    }

    @Test("a whole document written over an ingest a killed process left (complete or partial) is stored once")
    func writeOverLeftover() throws {
        let fixture = try StoreFixture()
        let digest = Digest.sha256(of: hello)
        for leftover in [hello, Array(hello.prefix(4))] {
            do {
                let killed = try Ingest(store: fixture.store, key: digest.encoded, expected: digest, expectedSize: Int64(hello.count))
                try killed.append(leftover)
                // Killed before commit: the ingest holds `leftover`.
            }
            try fixture.store.write(hello, expecting: digest)
            #expect(try fixture.store.read(digest) == hello)
            #expect(try FileManager.default.contentsOfDirectory(atPath: "\(fixture.directory)/ingest").isEmpty)
            try fixture.store.delete(digest)
        }
    }

    @Test("delete removes a blob; usage counts what is stored")
    func deleteAndUsage() throws {
        let fixture = try StoreFixture()
        let digest = try fixture.store.write(hello, expecting: Digest.sha256(of: hello))
        #expect(fixture.store.usage().inodes == 1)
        try fixture.store.delete(digest)
        try fixture.store.delete(digest)
        #expect(!fixture.store.contains(digest))
        #expect(fixture.store.usage().inodes == 0)
        #expect(throws: ContentError.self) { try fixture.store.read(digest) }
    }
}
