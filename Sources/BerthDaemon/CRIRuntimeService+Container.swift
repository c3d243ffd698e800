import BerthCRI
import BerthJSON
import struct Foundation.Data
import GRPCCore

extension CRIRuntimeService {
    public func createContainer(request: Runtime_V1_CreateContainerRequest, context: ServerContext) async throws -> Runtime_V1_CreateContainerResponse {
        var response = Runtime_V1_CreateContainerResponse()
        response.containerID = try await Blocking.run { [containers] in
            try containers.create(podID: request.podSandboxID, config: request.config, sandboxConfig: request.sandboxConfig)
        }
        return response
    }

    public func startContainer(request: Runtime_V1_StartContainerRequest, context: ServerContext) async throws -> Runtime_V1_StartContainerResponse {
        try await Blocking.run { [containers] in try containers.start(request.containerID) }
        return Runtime_V1_StartContainerResponse()
    }

    public func stopContainer(request: Runtime_V1_StopContainerRequest, context: ServerContext) async throws -> Runtime_V1_StopContainerResponse {
        try await Blocking.run { [containers] in try containers.stop(request.containerID, timeout: request.timeout) }
        return Runtime_V1_StopContainerResponse()
    }

    public func removeContainer(request: Runtime_V1_RemoveContainerRequest, context: ServerContext) async throws -> Runtime_V1_RemoveContainerResponse {
        try await Blocking.run { [containers] in try containers.remove(request.containerID) }
        return Runtime_V1_RemoveContainerResponse()
    }

    public func listContainers(request: Runtime_V1_ListContainersRequest, context: ServerContext) async throws -> Runtime_V1_ListContainersResponse {
        let filter = request.filter
        var response = Runtime_V1_ListContainersResponse()
        for observed in try await Blocking.run({ [containers] in try containers.list() }) {
            let record = observed.record
            if request.hasFilter {
                if !filter.id.isEmpty && !record.id.hasPrefix(filter.id) { continue }
                if !filter.podSandboxID.isEmpty && !record.podSandboxID.hasPrefix(filter.podSandboxID) { continue }
                if filter.hasState && observed.state != filter.state.state { continue }
                if !filter.labelSelector.allSatisfy({ observed.config.labels[$0.key] == $0.value }) { continue }
            }
            var container = Runtime_V1_Container()
            container.id = record.id
            container.podSandboxID = record.podSandboxID
            container.metadata = observed.config.metadata
            container.image = observed.config.image
            container.image.image = record.image
            container.imageRef = record.imageID
            container.imageID = record.imageID
            container.state = observed.state
            container.createdAt = record.createdAt
            container.labels = observed.config.labels
            container.annotations = observed.config.annotations
            response.containers.append(container)
        }
        return response
    }

    public func containerStatus(request: Runtime_V1_ContainerStatusRequest, context: ServerContext) async throws -> Runtime_V1_ContainerStatusResponse {
        let observed = try await Blocking.run { [containers] in try containers.status(request.containerID) }
        var response = Runtime_V1_ContainerStatusResponse()
        response.status = ContainerManager.status(observed)
        if request.verbose {
            var info: JSONObject = [
                "sandboxID": .string(observed.record.podSandboxID), "pid": .int(observed.shim?.pid ?? 0),
                "runtimeHandler": .string(observed.record.runtimeHandler), "snapshotKey": .string(ContainerManager.snapshotID(observed.record.id)),
            ]
            if let shim = observed.shim { info["shim"] = shim.json }
            response.info["info"] = JSONValue.object(info).serialized()
        }
        return response
    }

    public func updateContainerResources(request: Runtime_V1_UpdateContainerResourcesRequest, context: ServerContext) async throws -> Runtime_V1_UpdateContainerResourcesResponse {
        try await Blocking.run { [containers] in try containers.update(request.containerID, resources: request.linux) }
        return Runtime_V1_UpdateContainerResourcesResponse()
    }

    public func reopenContainerLog(request: Runtime_V1_ReopenContainerLogRequest, context: ServerContext) async throws -> Runtime_V1_ReopenContainerLogResponse {
        try await Blocking.run { [containers] in try containers.reopenLog(request.containerID) }
        return Runtime_V1_ReopenContainerLogResponse()
    }

    public func execSync(request: Runtime_V1_ExecSyncRequest, context: ServerContext) async throws -> Runtime_V1_ExecSyncResponse {
        let result = try await Blocking.run { [containers] in try containers.execSync(request.containerID, command: request.cmd, timeout: request.timeout) }
        var response = Runtime_V1_ExecSyncResponse()
        response.stdout = Data(result.stdout)
        response.stderr = Data(result.stderr)
        response.exitCode = result.exitCode
        return response
    }
}
