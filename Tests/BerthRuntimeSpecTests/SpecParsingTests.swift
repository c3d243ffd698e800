import BerthJSON
import BerthRuntimeSpec
import Testing

/// A config with only what berth requires, with `edit` applied to its JSON.
func minimalConfig(version: String = "1.2.0", _ edit: (inout JSONObject) -> Void = { _ in }) -> [UInt8] {
    var object = JSONObject()
    object["ociVersion"] = .string(version)
    object["process"] = ["user": ["uid": 0, "gid": 0], "args": ["sh"], "cwd": "/"]
    object["root"] = ["path": "rootfs"]
    edit(&object)
    return Array(JSONValue.object(object).serialized().utf8)
}

/// Edits the object at `key` inside `object` (creating it when missing).
func editMember(_ object: inout JSONObject, _ key: String, _ edit: (inout JSONObject) -> Void) {
    var inner = object[key]?.objectValue ?? JSONObject()
    edit(&inner)
    object[key] = .object(inner)
}

/// The message Spec.parse refuses `bytes` with, or nil when it accepts them.
func refusal(_ bytes: [UInt8]) -> String? {
    do {
        _ = try Spec.parse(bytes)
        return nil
    } catch {
        return error.message
    }
}

@Suite("Spec.parse accepts valid configs")
struct SpecAcceptanceTests {
    @Test("the default spec berth writes parses back")
    func defaultSpec() throws {
        let spec = try Spec.parse(Array(DefaultSpec.make().serialized().utf8))
        #expect(spec.ociVersion == Spec.currentVersion)
        let process = try #require(spec.process)
        #expect(process.args == ["sh"])
        #expect(process.cwd == "/")
        #expect(process.terminal == true)
        #expect(process.user.uid == 0 && process.user.gid == 0)
        #expect(process.noNewPrivileges == true)
        #expect(process.rlimits?.first?.type == "RLIMIT_NOFILE")
        #expect(process.rlimits?.first?.hard == 1024)
        #expect(process.capabilities?["bounding"]?.arrayValue?.count == 3)
        #expect(spec.root?.path == "rootfs")
        #expect(spec.root?.readonly == true)
        #expect(spec.hostname == "berth")
        #expect(spec.mounts?.map(\.destination) == ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"])
        #expect(spec.mounts?[1].options == ["nosuid", "strictatime", "mode=755", "size=65536k"])
        #expect(spec.linux?.namespaces?.map(\.type) == ["pid", "network", "ipc", "uts", "mount", "cgroup"])
        #expect(spec.linux?.maskedPaths?.contains("/proc/kcore") == true)
        #expect(spec.linux?.readonlyPaths?.contains("/proc/sys") == true)
        #expect(spec.linux?.resources?.devices == [LinuxResources.DeviceRule(allow: false, access: "rwm")])
    }

    @Test("the pretty-printed default spec parses too")
    func prettyDefaultSpec() throws {
        #expect(throws: Never.self) { try Spec.parse(Array(DefaultSpec.make().prettySerialized(indentation: "\t").utf8)) }
    }

    @Test("supported ociVersions are accepted", arguments: ["1.0.0", "1.0.2-dev", "1.1.0", "1.2.0", "1.3.0"])
    func supportedVersions(version: String) throws {
        let spec = try Spec.parse(minimalConfig(version: version))
        #expect(spec.ociVersion == version)
    }

    @Test("a minimal config leaves the optional sections empty")
    func minimal() throws {
        let spec = try Spec.parse(minimalConfig())
        #expect(spec.mounts == nil)
        #expect(spec.hooks == nil)
        #expect(spec.linux == nil)
        #expect(spec.hostname == nil)
        #expect(spec.allHooks.isEmpty)
    }

    @Test("unknown fields at every level are ignored")
    func unknownFields() throws {
        let bytes = minimalConfig { object in
            object["futureTopLevel"] = ["x": [1, 2]]
            editMember(&object, "process") { process in
                process["futureProcess"] = true
                process["user"] = ["uid": 1, "gid": 2, "futureUser": "x"]
            }
            editMember(&object, "root") { $0["futureRoot"] = 1 }
            object["mounts"] = [["destination": "/tmp", "type": "tmpfs", "futureMount": nil]]
            object["hooks"] = [
                "futureHookList": [["path": "/x"]],
                "prestart": [["path": "/bin/true", "futureHook": 1]],
            ]
            object["linux"] = [
                "futureLinux": [:],
                "namespaces": [["type": "mount", "futureNamespace": "y"]],
                "devices": [["type": "c", "path": "/dev/null", "major": 1, "minor": 3, "futureDevice": 0]],
                "resources": ["futureResource": 1],
            ]
        }
        let spec = try Spec.parse(bytes)
        #expect(spec.process?.user.uid == 1)
        #expect(spec.mounts?.first?.destination == "/tmp")
        #expect(spec.hooks?.prestart?.first?.path == "/bin/true")
        #expect(spec.linux?.namespaces?.first?.type == "mount")
        #expect(spec.linux?.devices?.first?.path == "/dev/null")
    }

    @Test("hooks are listed with the name of their list, in lifecycle order")
    func allHooks() throws {
        let spec = try Spec.parse(minimalConfig { object in
            object["hooks"] = [
                "poststop": [["path": "/d"]],
                "prestart": [["path": "/a", "args": ["a", "1"], "env": ["X=1"], "timeout": 5]],
                "createRuntime": [["path": "/b"], ["path": "/c"]],
            ]
        })
        #expect(spec.allHooks.map(\.kind) == ["prestart", "createRuntime", "createRuntime", "poststop"])
        #expect(spec.allHooks.map(\.hook.path) == ["/a", "/b", "/c", "/d"])
        #expect(spec.allHooks.first?.hook == Spec.Hook(path: "/a", args: ["a", "1"], env: ["X=1"], timeout: 5))
    }

    @Test("a hostname with a uts namespace is accepted")
    func hostnameWithUTS() throws {
        let spec = try Spec.parse(minimalConfig { object in
            object["hostname"] = "box"
            object["linux"] = ["namespaces": [["type": "uts"]]]
        })
        #expect(spec.hostname == "box")
    }

    @Test("an empty hostname needs no uts namespace")
    func emptyHostname() {
        #expect(refusal(minimalConfig { $0["hostname"] = "" }) == nil)
    }

    @Test("every namespace type but user (which needs mappings) is accepted alone", arguments: ["pid", "network", "mount", "ipc", "uts", "cgroup", "time"])
    func namespaceTypes(type: String) {
        #expect(refusal(minimalConfig { $0["linux"] = ["namespaces": [["type": .string(type)]]] }) == nil)
    }

    @Test("a positive hook timeout is accepted")
    func positiveTimeout() {
        #expect(refusal(minimalConfig { $0["hooks"] = ["poststart": [["path": "/x", "timeout": 1]]] }) == nil)
    }
}

@Suite("Spec.parse refuses invalid configs with a message naming the member")
struct SpecRefusalTests {
    @Test("unsupported ociVersions are refused", arguments: ["0.9.0", "2.0.0", "banana", "1.4.0", "1.0", ""])
    func unsupportedVersions(version: String) throws {
        let message = try #require(refusal(minimalConfig(version: version)))
        #expect(message.contains("ociVersion"))
        #expect(message.hasPrefix("config.json: "))
    }

    @Test("a config without process is refused")
    func missingProcess() throws {
        let message = try #require(refusal(minimalConfig { $0["process"] = nil }))
        #expect(message.contains("process"))
    }

    @Test("empty process args are refused")
    func emptyArgs() throws {
        let message = try #require(refusal(minimalConfig { object in editMember(&object, "process") { $0["args"] = [] } }))
        #expect(message.contains("process.args"))
    }

    @Test("missing process args are refused")
    func missingArgs() throws {
        let message = try #require(refusal(minimalConfig { object in editMember(&object, "process") { $0["args"] = nil } }))
        #expect(message.contains("process.args"))
    }

    @Test("a relative cwd is refused")
    func relativeCwd() throws {
        let message = try #require(refusal(minimalConfig { object in editMember(&object, "process") { $0["cwd"] = "tmp" } }))
        #expect(message.contains("process.cwd"))
        #expect(message.contains("absolute"))
    }

    @Test("terminal true is accepted (the runtime needs a console socket or a foreground run for it)")
    func terminal() throws {
        #expect(refusal(minimalConfig { object in editMember(&object, "process") { $0["terminal"] = true } }) == nil)
    }

    @Test("a missing root path is refused")
    func missingRoot() throws {
        let message = try #require(refusal(minimalConfig { $0["root"] = nil }))
        #expect(message.contains("root.path"))
    }

    @Test("a new user namespace needs uidMappings and gidMappings")
    func userNamespaceWithoutMappings() throws {
        let message = try #require(refusal(minimalConfig { $0["linux"] = ["namespaces": [["type": "user"]]] }))
        #expect(message.contains("linux.uidMappings must not be empty"), "\(message)")
    }

    @Test("mappings without a user namespace, with a joined one, or of size zero are refused")
    func mappingRules() throws {
        let mapping: JSONValue = [["containerID": 0, "hostID": 100000, "size": 0]]
        let zero = try #require(refusal(minimalConfig { $0["linux"] = ["namespaces": [["type": "user"]], "uidMappings": mapping, "gidMappings": mapping] }))
        #expect(zero.contains("linux.uidMappings[0].size"), "\(zero)")
        let good: JSONValue = [["containerID": 0, "hostID": 100000, "size": 65536]]
        let without = try #require(refusal(minimalConfig { $0["linux"] = ["uidMappings": good, "gidMappings": good] }))
        #expect(without.contains("no user namespace"), "\(without)")
        let joined = try #require(refusal(minimalConfig { $0["linux"] = ["namespaces": [["type": "user", "path": "/proc/1/ns/user"]], "uidMappings": good, "gidMappings": good] }))
        #expect(joined.contains("joined by path"), "\(joined)")
        #expect(refusal(minimalConfig { $0["linux"] = ["namespaces": [["type": "user"]], "uidMappings": good, "gidMappings": good] }) == nil)
    }

    @Test("the rootless default spec is accepted")
    func rootlessDefaultSpec() throws {
        #expect(refusal(Array(DefaultSpec.make(rootless: true, uid: 1000, gid: 1000).serialized().utf8)) == nil)
    }

    @Test("a namespace listed twice is refused")
    func duplicateNamespace() throws {
        let message = try #require(refusal(minimalConfig { $0["linux"] = ["namespaces": [["type": "pid"], ["type": "mount"], ["type": "pid"]]] }))
        #expect(message.contains("\"pid\""))
        #expect(message.contains("twice"))
    }

    @Test("an unknown namespace type is refused")
    func unknownNamespace() throws {
        let message = try #require(refusal(minimalConfig { $0["linux"] = ["namespaces": [["type": "net"]]] }))
        #expect(message.contains("unknown namespace type"))
        #expect(message.contains("\"net\""))
    }

    @Test("a hostname without a uts namespace is refused")
    func hostnameWithoutUTS() throws {
        let message = try #require(refusal(minimalConfig { object in
            object["hostname"] = "box"
            object["linux"] = ["namespaces": [["type": "mount"]]]
        }))
        #expect(message.contains("hostname"))
        #expect(message.contains("uts"))
    }

    @Test("a relative hook path is refused")
    func relativeHookPath() throws {
        let message = try #require(refusal(minimalConfig { $0["hooks"] = ["createRuntime": [["path": "bin/hook"]]] }))
        #expect(message.contains("hooks.createRuntime.path"))
        #expect(message.contains("absolute"))
    }

    @Test("a hook timeout of zero is refused", arguments: [0, -5])
    func hookTimeoutZero(timeout: Int) throws {
        let message = try #require(refusal(minimalConfig { $0["hooks"] = ["prestart": [["path": "/bin/true", "timeout": .int(timeout)]]] }))
        #expect(message.contains("hooks.prestart"))
        #expect(message.contains("timeout"))
    }

    @Test("a relative mount destination is refused")
    func relativeMountDestination() throws {
        let message = try #require(refusal(minimalConfig { $0["mounts"] = [["destination": "/ok"], ["destination": "tmp"]] }))
        #expect(message.contains("mounts[1].destination"))
    }

    @Test("a device path outside /dev is refused", arguments: ["/etc/null", "/dev", "null"])
    func devicePathOutsideDev(path: String) throws {
        let message = try #require(refusal(minimalConfig { $0["linux"] = ["devices": [["type": "c", "path": .string(path), "major": 1, "minor": 3]]] }))
        #expect(message.contains("/dev"))
        #expect(message.contains(path))
    }

    @Test("a device of an unknown type is refused")
    func unknownDeviceType() throws {
        let message = try #require(refusal(minimalConfig { $0["linux"] = ["devices": [["type": "x", "path": "/dev/foo"]]] }))
        #expect(message.contains("unknown type"))
    }

    @Test("a decoding error names the file and the member path")
    func decodingErrorPath() throws {
        let message = try #require(refusal(minimalConfig { object in
            editMember(&object, "process") { $0["user"] = ["uid": "root", "gid": 0] }
        }))
        #expect(message.hasPrefix("config.json: "))
        #expect(message.contains("process.user.uid"))
    }

    @Test("invalid JSON is refused with its byte offset")
    func invalidJSON() throws {
        let message = try #require(refusal(Array("{bad".utf8)))
        #expect(message.contains("config.json"))
        #expect(message.contains("byte 1"))
    }

    @Test("messages name the source they were given")
    func sourceName() {
        do {
            _ = try Spec.parse(minimalConfig(version: "9"), source: "/bundle/config.json")
            Issue.record("accepted")
        } catch {
            #expect(error.message.hasPrefix("/bundle/config.json: "))
        }
    }
}

@Suite("Spec.isSupported(version:)")
struct SpecVersionTests {
    @Test("versions 1.0 to 1.3 with any patch level or suffix are supported", arguments: ["1.0.0", "1.0.2", "1.3.9", "1.2.0-rc.1", "1.1.0-dev"])
    func supported(version: String) {
        #expect(Spec.isSupported(version: version))
    }

    @Test("other versions are not", arguments: ["0.1.0", "1.4.0", "2.0.0", "1.0", "1.0.0.0", "1.x.0", "v1.0.0", ""])
    func unsupported(version: String) {
        #expect(!Spec.isSupported(version: version))
    }
}
