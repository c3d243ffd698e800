import BerthCNI
import BerthDaemon
import BerthImages
import BerthRegistry
import Dispatch
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Glibc
import Logging

/// berthd: the CRI daemon. Parses its flags, binds the CRI socket (mode 0660) and serves
/// until SIGTERM or SIGINT, which end it gracefully (calls in flight finish).
func fail(_ message: String) -> Never {
    let line = "berthd: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(1)
}

let arguments: DaemonArguments
do {
    arguments = try DaemonArguments.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    fail(error.message)
}
if arguments.showHelp {
    print(DaemonArguments.usage, terminator: "")
    exit(0)
}
if arguments.showVersion {
    print("berthd version \(DaemonConfiguration.version)")
    exit(0)
}
let configuration = arguments.configuration
LoggingSystem.bootstrap { label in DaemonLogHandler(label: label, level: arguments.logLevel, format: arguments.logFormat) }
let logger = Logger(label: "berthd")

do {
    try SocketPreparation.prepare(configuration.address)
} catch {
    fail(error.description)
}
// Pods need a network: berthd's default bridge network when the host has none configured.
do {
    try configuration.cni.writeDefault(CNINetworkList.defaultList())
} catch {
    logger.warning("no default network written", metadata: ["error": "\(error)"])
}
// Held here for the whole run: AsyncHTTPClient must be shut down, never just released
// (it stops the process otherwise), so it is not a temporary of the store's init.
let registry = RegistryClient(hosts: configuration.registryHosts, logger: logger)
let imageStore: ImageStore
do {
    imageStore = try ImageStore(root: configuration.root, registry: registry, logger: logger, concurrentDownloads: configuration.concurrentDownloads)
} catch {
    fail(error.message)
}
let pods = PodSandboxManager(configuration: configuration, metadata: imageStore.metadata, images: imageStore, logger: logger)
let containers = ContainerManager(configuration: configuration, images: imageStore, pods: pods, logger: logger)
// Shims kept the containers running while berthd was down; what an interrupted create
// left behind goes before the socket opens.
containers.recover()
pods.recover()
let server = GRPCServer(
    transport: .http2NIOPosix(address: .unixDomainSocket(path: configuration.address), transportSecurity: .plaintext),
    services: [
        CRIRuntimeService(configuration: configuration, pods: pods, containers: containers, logger: logger),
        CRIImageService(configuration: configuration, store: imageStore, logger: logger),
        PullProgressService(progress: imageStore.progress),
    ]
)

// SIGTERM and SIGINT: stop accepting, let calls in flight finish, then exit.
signal(SIGTERM, SIG_IGN)
signal(SIGINT, SIG_IGN)
var signalSources: [DispatchSourceSignal] = []
for number in [SIGTERM, SIGINT] {
    // The main queue: top-level code is main-actor isolated, and so is this handler.
    let source = DispatchSource.makeSignalSource(signal: number, queue: .main)
    source.setEventHandler {
        logger.info("shutting down", metadata: ["signal": "\(number)"])
        server.beginGracefulShutdown()
    }
    source.resume()
    signalSources.append(source)
}

do {
    try await withThrowingDiscardingTaskGroup { group in
        group.addTask { try await server.serve() }
        if try await server.listeningAddress != nil {
            chmod(configuration.address, 0o660)
            logger.info("serving CRI v1", metadata: ["address": "\(configuration.address)", "version": "\(DaemonConfiguration.version)", "config": "\(arguments.configPath ?? "none")"])
        }
    }
} catch {
    fail("serve on \(configuration.address): \(error)")
}
unlink(configuration.address)
await registry.shutdown()
logger.info("stopped")
