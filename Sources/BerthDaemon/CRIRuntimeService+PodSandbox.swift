import BerthCRI
import BerthMetadata
import GRPCCore

extension CRIRuntimeService {
    public func runPodSandbox(request: Runtime_V1_RunPodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_RunPodSandboxResponse {
        var response = Runtime_V1_RunPodSandboxResponse()
        response.podSandboxID = try await pods.run(request.config, handler: request.runtimeHandler)
        return response
    }

    public func stopPodSandbox(request: Runtime_V1_StopPodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_StopPodSandboxResponse {
        try await pods.stop(request.podSandboxID)
        return Runtime_V1_StopPodSandboxResponse()
    }

    public func removePodSandbox(request: Runtime_V1_RemovePodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_RemovePodSandboxResponse {
        try await pods.remove(request.podSandboxID)
        return Runtime_V1_RemovePodSandboxResponse()
    }

    public func podSandboxStatus(request: Runtime_V1_PodSandboxStatusRequest, context: ServerContext) async throws -> Runtime_V1_PodSandboxStatusResponse {
        let (record, config) = try await pods.status(request.podSandboxID)
        var response = Runtime_V1_PodSandboxStatusResponse()
        response.status = Self.status(record, config)
        if request.verbose {
            response.info["info"] = "{\"pid\":0,\"networkNamespace\":\"\(record.networkNamespace)\",\"runtimeHandler\":\"\(record.runtimeHandler)\"}"
        }
        return response
    }

    public func listPodSandbox(request: Runtime_V1_ListPodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_ListPodSandboxResponse {
        let filter = request.filter
        var response = Runtime_V1_ListPodSandboxResponse()
        for (record, config) in try await pods.list() {
            if request.hasFilter {
                if !filter.id.isEmpty && !record.id.hasPrefix(filter.id) { continue }
                if filter.hasState && Self.state(record.state) != filter.state.state { continue }
                if !filter.labelSelector.allSatisfy({ config.labels[$0.key] == $0.value }) { continue }
            }
            var pod = Runtime_V1_PodSandbox()
            pod.id = record.id
            pod.metadata = config.metadata
            pod.state = Self.state(record.state)
            pod.createdAt = record.createdAt
            pod.labels = config.labels
            pod.annotations = config.annotations
            pod.runtimeHandler = record.runtimeHandler
            response.items.append(pod)
        }
        return response
    }

    static func state(_ state: PodSandboxRecord.State) -> Runtime_V1_PodSandboxState {
        state == .ready ? .sandboxReady : .sandboxNotready
    }

    static func status(_ record: PodSandboxRecord, _ config: Runtime_V1_PodSandboxConfig) -> Runtime_V1_PodSandboxStatus {
        var status = Runtime_V1_PodSandboxStatus()
        status.id = record.id
        status.metadata = config.metadata
        status.state = state(record.state)
        status.createdAt = record.createdAt
        status.network.ip = record.ip
        status.linux.namespaces.options = config.linux.securityContext.namespaceOptions
        status.labels = config.labels
        status.annotations = config.annotations
        status.runtimeHandler = record.runtimeHandler
        return status
    }
}
