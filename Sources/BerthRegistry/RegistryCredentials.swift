import BerthContent
import BerthImageSpec
import FoundationEssentials

/// Credentials for one registry, in the forms the kubelet sends them in a CRI
/// `AuthConfig` (built from a dockerconfigjson pull secret): a username and password, or
/// `auth` (base64 of "user:password"), an identity token (an OAuth2 refresh token) or a
/// registry token (a bearer token used as is).
public struct RegistryCredentials: Sendable, Equatable {
    public var username: String?
    public var password: String?
    public var identityToken: String?
    public var registryToken: String?

    public init(username: String? = nil, password: String? = nil, identityToken: String? = nil, registryToken: String? = nil) {
        self.username = username
        self.password = password
        self.identityToken = identityToken
        self.registryToken = registryToken
    }

    /// From the fields of a CRI AuthConfig; `auth` wins over username/password when both
    /// are set, as containerd's CRI plugin does. Nil when nothing is set.
    public init?(username: String, password: String, auth: String, identityToken: String, registryToken: String) throws(RegistryError) {
        var user = username
        var secret = password
        if !auth.isEmpty {
            guard let data = Data(base64Encoded: auth), let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":") else {
                throw RegistryError(.unauthorized, "auth config: \"auth\" is not base64 of user:password")
            }
            user = String(text[..<colon])
            secret = String(text[text.index(after: colon)...])
        }
        guard !user.isEmpty || !identityToken.isEmpty || !registryToken.isEmpty else { return nil }
        self.init(
            username: user.isEmpty ? nil : user, password: secret.isEmpty ? nil : secret,
            identityToken: identityToken.isEmpty ? nil : identityToken, registryToken: registryToken.isEmpty ? nil : registryToken)
    }

    /// Tells credentials apart in the token cache: a digest, so the cache keeps no secret.
    var cacheKey: String {
        let text = [username, password, identityToken, registryToken].map { $0.map { "\($0.utf8.count):\($0)" } ?? "-" }.joined(separator: "|")
        return Digest.sha256(of: Array(text.utf8)).encoded
    }

    /// The value of a Basic Authorization header, when there is a username.
    var basicAuthorization: String? {
        guard let username else { return nil }
        return "Basic " + Data("\(username):\(password ?? "")".utf8).base64EncodedString()
    }
}
