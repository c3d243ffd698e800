import BerthCNI
import BerthCRI
import BerthJSON
import GRPCCore
import Logging

/// The CRI RuntimeService: `Version`, `Status`, `RuntimeConfig` here, pods in
/// CRIRuntimeService+PodSandbox.swift, containers in CRIRuntimeService+Container.swift.
/// Streaming (Exec, Attach, PortForward), stats, events and checkpoints are still to
/// come: until then each answers UNIMPLEMENTED, never a fake success.
public struct CRIRuntimeService: Runtime_V1_RuntimeService.SimpleServiceProtocol {
    let configuration: DaemonConfiguration
    let logger: Logger
    let cni: CNI
    let pods: PodSandboxManager
    let containers: ContainerManager

    public init(configuration: DaemonConfiguration, pods: PodSandboxManager, containers: ContainerManager, logger: Logger) {
        self.configuration = configuration
        self.pods = pods
        self.containers = containers
        self.logger = logger
        cni = configuration.cni
    }

    public func version(request: Runtime_V1_VersionRequest, context: ServerContext) async throws -> Runtime_V1_VersionResponse {
        var response = Runtime_V1_VersionResponse()
        // `version` is the CRI API version of the kubelet's own request schema.
        response.version = "0.1.0"
        response.runtimeName = "berth"
        response.runtimeVersion = DaemonConfiguration.version
        response.runtimeApiVersion = "v1"
        return response
    }

    public func status(request: Runtime_V1_StatusRequest, context: ServerContext) async throws -> Runtime_V1_StatusResponse {
        var runtimeReady = Runtime_V1_RuntimeCondition()
        runtimeReady.type = "RuntimeReady"
        runtimeReady.status = true
        var networkReady = Runtime_V1_RuntimeCondition()
        networkReady.type = "NetworkReady"
        let network = cni.readiness()
        networkReady.status = network.ready
        if !network.ready {
            networkReady.reason = "NetworkPluginNotReady"
            networkReady.message = network.reason
        }
        var response = Runtime_V1_StatusResponse()
        response.status.conditions = [runtimeReady, networkReady]
        if request.verbose {
            let config: JSONValue = [
                "address": .string(configuration.address), "root": .string(configuration.root), "state": .string(configuration.state),
                "cniConfigDir": .string(configuration.cniConfigDirectory), "network": .string(network.reason),
            ]
            response.info["config"] = config.serialized()
        }
        return response
    }

    public func runtimeConfig(request: Runtime_V1_RuntimeConfigRequest, context: ServerContext) async throws -> Runtime_V1_RuntimeConfigResponse {
        var response = Runtime_V1_RuntimeConfigResponse()
        response.linux.cgroupDriver = .cgroupfs
        return response
    }

    public func exec(request: Runtime_V1_ExecRequest, context: ServerContext) async throws -> Runtime_V1_ExecResponse { throw RPCError.unimplemented("Exec") }
    public func attach(request: Runtime_V1_AttachRequest, context: ServerContext) async throws -> Runtime_V1_AttachResponse { throw RPCError.unimplemented("Attach") }
    public func portForward(request: Runtime_V1_PortForwardRequest, context: ServerContext) async throws -> Runtime_V1_PortForwardResponse { throw RPCError.unimplemented("PortForward") }
    public func containerStats(request: Runtime_V1_ContainerStatsRequest, context: ServerContext) async throws -> Runtime_V1_ContainerStatsResponse { throw RPCError.unimplemented("ContainerStats") }
    public func listContainerStats(request: Runtime_V1_ListContainerStatsRequest, context: ServerContext) async throws -> Runtime_V1_ListContainerStatsResponse { throw RPCError.unimplemented("ListContainerStats") }
    public func podSandboxStats(request: Runtime_V1_PodSandboxStatsRequest, context: ServerContext) async throws -> Runtime_V1_PodSandboxStatsResponse { throw RPCError.unimplemented("PodSandboxStats") }
    public func listPodSandboxStats(request: Runtime_V1_ListPodSandboxStatsRequest, context: ServerContext) async throws -> Runtime_V1_ListPodSandboxStatsResponse { throw RPCError.unimplemented("ListPodSandboxStats") }
    public func updateRuntimeConfig(request: Runtime_V1_UpdateRuntimeConfigRequest, context: ServerContext) async throws -> Runtime_V1_UpdateRuntimeConfigResponse { throw RPCError.unimplemented("UpdateRuntimeConfig") }
    public func checkpointContainer(request: Runtime_V1_CheckpointContainerRequest, context: ServerContext) async throws -> Runtime_V1_CheckpointContainerResponse { throw RPCError.unimplemented("CheckpointContainer") }
    public func getContainerEvents(request: Runtime_V1_GetEventsRequest, response: RPCWriter<Runtime_V1_ContainerEventResponse>, context: ServerContext) async throws { throw RPCError.unimplemented("GetContainerEvents") }
    public func listMetricDescriptors(request: Runtime_V1_ListMetricDescriptorsRequest, context: ServerContext) async throws -> Runtime_V1_ListMetricDescriptorsResponse { throw RPCError.unimplemented("ListMetricDescriptors") }
    public func listPodSandboxMetrics(request: Runtime_V1_ListPodSandboxMetricsRequest, context: ServerContext) async throws -> Runtime_V1_ListPodSandboxMetricsResponse { throw RPCError.unimplemented("ListPodSandboxMetrics") }
    public func updatePodSandboxResources(request: Runtime_V1_UpdatePodSandboxResourcesRequest, context: ServerContext) async throws -> Runtime_V1_UpdatePodSandboxResourcesResponse { throw RPCError.unimplemented("UpdatePodSandboxResources") }
}
