import BerthJSON
import BerthRuntimeSpec
import BerthSystem

/// What `berth exec` was asked: either a whole process (`--process process.json`) or
/// the command and runc's flags, applied to a copy of the container's own process.
public struct ExecRequest: Sendable {
    /// `--process`: the path of a process.json.
    public var processPath: String?
    public var args: [String] = []
    public var tty = false
    public var cwd: String?
    public var env: [String] = []
    /// `--user uid[:gid]`.
    public var user: String?
    public var additionalGids: [UInt32]?
    /// `--cap`: added to the bounding, effective and permitted sets (and to ambient when the
    /// process has inheritable capabilities), as runc does.
    public var capabilities: [String] = []
    public var noNewPrivileges = false
    public var apparmorProfile: String?
    public var processLabel: String?
    public var consoleSocket: String?
    public var detach = false
    public var pidFile: String?
    public var preserveFds = 0
    public var ignorePaused = false

    public init() {}

    /// The process to run, from the container's configuration `spec`.
    func process(from spec: Spec) throws(RuntimeError) -> Spec.Process {
        var process: Spec.Process
        if let processPath {
            do {
                let value = try JSONParser.parse(try FileSystem.read(processPath))
                process = try JSONValueDecoder.decode(Spec.Process.self, from: value)
            } catch {
                throw RuntimeError(.invalidArgument, "--process \(processPath): \(error)")
            }
        } else {
            guard var base = spec.process else { throw RuntimeError(.invalidConfig, "the container has no process to start from") }
            guard !args.isEmpty else { throw RuntimeError(.invalidArgument, "exec: no command given (berth exec ID COMMAND [ARGS...] or --process FILE)") }
            base.args = args
            base.commandLine = nil
            base.terminal = tty
            if let cwd { base.cwd = cwd }
            base.env = (base.env ?? []) + env
            if let user {
                let parts = user.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                guard let uid = UInt32(parts[0]), parts.count == 1 || UInt32(parts[1]) != nil else {
                    throw RuntimeError(.invalidArgument, "--user \"\(user)\": expected uid or uid:gid (numbers)")
                }
                base.user.uid = uid
                if parts.count == 2 { base.user.gid = UInt32(parts[1])! }
            }
            if let additionalGids { base.user.additionalGids = additionalGids }
            if noNewPrivileges { base.noNewPrivileges = true }
            if let apparmorProfile { base.apparmorProfile = apparmorProfile }
            if let processLabel { base.selinuxLabel = processLabel }
            if !capabilities.isEmpty { base.capabilities = Self.adding(capabilities, to: base.capabilities) }
            process = base
        }
        guard let args = process.args, !args.isEmpty else { throw RuntimeError(.invalidArgument, "exec: process.args must not be empty") }
        guard process.cwd.hasPrefix("/") else { throw RuntimeError(.invalidArgument, "exec: cwd \"\(process.cwd)\" must be an absolute path") }
        if let capabilities = process.capabilities {
            do {
                _ = try CapabilitySets.parse(capabilities)
            } catch {
                throw RuntimeError(.invalidArgument, "exec: \(error.message)")
            }
        }
        return process
    }

    private static func adding(_ names: [String], to capabilities: JSONValue?) -> JSONValue {
        var object = capabilities?.objectValue ?? JSONObject()
        func append(_ key: String) {
            var list = object[key]?.arrayValue ?? []
            for name in names where !list.contains(.string(name)) { list.append(.string(name)) }
            object[key] = .array(list)
        }
        for key in ["bounding", "effective", "permitted"] { append(key) }
        // Ambient capabilities need inheritable ones, which --cap does not add.
        if !(object["inheritable"]?.arrayValue ?? []).isEmpty { append("ambient") }
        return .object(object)
    }
}
