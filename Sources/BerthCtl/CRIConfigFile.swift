import BerthJSON
import BerthSystem
import SwiftProtobuf

/// The pod and container config files of `runp`, `create` and `run`: protobuf JSON or
/// YAML (as crictl reads both), with the proto field names crictl's files use
/// (`log_directory`, `security_context`) or their JSON names (`logDirectory`); enums by
/// number or name; unknown fields ignored, as crictl ignores them.
enum CRIConfigFile {
    static func load<Message: SwiftProtobuf.Message>(_ path: String, as type: Message.Type, what: String) throws(CommandError) -> Message {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.read(path)
        } catch {
            throw CommandError("load \(what): config at \(path) not found (\(error))")
        }
        var text = String(decoding: bytes, as: UTF8.self)
        // JSON, or YAML as crictl takes it (turned into JSON first, as sigs.k8s.io/yaml does).
        if text.drop(while: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).first != "{" {
            let document: JSONValue
            do {
                document = try YAMLDocument.parse(text)
            } catch {
                throw CommandError("load \(what): \(path): \(error)")
            }
            guard document.objectValue != nil else { throw CommandError("load \(what): \(path): the document is not a mapping") }
            text = document.serialized()
        }
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        do {
            return try Message(jsonString: text, options: options)
        } catch {
            throw CommandError("load \(what): \(path): \(error)")
        }
    }
}
