/// Container ids as runc accepts them: letters, digits, `_`, and the characters `+` to `.`
/// (`+ , - .`), not `.` or `..`, at most 1024 bytes. Anything else could name a path
/// outside the state root.
public enum ContainerID {
    public static func validate(_ id: String) throws(RuntimeError) {
        if id.isEmpty { throw RuntimeError(.invalidID, "container id cannot be empty") }
        guard id != ".", id != "..", id.utf8.count <= 1024,
            id.utf8.allSatisfy({ byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x5F || (0x2B...0x2E).contains(byte)
            })
        else { throw RuntimeError(.invalidID, "invalid container id format: \"\(id)\" (allowed: letters, digits, _ + , - .)") }
    }
}
