import BerthJSON
import BerthTOML
import Testing

@testable import BerthDaemon

@Suite("TOML as berthd reads it")
struct TOMLTests {
    @Test("tables, dotted and quoted keys, arrays of tables, inline tables, every string and number form")
    func document() throws {
        let value = try TOMLParser.parse(#"""
            # a comment
            title = "berth" # after a value
            "quoted key" = 'literal \n'
            a.b.c = 1_000
            hex = 0xff
            float = -1.5e3
            yes = true
            date = 1979-05-27T07:32:00Z
            list = [ 1, 2,
              3, # inside
            ]
            inline = { x = 1, y.z = "two" }
            text = """
            first \
              second"""
            raw = '''
            C:\path'''

            [registry.hosts."docker.io"]
            mirrors = ["http://m:5000"]

            [[servers]]
            name = "one"
            [[servers]]
            name = "two"
            [servers.extra]
            port = 80
            """#)
        #expect(value["title"]?.stringValue == "berth")
        #expect(value["quoted key"]?.stringValue == #"literal \n"#)
        #expect(value["a"]?["b"]?["c"]?.int64Value == 1000)
        #expect(value["hex"]?.int64Value == 255)
        #expect(value["float"] == .number(JSONNumber(-1500.0)!))
        #expect(value["yes"]?.boolValue == true)
        #expect(value["date"]?.stringValue == "1979-05-27T07:32:00Z")
        #expect(value["list"]?.arrayValue?.count == 3)
        #expect(value["inline"]?["y"]?["z"]?.stringValue == "two")
        #expect(value["text"]?.stringValue == "first second")
        #expect(value["raw"]?.stringValue == #"C:\path"#)
        #expect(value["registry"]?["hosts"]?["docker.io"]?["mirrors"]?.arrayValue?.first?.stringValue == "http://m:5000")
        let servers = value["servers"]?.arrayValue ?? []
        #expect(servers.count == 2 && servers[1]["extra"]?["port"]?.int64Value == 80)
    }

    @Test("errors name the line", arguments: [
        ("a = 1\na = 2\n", "line 2: key \"a\" is defined twice"),
        ("[t]\n[t]\n", "line 2: table [t] is defined twice"),
        ("a = 1\n[a]\n", "line 2: [a] names a key that is not a table"),
        ("a = bare\n", "line 1: \"bare\" is not a TOML value"),
        ("a = \"open\n", "line 1: a string is not closed"),
        ("a = 1 b = 2\n", "line 1: unexpected"),
        ("x = { a = 1 }\n[x.b]\n", "line 2"),
        ("n = 012\n", "line 1"),
        ("[fruit]\napple.color = 1\n[fruit.apple]\n", "line 3: table [apple] was already defined by dotted keys"),
        ("[a.b.c]\nz = 1\n[a]\nb.c.t = 1\n", "line 4"),
        ("n = 9223372036854775808\n", "line 1: integer 9223372036854775808 does not fit in 64 bits"),
        ("n = 0x-1\n", "line 1"),
        ("s = \"\\u+041\"\n", "line 1: invalid \\u escape"),
        ("s = \"\\e\"\n", "line 1: unknown escape"),
        ("n = 1e_5\n", "line 1"),
        ("n = inf\n", "line 1: inf: infinities and NaN"),
    ])
    func errors(text: String, expected: String) {
        #expect {
            _ = try TOMLParser.parse(text)
        } throws: { error in
            "\(error)".hasPrefix(expected)
        }
    }
}

@Suite("berthd's config file")
struct ConfigurationFileTests {
    @Test("the file sets everything; flags override it; without a file the defaults hold")
    func layering() throws {
        let file = """
            address = "/tmp/file.sock"
            root = "/tmp/file-root"
            log_level = "debug"
            log_format = "json"
            [images]
            concurrent_downloads = 5
            pinned = ["busybox"]
            [registry.hosts."docker.io"]
            mirrors = ["http://127.0.0.1:5000/"]
            [registry.hosts."internal:5000"]
            plain_http = true
            skip_verify = true
            """
        let parsed = try DaemonArguments.parse(["--config", "/etc/x.toml", "--root", "/tmp/flag-root"]) { $0 == "/etc/x.toml" ? file : nil }
        let configuration = parsed.configuration
        #expect(configuration.address == "/tmp/file.sock")
        #expect(configuration.root == "/tmp/flag-root", "the flag wins")
        #expect(configuration.logLevel == .debug && configuration.logFormat == .json)
        #expect(configuration.concurrentDownloads == 5 && configuration.pinnedImages == ["busybox"])
        #expect(configuration.registryHosts.endpoints(for: "docker.io") == ["http://127.0.0.1:5000", "https://registry-1.docker.io"])
        #expect(configuration.registryHosts.endpoints(for: "internal:5000") == ["http://internal:5000"])
        #expect(configuration.registryHosts.hosts["internal:5000"]?.skipVerify == true)
        #expect(parsed.configPath == "/etc/x.toml")
        let none = try DaemonArguments.parse([]) { _ in nil }
        #expect(none.configuration == DaemonConfiguration() && none.configPath == nil)
        let implicit = try DaemonArguments.parse([]) { $0 == DaemonConfiguration.defaultConfigPath ? "state = \"/tmp/s\"" : nil }
        #expect(implicit.configuration.state == "/tmp/s", "/etc/berth/berthd.toml is read when it exists")
    }

    @Test("bad settings are refused naming the file and the key", arguments: [
        ("color = 1", "config /c.toml: color: unknown key"),
        ("[images]\nconcurrent_downloads = 0", "images.concurrent_downloads: must be a number from 1 to 64"),
        ("root = \"relative\"", "root: \"relative\" must be an absolute path"),
        ("[registry.hosts.\"x\"]\nmirrors = [\"ftp://m\"]", "must start with http:// or https://"),
        ("[registry.hosts.\"x\"]\nplain_http = \"yes\"", "plain_http: must be true or false"),
        ("log_level = \"loud\"", "log_level: \"loud\""),
        ("a = ", "config /c.toml: line 1"),
    ])
    func refusals(file: String, expected: String) {
        #expect {
            _ = try DaemonArguments.parse(["--config", "/c.toml"]) { _ in file }
        } throws: { error in
            "\(error)".contains(expected)
        }
        #expect(throws: DaemonArguments.Invalid.self) { try DaemonArguments.parse(["--config", "/missing.toml"]) { _ in nil } }
    }
}
