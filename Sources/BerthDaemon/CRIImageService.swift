import BerthCRI
import GRPCCore
import Logging

/// The CRI ImageService. The image store and pulls are being built (issue 5); until each
/// call works it answers UNIMPLEMENTED.
public struct CRIImageService: Runtime_V1_ImageService.SimpleServiceProtocol {
    let configuration: DaemonConfiguration
    let logger: Logger

    public init(configuration: DaemonConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func listImages(request: Runtime_V1_ListImagesRequest, context: ServerContext) async throws -> Runtime_V1_ListImagesResponse { throw RPCError.unimplemented("ListImages") }
    public func imageStatus(request: Runtime_V1_ImageStatusRequest, context: ServerContext) async throws -> Runtime_V1_ImageStatusResponse { throw RPCError.unimplemented("ImageStatus") }
    public func pullImage(request: Runtime_V1_PullImageRequest, context: ServerContext) async throws -> Runtime_V1_PullImageResponse { throw RPCError.unimplemented("PullImage") }
    public func removeImage(request: Runtime_V1_RemoveImageRequest, context: ServerContext) async throws -> Runtime_V1_RemoveImageResponse { throw RPCError.unimplemented("RemoveImage") }
    public func imageFsInfo(request: Runtime_V1_ImageFsInfoRequest, context: ServerContext) async throws -> Runtime_V1_ImageFsInfoResponse { throw RPCError.unimplemented("ImageFsInfo") }
}
