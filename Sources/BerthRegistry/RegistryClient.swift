import AsyncHTTPClient
import BerthContent
import BerthImageSpec
import BerthJSON
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// A client of OCI distribution registries (the v2 HTTP API): manifests and blobs, with the
/// registry's authentication (Basic, or the bearer-token challenge flow), retries with
/// backoff on 5xx answers and dropped connections, redirects to blob storage, and blob
/// downloads that resume with HTTP Range where an earlier attempt stopped.
public actor RegistryClient {
    let http: HTTPClient
    /// For hosts configured `skip_verify`: HTTPS without certificate checks (made only
    /// when some host asks for it).
    let unverifiedHTTP: HTTPClient?
    let hosts: RegistryHosts
    let logger: Logger
    /// Bearer tokens by endpoint, scope and credentials, reused until the registry refuses
    /// one. The credentials are part of the key: a token one pull secret earned must never
    /// serve a pull with other (or no) credentials. Kept in memory only, never logged.
    var tokens: [String: String] = [:]
    /// Backoff before each retry, in seconds; the number of entries is the number of retries.
    let backoff: [Double]

    public init(hosts: RegistryHosts = RegistryHosts(), logger: Logger, backoff: [Double] = [0.2, 0.5, 1, 2]) {
        self.hosts = hosts
        self.logger = logger
        self.backoff = backoff
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(60)))
        configuration.decompression = .disabled
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        if hosts.hosts.values.contains(where: \.skipVerify) {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            configuration.tlsConfiguration = tls
            unverifiedHTTP = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        } else {
            unverifiedHTTP = nil
        }
    }

    public func shutdown() async {
        try? await http.shutdown()
        try? await unverifiedHTTP?.shutdown()
    }

    /// The client for requests to `registry`'s endpoints (its mirrors included).
    func client(for registry: String) -> HTTPClient {
        hosts.hosts[registry]?.skipVerify == true ? (unverifiedHTTP ?? http) : http
    }

    /// A manifest or index, as the registry sent it.
    public struct FetchedManifest: Sendable {
        public let bytes: [UInt8]
        public let mediaType: String
        public let digest: Digest
    }

    /// Fetches the manifest (or index) that `reference` names: by digest when it has one
    /// (then the bytes must hash to it), else by tag.
    public func manifest(_ reference: ImageReference, credentials: RegistryCredentials?) async throws(RegistryError) -> FetchedManifest {
        try await manifest(registry: reference.registry, repository: reference.repository, reference: reference.manifestReference, credentials: credentials)
    }

    /// Fetches a manifest by tag or digest string.
    public func manifest(registry: String, repository: String, reference: String, credentials: RegistryCredentials?) async throws(RegistryError) -> FetchedManifest {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: MediaTypes.acceptedManifestTypes.joined(separator: ", "))
        let what = "\(registry)/\(repository):\(reference)"
        let (response, body) = try await perform(path: "/v2/\(repository)/manifests/\(reference)", headers: headers, registry: registry, repository: repository, credentials: credentials, what: what) { response throws(RegistryError) in
            try await Self.collect(response, limit: 4 << 20, what: what)
        }
        let digest = Digest.sha256(of: body)
        if let expected = try? Digest(parsing: reference), expected != digest {
            throw RegistryError(.invalidResponse, "registry \(registry): manifest \(what): digest mismatch: expected \(expected), got \(digest)")
        }
        let mediaType = response.headers.first(name: "Content-Type").map { MediaTypes.essence(ofContentType: $0) } ?? ""
        return FetchedManifest(bytes: body, mediaType: mediaType, digest: digest)
    }

    /// Downloads the blob `digest` into `ingest`, continuing at `ingest.offset`, and
    /// commits it (size and digest checked by the ingest). `progress` gets the bytes done.
    public func blob(
        registry: String, repository: String, digest: Digest, size: Int64, credentials: RegistryCredentials?, into ingest: Ingest,
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws(RegistryError) {
        let what = "\(registry)/\(repository)@\(digest)"
        var restarts = 0
        while true {
            var headers = HTTPHeaders()
            let start = ingest.offset
            if start > 0 && start < size { headers.add(name: "Range", value: "bytes=\(start)-") }
            progress(start)
            do {
                _ = try await perform(path: "/v2/\(repository)/blobs/\(digest)", headers: headers, registry: registry, repository: repository, credentials: credentials, what: what) { response throws(RegistryError) in
                    if start > 0 && response.status == .ok {
                        // The registry ignored the Range: take the whole blob from the start.
                        ingest.restart()
                    } else if response.status == .partialContent {
                        let range = response.headers.first(name: "Content-Range") ?? ""
                        guard range.hasPrefix("bytes \(start)-") else {
                            throw RegistryError(.invalidResponse, "registry \(registry): blob \(what): asked for bytes from \(start), got \(range.isEmpty ? "no Content-Range" : range)")
                        }
                    }
                    do {
                        for try await buffer in response.body {
                            try buffer.withUnsafeReadableBytes { (bytes) throws(ContentError) in try ingest.append(bytes) }
                            progress(ingest.offset)
                        }
                    } catch let error as ContentError {
                        throw RegistryError(.invalidResponse, "registry \(registry): \(error.message)")
                    } catch let error as RegistryError {
                        throw error
                    } catch {
                        // A dropped connection: what arrived stays in the ingest.
                        throw RegistryError(.unavailable, "registry \(registry): blob \(what): download interrupted at \(ingest.offset) of \(size) bytes: \(error)")
                    }
                    return ()
                }
            } catch let error where error.code == .unavailable && restarts < backoff.count {
                logger.info("blob download interrupted; resuming", metadata: ["blob": "\(digest)", "offset": "\(ingest.offset)", "error": "\(error.message)"])
                try? await Task.sleep(for: .milliseconds(Int(backoff[restarts] * 1000)))
                restarts += 1
                continue
            }
            do {
                try ingest.commit()
            } catch {
                throw RegistryError(.invalidResponse, "registry \(registry): \(error.message)")
            }
            return
        }
    }

    /// One GET against each endpoint of `registry` in turn (mirrors first): retries on
    /// dropped connections and 5xx, answers the registry's authentication challenge once,
    /// follows redirects (dropping credentials when the host changes), then hands a 2xx
    /// response to `body`.
    func perform<Result: Sendable>(
        path: String, headers: HTTPHeaders, registry: String, repository: String, credentials: RegistryCredentials?, what: String,
        body: (HTTPClientResponse) async throws(RegistryError) -> Result
    ) async throws(RegistryError) -> (HTTPClientResponse, Result) {
        var lastError = RegistryError(.unavailable, "registry \(registry): no endpoint answered for \(what)")
        let endpoints = hosts.endpoints(for: registry)
        for endpoint in endpoints {
            // A pull secret is for the registry it names: mirrors (often plain-HTTP caches)
            // never see it.
            let isRegistry = endpoint == endpoints.last
            do {
                return try await performOnce(
                    endpoint: endpoint, path: path, headers: headers, registry: registry, repository: repository,
                    credentials: isRegistry ? credentials : nil, what: what, body: body)
            } catch let error where error.code == .unavailable || (error.code == .notFound && endpoint != hosts.endpoints(for: registry).last) {
                // A mirror that is down or lacks the content: try the next endpoint.
                lastError = error
                continue
            }
        }
        throw lastError
    }

    private func performOnce<Result: Sendable>(
        endpoint: String, path: String, headers: HTTPHeaders, registry: String, repository: String, credentials: RegistryCredentials?, what: String,
        body: (HTTPClientResponse) async throws(RegistryError) -> Result
    ) async throws(RegistryError) -> (HTTPClientResponse, Result) {
        let scope = "repository:\(repository):pull"
        let tokenKey = "\(endpoint)|\(scope)|\(credentials?.cacheKey ?? "anonymous")"
        var attempt = 0
        var answeredChallenge = false
        var url = endpoint + path
        var redirects = 0
        while true {
            var request = HTTPClientRequest(url: url)
            request.headers = headers
            let sameHost = Self.origin(of: url) == Self.origin(of: endpoint)
            if sameHost {
                if let token = tokens[tokenKey] {
                    request.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(token)")
                } else if answeredChallenge, let basic = credentials?.basicAuthorization {
                    request.headers.replaceOrAdd(name: "Authorization", value: basic)
                }
            }
            let response: HTTPClientResponse
            do {
                // Redirects to blob storage elsewhere are checked as usual.
                response = try await (sameHost ? client(for: registry) : http).execute(request, timeout: .hours(2))
            } catch {
                // An untrusted certificate stays untrusted, and a plain-HTTP server stays
                // one: no retries, and say what to do.
                let text = "\(error)"
                if Self.isCertificateFailure(text) {
                    throw RegistryError(
                        .unavailable,
                        "registry \(registry): \(what): the TLS certificate of \(Self.origin(of: url)) is not trusted (\(error)); install its CA on this host, or set skip_verify = true under [registry.hosts.\"\(registry)\"] in berthd's config")
                }
                if text.contains("WRONG_VERSION_NUMBER") {
                    throw RegistryError(
                        .unavailable,
                        "registry \(registry): \(what): \(Self.origin(of: url)) does not speak TLS; if it is a plain-HTTP registry, set plain_http = true under [registry.hosts.\"\(registry)\"] in berthd's config")
                }
                guard attempt < backoff.count else {
                    throw RegistryError(.unavailable, "registry \(registry): \(what): \(error) (after \(attempt + 1) attempts)")
                }
                try? await Task.sleep(for: .milliseconds(Int(backoff[attempt] * 1000)))
                attempt += 1
                continue
            }
            switch response.status.code {
            case 200..<300:
                return (response, try await body(response))
            case 301, 302, 303, 307, 308:
                guard let location = response.headers.first(name: "Location"), redirects < 5 else {
                    throw RegistryError(.invalidResponse, "registry \(registry): \(what): a redirect without a usable Location")
                }
                redirects += 1
                url = location.hasPrefix("http") ? location : Self.origin(of: url) + location
                continue
            case 401, 403:
                let challenge = response.headers.first(name: "WWW-Authenticate").flatMap { AuthenticationChallenge(header: $0) }
                if !answeredChallenge, response.status.code == 401, let challenge {
                    answeredChallenge = true
                    if challenge.scheme == .bearer {
                        tokens[tokenKey] = try await token(for: challenge, scope: scope, registry: registry, credentials: credentials)
                    } else if credentials?.basicAuthorization == nil {
                        throw RegistryError(.unauthorized, "registry \(registry): \(what): authentication required (401) and no credentials were given")
                    }
                    continue
                }
                tokens[tokenKey] = nil
                let who = credentials?.username.map { "the credentials of user \"\($0)\"" } ?? (credentials == nil ? "anonymous access" : "the credentials")
                throw RegistryError(.unauthorized, "registry \(registry): \(what): \(who) were refused (\(response.status.code))")
            case 404:
                throw RegistryError(.notFound, "registry \(registry): \(what): not found (404)")
            case 429, 500..<600:
                guard attempt < backoff.count else {
                    throw RegistryError(.unavailable, "registry \(registry): \(what): \(response.status.code) \(response.status.reasonPhrase) (after \(attempt + 1) attempts)")
                }
                try? await Task.sleep(for: .milliseconds(Int(backoff[attempt] * 1000)))
                attempt += 1
                continue
            default:
                throw RegistryError(.invalidResponse, "registry \(registry): \(what): unexpected \(response.status.code) \(response.status.reasonPhrase)")
            }
        }
    }

    /// The bearer token for `scope` from the challenge's realm: a registry token as given;
    /// an identity token exchanged (OAuth2 refresh_token grant); otherwise a GET with Basic
    /// credentials if there are any (anonymous pulls get tokens too).
    private func token(for challenge: AuthenticationChallenge, scope: String, registry: String, credentials: RegistryCredentials?) async throws(RegistryError) -> String {
        if let registryToken = credentials?.registryToken { return registryToken }
        guard let realm = challenge.realm, realm.hasPrefix("http") else {
            throw RegistryError(.invalidResponse, "registry \(registry): a bearer challenge without a usable realm")
        }
        let service = challenge.parameters["service"] ?? ""
        let scopeParameter = challenge.parameters["scope"] ?? scope
        var request: HTTPClientRequest
        if let identityToken = credentials?.identityToken {
            request = HTTPClientRequest(url: realm)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            let form = "grant_type=refresh_token&client_id=berth&service=\(Self.encoded(service))&scope=\(Self.encoded(scopeParameter))&refresh_token=\(Self.encoded(identityToken))"
            request.body = .bytes(ByteBuffer(string: form))
        } else {
            let separator = realm.contains("?") ? "&" : "?"
            request = HTTPClientRequest(url: "\(realm)\(separator)service=\(Self.encoded(service))&scope=\(Self.encoded(scopeParameter))")
            if let basic = credentials?.basicAuthorization { request.headers.add(name: "Authorization", value: basic) }
        }
        let response: HTTPClientResponse
        do {
            // A registry with a self-signed certificate usually has its token service too.
            response = try await client(for: registry).execute(request, timeout: .seconds(30))
        } catch {
            throw RegistryError(.unavailable, "registry \(registry): token service \(realm): \(error)")
        }
        let body = try await Self.collect(response, limit: 1 << 20, what: "token from \(realm)")
        guard response.status.code == 200 else {
            let who = credentials?.username.map { "the credentials of user \"\($0)\"" } ?? "anonymous access"
            throw RegistryError(.unauthorized, "registry \(registry): token service \(realm) refused \(who) (\(response.status.code))")
        }
        guard let object = try? JSONParser.parse(body), let token = object["token"]?.stringValue ?? object["access_token"]?.stringValue, !token.isEmpty else {
            throw RegistryError(.invalidResponse, "registry \(registry): token service \(realm) answered without a token")
        }
        return token
    }

    /// A certificate the host does not trust, or one for another name.
    static func isCertificateFailure(_ text: String) -> Bool {
        text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("failedToValidateHostname") || text.contains("unableToValidateCertificate")
    }

    static func collect(_ response: HTTPClientResponse, limit: Int, what: String) async throws(RegistryError) -> [UInt8] {
        var bytes: [UInt8] = []
        do {
            for try await buffer in response.body {
                bytes.append(contentsOf: buffer.readableBytesView)
                if bytes.count > limit { throw RegistryError(.invalidResponse, "\(what): the answer is larger than \(limit) bytes") }
            }
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError(.unavailable, "\(what): \(error)")
        }
        return bytes
    }

    static func origin(of url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let host = rest.prefix { $0 != "/" }
        return String(url[..<schemeEnd.upperBound]) + host
    }

    static func encoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            if (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 45 || byte == 46 || byte == 95 || byte == 126 {
                result.append(Character(Unicode.Scalar(byte)))
            } else {
                result += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return result
    }
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
