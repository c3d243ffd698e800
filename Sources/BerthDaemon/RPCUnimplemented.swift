import GRPCCore

extension RPCError {
    /// The answer to a CRI call berthd does not implement yet: UNIMPLEMENTED, never a fake
    /// success, so a kubelet or crictl says plainly what is missing.
    static func unimplemented(_ method: String) -> RPCError {
        RPCError(code: .unimplemented, message: "berthd does not implement \(method) yet")
    }
}
