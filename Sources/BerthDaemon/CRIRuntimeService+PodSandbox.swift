import BerthCRI
import BerthJSON
import BerthMetadata
import GRPCCore

extension CRIRuntimeService {
    /// StopPodSandbox's grace for each container before SIGKILL (the CRI gives none; the
    /// kubelet stops containers with their own grace periods first).
    static let podStopGrace: Int64 = 2

    public func runPodSandbox(request: Runtime_V1_RunPodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_RunPodSandboxResponse {
        var response = Runtime_V1_RunPodSandboxResponse()
        response.podSandboxID = try await Blocking.run { [pods] in try pods.run(request.config, handler: request.runtimeHandler) }
        return response
    }

    public func stopPodSandbox(request: Runtime_V1_StopPodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_StopPodSandboxResponse {
        try await Blocking.run { [pods, containers] in
            guard let record = try pods.find(request.podSandboxID) else { return }
            try pods.locks.with("pod:\(record.id)") {
                try containers.stopAll(inPod: record.id, grace: Self.podStopGrace)
                try pods.stop(record.id)
            }
        }
        return Runtime_V1_StopPodSandboxResponse()
    }

    public func removePodSandbox(request: Runtime_V1_RemovePodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_RemovePodSandboxResponse {
        try await Blocking.run { [pods, containers] in
            guard let record = try pods.find(request.podSandboxID) else { return }
            try pods.locks.with("pod:\(record.id)") {
                try containers.removeAll(inPod: record.id)
                try pods.remove(record.id)
            }
        }
        return Runtime_V1_RemovePodSandboxResponse()
    }

    public func podSandboxStatus(request: Runtime_V1_PodSandboxStatusRequest, context: ServerContext) async throws -> Runtime_V1_PodSandboxStatusResponse {
        let observed = try await Blocking.run { [pods] in try pods.status(request.podSandboxID) }
        var response = Runtime_V1_PodSandboxStatusResponse()
        response.status = Self.status(observed)
        if request.verbose {
            let info: JSONValue = [
                "pid": .int(observed.pausePid), "networkNamespace": .string(observed.record.networkNamespace),
                "runtimeHandler": .string(observed.record.runtimeHandler), "cgroupParent": .string(PodSandboxManager.cgroupParent(observed.config, id: observed.record.id)),
            ]
            response.info["info"] = info.serialized()
        }
        return response
    }

    public func listPodSandbox(request: Runtime_V1_ListPodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_ListPodSandboxResponse {
        let filter = request.filter
        var response = Runtime_V1_ListPodSandboxResponse()
        for observed in try await Blocking.run({ [pods] in try pods.list() }) {
            let record = observed.record
            if request.hasFilter {
                if !filter.id.isEmpty && !record.id.hasPrefix(filter.id) { continue }
                if filter.hasState && Self.state(record.state) != filter.state.state { continue }
                if !filter.labelSelector.allSatisfy({ observed.config.labels[$0.key] == $0.value }) { continue }
            }
            var pod = Runtime_V1_PodSandbox()
            pod.id = record.id
            pod.metadata = observed.config.metadata
            pod.state = Self.state(record.state)
            pod.createdAt = record.createdAt
            pod.labels = observed.config.labels
            pod.annotations = observed.config.annotations
            pod.runtimeHandler = record.runtimeHandler
            response.items.append(pod)
        }
        return response
    }

    static func state(_ state: PodSandboxRecord.State) -> Runtime_V1_PodSandboxState {
        state == .ready ? .sandboxReady : .sandboxNotready
    }

    static func status(_ observed: PodSandboxManager.Observed) -> Runtime_V1_PodSandboxStatus {
        let record = observed.record
        var status = Runtime_V1_PodSandboxStatus()
        status.id = record.id
        status.metadata = observed.config.metadata
        status.state = state(record.state)
        status.createdAt = record.createdAt
        status.network.ip = record.ip
        status.linux.namespaces.options = observed.config.linux.securityContext.namespaceOptions
        status.labels = observed.config.labels
        status.annotations = observed.config.annotations
        status.runtimeHandler = record.runtimeHandler
        return status
    }
}
