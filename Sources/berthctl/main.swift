import BerthCtl
import Glibc

// berthctl: crictl's command line for any CRI socket (BerthCtl holds the commands).
var environment: [String: String] = [:]
var entry = environ
while let pointer = entry.pointee {
    let text = String(cString: pointer)
    if let equals = text.firstIndex(of: "=") { environment[String(text[..<equals])] = String(text[text.index(after: equals)...]) }
    entry += 1
}
exit(await BerthCtl.run(Array(CommandLine.arguments.dropFirst()), environment: environment))
