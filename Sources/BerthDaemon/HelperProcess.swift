import BerthSystem

/// A short helper berthd runs and waits for (`ip netns`, `berth-shim`): its exit status
/// and what it printed (stdout and stderr together). This blocks the calling thread while
/// the helper runs (milliseconds; moving it off the cooperative pool is open work).
enum HelperProcess {
    static func run(_ arguments: [String], timeout: Double = 60) throws(SystemError) -> (status: Int32, output: String) {
        // berth-shim's parent exits once the shim reports; the shim itself keeps no copy
        // of the output pipe (it moves its stdio to /dev/null), so the read ends with it.
        let outcome = try ProcessSpawn.run(arguments, mergingErrors: true, timeout: timeout)
        return (outcome.status, String(decoding: outcome.output, as: UTF8.self))
    }
}
