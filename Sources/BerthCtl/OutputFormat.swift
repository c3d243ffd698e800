import BerthJSON
import SwiftProtobuf

/// `-o/--output`: crictl's choices.
public enum OutputFormat: String, Sendable {
    case table, json, yaml

    public static func parse(_ text: String?, allowed: [OutputFormat], command: String) throws(CommandError) -> OutputFormat? {
        guard let text else { return nil }
        guard let format = OutputFormat(rawValue: text), allowed.contains(format) else {
            throw CommandError("\(command): unsupported output format \"\(text)\" (use \(allowed.map(\.rawValue).joined(separator: ", ")))")
        }
        return format
    }
}

/// A CRI message as crictl prints it: protobuf JSON (lowerCamelCase names, 64-bit
/// integers as strings, fields in field-number order, unset fields filled in as Go's
/// protojson EmitUnpopulated does), indented by two spaces; or that document as YAML.
public enum MessageOutput {
    public static func json(_ message: some SwiftProtobuf.Message) throws(CommandError) -> JSONValue {
        do {
            let text = try message.jsonString()
            let value = try JSONParser.parse(text)
            return CRIFieldDefaults.fill(value, type: type(of: message).protoMessageName)
        } catch {
            throw CommandError("encode \(type(of: message).protoMessageName) as JSON: \(error)")
        }
    }

    public static func render(_ value: JSONValue, as format: OutputFormat) -> String {
        switch format {
        // crictl prints the YAML (which ends in a newline) with Println: a blank line ends it.
        case .yaml: YAMLEmitter.emit(value) + "\n"
        default: value.prettySerialized(indentation: "  ") + "\n"
        }
    }
}
