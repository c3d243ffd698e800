import BerthSystem

/// Runs one CNI plugin as the CNI spec's exec protocol says: the network config as JSON
/// on stdin, the request in CNI_* environment variables, the result (or the error) as
/// JSON on stdout, exit status 0 for success.
enum CNIPluginProcess {
    static func run(_ path: String, environment: [String: String], input: [UInt8], timeout: Double) throws(CNIError) -> ProcessSpawn.Outcome {
        do {
            return try ProcessSpawn.run([path], environment: environment, input: input, timeout: timeout)
        } catch {
            throw CNIError("\(path): \(error)")
        }
    }
}
