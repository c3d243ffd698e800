import BerthJSON

/// A network configuration list (`.conflist`), or a single network config (`.conf`) read
/// as a list of one plugin.
public struct CNINetworkList: Sendable {
    public let name: String
    public let cniVersion: String
    public let plugins: [JSONObject]

    public init(name: String, cniVersion: String, plugins: [JSONObject]) {
        self.name = name
        self.cniVersion = cniVersion
        self.plugins = plugins
    }

    public static func parse(_ bytes: [UInt8], source: String) throws(CNIError) -> CNINetworkList {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw CNIError("network config \(source): \(error)")
        }
        guard let name = value["name"]?.stringValue, !name.isEmpty else { throw CNIError("network config \(source): \"name\" is missing") }
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw CNIError("network config \(source): name \"\(name)\" may hold letters, digits, -, _ and . only")
        }
        let version = value["cniVersion"]?.stringValue ?? "0.4.0"
        if let plugins = value["plugins"]?.arrayValue {
            let objects = plugins.compactMap(\.objectValue)
            guard !objects.isEmpty, objects.count == plugins.count else { throw CNIError("network config \(source): \"plugins\" must be a list of objects") }
            return CNINetworkList(name: name, cniVersion: version, plugins: objects)
        }
        guard let single = value.objectValue, single["type"] != nil else { throw CNIError("network config \(source): neither \"plugins\" nor \"type\"") }
        return CNINetworkList(name: name, cniVersion: version, plugins: [single])
    }

    /// berthd's default when no network is configured: a bridge with host-local addresses
    /// and a default route, masquerading outbound traffic, and port mappings.
    public static func defaultList(bridge: String = "berth0", subnet: String = "10.88.0.0/16") -> JSONValue {
        [
            "cniVersion": "1.0.0",
            "name": "berth",
            "plugins": [
                [
                    "type": "bridge", "bridge": .string(bridge), "isGateway": true, "ipMasq": true, "hairpinMode": true,
                    "ipam": ["type": "host-local", "ranges": [[["subnet": .string(subnet)]]], "routes": [["dst": "0.0.0.0/0"]]],
                ],
                ["type": "portmap", "capabilities": ["portMappings": true]],
            ],
        ]
    }
}

/// What ADD gave: the interfaces and addresses (CNI result 0.3.0 and later).
public struct CNIResult: Sendable {
    public struct Address: Sendable, Equatable {
        /// "10.88.0.2/16".
        public let address: String
        public let gateway: String?
    }

    public let raw: JSONValue
    public let addresses: [Address]

    public init(_ value: JSONValue, source: String) throws(CNIError) {
        raw = value
        addresses = (value["ips"]?.arrayValue ?? []).compactMap { ip in
            ip["address"]?.stringValue.map { Address(address: $0, gateway: ip["gateway"]?.stringValue) }
        }
    }

    /// The addresses without their prefix length, IPv4 first: the pod IPs.
    public var podIPs: [String] {
        let plain = addresses.map { String($0.address.split(separator: "/").first ?? "") }
        return plain.filter { !$0.contains(":") } + plain.filter { $0.contains(":") }
    }
}
