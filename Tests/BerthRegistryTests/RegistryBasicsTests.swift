@testable import BerthRegistry
import Testing

@Suite("registry authentication challenges, hosts and credentials")
struct RegistryBasicsTests {
    @Test("bearer and basic challenges are parsed, quoted values with commas included")
    func challenges() throws {
        let bearer = try #require(AuthenticationChallenge(header: #"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#))
        #expect(bearer.scheme == .bearer)
        #expect(bearer.realm == "https://auth.example/token")
        #expect(bearer.parameters["service"] == "registry.example")
        #expect(bearer.parameters["scope"] == "repository:a/b:pull,push")
        let basic = try #require(AuthenticationChallenge(header: #"Basic realm="Registry Realm""#))
        #expect(basic.scheme == .basic && basic.realm == "Registry Realm")
        #expect(AuthenticationChallenge(header: "Basic")?.scheme == .basic)
        #expect(AuthenticationChallenge(header: "Negotiate abc") == nil)
    }

    @Test("loopback registries are reached over plain HTTP, others over HTTPS; mirrors come first; Docker Hub's API host")
    func endpoints() {
        let hosts = RegistryHosts(hosts: ["mirrored.example": .init(mirrors: ["http://127.0.0.1:5001"]), "plain.example:5000": .init(plainHTTP: true)])
        #expect(hosts.endpoints(for: "127.0.0.1:5000") == ["http://127.0.0.1:5000"])
        #expect(hosts.endpoints(for: "localhost:5000") == ["http://localhost:5000"])
        #expect(hosts.endpoints(for: "[::1]:5000") == ["http://[::1]:5000"])
        #expect(hosts.endpoints(for: "registry.example") == ["https://registry.example"])
        #expect(hosts.endpoints(for: "docker.io") == ["https://registry-1.docker.io"])
        #expect(hosts.endpoints(for: "mirrored.example") == ["http://127.0.0.1:5001", "https://mirrored.example"])
        #expect(hosts.endpoints(for: "plain.example:5000") == ["http://plain.example:5000"])
    }

    @Test("a CRI AuthConfig's forms: auth (base64 user:password) wins over username/password; tokens; nothing set is no credentials")
    func credentials() throws {
        let fromAuth = try RegistryCredentials(username: "ignored", password: "ignored", auth: "dXNlcjpzM2NyZXQ6d2l0aC1jb2xvbg==", identityToken: "", registryToken: "")
        #expect(fromAuth?.username == "user" && fromAuth?.password == "s3cret:with-colon")
        #expect(fromAuth?.basicAuthorization == "Basic dXNlcjpzM2NyZXQ6d2l0aC1jb2xvbg==")
        let token = try RegistryCredentials(username: "", password: "", auth: "", identityToken: "", registryToken: "abc")
        #expect(token?.registryToken == "abc" && token?.username == nil)
        #expect(try RegistryCredentials(username: "", password: "", auth: "", identityToken: "", registryToken: "") == nil)
        #expect(throws: RegistryError.self) { try RegistryCredentials(username: "", password: "", auth: "not base64!", identityToken: "", registryToken: "") }
    }

    @Test("query values are percent-encoded")
    func encoding() {
        #expect(RegistryClient.encoded("repository:a/b:pull") == "repository%3Aa%2Fb%3Apull")
        #expect(RegistryClient.origin(of: "http://127.0.0.1:5000/v2/x/blobs/y") == "http://127.0.0.1:5000")
    }
}
