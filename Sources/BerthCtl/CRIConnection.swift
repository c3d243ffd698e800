import BerthCRI
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Glibc

/// A gRPC client on a CRI endpoint for the length of one command.
public struct CRIConnection: Sendable {
    public let client: GRPCClient<HTTP2ClientTransport.Posix>
    public let endpoint: CRIEndpoint
    /// For unary calls: `--timeout`.
    public let options: CallOptions

    public var images: Runtime_V1_ImageService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    public var runtime: Runtime_V1_RuntimeService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }

    /// Connects to `endpoint`, runs `body`, closes. A socket that is not there is a clear
    /// error before any dialling (gRPC would otherwise retry until the deadline).
    public static func with<Result: Sendable>(
        _ endpoint: CRIEndpoint, timeout: Double, _ body: (CRIConnection) async throws -> Result
    ) async throws -> Result {
        var info = stat()
        guard stat(endpoint.path, &info) == 0 else {
            throw CommandError("connect to \(endpoint): \(String(cString: strerror(errno))) (is the CRI server running? --runtime-endpoint, CONTAINER_RUNTIME_ENDPOINT or /etc/crictl.yaml name another socket)")
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw CommandError("connect to \(endpoint): not a unix socket")
        }
        let transport = try HTTP2ClientTransport.Posix(target: .unixDomainSocket(path: endpoint.path), transportSecurity: .plaintext)
        var options = CallOptions.defaults
        options.timeout = .milliseconds(Int64(timeout * 1000))
        return try await withGRPCClient(transport: transport) { client in
            try await body(CRIConnection(client: client, endpoint: endpoint, options: options))
        }
    }
}

extension CommandError {
    /// `action` failed with `error`: an RPC status as `CODE: message`, the server named when
    /// the call did not reach it.
    public static func rpc(_ action: String, _ error: any Error, endpoint: CRIEndpoint) -> CommandError {
        if let command = error as? CommandError { return command }
        guard let rpc = error as? RPCError else { return CommandError("\(action): \(error)") }
        let code = rpc.code.screamingName
        switch rpc.code {
        case .deadlineExceeded:
            return CommandError("\(action): no answer from \(endpoint) in time (raise --timeout): \(rpc.message)")
        default:
            return CommandError("\(action): \(code): \(rpc.message)")
        }
    }
}

extension RPCError.Code {
    /// gRPC's name for the code, as other tools print it (NOT_FOUND).
    var screamingName: String {
        switch self {
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internalError: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        default: "\(self)"
        }
    }
}
