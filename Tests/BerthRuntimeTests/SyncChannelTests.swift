@testable import BerthRuntime
import Glibc
import Testing

@Suite("SyncChannel")
struct SyncChannelTests {
    static let messages: [SyncMessage] = [
        .go, .runHooks, .hooksDone, .hooksFailed("prestart hook /usr/bin/hook: exit status 1"), .hooksFailed(""),
        .ready, .failed("mount /proc: operation not permitted"), .failed("ünïcödé ⛴"),
    ]

    @Test("each message crosses from parent to child unchanged", arguments: messages)
    func parentToChild(message: SyncMessage) throws {
        let (parent, child) = try SyncChannel.pair()
        defer { parent.close(); child.close() }
        try parent.send(message)
        #expect(try child.receive() == message)
    }

    @Test("each message crosses from child to parent unchanged", arguments: messages)
    func childToParent(message: SyncMessage) throws {
        let (parent, child) = try SyncChannel.pair()
        defer { parent.close(); child.close() }
        try child.send(message)
        #expect(try parent.receive() == message)
    }

    @Test("messages keep their boundaries and order")
    func boundaries() throws {
        let (parent, child) = try SyncChannel.pair()
        defer { parent.close(); child.close() }
        for message in Self.messages { try parent.send(message) }
        for message in Self.messages { #expect(try child.receive() == message) }
    }

    @Test("a long failure text arrives whole")
    func longText() throws {
        let (parent, child) = try SyncChannel.pair()
        defer { parent.close(); child.close() }
        let text = String(repeating: "stage failed; ", count: 2000)
        try child.send(.failed(text))
        #expect(try parent.receive() == .failed(text))
    }

    @Test("receive returns nil once the other end closed")
    func peerClosed() throws {
        let (parent, child) = try SyncChannel.pair()
        defer { parent.close() }
        child.close()
        #expect(try parent.receive() == nil)
    }

    @Test("sending to a closed peer fails instead of raising SIGPIPE")
    func sendToClosedPeer() throws {
        let (parent, child) = try SyncChannel.pair()
        defer { parent.close() }
        child.close()
        #expect(throws: RuntimeError.self) { try parent.send(.go) }
    }

    @Test("an unknown tag is refused")
    func unknownTag() throws {
        let (parent, child) = try SyncChannel.pair()
        defer { parent.close(); child.close() }
        let bytes: [UInt8] = [99, 1, 2]
        #expect(bytes.withUnsafeBytes { send(parent.descriptor, $0.baseAddress, $0.count, 0) } == 3)
        do {
            _ = try child.receive()
            Issue.record("accepted tag 99")
        } catch {
            #expect(error.message.contains("unknown message tag 99"))
        }
    }

    @Test("both ends are close-on-exec")
    func closeOnExec() throws {
        let (parent, child) = try SyncChannel.pair()
        defer { parent.close(); child.close() }
        #expect(fcntl(parent.descriptor, F_GETFD) & FD_CLOEXEC != 0)
        #expect(fcntl(child.descriptor, F_GETFD) & FD_CLOEXEC != 0)
    }

    @Test("messages encode as a tag byte and their text")
    func encoding() {
        #expect(SyncMessage.go.encoded == [1])
        #expect(SyncMessage.failed("x").encoded == [6, UInt8(ascii: "x")])
        #expect(SyncMessage(bytes: []) == nil)
        #expect(SyncMessage(bytes: [0]) == nil)
    }
}
