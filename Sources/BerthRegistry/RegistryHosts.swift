/// How each registry host is reached: the scheme (registries on loopback — 127.0.0.0/8,
/// localhost, ::1 — over plain HTTP by default, as Docker does; others over HTTPS unless
/// configured insecure), mirrors tried first, and whether TLS certificates are checked.
public struct RegistryHosts: Sendable, Equatable {
    public struct Host: Sendable, Equatable {
        /// Endpoints tried in order before the registry itself, e.g. "http://mirror:5000".
        public var mirrors: [String] = []
        /// Plain HTTP for this host.
        public var plainHTTP: Bool?
        /// HTTPS without certificate checks.
        public var skipVerify = false

        public init(mirrors: [String] = [], plainHTTP: Bool? = nil, skipVerify: Bool = false) {
            self.mirrors = mirrors
            self.plainHTTP = plainHTTP
            self.skipVerify = skipVerify
        }
    }

    public var hosts: [String: Host] = [:]

    public init(hosts: [String: Host] = [:]) {
        self.hosts = hosts
    }

    /// Docker Hub's API lives at registry-1.docker.io.
    static func apiHost(_ registry: String) -> String {
        registry == "docker.io" ? "registry-1.docker.io" : registry
    }

    /// The base URLs to try for `registry`, mirrors first: "http://127.0.0.1:5000".
    public func endpoints(for registry: String) -> [String] {
        let host = hosts[registry] ?? Host()
        let plain = host.plainHTTP ?? Self.isLoopback(registry)
        return host.mirrors + ["\(plain ? "http" : "https")://\(Self.apiHost(registry))"]
    }

    static func isLoopback(_ registry: String) -> Bool {
        var name = Substring(registry)
        if name.hasPrefix("[") { return name.hasPrefix("[::1]") }
        if let colon = name.lastIndex(of: ":") { name = name[..<colon] }
        return name == "localhost" || name.hasPrefix("127.")
    }
}
