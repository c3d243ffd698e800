import BerthCRI
import BerthJSON
import Testing

@testable import BerthCtl

@Suite("berthctl prints as crictl prints")
struct OutputTests {
    @Test("sizes: powers of 1000, three significant digits, %g's exponent", arguments: [
        (0.0, "0B"), (999, "999B"), (1000, "1kB"), (12345, "12.3kB"), (4_270_000, "4.27MB"), (75_500_000, "75.5MB"),
        (151_000_000, "151MB"), (321_520, "322kB"), (1_500_000, "1.5MB"), (999_999, "1e+03kB"), (1125, "1.12kB"), (1135, "1.14kB"),
    ])
    func sizes(bytes: Double, expected: String) {
        #expect(ByteSize.human(bytes) == expected)
    }

    @Test("tables: columns are as wide as the widest cell plus 3, at least 20; the last is not padded")
    func table() {
        var table = TableWriter(header: ["IMAGE", "TAG", "IMAGE ID", "SIZE"])
        table.add(["docker.io/flannel/flannel-cni-plugin", "v1.4.1", "1cd14561240a0", "11MB"])
        #expect(table.rendered() == """
            IMAGE                                  TAG                 IMAGE ID            SIZE
            docker.io/flannel/flannel-cni-plugin   v1.4.1              1cd14561240a0       11MB

            """)
        #expect(TableWriter(header: ["IMAGE", "TAG", "IMAGE ID", "SIZE"]).rendered() == "IMAGE               TAG                 IMAGE ID            SIZE\n")
    }

    @Test("images -o json: fields in .proto order, defaults filled in, unset messages left out, 64-bit numbers as strings")
    func imagesJSON() throws {
        var response = Runtime_V1_ListImagesResponse()
        var image = Runtime_V1_Image()
        image.id = "sha256:abc"
        image.repoTags = ["docker.io/library/busybox:latest"]
        image.size = 4_270_000
        response.images = [image]
        let text = MessageOutput.render(try MessageOutput.json(response), as: .json)
        #expect(text == """
            {
              "images": [
                {
                  "id": "sha256:abc",
                  "repoTags": [
                    "docker.io/library/busybox:latest"
                  ],
                  "repoDigests": [],
                  "size": "4270000",
                  "username": "",
                  "pinned": false
                }
              ]
            }

            """)
        #expect(MessageOutput.render(try MessageOutput.json(Runtime_V1_ListImagesResponse()), as: .json) == "{\n  \"images\": []\n}\n")
    }

    @Test("YAML: keys sorted, lists at their key's indentation, strings quoted only where YAML would misread them")
    func yaml() throws {
        let value = try JSONParser.parse(#"{"images":[{"id":"sha256:abc","size":"4270000","repoTags":["a:b"],"username":"","pinned":false,"x":{"k":"true"}}],"empty":[]}"#)
        #expect(YAMLEmitter.emit(value) == """
            empty: []
            images:
            - id: sha256:abc
              pinned: false
              repoTags:
              - a:b
              size: "4270000"
              username: ""
              x:
                k: "true"

            """)
    }

    @Test("YAML scalars YAML would read as numbers, booleans or times are quoted; words and names are not", arguments: [
        ("1_000", true), ("0o17", true), ("0b1", true), ("1:20", true), ("0x1F", true), ("1e5", true), ("-3.5", true),
        ("2024-01-01T00:00:00Z", true), ("2001-12-14", true), ("yes", true), ("", true),
        ("inf", false), ("nan", false), ("sha256:abc", false), ("busybox:latest", false), ("v1", false), ("1.2.3", false),
    ])
    func yamlScalars(text: String, quoted: Bool) {
        #expect(YAMLEmitter.needsQuotes(text) == quoted)
    }

    @Test("image rows: one per tag split at the last colon; <none> and the digest's repository without tags")
    func rows() {
        var image = Runtime_V1_Image()
        image.repoDigests = ["127.0.0.1:5000/test/busybox@sha256:0123456789abcdef"]
        #expect(ImageRows.repositoryTags(image, name: ImageRows.repositoryDigest(image).name).map { "\($0.0) \($0.1)" } == ["127.0.0.1:5000/test/busybox <none>"])
        image.repoTags = ["127.0.0.1:5000/test/busybox:v1", "127.0.0.1:5000/test/busybox:v2"]
        #expect(ImageRows.repositoryTags(image, name: "x").map { "\($0.0) \($0.1)" } == ["127.0.0.1:5000/test/busybox v1", "127.0.0.1:5000/test/busybox v2"])
        #expect(ImageRows.truncated("sha256:0123456789abcdef") == "0123456789abc")
    }
}

@Suite("berthctl's flags, settings and config file")
struct SettingsTests {
    @Test("flags over the environment over the config file over the defaults; the image endpoint follows the runtime's")
    func precedence() throws {
        let file = "runtime-endpoint: unix:///file.sock\ntimeout: 10 # seconds\ndebug: true\n"
        var flags = ClientSettings.Flags()
        var settings = try ClientSettings.resolve(flags: flags, environment: [:]) { $0 == "/etc/crictl.yaml" ? file : nil }
        #expect(settings.runtimeEndpoint.path == "/file.sock" && settings.imageEndpoint.path == "/file.sock")
        #expect(settings.timeout == 10 && settings.debug)
        settings = try ClientSettings.resolve(flags: flags, environment: ["CONTAINER_RUNTIME_ENDPOINT": "/env.sock"]) { _ in file }
        #expect(settings.runtimeEndpoint.path == "/env.sock")
        flags.runtimeEndpoint = "unix:///flag.sock"
        flags.imageEndpoint = "/image.sock"
        flags.timeout = "500ms"
        settings = try ClientSettings.resolve(flags: flags, environment: ["CONTAINER_RUNTIME_ENDPOINT": "/env.sock"]) { _ in file }
        #expect(settings.runtimeEndpoint.path == "/flag.sock" && settings.imageEndpoint.path == "/image.sock" && settings.timeout == 0.5)
        settings = try ClientSettings.resolve(flags: ClientSettings.Flags(), environment: [:]) { _ in nil }
        #expect(settings.runtimeEndpoint.description == "unix:///run/berth/berth.sock" && settings.timeout == 2 && !settings.debug)
    }

    @Test("bad settings are refused naming the input", arguments: [
        ("tcp://1.2.3.4:5", "", "only unix sockets"),
        ("", "color: blue\n", "unknown key \"color\""),
        ("", "  runtime-endpoint: x\n", "line 1"),
    ])
    func refusals(endpoint: String, file: String, expected: String) {
        var flags = ClientSettings.Flags()
        if !endpoint.isEmpty { flags.runtimeEndpoint = endpoint }
        flags.configPath = "/etc/my.yaml"
        #expect {
            _ = try ClientSettings.resolve(flags: flags, environment: [:]) { _ in file }
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test("flags as urfave/cli takes them: --f v, --f=v, -f v, combined short booleans, --")
    func flags() throws {
        let spec = [Flag("--quiet", "-q", help: ""), Flag("--all", "-a", help: ""), Flag("--output", "-o", value: true, help: "")]
        let parsed = try ParsedFlags.parse(["-qa", "--output=json", "name", "-o", "yaml", "--", "-x"], flags: spec, command: "t")
        #expect(parsed.bool("--quiet") && parsed.bool("--all"))
        #expect(parsed.string("--output") == "yaml")
        #expect(parsed.positional == ["name", "-x"])
        #expect(throws: CommandError.self) { try ParsedFlags.parse(["--nope"], flags: spec, command: "t") }
        #expect(throws: CommandError.self) { try ParsedFlags.parse(["-o"], flags: spec, command: "t") }
    }
}
