import Glibc

/// Signal names and numbers as runc accepts them: `KILL`, `SIGKILL`, `kill` and `9`.
public enum Signals {
    public static let names: [(name: String, number: Int32)] = [
        ("HUP", SIGHUP), ("INT", SIGINT), ("QUIT", SIGQUIT), ("ILL", SIGILL), ("TRAP", SIGTRAP),
        ("ABRT", SIGABRT), ("IOT", SIGIOT), ("BUS", SIGBUS), ("FPE", SIGFPE), ("KILL", SIGKILL),
        ("USR1", SIGUSR1), ("SEGV", SIGSEGV), ("USR2", SIGUSR2), ("PIPE", SIGPIPE), ("ALRM", SIGALRM),
        ("TERM", SIGTERM), ("STKFLT", SIGSTKFLT), ("CHLD", SIGCHLD), ("CONT", SIGCONT), ("STOP", SIGSTOP),
        ("TSTP", SIGTSTP), ("TTIN", SIGTTIN), ("TTOU", SIGTTOU), ("URG", SIGURG), ("XCPU", SIGXCPU),
        ("XFSZ", SIGXFSZ), ("VTALRM", SIGVTALRM), ("PROF", SIGPROF), ("WINCH", SIGWINCH), ("IO", SIGIO),
        ("POLL", SIGPOLL), ("PWR", SIGPWR), ("SYS", SIGSYS),
    ]

    /// The signal number for a name or number; nil when it is neither.
    public static func parse(_ text: String) -> Int32? {
        if let number = Int32(text) {
            return number > 0 && number <= 64 ? number : nil
        }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if name.hasPrefix("RTMIN") || name.hasPrefix("RTMAX") {
            let base = name.hasPrefix("RTMIN") ? Int32(34) : Int32(64)
            let rest = name.dropFirst(5)
            if rest.isEmpty { return base }
            guard let offset = Int32(rest), (name.hasPrefix("RTMIN") ? offset > 0 : offset < 0) else { return nil }
            let number = base + offset
            return (34...64).contains(number) ? number : nil
        }
        return names.first { $0.name == name }?.number
    }

    /// Every signal that a foreground `run` forwards to the container: all but those the
    /// kernel will not deliver to a handler (KILL, STOP) and SIGCHLD, which means ours.
    public static var forwarded: [Int32] {
        (1...64).map { Int32($0) }.filter { $0 != SIGKILL && $0 != SIGSTOP && $0 != SIGCHLD && !(32...33).contains($0) }
    }
}
