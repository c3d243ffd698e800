import BerthJSON

extension ImageConfiguration {
    /// The `config` member: the defaults a container run from the image starts with.
    public struct ExecutionParameters: Sendable {
        /// `user`, `uid`, `user:group` or `uid:gid`.
        public var user: String?
        /// `NAME=value` entries.
        public var environment: [String]?
        /// The program and its first arguments; `command` is appended to it.
        public var entrypoint: [String]?
        /// The default arguments (`Cmd`), or the program when there is no entrypoint.
        public var command: [String]?
        /// The working directory of the process.
        public var workingDirectory: String?
        /// Metadata labels.
        public var labels: [String: String]?
        /// `port/protocol` entries (`80/tcp`), in document order.
        public var exposedPorts: [String]?
        /// Paths of anonymous volumes, in document order.
        public var volumes: [String]?
        /// The signal that stops the container (`SIGTERM`, `SIGRTMIN+3`, `15`).
        public var stopSignal: String?

        /// Parameters from their parts.
        public init(
            user: String? = nil, environment: [String]? = nil, entrypoint: [String]? = nil, command: [String]? = nil,
            workingDirectory: String? = nil, labels: [String: String]? = nil, exposedPorts: [String]? = nil,
            volumes: [String]? = nil, stopSignal: String? = nil
        ) {
            self.user = user
            self.environment = environment
            self.entrypoint = entrypoint
            self.command = command
            self.workingDirectory = workingDirectory
            self.labels = labels
            self.exposedPorts = exposedPorts
            self.volumes = volumes
            self.stopSignal = stopSignal
        }
    }
}

extension ImageConfiguration.ExecutionParameters: Decodable {
    private enum CodingKeys: String, CodingKey {
        case user = "User"
        case environment = "Env"
        case entrypoint = "Entrypoint"
        case command = "Cmd"
        case workingDirectory = "WorkingDir"
        case labels = "Labels"
        case exposedPorts = "ExposedPorts"
        case volumes = "Volumes"
        case stopSignal = "StopSignal"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        user = try container.decodeIfPresent(String.self, forKey: .user)
        environment = try container.decodeIfPresent([String].self, forKey: .environment)
        entrypoint = try container.decodeIfPresent([String].self, forKey: .entrypoint)
        command = try container.decodeIfPresent([String].self, forKey: .command)
        workingDirectory = try container.decodeIfPresent(String.self, forKey: .workingDirectory)
        labels = try container.decodeIfPresent([String: String].self, forKey: .labels)
        exposedPorts = try Self.memberNames(in: container, forKey: .exposedPorts)
        volumes = try Self.memberNames(in: container, forKey: .volumes)
        stopSignal = try container.decodeIfPresent(String.self, forKey: .stopSignal)
    }

    /// The names of an object used as a set (`{"80/tcp": {}}`), in document order; the
    /// values carry nothing, so they are not read.
    private static func memberNames(in container: KeyedDecodingContainer<CodingKeys>, forKey key: CodingKeys) throws -> [String]? {
        guard let value = try container.decodeIfPresent(JSONValue.self, forKey: key) else { return nil }
        switch value {
        case .null:
            return nil
        case .object(let object):
            return object.keys
        default:
            throw DecodingError.typeMismatch(
                [String: JSONValue].self,
                .init(codingPath: container.codingPath + [key], debugDescription: "expected an object whose member names are the entries")
            )
        }
    }
}
